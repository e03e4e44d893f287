"""Starting audits: a run per domain, a group across a client's domains, enqueued once committed."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from audits.lifecycle import audit_runs_create
from audits.models import AuditRun
from audits.tasks import enqueue_group
from launchready.models import Client, Domain


def audit_runs_start(*, domains: list[Domain], user: User | None = None) -> list[AuditRun]:
    """Create a queued run for each domain (skipping those already being audited) and enqueue them together
    once the runs are committed, so that no worker looks for a run that does not exist yet."""
    runs = audit_runs_create(domains=domains, user=user)
    ids = [run.id for run in runs]
    if ids:
        transaction.on_commit(lambda: enqueue_group(ids))
    return runs


def audit_client(*, client: Client, user: User | None = None) -> list[AuditRun]:
    return audit_runs_start(domains=list(client.domains.all()), user=user)
