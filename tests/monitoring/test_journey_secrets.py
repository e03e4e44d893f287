"""Journey secrets (a test account's password, an API token) are encrypted at rest, never read back out, and
absent from every run's evidence, the logs and the export, in every form they take on the wire."""

from __future__ import annotations

import base64
import json
import logging
from urllib.parse import quote, quote_plus

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.test import override_settings

from launchready.sandbox.runner import Sandbox
from launchready.sandbox.saas_app import ACCOUNT_EMAIL, ACCOUNT_PASSWORD, APEX_OF, Flaw, SaasApp, api_token
from monitoring.journey_steps import Extraction, StepSpec
from monitoring.journey_templates import sign_in
from monitoring.journeys import JourneyError, create_journey, journey_export, run_journey_now, set_secret
from monitoring.models import Journey, JourneyRun, JourneySecret
from tests.conftest import Tenant
from tests.factories import DomainFactory

pytestmark = pytest.mark.django_db


def _journey(tenant: Tenant, flaw: Flaw = Flaw.NONE) -> Journey:
    apex = APEX_OF[flaw]
    DomainFactory(client=tenant.client, name=apex)
    steps = sign_in(f"https://app.{apex}/login", f"https://app.{apex}/dashboard", f"https://api.{apex}/v1/me")
    journey = create_journey(tenant.client, "Sign in", steps)
    set_secret(journey, "email", ACCOUNT_EMAIL)
    set_secret(journey, "password", ACCOUNT_PASSWORD)
    set_secret(journey, "api_token", api_token(apex))
    return journey


def _forms(value: str) -> list[str]:
    return [
        value,
        quote_plus(value),
        quote(value, safe=""),
        json.dumps(value)[1:-1],
        base64.b64encode(value.encode()).decode(),
    ]


def test_a_secret_is_encrypted_at_rest_and_replaced_when_set_again(tenant: Tenant) -> None:
    journey = _journey(tenant)
    row = JourneySecret.objects.get(journey=journey, name="password")
    assert ACCOUNT_PASSWORD not in row.ciphertext and row.value == ACCOUNT_PASSWORD
    set_secret(journey, "password", "another one")
    assert JourneySecret.objects.filter(journey=journey, name="password").count() == 1
    assert JourneySecret.objects.get(journey=journey, name="password").value == "another one"
    with pytest.raises(JourneyError, match="letters, digits and _"):
        set_secret(journey, "not a name", "x")


@pytest.mark.parametrize("flaw", [Flaw.NONE, Flaw.COOKIE_WRONG_HOST, Flaw.CSRF_REJECTED])
def test_no_secret_reaches_the_evidence_the_logs_or_the_export(
    sandbox_env: Sandbox, tenant: Tenant, flaw: Flaw, caplog: pytest.LogCaptureFixture
) -> None:
    journey = _journey(tenant, flaw)
    apex = APEX_OF[flaw]
    with caplog.at_level(logging.DEBUG):
        run = run_journey_now(journey)
    assert run.ok == (flaw == Flaw.NONE), run.summary
    stored = JourneyRun.objects.get(pk=run.pk)
    evidence = json.dumps(
        {"steps": stored.steps, "summary": stored.summary, "detail": stored.detail, "fix": stored.fix},
        ensure_ascii=False,
    )
    logs = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    export = json.dumps(journey_export(journey), ensure_ascii=False)
    secrets = [ACCOUNT_PASSWORD, api_token(apex), SaasApp(apex).session()]
    for secret in secrets:
        for form in _forms(secret):
            assert form not in evidence, form
            assert form not in logs, form
            assert form not in export, form
    # The evidence still says what happened: the fields sent (masked), the cookies by name and attributes.
    signing_in = stored.steps[1]
    assert "password=•••" in signing_in["request"]["body"]
    assert "csrfmiddlewaretoken=•••" in signing_in["request"]["body"]
    if flaw == Flaw.NONE:
        assert signing_in["hops"][0]["cookies_set"][0] == {
            "name": "sessionid",
            "attributes": "Path=/; Secure; HttpOnly; SameSite=Lax",
            "scope": f"app.{apex} only",
        }
        api = stored.steps[3]
        assert ["Authorization", "Bearer •••"] in api["request"]["headers"]
    assert json.loads(export)["secrets"] == ["api_token", "email", "password"]


def test_rotating_the_key_re_encrypts_journey_secrets(tenant: Tenant) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(LAUNCHREADY_ENCRYPTION_KEYS=[old]):
        journey = _journey(tenant)
    with override_settings(LAUNCHREADY_ENCRYPTION_KEYS=[new, old]):
        call_command("rotate_encryption_keys")
    with override_settings(LAUNCHREADY_ENCRYPTION_KEYS=[new]):
        assert JourneySecret.objects.get(journey=journey, name="password").value == ACCOUNT_PASSWORD


def test_a_secret_in_a_json_body_or_an_address_is_redacted_by_its_value(sandbox_env: Sandbox, tenant: Tenant) -> None:
    """Where no field or header name marks it (a JSON body, a query string), the value itself is found."""
    apex = APEX_OF[Flaw.NONE]
    DomainFactory(client=tenant.client, name=apex)
    steps = [
        StepSpec(
            name="Get a token",
            url=f"https://api.{apex}/v1/auth/token",
            method="POST",
            body_kind="json",
            json_body='{"login": {"who": "{{email}}", "with": "{{password}}"}, "email": "{{email}}", '
            '"password": "{{password}}"}',
            extractions=(Extraction("issued", "json", "access_token"),),
        ),
        StepSpec(
            name="Who am I",
            url=f"https://api.{apex}/v1/me?access_key={{{{api_token}}}}",
            headers=(("Authorization", "Bearer {{issued}}"),),
        ),
    ]
    journey = create_journey(tenant.client, "API", steps)
    set_secret(journey, "email", ACCOUNT_EMAIL)
    set_secret(journey, "password", ACCOUNT_PASSWORD)
    set_secret(journey, "api_token", api_token(apex))
    run = run_journey_now(journey)
    assert run.ok, run.summary
    evidence = json.dumps(JourneyRun.objects.get(pk=run.pk).steps, ensure_ascii=False)
    for secret in (ACCOUNT_PASSWORD, api_token(apex), SaasApp(apex).issued_token()):
        for form in _forms(secret):
            assert form not in evidence, form
    assert "[secret password]" in evidence and "access_key=[secret api_token]" in evidence
