"""`POST /api/v1/scans` and `GET /api/v1/scans/<id>`: the client's CI sends its repository (a git bundle, a zip or a
tar.gz) with the client's deploy token, a worker scans it as it scans an upload on the client's page (its findings
join the client's risk list and checklist), and the CI asks for the verdict until it is in, failing its job on it.

The token is checked as the deploy API checks it (monitoring/api.py), with a rate of its own for uploads. Every
answer is JSON: 405, 411, 413, 415, 401, 429, 400, 404 and 500 say what was wrong in an `error` field. The body is
never read past the upload limit; the upload is held encrypted until its scan ends, then deleted."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from accounts.ratelimits import API_DEPLOYS, API_SCANS
from audits.scans import display_name, repo_scan_start, scan_summary
from audits.scoping import get_repo_scan_for_client
from audits.secrets.archive import sniff
from audits.secrets.lifecycle import LIMITS
from monitoring.api import answer, body_capped, chunked_unreadable, declared_length, json_even_when_broken, token_gate

API = "scan API"
MAX_UPLOAD_BYTES = LIMITS.upload_bytes
# What CI tools send a file as; a form encoding means the file was not sent as the body itself.
UPLOAD_TYPES = {
    "application/octet-stream",
    "application/zip",
    "application/gzip",
    "application/x-gzip",
    "application/x-tar",
    "application/x-git-bundle",
}
SEND_THE_FILE = (
    "send the repository itself as the body (git bundle create repo.bundle --all; "
    "curl --data-binary @repo.bundle -H 'Content-Type: application/octet-stream')"
)
EXTENSIONS = {"bundle": "bundle", "zip": "zip", "tar.gz": "tar.gz", "tar": "tar"}


def _too_large(declared: int | None) -> JsonResponse:
    sent = f"{declared} bytes declared" if declared is not None else f"more than {MAX_UPLOAD_BYTES} bytes sent"
    return answer(
        413,
        f"the repository must be at most {MAX_UPLOAD_BYTES // 2**20} MB: leave out build folders, or send a git bundle",
        log_line=f"body refused, {sent} (the cap is {MAX_UPLOAD_BYTES})",
        api=API,
    )


def _detail_url(request: HttpRequest, code: UUID) -> str:
    return request.build_absolute_uri(reverse("api_scan", args=[code]))


@csrf_exempt  # authenticated by its bearer token, never by a cookie
@json_even_when_broken("the scan could not be started", API)
def scans(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        response = answer(405, "use POST to send a repository; GET /api/v1/scans/<scan> for its verdict", api=API)
        response["Allow"] = "POST"
        return response
    declared = declared_length(request)
    if declared is not None and declared > MAX_UPLOAD_BYTES:
        return _too_large(declared)
    if declared == 0:
        return answer(400, f"the body is empty: {SEND_THE_FILE}", api=API)
    if (request.content_type or "").lower() not in UPLOAD_TYPES:
        return answer(415, SEND_THE_FILE, api=API)
    if chunked_unreadable(request):
        return answer(411, "send the body with a Content-Length header", api=API)
    token = token_gate(request, action=API_SCANS, api=API)
    if isinstance(token, JsonResponse):
        return token
    raw = body_capped(request, MAX_UPLOAD_BYTES)
    if raw is None:
        return _too_large(None)
    if not raw:
        return answer(400, f"the body is empty: {SEND_THE_FILE}", api=API)
    kind = sniff(raw[:512])
    if kind is None:
        return answer(400, "the body is not a zip, tar.gz, tar or git bundle", api=API)
    name = display_name(request.GET.get("name", "")[:200] or f"ci-upload.{EXTENSIONS[kind]}")
    upload = SimpleUploadedFile(name, raw)
    scan = repo_scan_start(client=token.client, upload=upload, kind=kind, user=None)
    body: dict[str, Any] = {
        "scan": str(scan.code),
        "client": token.client.name,
        "state": "pending",
        "url": _detail_url(request, scan.code),
    }
    response = JsonResponse(body, status=202)
    response["Location"] = body["url"]
    return response


@csrf_exempt  # no cookie is read: whatever is sent, the answer is the same 404
def not_found(request: HttpRequest) -> JsonResponse:
    """Any other path under /api/: a caller of the API gets JSON, never the site's HTML page."""
    return answer(
        404, "no such API address: POST /api/v1/scans, GET /api/v1/scans/<scan>, POST /api/v1/deploys", api=API
    )


@json_even_when_broken("the scan could not be read", API)
def scan_detail(request: HttpRequest, scan_code: UUID) -> JsonResponse:
    if request.method != "GET":
        response = answer(405, "use GET", api=API)
        response["Allow"] = "GET"
        return response
    token = token_gate(request, action=API_DEPLOYS, api=API)
    if isinstance(token, JsonResponse):
        return token
    scan = get_repo_scan_for_client(token.client, scan_code)
    if scan is None:
        return answer(404, "no such scan for this token's client", api=API)
    return JsonResponse(scan_summary(scan) | {"client": token.client.name, "url": _detail_url(request, scan.code)})
