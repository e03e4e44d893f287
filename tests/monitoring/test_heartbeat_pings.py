"""The public ping URLs: /start, success and /fail by GET, POST and HEAD, the run time between /start and the
end, a POST's body kept bounded, one lookup and one write, no session read and no cookie set, CSRF waived for
these views alone, a per-heartbeat rate, and a bare 404 for a URL no heartbeat has."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from launchready.logs import scrub_text
from launchready.models import ClientStatus
from monitoring.models import Heartbeat
from monitoring.pings import BODY_CHARS, heartbeat_create, ping_token, ping_url, token_digest
from tests.conftest import Tenant, login

pytestmark = pytest.mark.django_db


def _heartbeat(tenant: Tenant, **fields: object) -> tuple[Heartbeat, str]:
    heartbeat = heartbeat_create(client=tenant.client, name="Nightly backup", **fields)
    return heartbeat, ping_token(heartbeat)


def _fresh(heartbeat: Heartbeat) -> Heartbeat:
    return Heartbeat.objects.get(pk=heartbeat.pk)


def test_the_url_is_kept_hashed_and_sealed_and_shown_again(tenant: Tenant) -> None:
    heartbeat, token = _heartbeat(tenant)
    assert len(token) >= 24 and token not in heartbeat.token_sealed
    assert heartbeat.token_digest == token_digest(token)
    assert ping_url(_fresh(heartbeat)) == f"{settings.SITE_URL}/ping/{token}"  # copyable again later


def test_start_then_success_measures_the_run_time(tenant: Tenant) -> None:
    heartbeat, token = _heartbeat(tenant)
    http = HttpClient()
    started = http.get(f"/ping/{token}/start")
    assert started.status_code == 200 and started.content == b"OK\n"
    row = _fresh(heartbeat)
    assert row.started_at is not None and row.last_ping_kind == "start" and row.last_success_at is None
    # The job ran for 93 seconds.
    Heartbeat.objects.filter(pk=heartbeat.pk).update(started_at=row.started_at - timedelta(seconds=93))
    assert http.post(f"/ping/{token}", b"backup: 12 GB", content_type="text/plain").status_code == 200
    row = _fresh(heartbeat)
    assert row.started_at is None and row.last_ping_kind == "success" and row.last_success_at is not None
    assert 93 <= row.last_run_seconds < 95  # type: ignore[operator]
    assert row.last_body == "backup: 12 GB"
    assert row.due_at == row.last_success_at + timedelta(minutes=60 + 10)  # its period and grace from now


def test_a_success_without_a_start_has_no_run_time(tenant: Tenant) -> None:
    heartbeat, token = _heartbeat(tenant)
    Heartbeat.objects.filter(pk=heartbeat.pk).update(last_run_seconds=40.0)
    assert HttpClient().head(f"/ping/{token}").status_code == 200
    row = _fresh(heartbeat)
    assert row.last_success_at is not None and row.last_run_seconds is None


def test_a_failure_is_counted_and_wanted_by_the_sweep_at_once(tenant: Tenant) -> None:
    heartbeat, token = _heartbeat(tenant)
    HttpClient().get(f"/ping/{token}/start")
    response = HttpClient().post(f"/ping/{token}/fail", b"pg_dump: connection refused\n", content_type="text/plain")
    assert response.status_code == 200
    row = _fresh(heartbeat)
    assert row.failures == 1 and row.failures_seen == 0 and row.last_failure_at is not None
    assert row.last_ping_kind == "fail" and row.last_run_seconds is not None and row.started_at is None
    assert row.due_at == row.last_failure_at and row.last_body == "pg_dump: connection refused"


def test_a_ping_is_one_lookup_and_one_write(tenant: Tenant, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    _, token = _heartbeat(tenant, schedule="cron", cron="0 3 * * *")
    http = HttpClient()
    for path in (f"/ping/{token}/start", f"/ping/{token}"):
        with django_assert_max_num_queries(2):
            assert http.get(path).status_code == 200
    # A failure changes what the client's status row says (the dashboard's "1 job failed"): the row is refreshed
    # too: a savepoint, the row locked, the client's jobs read, the row written, the savepoint released.
    with django_assert_max_num_queries(2 + 5):
        assert http.get(f"/ping/{token}/fail").status_code == 200
    for path in (f"/ping/{token}/fail", f"/ping/{token}/start"):  # still failed: the row says so already
        with django_assert_max_num_queries(2):
            assert http.get(path).status_code == 200
    assert ClientStatus.objects.get(client=tenant.client).heartbeats_failed == 1


def test_a_signed_in_browser_opening_the_url_reads_no_session_and_gets_no_cookie(
    tenant: Tenant, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    _, token = _heartbeat(tenant)
    browser = login(tenant.consultant)
    with django_assert_max_num_queries(2):  # not the session, the user or the memberships
        response = browser.get(f"/ping/{token}")
    assert response.status_code == 200
    assert not response.cookies and "Set-Cookie" not in response
    assert "Cookie" not in response.get("Vary", "")
    assert "no-store" in response["Cache-Control"]


def test_csrf_is_waived_for_the_pings_alone(tenant: Tenant) -> None:
    heartbeat, token = _heartbeat(tenant)
    strict = HttpClient(enforce_csrf_checks=True)
    assert strict.post(f"/ping/{token}/fail").status_code == 200
    # A page of the product still asks for the token: the waiver is on the three ping views, nothing else.
    strict.force_login(tenant.consultant)
    assert strict.post(reverse("heartbeat_pause", args=[heartbeat.code]), {"pause": "1"}).status_code == 403
    assert not _fresh(heartbeat).paused


def test_a_url_no_heartbeat_has_is_a_bare_404(tenant: Tenant, caplog: pytest.LogCaptureFixture) -> None:
    heartbeat, token = _heartbeat(tenant)
    http = HttpClient()
    for path in ("/ping/" + "x" * 24, "/ping/short", "/ping/" + "y" * 24 + "/fail", "/ping/%3Cscript%3E"):
        response = http.get(path)
        assert response.status_code == 404, path
        assert response.content == b"not found\n", path
    heartbeat.delete()
    with caplog.at_level(logging.INFO):
        gone = http.post(f"/ping/{token}")
    assert gone.status_code == 404 and gone.content == b"not found\n"
    assert all(token not in r.getMessage() for r in caplog.records), "the secret reached a log line"
    assert any("no heartbeat has this ping URL" in r.getMessage() for r in caplog.records)


def test_other_methods_are_refused(tenant: Tenant) -> None:
    _, token = _heartbeat(tenant)
    response = HttpClient().put(f"/ping/{token}")
    assert response.status_code == 405 and response["Allow"] == "GET, POST, HEAD"


def test_a_ping_url_in_a_log_line_is_scrubbed() -> None:
    line = '"GET /ping/AbCdEfGhIjKlMnOpQrStUvWx/fail HTTP/1.1" 200 3'
    assert scrub_text(line) == '"GET /ping/[redacted]/fail HTTP/1.1" 200 3'


def test_the_body_is_bounded_and_kept_as_text(tenant: Tenant) -> None:
    heartbeat, token = _heartbeat(tenant)
    hostile = "<script>alert(1)</script>\x00\x1b[31m" + "é" * 5000
    HttpClient().post(f"/ping/{token}/fail", hostile.encode(), content_type="text/plain")
    body = _fresh(heartbeat).last_body
    assert len(body) == BODY_CHARS and body.endswith("…")
    assert body.startswith("<script>alert(1)</script>[31m") and "\x00" not in body and "\x1b" not in body
    # A GET's body is not read.
    HttpClient().generic("GET", f"/ping/{token}", b"ignored")
    assert _fresh(heartbeat).last_body == ""


def test_pings_are_rate_limited_per_heartbeat(tenant: Tenant) -> None:
    _, token = _heartbeat(tenant)
    _, other = _heartbeat_named(tenant, "Invoice emails")
    http = HttpClient()
    answers = [http.get(f"/ping/{token}").status_code for _ in range(61)]
    assert answers[:60] == [200] * 60
    refused = http.get(f"/ping/{token}")
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert refused.content.startswith(b"too many pings: retry in ")
    assert http.get(f"/ping/{other}").status_code == 200  # another heartbeat keeps its own budget


def _heartbeat_named(tenant: Tenant, name: str) -> tuple[Heartbeat, str]:
    heartbeat = heartbeat_create(client=tenant.client, name=name)
    return heartbeat, ping_token(heartbeat)


def test_guessing_urls_is_rate_limited_per_address(tenant: Tenant) -> None:
    _, token = _heartbeat(tenant)
    http = HttpClient()
    answers = [http.get(f"/ping/guess{n:020d}").status_code for n in range(31)]
    assert answers[:30] == [404] * 30 and answers[30] == 429
    assert http.get(f"/ping/{token}").status_code == 200  # a real URL is still taken from that address


def test_a_new_url_retires_the_old_one(tenant: Tenant) -> None:
    heartbeat, token = _heartbeat(tenant)
    response = login(tenant.consultant).post(reverse("heartbeat_new_url", args=[heartbeat.code]))
    assert response.status_code == 302
    fresh = ping_token(_fresh(heartbeat))
    assert fresh != token
    assert HttpClient().get(f"/ping/{token}").status_code == 404
    assert HttpClient().get(f"/ping/{fresh}").status_code == 200
    assert _fresh(heartbeat).last_ping_at is not None and _fresh(heartbeat).last_ping_at <= timezone.now()
