"""Webhook probes through the sandbox: a webhook that refuses an unsigned post is fine; one that redirects,
accepts it, is missing or is slow each gets its finding in plain English."""

from __future__ import annotations

import pytest

from launchready.models import Route
from launchready.sandbox.runner import Sandbox
from monitoring.webhook_probe import probe_webhooks, webhook_urls
from tests.conftest import Tenant
from tests.factories import DomainFactory


def _ids(sandbox: Sandbox, url: str) -> list[str]:
    (report,) = probe_webhooks([url], sandbox.net_config())
    return [f.check_id for f in report.findings]


@pytest.mark.parametrize(
    "url",
    ["https://api.saas-app.test/webhooks/stripe", "https://api.launch-ready.test/webhooks/stripe"],
)
def test_a_webhook_that_refuses_an_unsigned_post_is_fine(world_sandbox: Sandbox, url: str) -> None:
    (report,) = probe_webhooks([url], world_sandbox.net_config())
    assert report.ok and report.status == 400 and report.ms > 0


def test_a_webhook_that_redirects(world_sandbox: Sandbox) -> None:
    (report,) = probe_webhooks(["https://api.saas-webhook-redirect.test/webhooks/stripe"], world_sandbox.net_config())
    (finding,) = report.findings
    assert finding.check_id == "webhook.redirects" and finding.severity == "high"
    assert finding.title == "The webhook /webhooks/stripe answers a POST with a redirect (301 (Moved Permanently))"
    assert "to https://api.saas-webhook-redirect.test/webhooks/stripe/" in finding.explanation
    assert "every event is retried until the provider disables the endpoint" in finding.explanation
    assert "Register the final address (https://api.saas-webhook-redirect.test/webhooks/stripe/)" in finding.fix


def test_a_webhook_that_accepts_an_unsigned_post(world_sandbox: Sandbox) -> None:
    (report,) = probe_webhooks(["https://api.saas-webhook-unsigned.test/webhooks/stripe"], world_sandbox.net_config())
    (finding,) = report.findings
    assert finding.check_id == "webhook.accepts_unsigned"
    assert finding.title == "The webhook /webhooks/stripe accepts an unsigned request"
    assert "anyone who knows the address can send it events" in finding.explanation


def test_a_missing_a_refusing_and_a_slow_webhook(world_sandbox: Sandbox) -> None:
    assert _ids(world_sandbox, "https://api.saas-app.test/webhooks/gone") == ["webhook.not_found"]
    # The sign-in page of a slow app taken for a webhook: it takes an unsigned post, after 2.2 s.
    assert _ids(world_sandbox, "https://app.slow-login.test/login") == ["webhook.accepts_unsigned", "webhook.slow"]
    assert _ids(world_sandbox, "https://app.missing-app.test/hook") == ["webhook.unreachable"]


@pytest.mark.django_db
def test_the_probes_take_a_clients_webhook_routes(tenant: Tenant) -> None:
    domain = DomainFactory(client=tenant.client, name="saas-app.test")
    Route.objects.create(domain=domain, host="api", path="/webhooks/stripe", kind=Route.Kind.WEBHOOK)
    Route.objects.create(domain=domain, host="app", path="/login", kind=Route.Kind.LOGIN)
    assert webhook_urls(tenant.client) == ["https://api.saas-app.test/webhooks/stripe"]
