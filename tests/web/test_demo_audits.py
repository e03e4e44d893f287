"""The demo workspace that `make run` seeds lives in the sandbox: its audits show real findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from audits.lifecycle import audit_run_execute
from audits.models import AuditRun
from audits.risk import risk_list
from launchready.models import Domain
from launchready.sandbox.runner import Sandbox
from web.demo import seed_demo


@pytest.mark.django_db(transaction=True)
def test_the_demo_clients_audit_with_a_story_to_tell(sandbox_env: Sandbox, tmp_path: Path) -> None:
    seed_demo(tmp_path)
    runs = {
        d.name: audit_run_execute(AuditRun.objects.create(domain=d)) for d in Domain.objects.select_related("client")
    }
    assert set(runs) == {"brightpath.test", "studiokit.test", "askmira.test"}
    assert runs["brightpath.test"].go is True
    assert runs["brightpath.test"].counts.get("medium", 0) >= 2
    assert runs["studiokit.test"].findings.filter(check_id="exposure.env_file").exists()
    # Studiokit's payment webhook takes an event with no signature; Brightpath's refuses it, as it should.
    forged = runs["studiokit.test"].findings.get(check_id="webhook.accepts_unsigned")
    assert forged.severity == "high" and forged.subject == "https://api.studiokit.test/webhooks/stripe"
    assert not runs["brightpath.test"].findings.filter(check_id__startswith="webhook.").exists()
    assert runs["askmira.test"].findings.filter(check_id="route.unexpected_status", severity="blocker").exists()
    # The chat widget's bundle carries an OpenAI key; the publishable Stripe key elsewhere is only info.
    assert runs["askmira.test"].findings.filter(check_id="secrets.bundle.key", severity="blocker").exists()
    assert runs["brightpath.test"].findings.filter(check_id="secrets.bundle.publishable", severity="info").exists()
    assert all(run.state == AuditRun.State.DONE for run in runs.values())
    # Mira's chatbot leaks its instructions to the probe: the finding is on its risk list.
    leak = runs["askmira.test"].findings.get(check_id="assistant.leak.canary")
    assert leak.severity == "high" and "hidden instructions" in leak.title
    assert not runs["brightpath.test"].findings.filter(check_id__startswith="assistant.").exists()
    # Studiokit's repository was scanned at seeding: its committed .env and key are on its risk list.
    studiokit = Domain.objects.get(name="studiokit.test").client
    repo_checks = {f.check_id for f in risk_list(studiokit).findings if f.source.startswith("Repository")}
    assert {"secrets.repo.key", "secrets.repo.env_file", "env.undocumented"} <= repo_checks
