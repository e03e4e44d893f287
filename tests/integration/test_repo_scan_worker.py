"""A repository uploaded on the client's page is scanned by a real worker: findings reach the risk list and
the upload is gone."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audits.models import RepoFinding, RepoScan, RepoUpload
from tests.audits.repos import AWS_SECRET, build_repo, bundle_of, zip_bytes
from tests.conftest import login, make_tenant, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_an_uploaded_repository_is_scanned_in_the_worker_and_deleted(worker, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    http = login(tenant.consultant)
    data = bundle_of(build_repo(tmp_path / "acme"), tmp_path / "acme.bundle").read_bytes()
    url = reverse("repo_scans", args=[tenant.client.code])
    assert http.post(url, {"archive": SimpleUploadedFile("acme.bundle", data)}).status_code == 302
    scan = RepoScan.objects.get()
    assert wait_until(lambda: RepoScan.objects.get(id=scan.id).state == RepoScan.State.DONE, timeout=60)
    assert not RepoUpload.objects.exists()
    assert RepoFinding.objects.filter(scan=scan, check_id="secrets.repo.key").count() == 3

    risks = http.get(reverse("client_risks", args=[tenant.client.code])).content.decode()
    assert "An AWS secret access key is committed to the repository" in risks
    assert "Repository acme.bundle" in risks
    assert AWS_SECRET not in risks
    assert "No-go" in risks


def test_an_upload_the_worker_cannot_read_fails_with_a_reason_and_is_deleted(worker) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    http = login(tenant.consultant)
    url = reverse("repo_scans", args=[tenant.client.code])
    bad = zip_bytes({"../../outside.py": b"x = 1\n"})
    assert http.post(url, {"archive": SimpleUploadedFile("bad.zip", bad)}).status_code == 302
    assert wait_until(lambda: RepoScan.objects.get().state == RepoScan.State.FAILED, timeout=60)
    assert "leaves its folder" in RepoScan.objects.get().reason
    assert not RepoUpload.objects.exists()
    assert "leaves its folder" in http.get(url).content.decode()
