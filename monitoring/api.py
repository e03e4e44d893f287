"""`POST /api/v1/deploys`: the client's CI reports a deploy with its token; the smoke test follows.
`GET /api/v1/deploys/<id>` (same token): the smoke test's verdict, waited for with `?wait=N`.

Every answer is JSON, errors included: 405, 411, 413, 415, 401, 429, 400 and 500 each say what was wrong in an
`error` field. The body is never read whole: a declared length over the cap is refused before reading,
and a body sent without a length (chunked) is read up to one byte past the cap."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, Protocol

from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from accounts.ratelimits import (
    API_DEPLOYS,
    API_DEPLOYS_FAILED,
    API_DEPLOYS_WRONG_SECRET,
    api_call_counted,
    api_failure_counted,
    in_words,
    retry_after,
)
from monitoring.deploy_verdict import MAX_WAIT, deploy_of, settled, verdict, wait_seconds
from monitoring.deploys import deploy_record, token_check
from monitoring.models import ApiToken

log = logging.getLogger(__name__)

LIMITS = {"version": 100, "commit": 64, "environment": 40}
# A deploy is three short fields; the cap leaves room for whatever else a CI tool adds.
MAX_BODY_BYTES = 64 * 1024


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def answer(status: int, error: str, *, log_line: str = "", retry: int = 0, api: str = "deploy API") -> JsonResponse:
    """An error answer. With a log line, that line is the request's only one (Django's own is skipped)."""
    response = JsonResponse({"error": error, "retry_after": retry} if retry else {"error": error}, status=status)
    if retry:
        response["Retry-After"] = str(retry)
    if log_line:
        log.warning("%s %d: %s", api, status, log_line)
        response._has_been_logged = True  # type: ignore[attr-defined]  # Django's marker: logged already
    return response


def declared_length(request: HttpRequest) -> int | None:
    """The Content-Length the caller declared, or None when there is none (a chunked body)."""
    raw = str(request.META.get("CONTENT_LENGTH") or "").strip()
    return int(raw) if raw.isdigit() else None


def _unframed_stream(request: HttpRequest) -> _Readable | None:
    """The WSGI server's own stream for a chunked body sent without a length, when the server decodes the
    chunks and ends the stream with the body (gunicorn says so with wsgi.input_terminated); None when the
    body has a length (or under ASGI, where Django already holds it)."""
    chunked = "chunked" in str(request.META.get("HTTP_TRANSFER_ENCODING", "")).lower()
    if declared_length(request) is not None or not chunked or "wsgi.input" not in request.META:
        return None
    return request.META["wsgi.input"]


def chunked_unreadable(request: HttpRequest) -> bool:
    """A chunked body this server cannot end for us (the development server): reading it would block."""
    return _unframed_stream(request) is not None and not request.META.get("wsgi.input_terminated")


def body_capped(request: HttpRequest, cap: int) -> bytes | None:
    """The body, or None when it is longer than `cap`; never more than cap + 1 bytes are read."""
    # Django reads nothing of a body without a length: such a body is read from the server's stream.
    stream: _Readable = _unframed_stream(request) or request
    data = b""
    while len(data) <= cap:
        chunk = stream.read(cap + 1 - len(data))
        if not chunk:
            return data
        data += chunk
    return None


def body_head(request: HttpRequest, limit: int) -> bytes:
    """The first `limit` bytes of the body, whatever its length; b"" for a chunked body this server cannot
    end (reading it would block)."""
    if chunked_unreadable(request):
        return b""
    stream: _Readable = _unframed_stream(request) or request
    data = b""
    while len(data) < limit:
        chunk = stream.read(limit - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _too_large(declared: int | None) -> JsonResponse:
    sent = f"{declared} bytes declared" if declared is not None else f"more than {MAX_BODY_BYTES} bytes sent"
    return answer(
        413,
        f"the body must be at most {MAX_BODY_BYTES} bytes",
        log_line=f"body refused, {sent} (the cap is {MAX_BODY_BYTES})",
    )


def slow_down(wait: int) -> str:
    return f"too many requests: retry in {in_words(wait)}"


def _fields(raw: bytes) -> dict[str, str] | JsonResponse:
    """The deploy's fields from the body, or the 400 that says what is wrong with it."""
    try:
        body: Any = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        return answer(400, "the body is not JSON")
    if not isinstance(body, dict):
        return answer(400, "the body must be a JSON object")
    values = {}
    for field, limit in LIMITS.items():
        value = body.get(field, "")
        if not isinstance(value, str) or len(value) > limit:
            return answer(400, f"{field} must be text of at most {limit} characters")
        values[field] = value.strip()
    if not values["version"] and not values["commit"]:
        return answer(400, "give a version or a commit")
    return values


def token_gate(request: HttpRequest, *, action: str = API_DEPLOYS, api: str = "deploy API") -> ApiToken | JsonResponse:
    """The live token of the request's `Authorization: Bearer` header, counted against `action`'s rate; or the
    401 or 429 that refuses it. Shared by the token APIs (deploys here, repository scans in web/api.py)."""
    header = request.headers.get("Authorization", "")
    check = token_check(header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else "")
    token = check.token
    # Only failures are counted against the address and the prefix: whoever else sends this token's
    # visible prefix, or shares the CI's address, a valid token keeps its own budget.
    if token is None:
        if not api_failure_counted(request, check.prefix):
            wait = retry_after(request, (API_DEPLOYS_FAILED, None), (API_DEPLOYS_WRONG_SECRET, check.prefix or None))
            line = f"too many failed checks ({check.refusal})"
            return answer(429, slow_down(wait), log_line=line, retry=wait, api=api)
        return answer(401, "missing, unknown or revoked token", log_line=f"refused: {check.refusal}", api=api)
    if not api_call_counted(request, token.prefix, action):
        wait = retry_after(request, (action, token.prefix))
        return answer(429, slow_down(wait), log_line=f"too many calls with token #{token.pk}", retry=wait, api=api)
    return token


def json_even_when_broken(
    failure: str, api: str = "deploy API"
) -> Callable[[Callable[..., JsonResponse]], Callable[..., JsonResponse]]:
    """A fault of ours is a JSON 500 too ("<failure>: retry in a minute", and a logged traceback), never
    Django's HTML page."""

    def decorate(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
            try:
                return view(request, *args, **kwargs)
            except Exception:
                log.exception("%s 500: %s", api, failure)
                response = JsonResponse({"error": f"{failure}: retry in a minute"}, status=500)
                response._has_been_logged = True  # type: ignore[attr-defined]
                return response

        return wrapped

    return decorate


@csrf_exempt  # authenticated by its bearer token, never by a cookie
@json_even_when_broken("the deploy could not be recorded")
def deploys(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        response = answer(405, "use POST")
        response["Allow"] = "POST"
        return response
    declared = declared_length(request)
    if declared is not None and declared > MAX_BODY_BYTES:
        return _too_large(declared)
    if (request.content_type or "").lower() != "application/json":
        return answer(415, "send the body as JSON, with Content-Type: application/json")
    if chunked_unreadable(request):
        return answer(411, "send the body with a Content-Length header")
    token = token_gate(request)
    if isinstance(token, JsonResponse):
        return token
    raw = body_capped(request, MAX_BODY_BYTES)
    if raw is None:
        return _too_large(None)
    values = _fields(raw)
    if isinstance(values, JsonResponse):
        return values
    deploy = deploy_record(token=token, **values)
    url = request.build_absolute_uri(reverse("api_deploy_detail", args=[deploy.code]))
    return JsonResponse(
        {"deploy": str(deploy.code), "client": token.client.name, "smoke_test": deploy.smoke, "url": url}, status=201
    )


@csrf_exempt  # authenticated by its bearer token, never by a cookie
@json_even_when_broken("the deploy could not be read")
def deploy_detail(request: HttpRequest, deploy_code: str) -> JsonResponse:
    if request.method != "GET":
        response = answer(405, "use GET")
        response["Allow"] = "GET"
        return response
    token = token_gate(request)
    if isinstance(token, JsonResponse):
        return token
    wait = wait_seconds(request.GET.get("wait", ""))
    if wait is None:
        return answer(400, f"wait must be a whole number of seconds (at most {MAX_WAIT})")
    deploy = deploy_of(token.client, deploy_code)
    if deploy is None:  # malformed, unknown or another client's: the same answer
        return answer(404, "no such deploy for this token's client")
    return JsonResponse(verdict(settled(deploy, wait)))
