"""The AI-assistant probe's settings page: staff only, behind re-authentication, secrets encrypted."""

from __future__ import annotations

import re

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse

from accounts.models import Activity
from audits.models import AssistantProbe
from audits.target import AuditTarget
from tests.conftest import Tenant, login
from tests.factories import DomainFactory

pytestmark = pytest.mark.django_db

SECRET = "Bearer sk-widget-secret-0000111122223333"


def _form(**overrides: str) -> dict[str, str]:
    data = {
        "url": "https://chat.example.com/api/chat",
        "method": "POST",
        "body_format": "json",
        "request_template": '{"message": "{{message}}"}',
        "answer_path": "reply",
        "enabled": "on",
        "headers_text": f"Authorization: {SECRET}",
    }
    data.update(overrides)
    return data


def _canary(page: str) -> str:
    match = re.search(r"LR-CANARY-[0-9A-F]{12}", page)
    assert match, "the page shows the canary to paste"
    return match.group(0)


def test_a_consultant_configures_the_probe_and_the_secret_is_encrypted(tenant: Tenant) -> None:
    http = login(tenant.consultant)
    url = reverse("assistant_probe", args=[tenant.client.code])
    shown = _canary(http.get(url).content.decode())
    response = http.post(url, {**_form(), "canary": shown})
    assert response.status_code == 302
    probe = AssistantProbe.objects.get(client=tenant.client)
    assert probe.canary == shown  # the canary pasted from the page is the one the probe looks for
    assert probe.headers == {"Authorization": SECRET} and probe.header_names == ["Authorization"]
    assert SECRET not in probe.secret_headers and "sk-widget" not in probe.secret_headers
    page = http.get(url).content.decode()
    assert "Authorization" in page and SECRET not in page and "sk-widget" not in page
    activity = Activity.objects.get(workspace=tenant.workspace, verb="assistant.configured")
    assert activity.actor_email == tenant.consultant.email and "sk-widget" not in activity.target


def test_saving_again_without_headers_keeps_them_and_the_canary(tenant: Tenant) -> None:
    http = login(tenant.consultant)
    url = reverse("assistant_probe", args=[tenant.client.code])
    http.post(url, _form())
    first = AssistantProbe.objects.get(client=tenant.client)
    http.post(url, {**_form(headers_text="", answer_path="data.answer"), "canary": "LR-CANARY-FFFFFFFFFFFF"})
    probe = AssistantProbe.objects.get(client=tenant.client)
    assert probe.answer_path == "data.answer" and probe.headers == {"Authorization": SECRET}
    assert probe.canary == first.canary
    http.post(url, {**_form(headers_text=""), "clear_headers": "on"})
    assert AssistantProbe.objects.get(client=tenant.client).headers == {}


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("request_template", '{"message": "hello"}', "placeholder"),
        ("request_template", '{"message": "{{message}}"', "not valid JSON"),
        ("url", "https://10.0.0.1/chat", "IP address"),
        ("url", "ftp://chat.example.com/", "Enter the http(s):// address"),
        ("answer_path", "choices[0]", "separated by dots"),
        ("headers_text", "Authorization Bearer x", "Name: value"),
        ("headers_text", "Host: evil.example", "set by the probe itself"),
    ],
)
def test_bad_settings_get_a_clear_form_error(tenant: Tenant, field: str, value: str, error: str) -> None:
    response = login(tenant.consultant).post(
        reverse("assistant_probe", args=[tenant.client.code]), _form(**{field: value})
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not AssistantProbe.objects.filter(client=tenant.client).exists()


def test_a_stale_session_confirms_the_password_before_the_secret_is_typed(tenant: Tenant) -> None:
    http = login(tenant.consultant, authenticated_ago=3600)
    url = reverse("assistant_probe", args=[tenant.client.code])
    response = http.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_reauthenticate"))
    response = http.post(url, _form())
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_reauthenticate"))
    assert not AssistantProbe.objects.filter(client=tenant.client).exists()
    # The secret was not parked in the session to be replayed after the password.
    assert not any("sk-widget" in str(s.get_decoded()) for s in Session.objects.all())


def test_a_founder_cannot_see_or_change_the_probe(tenant: Tenant) -> None:
    http = login(tenant.founder)
    assert http.get(reverse("assistant_probe", args=[tenant.client.code])).status_code == 403
    assert http.post(reverse("assistant_probe_delete", args=[tenant.client.code])).status_code == 403


def test_removing_the_probe_deletes_its_secret(tenant: Tenant) -> None:
    http = login(tenant.consultant)
    http.post(reverse("assistant_probe", args=[tenant.client.code]), _form())
    response = http.post(reverse("assistant_probe_delete", args=[tenant.client.code]))
    assert response.status_code == 302
    assert not AssistantProbe.objects.filter(client=tenant.client).exists()
    assert Activity.objects.filter(workspace=tenant.workspace, verb="assistant.removed").exists()


def test_the_probe_rides_with_the_domain_it_lives_under(tenant: Tenant) -> None:
    other = DomainFactory(client=tenant.client)
    probe = AssistantProbe(client=tenant.client, url=f"https://chat.{other.name}/api/chat")
    probe.save()
    assert AuditTarget.from_domain(other).assistant is not None
    assert AuditTarget.from_domain(tenant.domain).assistant is None
    probe.enabled = False
    probe.save()
    assert AuditTarget.from_domain(other).assistant is None
