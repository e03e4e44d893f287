"""The demo that `make run` seeds has a handover pack at once, and publishes it again with the first audit."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest

from audits.lifecycle import audit_run_execute as execute
from audits.models import AuditRun
from handover.models import PackVersion
from launchready.models import Domain
from launchready.sandbox.runner import Sandbox
from web.demo import demo_packs_refresh, seed_demo
from web.management.commands.sandbox import Command


@pytest.mark.django_db(transaction=True)
def test_the_demo_publishes_its_packs_before_and_after_the_first_audit(sandbox_env: Sandbox, tmp_path: Path) -> None:
    seed_demo(tmp_path)
    first = {v.client.name: v for v in PackVersion.objects.select_related("client")}
    assert set(first) == {"Brightpath Coaching", "Studiokit", "Mira AI"}
    assert first["Brightpath Coaching"].data["status"]["verdict"] == "Not audited yet"
    assert "1Password, Brightpath Ops vault" in first["Brightpath Coaching"].html
    assert demo_packs_refresh() == []  # nothing audited yet: nothing new to publish
    for domain in Domain.objects.all():
        execute(AuditRun.objects.create(domain=domain))
    out = io.StringIO()
    command = Command(stdout=out)
    command._publish_demo_packs(threading.Event())  # what the sandbox does under make run once the audits are done
    assert "Published the handover pack of 3 demo clients" in out.getvalue()
    second = {v.client.name: v for v in PackVersion.objects.filter(number=2).select_related("client")}
    assert second["Studiokit"].data["status"]["verdict"] == "No-go"
    assert any(".env" in r["title"] for r in second["Studiokit"].data["risky"])
    assert second["Brightpath Coaching"].note == "After the first audit"
    assert demo_packs_refresh() == []
    # Version 1 stays as it was (Studiokit's already said no-go: its repository scan found a committed key).
    assert first["Studiokit"].data["status"]["verdict"] == "No-go"
    assert PackVersion.objects.get(pk=first["Studiokit"].pk).data == first["Studiokit"].data
