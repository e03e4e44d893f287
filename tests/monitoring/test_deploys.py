"""Deploy markers: the client's CI reports a deploy with a hashed, revocable token; the smoke test of the
key routes runs on the sandbox and a failure alerts the client's channels."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client as HttpClient
from django.urls import reverse

from launchready.models import Route
from launchready.sandbox.runner import Sandbox
from launchready.sandbox.saas_app import ACCOUNT_EMAIL, ACCOUNT_PASSWORD, APEX_OF, Flaw, api_token
from monitoring.api import MAX_BODY_BYTES
from monitoring.deploys import token_create
from monitoring.journey_templates import sign_in
from monitoring.journeys import create_journey, set_secret
from monitoring.models import AlertChannel, ApiToken, Deploy, JourneyRun
from monitoring.smoke import smoke_test
from tests.conftest import Tenant, login
from tests.factories import DomainFactory

pytestmark = pytest.mark.django_db


def _post(token: str | None, body: object) -> object:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return HttpClient().post(reverse("api_deploys"), json.dumps(body), content_type="application/json", headers=headers)


def test_a_deploy_is_recorded_with_a_valid_token_only(tenant: Tenant, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    token, value = token_create(client=tenant.client, name="GitHub Actions", user=tenant.consultant)
    assert value.startswith(f"lr_{token.prefix}_") and value.split("_", 2)[2] not in token.digest
    assert _post(None, {"version": "v1"}).status_code == 401  # type: ignore[attr-defined]
    assert _post(value + "x", {"version": "v1"}).status_code == 401  # type: ignore[attr-defined]
    assert _post(value, ["not", "an", "object"]).status_code == 400  # type: ignore[attr-defined]
    assert _post(value, {"version": "v" * 101}).status_code == 400  # type: ignore[attr-defined]
    assert _post(value, {}).status_code == 400  # type: ignore[attr-defined]
    with django_capture_on_commit_callbacks():
        response = _post(value, {"version": "v1.4.2", "commit": "abc123", "environment": "production"})
    assert response.status_code == 201  # type: ignore[attr-defined]
    deploy = Deploy.objects.get()
    assert (deploy.client, deploy.version, deploy.smoke) == (tenant.client, "v1.4.2", "pending")
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=deploy.created)
    assert _post(value, {"version": "v2"}).status_code == 401  # type: ignore[attr-defined]


def _routes(tenant: Tenant, apex: str) -> None:
    domain = DomainFactory(client=tenant.client, name=apex)
    for host, path, kind in [
        ("www", "/", Route.Kind.HOMEPAGE),
        ("app", "/login", Route.Kind.LOGIN),
        ("api", "/health", Route.Kind.API_HEALTH),
    ]:
        Route.objects.create(
            domain=domain, host="" if host == "www" else host, path=path, kind=kind, expected_statuses=[200]
        )


def test_the_smoke_test_passes_on_a_healthy_deploy(sandbox_env: Sandbox, tenant: Tenant) -> None:
    tenant.domain.delete()
    _routes(tenant, "launch-ready.test")
    deploy = smoke_test(Deploy.objects.create(client=tenant.client, version="v1"))
    assert deploy.smoke == "passed"
    assert [r["kind"] for r in deploy.smoke_results] == [Route.Kind.HOMEPAGE, Route.Kind.LOGIN, Route.Kind.API_HEALTH]


def test_a_failed_smoke_test_alerts_the_channels(
    sandbox_env: Sandbox, tenant: Tenant, eager_tasks, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    tenant.domain.delete()
    _routes(tenant, "login-500.test")
    AlertChannel.objects.create(client=tenant.client, kind="email", name="Team", recipients=["ops@example.com"])
    with django_capture_on_commit_callbacks(execute=True):
        deploy = smoke_test(Deploy.objects.create(client=tenant.client, version="v1.5.0"))
    assert deploy.smoke == "failed"
    assert any(r["problem"] == "answered 500" for r in deploy.smoke_results)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "[Launch Ready] Smoke test failed after deploy v1.5.0"
    assert "app.login-500.test/login answered 500" in mail.outbox[0].body


def test_the_token_page_shows_a_new_token_once_and_revokes(tenant: Tenant) -> None:
    http = login(tenant.consultant)
    url = reverse("deploy_tokens", args=[tenant.client.code])
    page = http.post(url, {"name": "CI"}, follow=True).content.decode()
    token = ApiToken.objects.get()
    assert f"lr_{token.prefix}_" in page and "shown once" in page
    assert "shown once" not in http.get(url).content.decode()
    http.post(reverse("deploy_token_revoke", args=[token.code]))
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert login(tenant.founder).get(url).status_code == 403


def test_the_token_page_says_what_a_token_can_and_cannot_do_and_each_part_holds(tenant: Tenant) -> None:
    from audits.models import RepoScan
    from tests.conftest import make_tenant

    page = login(tenant.consultant).get(reverse("deploy_tokens", args=[tenant.client.code])).content.decode()
    powers = page[page.index('id="token-powers"') : page.index("</div>", page.index('id="token-powers"'))]
    for said in (
        "report a deploy",
        "send the repository to scan",
        "read anything of another client",
        "sign in to Launch Ready",
        "change anything else",
        "a single time",
        "Revoking one takes effect at once",
    ):
        assert said in powers
    token, value = token_create(client=tenant.client, name="CI", user=tenant.consultant)
    bearer = {"Authorization": f"Bearer {value}"}
    other = make_tenant()
    their_scan = RepoScan.objects.create(client=other.client, filename="theirs.zip", kind="zip")
    assert HttpClient().get(reverse("api_scan", args=[their_scan.code]), headers=bearer).status_code == 404
    for page_url in (reverse("dashboard"), reverse("client_detail", args=[tenant.client.code])):
        assert HttpClient().get(page_url, headers=bearer).status_code == 302  # to the sign-in page: not a session
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=token.created)
    assert _post(value, {"version": "v2"}).status_code == 401  # type: ignore[attr-defined]


def test_a_new_token_never_travels_in_a_cookie(tenant: Tenant) -> None:
    response = login(tenant.consultant).post(reverse("deploy_tokens", args=[tenant.client.code]), {"name": "CI"})
    assert all("lr_" not in morsel.value for morsel in response.cookies.values())


# --- Abuse: oversized bodies, wrong content types, and every error answered in JSON ------------------


class _Tripwire(io.BytesIO):
    """A request body that counts what the server reads of it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.taken = 0

    def read(self, size: int | None = -1, /) -> bytes:
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk


def _api_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_5_mb_body_is_a_json_413_before_anything_is_read(tenant: Tenant, caplog: pytest.LogCaptureFixture) -> None:
    _, value = token_create(client=tenant.client, name="CI", user=tenant.consultant)
    body = b'{"version": "' + b"A" * (5 * 1024 * 1024) + b'"}'
    stream = _Tripwire(body)
    response = HttpClient().post(
        reverse("api_deploys"),
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {value}"},
        **{"wsgi.input": stream},
    )
    assert response.status_code == 413 and response["Content-Type"] == "application/json"
    assert response.json() == {"error": f"the body must be at most {MAX_BODY_BYTES} bytes"}
    assert stream.taken == 0
    lines = _api_lines(caplog)
    assert len(lines) == 1, [r.getMessage() for r in lines]
    line = lines[0]
    assert line.levelname == "WARNING" and line.exc_info is None and line.exc_text is None
    assert (
        line.getMessage() == f"deploy API 413: body refused, {len(body)} bytes declared (the cap is {MAX_BODY_BYTES})"
    )
    assert value.split("_", 2)[2] not in line.getMessage() and "AAAA" not in line.getMessage()
    assert not Deploy.objects.exists()


def _chunked(value: str, stream: io.BytesIO, *, server_decodes: bool = True) -> object:
    """A body sent without a length, as a CI tool streaming it chunked does; gunicorn decodes the chunks
    and ends the stream with the body (wsgi.input_terminated), the development server does neither."""
    return HttpClient().post(
        reverse("api_deploys"),
        content_type="application/json",
        headers={"Authorization": f"Bearer {value}", "Transfer-Encoding": "chunked"},
        **{"wsgi.input": stream, "CONTENT_LENGTH": "", "wsgi.input_terminated": server_decodes},
    )


def test_a_chunked_body_over_the_cap_is_read_one_byte_past_it_and_refused(
    tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    _, value = token_create(client=tenant.client, name="CI", user=tenant.consultant)
    stream = _Tripwire(b'{"version": "' + b"A" * (5 * 1024 * 1024) + b'"}')
    response = _chunked(value, stream)
    assert response.status_code == 413  # type: ignore[attr-defined]
    assert response.json()["error"] == f"the body must be at most {MAX_BODY_BYTES} bytes"  # type: ignore[attr-defined]
    assert stream.taken == MAX_BODY_BYTES + 1
    lines = _api_lines(caplog)
    assert [r.getMessage() for r in lines] == [
        f"deploy API 413: body refused, more than {MAX_BODY_BYTES} bytes sent (the cap is {MAX_BODY_BYTES})"
    ]
    assert lines[0].exc_info is None and value not in lines[0].getMessage()
    assert not Deploy.objects.exists()


def test_a_small_chunked_body_is_recorded(tenant: Tenant) -> None:
    _, value = token_create(client=tenant.client, name="CI", user=tenant.consultant)
    response = _chunked(value, io.BytesIO(json.dumps({"version": "v2.0.0"}).encode()))
    assert response.status_code == 201  # type: ignore[attr-defined]
    assert Deploy.objects.get().version == "v2.0.0"


def test_a_chunked_body_the_server_cannot_end_is_a_411_and_is_not_read(tenant: Tenant) -> None:
    _, value = token_create(client=tenant.client, name="CI", user=tenant.consultant)
    stream = _Tripwire(b"f\r\n" + json.dumps({"version": "v2"}).encode() + b"\r\n0\r\n\r\n")
    response = _chunked(value, stream, server_decodes=False)
    assert response.status_code == 411  # type: ignore[attr-defined]
    assert response.json() == {"error": "send the body with a Content-Length header"}  # type: ignore[attr-defined]
    assert stream.taken == 0 and not Deploy.objects.exists()


def test_a_failed_token_check_logs_one_line_without_the_token(tenant: Tenant, caplog: pytest.LogCaptureFixture) -> None:
    token, value = token_create(client=tenant.client, name="CI", user=tenant.consultant)
    wrong = f"lr_{token.prefix}_{'x' * 40}"
    for presented, reason in [
        (wrong, f"wrong secret for token #{token.pk}"),
        ("lr_000000000000_nope-nope-nope", "unknown or revoked token"),
        ("hunter2-hunter2", "not a Launch Ready token"),
    ]:
        caplog.clear()
        response = _post(presented, {"version": "v1"})
        assert response.status_code == 401  # type: ignore[attr-defined]
        assert response.json() == {"error": "missing, unknown or revoked token"}  # type: ignore[attr-defined]
        lines = [r.getMessage() for r in _api_lines(caplog)]
        assert lines == [f"deploy API 401: refused: {reason}"]
        assert all(presented not in line and "x" * 8 not in line and "hunter2" not in line for line in lines)
    assert value.split("_", 2)[2] not in caplog.text


@pytest.mark.parametrize(
    ("method", "content_type", "body", "status", "error"),
    [
        ("get", "", "", 405, "use POST"),
        ("put", "application/json", '{"version": "v1"}', 405, "use POST"),
        ("post", "application/x-www-form-urlencoded", "version=v1", 415, "send the body as JSON"),
        ("post", "text/plain", '{"version": "v1"}', 415, "send the body as JSON"),
        ("post", "application/json", '{"version": ', 400, "the body is not JSON"),
        ("post", "application/json", "\xff\xfe", 400, "the body is not JSON"),
        ("post", "application/json", "[1, 2]", 400, "the body must be a JSON object"),
        ("post", "application/json", '{"version": 12}', 400, "version must be text"),
        ("post", "application/json", "{}", 400, "give a version or a commit"),
    ],
)
def test_every_error_is_answered_in_json(
    tenant: Tenant, method: str, content_type: str, body: str, status: int, error: str
) -> None:
    _, value = token_create(client=tenant.client, name="CI", user=tenant.consultant)
    send = getattr(HttpClient(), method)
    kwargs = {"content_type": content_type} if content_type else {}
    response = send(reverse("api_deploys"), body, headers={"Authorization": f"Bearer {value}"}, **kwargs)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"].startswith(error)
    if status == 405:
        assert response["Allow"] == "POST"
    assert not Deploy.objects.exists()


def test_a_json_content_type_with_a_charset_is_accepted(tenant: Tenant) -> None:
    _, value = token_create(client=tenant.client, name="CI", user=tenant.consultant)
    response = HttpClient().post(
        reverse("api_deploys"),
        json.dumps({"commit": "abc123"}),
        content_type="application/json; charset=utf-8",
        headers={"Authorization": f"Bearer {value}"},
    )
    assert response.status_code == 201


def test_a_fault_of_ours_is_a_json_500_with_one_logged_traceback(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from monitoring import api

    _, value = token_create(client=tenant.client, name="CI", user=tenant.consultant)

    def broken(**_: object) -> Deploy:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(api, "deploy_record", broken)
    response = _post(value, {"version": "v1"})
    assert response.status_code == 500  # type: ignore[attr-defined]
    assert response.json() == {"error": "the deploy could not be recorded: retry in a minute"}  # type: ignore[attr-defined]
    [line] = _api_lines(caplog)
    assert "RuntimeError: the disk is full" in (line.exc_text or "") and "deploy API 500" in line.getMessage()
    assert value.split("_", 2)[2] not in caplog.text


def _padded(size: int) -> bytes:
    """A valid deploy body of exactly `size` bytes (the padding is a field the API ignores)."""
    head = b'{"version": "v1", "notes": "'
    return head + b"x" * (size - len(head) - 2) + b'"}'


@pytest.mark.parametrize(
    ("size", "status"),
    [
        (MAX_BODY_BYTES, 201),
        (MAX_BODY_BYTES + 1, 413),
        # Django's own limit (DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB) is never reached: the body is read
        # with a cap of ours, not through request.body, which would answer Django's HTML 400.
        (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1, 413),
    ],
)
def test_the_cap_is_ours_and_below_djangos(tenant: Tenant, size: int, status: int) -> None:
    _, value = token_create(client=tenant.client, name="CI", user=tenant.consultant)
    body = _padded(size)
    assert len(body) == size
    response = HttpClient().post(
        reverse("api_deploys"), body, content_type="application/json", headers={"Authorization": f"Bearer {value}"}
    )
    assert response.status_code == status and response["Content-Type"] == "application/json"
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE > MAX_BODY_BYTES


@pytest.mark.parametrize(
    ("flaw", "problem"),
    [
        (Flaw.NONE, ""),
        (Flaw.DASHBOARD_500, "“Sign in” answered 500 (Internal Server Error) for a signed-in customer"),
        (Flaw.SLOW_API, "“Call the API” took 2."),
    ],
)
def test_the_smoke_test_signs_in_through_the_clients_journeys(
    sandbox_env: Sandbox, tenant: Tenant, eager_tasks, django_capture_on_commit_callbacks, flaw: Flaw, problem: str
) -> None:  # type: ignore[no-untyped-def]
    tenant.domain.delete()
    apex = APEX_OF[flaw]
    DomainFactory(client=tenant.client, name=apex)
    journey = create_journey(
        tenant.client,
        "Sign in",
        sign_in(f"https://app.{apex}/login", f"https://app.{apex}/dashboard", f"https://api.{apex}/v1/me"),
    )
    for name, value in (("email", ACCOUNT_EMAIL), ("password", ACCOUNT_PASSWORD), ("api_token", api_token(apex))):
        set_secret(journey, name, value)
    AlertChannel.objects.create(client=tenant.client, kind="email", name="Team", recipients=["ops@example.com"])
    with django_capture_on_commit_callbacks(execute=True):
        deploy = smoke_test(Deploy.objects.create(client=tenant.client, version="v2"))
    (result,) = deploy.smoke_results
    assert result["kind"] == "journey" and result["url"] == "Sign in"
    assert result["problem"].startswith(problem) if problem else result["ok"]
    assert deploy.smoke == ("passed" if flaw == Flaw.NONE else "failed")
    assert JourneyRun.objects.get(journey=journey).trigger == JourneyRun.Trigger.DEPLOY
    assert len(mail.outbox) == (0 if flaw == Flaw.NONE else 1)
    if problem:
        assert f"Sign in {problem}" in mail.outbox[0].body
        assert ACCOUNT_PASSWORD not in mail.outbox[0].body
