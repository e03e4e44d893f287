"""The access inventory: founders fill it in (and nothing else); a secret pasted in is refused with a form error."""

from __future__ import annotations

import pytest
from django.urls import reverse

from handover.forms import looks_like_secret
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
        "password: hunter2",
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


@pytest.mark.parametrize(
    "fine",
    [
        "1Password, Ops vault",
        "Amelia's Google account (amelia@brightpath.co)",
        "Bitwarden › Brightpath › DNS",
        "https://dash.cloudflare.com",
        "Sam Lee, CTO",
    ],
)
def test_ordinary_answers_are_accepted(fine: str) -> None:
    assert not looks_like_secret(fine)


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
