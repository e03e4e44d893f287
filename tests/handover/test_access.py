"""The access inventory: founders fill it in (and nothing else); a secret pasted in is refused with a form error."""

from __future__ import annotations

import pytest
from django.urls import reverse

from handover.forms import PASSWORD_ERROR, looks_like_secret, secret_refusal
from handover.models import AccessEntry, PackVersion
from tests.conftest import Tenant, login

pytestmark = pytest.mark.django_db


def test_a_founder_fills_in_the_access_inventory(tenant: Tenant) -> None:
    http = login(tenant.founder)
    url = reverse("access_inventory", args=[tenant.client.code])
    assert http.get(url).status_code == 200
    response = http.post(
        url,
        {
            "registrar-provider": "Namecheap",
            "registrar-owner": "Amelia Hart",
            "registrar-login_location": "1Password, Ops vault",
            "hosting-owner": "Sam",
        },
    )
    assert response.status_code == 302
    registrar = AccessEntry.objects.get(client=tenant.client, kind="registrar")
    assert (registrar.provider, registrar.owner, registrar.updated_by) == ("Namecheap", "Amelia Hart", tenant.founder)
    assert AccessEntry.objects.filter(client=tenant.client).count() == 2


@pytest.mark.parametrize(
    "pasted",
    [
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "AKIAIOSFODNN7EXAMPLE",
        "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        "Kq8vX2mZ9pL4wR7tY1uE5sA3dF6gH0jN",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        "https://admin:s3cretpass@dash.example.com",
    ],
)
def test_a_secret_pasted_in_is_refused_with_a_form_error(tenant: Tenant, pasted: str) -> None:
    http = login(tenant.founder)
    response = http.post(reverse("access_inventory", args=[tenant.client.code]), {"dns-login_location": pasted})
    assert response.status_code == 400
    page = response.content.decode()
    assert "This looks like a password or key" in page and pasted not in page
    assert not AccessEntry.objects.exists()


# Text that states a password, in the shapes people write them.
STATES_A_PASSWORD = [
    "password is Winter2026!!",
    "The password is hunter2",
    "password: hunter2",
    "Passwords: Winter2026!!",
    "pw: letmein",
    "PW = correcthorse",
    "pwd=Tr0ub4dor&3",
    "pass=hunter2",
    "passphrase: purple monkey dishwasher",
    "the PIN is 4821",
    "Passcode: 1234",
    "login: bob / hunter2",
    "Login: amelia@brightpath.co | Winter2026!!",
    "user: admin / admin",
    "credentials: bob/hunter2",
    "bob:hunter2",
    "bob:letmein",
    "admin@brightpath.co:Winter2026!!",
    "Cloudflare, amelia@brightpath.co:Winter2026!!",
    "Vercel (password was: Summer2025)",
    "Winter2026!!",
    "Tr0ub4dor&3",
    "P4ssw0rdX",
]
# Ordinary answers, some of them about passwords, none stating one.
SAYS_WHERE = [
    "Password manager: 1Password, shared vault 'Ops'",
    "the password is in Bitwarden",
    "Password: in 1Password, Ops vault",
    "Passwords are in 1Password",
    "The password is kept by Amelia",
    "password is the same as the Google Workspace one",
    "the password was changed in March",
    "1Password, Ops vault",
    "Amelia's Google account (amelia@brightpath.co)",
    "Login: Amelia's Google account",
    "Login: Google / SSO",
    "Cloudflare (login: amelia@brightpath.co)",
    "Bitwarden › Brightpath › DNS",
    "Ops/Infra",
    "https://dash.cloudflare.com",
    "localhost:8080",
    "DNS: Route53",
    "Meeting notes 10:30, Sam Lee, CTO",
    "Account: Amelia, CEO",
    "Sam Lee, CTO",
    "1Password",
    "Route53",
    "AWS-Prod-2",
    "Auth0",
    "Fly.io",
    "amelia@brightpath.co",
    "Namecheap",
]


@pytest.mark.parametrize("text", STATES_A_PASSWORD)
def test_text_that_states_a_password_is_refused(text: str) -> None:
    assert secret_refusal(text) == PASSWORD_ERROR


@pytest.mark.parametrize("text", SAYS_WHERE)
def test_text_that_says_where_the_login_lives_is_accepted(text: str) -> None:
    assert secret_refusal(text) == ""
    assert not looks_like_secret(text)


def test_the_founder_is_told_why_a_password_is_refused_and_it_is_not_echoed(tenant: Tenant) -> None:
    http = login(tenant.founder)
    url = reverse("access_inventory", args=[tenant.client.code])
    response = http.post(url, {"hosting-provider": "Render", "hosting-login_location": "password is Winter2026!!"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Write where the login lives" in page and "never the password itself" in page
    assert "Winter2026" not in page and "Render" in page
    assert not AccessEntry.objects.exists()


def test_the_founder_saves_a_sentence_about_where_the_password_is(tenant: Tenant) -> None:
    http = login(tenant.founder)
    url = reverse("access_inventory", args=[tenant.client.code])
    response = http.post(url, {"email-login_location": "Password manager: 1Password, shared vault 'Ops'"})
    assert response.status_code == 302
    assert (
        AccessEntry.objects.get(client=tenant.client).login_location
        == "Password manager: 1Password, shared vault 'Ops'"
    )


def test_the_founder_can_change_nothing_else(tenant: Tenant) -> None:
    http = login(tenant.founder)
    assert http.post(reverse("pack_publish", args=[tenant.client.code])).status_code == 403
    assert not PackVersion.objects.exists()
    assert (
        http.post(reverse("checklist_tick", args=[tenant.sprint.code]), {"item": "ssl", "done": "on"}).status_code
        == 403
    )
    for name, args in [
        ("client_edit", [tenant.client.code]),
        ("domain_edit", [tenant.domain.code]),
        ("sprint_edit", [tenant.sprint.code]),
    ]:
        assert http.post(reverse(name, args=args), {"name": "Hijacked"}).status_code == 403


def test_the_founder_home_shows_status_pack_and_access(tenant: Tenant) -> None:
    from handover.publish import pack_publish

    first = pack_publish(client=tenant.client, user=tenant.consultant)
    second = pack_publish(client=tenant.client, user=tenant.consultant, note="After the DMARC fix")
    http = login(tenant.founder)
    page = http.get(reverse("client_detail", args=[tenant.client.code])).content.decode()
    assert "uptime: no monitoring data yet" in page and "p95 response time" in page
    assert "open risks: not known before an audit" in page
    assert reverse("pack_version", args=[second.code]) in page and reverse("pack_version", args=[first.code]) in page
    assert reverse("access_inventory", args=[tenant.client.code]) in page
    assert http.get(reverse("client_pack", args=[tenant.client.code])).url == reverse(
        "pack_version", args=[second.code]
    )


def test_a_too_long_publish_note_is_a_clear_error(tenant: Tenant) -> None:
    http = login(tenant.consultant)
    response = http.post(reverse("pack_publish", args=[tenant.client.code]), {"note": "x" * 301}, follow=True)
    assert "Not published" in response.content.decode() and not PackVersion.objects.exists()


def test_the_founder_home_queries_do_not_grow_with_routes(tenant: Tenant, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    from monitoring.scheduler import sync_monitors
    from tests.factories import RouteFactory

    http = login(tenant.founder)
    url = reverse("client_detail", args=[tenant.client.code])
    sync_monitors()
    http.get(url)
    with django_assert_max_num_queries(40) as few:
        http.get(url)
    RouteFactory.create_batch(12, domain=tenant.domain)
    sync_monitors()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert http.get(url).status_code == 200


def test_a_pdf_engine_failure_is_a_clear_message_and_one_log_line(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from handover import views
    from handover.publish import pack_publish

    version = pack_publish(client=tenant.client, user=tenant.consultant)

    def broken(_: object) -> bytes:
        raise OSError("cannot load library 'libpango-1.0-0'")

    monkeypatch.setattr(views, "pack_pdf", broken)
    response = login(tenant.founder).get(reverse("pack_version_pdf", args=[version.code]), follow=True)
    assert response.status_code == 200
    assert "The PDF could not be made just now" in response.content.decode()
    lines = [r for r in caplog.records if r.name == "handover.views"]
    assert len(lines) == 1 and "OSError" in lines[0].getMessage()


def test_no_row_of_another_tenant_reaches_a_pack_or_its_exports(tenant: Tenant, other_tenant: Tenant) -> None:
    import json

    from handover.publish import pack_publish
    from launchready.models import Contact

    for t, who in ((tenant, "Alice Own"), (other_tenant, "Zed Stranger")):
        Contact.objects.create(client=t.client, name=who, email=f"{who.split()[0].lower()}@example.com")
        AccessEntry.objects.create(client=t.client, kind="hosting", owner=f"{who} (hosting)", login_location="Vault")
    mine = pack_publish(client=tenant.client, user=tenant.consultant)
    pack_publish(client=other_tenant.client, user=other_tenant.consultant)
    exported = json.dumps(mine.data) + mine.html + mine.markdown
    exported += login(tenant.founder).get(reverse("pack_version_markdown", args=[mine.code])).content.decode()
    for foreign in ("Zed Stranger", other_tenant.client.name, other_tenant.domain.name, other_tenant.consultant.email):
        assert foreign not in exported, foreign
    assert "Alice Own" in exported and tenant.domain.name in exported


def test_the_consultant_is_told_when_the_pack_has_no_audit_yet(tenant: Tenant) -> None:
    page = login(tenant.consultant).get(reverse("client_pack", args=[tenant.client.code])).content.decode()
    assert "No audit has finished yet" in page and "Publish version 1" in page
    founder_page = login(tenant.founder).get(reverse("client_detail", args=[tenant.client.code])).content.decode()
    assert reverse("client_pack", args=[tenant.client.code]) in founder_page  # the founder's menu


def test_publishing_and_exporting_the_pack_are_in_the_activity_log(tenant: Tenant) -> None:
    from accounts.models import Activity

    login(tenant.consultant).post(  # not audited, nothing in the inventory: published once both are confirmed
        reverse("pack_publish", args=[tenant.client.code]), {"note": "Sprint done", "confirm": "access,unaudited"}
    )
    version = PackVersion.objects.get()
    assert login(tenant.founder).get(reverse("pack_version_markdown", args=[version.code])).status_code == 200
    lines = list(Activity.objects.filter(workspace=tenant.client.workspace).values_list("verb", "actor", "target"))
    assert ("pack.published", tenant.consultant.id, f"Handover pack v1 of {tenant.client.name}") in lines
    assert ("export.downloaded", tenant.founder.id, f"Handover pack v1 of {tenant.client.name} (Markdown)") in lines
