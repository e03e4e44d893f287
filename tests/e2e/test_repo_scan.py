"""In a real browser: the consultant uploads a client repository, watches the scan finish live, and reads
the committed keys on the risk list, redacted, with the provider's rotation steps."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from accounts.models import Role
from audits.models import RepoUpload
from tests.audits.repos import AWS_SECRET, build_repo, zip_of
from tests.e2e.conftest import Screens
from tests.factories import PASSWORD, ClientFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_consultant_uploads_a_repository_and_reads_its_leaks(
    live_server, worker, browser, screens: Screens, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    consultant = UserFactory(email="dana@northstar.example")
    membership = MembershipFactory(user=consultant, role=Role.OWNER)
    client = ClientFactory(workspace=membership.workspace, name="Acme")
    archive = zip_of(build_repo(tmp_path / "acme"), tmp_path / "acme-main.zip")

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server.url + reverse("account_login"))
    page.fill("input[name=login]", consultant.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.goto(live_server.url + reverse("client_detail", args=[client.code]))
    page.click("text=Repository scan →")
    page.set_input_files("input[name=archive]", str(archive))
    page.click("button:has-text('Scan')")
    page.wait_for_selector("#repo-scans .badge-stop:has-text('No-go')", timeout=60000)  # polled live
    assert "4 blockers" in page.inner_text("#repo-scans")
    assert not RepoUpload.objects.exists()
    screens.shot(page, "repository-scan")

    page.click("text=Secrets on the risk list")
    text = page.inner_text("main")
    assert "An AWS secret access key is committed to the repository" in text
    assert AWS_SECRET not in page.content()
    leak = page.locator("details.finding", has_text="An AWS secret access key is committed").first
    leak.click()
    body = leak.inner_text()
    assert "since deleted" in body and "IAM → Users" in body
    screens.shot(page, "repository-risks")
    assert not errors, errors
    page.close()
