"""Publishing a pack that should not reassure (No-go, open blockers, an empty access inventory, no audit)
asks the consultant to confirm each warning; a clean pack publishes at once; and every published version
tells the client's founders once, by email, with the link to that version."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from audits.models import AuditFinding, AuditRun
from handover.models import AccessEntry, PackVersion
from handover.pack_mail import notify_founders
from handover.publish import pack_publish
from launchready.sandbox.smtp import SmtpSink, html_body, text_body
from tests.conftest import Tenant, login
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

HOSTILE = '<b hx-post=../../contacts/new/ hx-trigger=load>Ghost & "Labs"</b>'


@pytest.fixture
def smtp(settings, smtp_sink: SmtpSink) -> SmtpSink:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_sink.host
    settings.EMAIL_PORT = smtp_sink.port
    settings.EMAIL_USE_TLS = False
    settings.SITE_URL = "https://app.launchready.example"
    return smtp_sink


def _audit(tenant: Tenant, blocker: bool) -> None:
    run = AuditRun.objects.create(
        domain=tenant.domain, state="done", go=not blocker, created=timezone.now(), finished_at=timezone.now()
    )
    if blocker:
        AuditFinding.objects.create(
            run=run,
            check_id="exposure.env_file",
            subject=tenant.domain.name,
            area="exposure",
            severity="blocker",
            item="secrets",
            title="The app serves its .env file",
            explanation="Anyone can read the keys.",
            fix="Stop serving it.",
        )


def _access(tenant: Tenant) -> None:
    AccessEntry.objects.create(client=tenant.client, kind="registrar", provider="Namecheap", owner="Amelia")


def test_a_no_go_pack_with_an_empty_access_inventory_asks_to_confirm_each_warning(tenant: Tenant) -> None:
    _audit(tenant, blocker=True)
    http = login(tenant.consultant)
    preview = http.get(reverse("client_pack", args=[tenant.client.code])).content.decode()
    assert "The launch verdict is No-go." in preview  # warned before the button is pressed
    url = reverse("pack_publish", args=[tenant.client.code])
    page = http.post(url, {"note": "End of sprint"})
    body = page.content.decode()
    assert page.status_code == 200 and not PackVersion.objects.exists()
    assert "Publish version 1 anyway?" in body
    for warning in (
        "The launch verdict is No-go.",
        "1 launch blocker open: The app serves its .env file.",
        "The access inventory is empty: nobody is recorded as holding any login.",
    ):
        assert warning in body, warning
    assert 'value="End of sprint"' in body and 'name="confirm" value="access,blockers,nogo"' in body
    confirmed = http.post(url, {"note": "End of sprint", "confirm": "access,blockers,nogo"})
    version = PackVersion.objects.get()
    assert confirmed.status_code == 302 and confirmed["Location"] == reverse("pack_version", args=[version.code])
    assert version.note == "End of sprint"


def test_a_confirmation_of_other_warnings_asks_again(tenant: Tenant) -> None:
    _audit(tenant, blocker=True)
    _access(tenant)
    http = login(tenant.consultant)
    url = reverse("pack_publish", args=[tenant.client.code])
    AccessEntry.objects.all().delete()  # the inventory emptied after the consultant read the warnings
    page = http.post(url, {"confirm": "blockers,nogo"})
    assert page.status_code == 200 and "The access inventory is empty" in page.content.decode()
    assert not PackVersion.objects.exists()


def test_a_pack_never_audited_is_a_warning_too(tenant: Tenant) -> None:
    _access(tenant)
    page = login(tenant.consultant).post(reverse("pack_publish", args=[tenant.client.code]), {})
    assert page.status_code == 200 and "No audit has finished" in page.content.decode()
    assert not PackVersion.objects.exists()


def test_a_clean_pack_publishes_at_once_and_says_who_is_told(tenant: Tenant) -> None:
    _audit(tenant, blocker=False)
    _access(tenant)
    http = login(tenant.consultant)
    response = http.post(reverse("pack_publish", args=[tenant.client.code]), {"note": ""}, follow=True)
    version = PackVersion.objects.get()
    assert response.redirect_chain[-1][0] == reverse("pack_version", args=[version.code])
    assert "Handover pack v1 published. 1 founder is emailed a link to it." in response.content.decode()


def test_the_founders_are_told_once_per_version_with_its_link(
    tenant: Tenant, smtp: SmtpSink, eager_tasks, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    tenant.client.name = HOSTILE
    tenant.client.save(update_fields=["name"])
    second = MembershipFactory(workspace=tenant.workspace, role="founder", client=tenant.client).user
    _audit(tenant, blocker=True)
    with django_capture_on_commit_callbacks(execute=True):
        version = pack_publish(client=tenant.client, user=tenant.consultant, note="After the <i>DMARC</i> fix")
    assert notify_founders(version.id) == "already sent"  # a redelivered task sends nothing more
    link = f"https://app.launchready.example{reverse('pack_version', args=[version.code])}"
    for founder in (tenant.founder, second):
        [message] = smtp.received_by(founder.email)
        assert message["To"] == founder.email
        assert message["Subject"].strip().startswith(f"{HOSTILE} · handover pack version 1 published")
        text, html = text_body(message), html_body(message)
        assert HOSTILE in text and "After the <i>DMARC</i> fix" in text and "&lt;" not in text and "&amp;" not in text
        assert "NO-GO (1 open blocker)" in text and link in text
        assert "<b hx-post" not in html and "<i>DMARC" not in html
        assert "&lt;b hx-post=../../contacts/new/ hx-trigger=load&gt;Ghost &amp; &quot;Labs&quot;&lt;/b&gt;" in html
        assert f'href="{link}"' in html
    assert not smtp.received_by(tenant.consultant.email) and not smtp.received_by(tenant.owner.email)
    assert PackVersion.objects.get().founders_notified_at is not None


def test_the_notice_is_queued_only_once_the_version_is_committed(
    tenant: Tenant, smtp: SmtpSink, eager_tasks, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks() as callbacks:
        version = pack_publish(client=tenant.client, user=tenant.consultant)
    assert len(callbacks) == 1 and not smtp.received_by(tenant.founder.email)
    callbacks[0]()
    [message] = smtp.received_by(tenant.founder.email)
    assert reverse("pack_version", args=[version.code]) in text_body(message)


def test_an_unreachable_mail_server_gives_the_notice_back_for_a_retry(tenant: Tenant, settings, smtp: SmtpSink) -> None:  # type: ignore[no-untyped-def]
    version = pack_publish(client=tenant.client, user=tenant.consultant)
    settings.EMAIL_PORT = 1  # nothing listens there
    assert notify_founders(version.id) == "retry"
    version.refresh_from_db()
    assert version.founders_notified_at is None
    settings.EMAIL_PORT = smtp.port
    assert notify_founders(version.id) == "sent"
    assert len(smtp.received_by(tenant.founder.email)) == 1
