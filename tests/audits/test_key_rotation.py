"""'I rotated this key': a consultant's mark on a leaked key closes its finding everywhere open findings count;
a later scan closes it for good when the key is gone, and keeps it open while the same key is in the code."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from audits.models import KeyRotation, RepoFinding, RepoScan
from audits.risk import risk_list
from audits.secrets.lifecycle import repo_scan_execute
from audits.selectors import latest_audit_facts
from launchready.models import Client
from launchready.status import status_of
from tests.audits.repos import GITHUB_TOKEN, zip_bytes
from tests.audits.test_repo_scan import _upload
from tests.conftest import Tenant, login

OTHER_TOKEN = "ghp_" + "Q7jUv1Kp8Wy3Sm6La2Gb5Ic0Er4Fx9Oz1Dh8"


def _scan(tenant: Tenant, token: str | None = GITHUB_TOKEN) -> RepoScan:
    files = {"acme/app.py": b"print('hello')\n"}
    if token:
        files["acme/deploy.yml"] = f"token: {token}\n".encode()
    scan, key = _upload(tenant, zip_bytes(files))
    done = repo_scan_execute(scan.id, key)
    assert done is not None and done.state == RepoScan.State.DONE
    return done


def _blockers(tenant: Tenant) -> int:
    """The open blockers on the client's status row, read afresh."""
    return status_of(Client.objects.get(pk=tenant.client.pk)).blockers


def _key(scan: RepoScan) -> RepoFinding:
    rows = list(scan.findings.filter(check_id="secrets.repo.key"))
    assert len(rows) == 1, rows
    return rows[0]


def _mark(http: HttpClient, tenant: Tenant, key: RepoFinding, note: str = "") -> Any:
    return http.post(reverse("key_rotated", args=[tenant.client.code]), {"finding": key.id, "note": note})


@pytest.mark.django_db
def test_the_mark_closes_the_key_on_the_risk_list_status_row_and_checklist(tenant: Tenant) -> None:
    scan = _scan(tenant)
    key = _key(scan)
    assert key.subject.startswith("repo#github-") and key.is_open
    assert risk_list(tenant.client).go is False and _blockers(tenant) == 1
    assert latest_audit_facts(tenant.client.id).counts["secrets"].get("blocker") == 1

    response = _mark(login(tenant.consultant), tenant, key, "Revoked in GitHub, new token in Vault")
    assert response.status_code == 302

    rotation = KeyRotation.objects.get(client=tenant.client, subject=key.subject)
    assert rotation.rotated_by == tenant.consultant and rotation.note == "Revoked in GitHub, new token in Vault"
    key.refresh_from_db()
    assert not key.is_open and key.evidence["rotated"] == rotation.summary
    assert rotation.summary.startswith("Rotated on ") and rotation.summary.endswith(f"by {rotation.by}")
    risks = risk_list(tenant.client)
    assert key not in risks.all_open and key in risks.fixed and risks.blockers == 0
    assert _blockers(tenant) == 0
    assert latest_audit_facts(tenant.client.id).counts.get("secrets", {}).get("blocker") is None
    page = login(tenant.consultant).get(reverse("repo_scans", args=[tenant.client.code])).content.decode()
    assert rotation.summary in page and "Revoked in GitHub" in page and "Undo the mark" in page
    assert "I rotated this key" not in page
    assert (
        rotation.summary
        in login(tenant.founder).get(reverse("client_risks", args=[tenant.client.code])).content.decode()
    )


@pytest.mark.django_db
def test_a_founder_sees_the_key_but_cannot_mark_it(tenant: Tenant) -> None:
    key = _key(_scan(tenant))
    http = login(tenant.founder)
    page = http.get(reverse("repo_scans", args=[tenant.client.code])).content.decode()
    assert "I rotated this key" not in page
    # the key as the scan shows it (prefix and fingerprint) and where it was seen, not the finding's inner name
    assert html.escape(key.evidence["key"]) in page and html.escape(key.evidence["found in"]) in page
    assert key.subject not in page
    assert _mark(http, tenant, key).status_code == 403
    assert not KeyRotation.objects.exists()
    KeyRotation.objects.create(client=tenant.client, subject=key.subject)
    assert http.post(reverse("key_rotation_undone", args=[tenant.client.code]), {"finding": key.id}).status_code == 403
    assert KeyRotation.objects.exists()


@pytest.mark.django_db
def test_another_workspaces_key_is_a_404(tenant: Tenant, other_tenant: Tenant) -> None:
    key = _key(_scan(other_tenant))
    http = login(tenant.consultant)
    assert _mark(http, other_tenant, key).status_code == 404
    # Their finding's id sent to one's own client names no finding of it: the page was out of date.
    answer = http.post(reverse("key_rotated", args=[tenant.client.code]), {"finding": key.id}, follow=True)
    assert "This key is not open in the latest scan" in answer.content.decode()
    assert not KeyRotation.objects.exists()
    key.refresh_from_db()
    assert key.is_open


@pytest.mark.django_db
def test_a_post_without_its_csrf_token_is_refused(tenant: Tenant) -> None:
    key = _key(_scan(tenant))
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(tenant.consultant)
    assert _mark(http, tenant, key).status_code == 403
    assert not KeyRotation.objects.exists()


@pytest.mark.django_db
def test_a_hostile_note_is_shown_as_text_and_a_long_one_is_refused(tenant: Tenant) -> None:
    key = _key(_scan(tenant))
    http = login(tenant.consultant)
    answer = http.post(
        reverse("key_rotated", args=[tenant.client.code]), {"finding": key.id, "note": "x" * 501}, follow=True
    )
    assert "The note is too long: 500 characters at most." in answer.content.decode()
    assert not KeyRotation.objects.exists()
    hostile = '<script>alert("lr")</script>'
    _mark(http, tenant, key, hostile)
    page = http.get(reverse("repo_scans", args=[tenant.client.code])).content.decode()
    assert hostile not in page and "&lt;script&gt;alert(&quot;lr&quot;)&lt;/script&gt;" in page
    assert KeyRotation.objects.get().note == hostile


@pytest.mark.django_db
def test_a_later_scan_without_the_key_records_it_fixed(tenant: Tenant) -> None:
    key = _key(_scan(tenant))
    _mark(login(tenant.consultant), tenant, key)
    rotation = KeyRotation.objects.get()
    later = _scan(tenant, token=None)
    row = later.findings.get(subject=key.subject)
    assert row.change == RepoFinding.Change.FIXED
    assert row.evidence["now"].startswith("rotated on ") and "rotated" not in row.evidence
    assert row.evidence["now"] == f"rotated on {rotation.summary.removeprefix('Rotated on ').split(' by ')[0]}"
    assert risk_list(tenant.client).blockers == 0 and later.counts.get("blocker") is None
    # And the scan after it does not carry the fixed key again.
    assert not _scan(tenant, token=None).findings.filter(subject=key.subject).exists()


@pytest.mark.django_db
def test_a_later_scan_that_still_sees_the_key_keeps_it_open(tenant: Tenant) -> None:
    key = _key(_scan(tenant))
    _mark(login(tenant.consultant), tenant, key)
    later = _key(_scan(tenant))
    assert later.subject == key.subject and later.is_open and later.change == RepoFinding.Change.STILL_OPEN
    assert "still in the code: remove it, and check it is really revoked" in later.evidence["now"]
    assert later.evidence["now"].startswith("marked as rotated on ")
    assert risk_list(tenant.client).blockers == 1
    page = login(tenant.consultant).get(reverse("repo_scans", args=[tenant.client.code])).content.decode()
    assert "I rotated this key" in page and "still in the code" in page


@pytest.mark.django_db
def test_a_new_key_is_a_new_finding(tenant: Tenant) -> None:
    key = _key(_scan(tenant))
    _mark(login(tenant.consultant), tenant, key)
    later = _scan(tenant, token=OTHER_TOKEN)
    new = later.findings.filter(check_id="secrets.repo.key").exclude(subject=key.subject).get()
    assert new.subject != key.subject and new.change == RepoFinding.Change.NEW and "now" not in new.evidence
    assert later.findings.get(subject=key.subject).change == RepoFinding.Change.FIXED


@pytest.mark.django_db
def test_undo_opens_the_key_again(tenant: Tenant) -> None:
    key = _key(_scan(tenant))
    http = login(tenant.consultant)
    _mark(http, tenant, key)
    undo = reverse("key_rotation_undone", args=[tenant.client.code])
    assert http.post(undo, {"finding": key.id}).status_code == 302
    assert not KeyRotation.objects.exists()
    key.refresh_from_db()
    assert key.change == RepoFinding.Change.NEW and "rotated" not in key.evidence
    assert risk_list(tenant.client).blockers == 1 and _blockers(tenant) == 1
    answer = http.post(undo, {"finding": key.id}, follow=True)  # nothing left to undo
    assert "is not marked rotated" in answer.content.decode() and risk_list(tenant.client).blockers == 1


@pytest.mark.django_db
def test_undo_after_a_later_scan_closed_the_key_opens_it_as_still_leaked(tenant: Tenant) -> None:
    key = _key(_scan(tenant))
    http = login(tenant.consultant)
    _mark(http, tenant, key)
    later = _scan(tenant, token=None)
    row = later.findings.get(subject=key.subject)
    http.post(reverse("key_rotation_undone", args=[tenant.client.code]), {"finding": row.id})
    row.refresh_from_db()
    assert row.change == RepoFinding.Change.STILL_OPEN
    assert row.evidence["now"] == "no longer in the code, but still leaked to anyone with a copy: rotate it"
    assert risk_list(tenant.client).blockers == 1
