"""`/ping/<secret>`, `/ping/<secret>/start` and `/ping/<secret>/fail`: a job says it succeeded, began or failed.

Public and cheap: no session is read and no cookie set (the workspace middleware passes /ping/ by), one indexed
lookup and one UPDATE, GET, POST and HEAD alike, counted per heartbeat against a rate. A POST's body is kept
in part (bounded, shown only escaped). A URL no heartbeat has is a bare 404, counted against the address.
CSRF is waived for these three views alone: they act on no session, so a forged request can do nothing a
stranger with the URL could not do anyway."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from accounts.ratelimits import (
    HEARTBEAT_PINGS,
    HEARTBEAT_UNKNOWN,
    heartbeat_miss_counted,
    heartbeat_ping_counted,
    in_words,
    retry_after,
)
from monitoring.api import body_head
from monitoring.models import Heartbeat
from monitoring.pings import BODY_READ, body_text, find, record_ping, token_digest

log = logging.getLogger(__name__)

METHODS = ("GET", "POST", "HEAD")


def _plain(status: int, text: str, *, log_line: str = "") -> HttpResponse:
    response = HttpResponse(text + "\n", status=status, content_type="text/plain; charset=utf-8")
    if log_line:
        log.warning("heartbeat ping %d: %s", status, log_line)
    # Django's own line for a 4xx would carry the path, and so the ping URL's secret: this is the only one.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def _slow_down(wait: int, log_line: str) -> HttpResponse:
    response = _plain(429, f"too many pings: retry in {in_words(wait)}", log_line=log_line)
    response["Retry-After"] = str(wait)
    return response


@csrf_exempt
@never_cache
def ping(request: HttpRequest, token: str, kind: str = Heartbeat.Ping.SUCCESS) -> HttpResponse:
    if request.method not in METHODS:
        response = _plain(405, "use GET, POST or HEAD")
        response["Allow"] = ", ".join(METHODS)
        return response
    digest = token_digest(token)
    if not heartbeat_ping_counted(request, digest):
        return _slow_down(retry_after(request, (HEARTBEAT_PINGS, digest)), "too many pings for one ping URL")
    heartbeat = find(token)
    if heartbeat is None:
        if not heartbeat_miss_counted(request):
            return _slow_down(retry_after(request, (HEARTBEAT_UNKNOWN, None)), "too many pings to unknown URLs")
        return _plain(404, "not found", log_line="no heartbeat has this ping URL")
    body = body_text(body_head(request, BODY_READ)) if request.method == "POST" else ""
    record_ping(heartbeat, kind, body, timezone.now())
    return _plain(200, "OK")
