"""Structured logging helpers: a request id on every line and a filter that scrubs secrets."""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse

REDACTED = "[redacted]"

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# Names whose values are never written to a log, wherever they appear.
SENSITIVE_NAME = re.compile(
    r"pass(word|wd)?|secret|token|api[_-]?key|auth(orization)?|cookie|session|csrf|"
    r"credential|private[_-]?key|signature|otp|totp|code_verifier",
    re.IGNORECASE,
)

_TEXT_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # key=value, key: value, "key": "value" for sensitive keys
    (
        re.compile(
            r"""(?P<key>["']?[\w\-]*(?:pass(?:word|wd)?|secret|token|api[_-]?key|authorization|"""
            r"""cookie|sessionid|csrftoken|credential)[\w\-]*["']?\s*[:=]\s*)"""
            r"""(?P<quote>["']?)(?P<value>[^"'\s,;&}]+)""",
            re.IGNORECASE,
        ),
        r"\g<key>\g<quote>" + REDACTED,
    ),
    # Authorization schemes
    (re.compile(r"\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=\-]{6,}", re.IGNORECASE), r"\1 " + REDACTED),
    # user:password@ in URLs
    (
        re.compile(r"(?P<scheme>[a-z][a-z0-9+.\-]*://)[^/\s:@]*:[^/\s@]+@", re.IGNORECASE),
        r"\g<scheme>" + REDACTED + "@",
    ),
    # A heartbeat's ping URL carries its secret in the path (a server's request line, say)
    (re.compile(r"(/ping/)[A-Za-z0-9_\-]{16,64}"), r"\1" + REDACTED),
    # Well-known key shapes
    (re.compile(r"\b(sk|rk)_(live|test)_[A-Za-z0-9]{8,}"), REDACTED),
    (re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"), REDACTED),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"), REDACTED),
    (re.compile(r"\bxox[abprs]-[A-Za-z0-9\-]{10,}"), REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"), REDACTED),
]


def scrub_text(text: str) -> str:
    """Redact secrets that appear inside free text."""
    for pattern, replacement in _TEXT_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def scrub_value(value: Any, depth: int = 0) -> Any:
    """Redact secrets inside a value of any shape (mappings by key name, strings by pattern)."""
    if depth > 6:
        return value
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if isinstance(k, str) and SENSITIVE_NAME.search(k) else scrub_value(v, depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return type(value)(scrub_value(v, depth + 1) for v in value)
    return value


_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


class ScrubFilter(logging.Filter):
    """Rewrites each record so that no password, token, cookie or secret reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            message = str(record.msg)
        record.msg = scrub_text(message)
        record.args = None
        for name in list(vars(record)):
            if name in _STANDARD_ATTRS:
                continue
            if SENSITIVE_NAME.search(name):
                setattr(record, name, REDACTED)
            else:
                setattr(record, name, scrub_value(getattr(record, name)))
        if record.exc_info and record.exc_info[1] is not None:
            # Render the traceback now, scrubbed, so the formatter prints no raw secret.
            record.exc_text = scrub_text(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class RefusedRequestFilter(logging.Filter):
    """A request the product refused (too big, too many fields, a bad host) is the client's mistake or an
    attack, not a fault of ours: one WARNING line that says what was refused, no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("django.security"):
            return True
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info, record.exc_text = None, None
        return True


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class RequestIdMiddleware:
    """Tags every log line of a request with one id, echoed in the X-Request-ID response header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if re.fullmatch(r"[A-Za-z0-9\-]{8,64}", incoming) else uuid.uuid4().hex
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response
