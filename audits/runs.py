"""Starting audits: a run per domain, a group across a client's domains, enqueued after commit."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.models import User
from audits.models import AuditRun
from launchready.models import Client, Domain

DAILY = timedelta(hours=24)


def audit_runs_start(*, domains: list[Domain], user: User | None = None, scheduled: bool = False) -> list[AuditRun]:
    """Create a queued run for each domain (skipping those already being audited) and enqueue them together."""
    with transaction.atomic():
        # Lock the domains: a double click, or the daily schedule firing at the same moment, must not
        # start two audits of one domain.
        list(Domain.objects.select_for_update().filter(id__in=[d.id for d in domains]).values_list("id", flat=True))
        return _start(domains, user, scheduled)


def _start(domains: list[Domain], user: User | None, scheduled: bool) -> list[AuditRun]:
    busy = set(AuditRun.objects.active().filter(domain__in=domains).values_list("domain_id", flat=True))
    group = uuid.uuid4()
    runs = [
        AuditRun.objects.create(domain=domain, group=group, triggered_by=user, scheduled=scheduled)
        for domain in domains
        if domain.id not in busy
    ]
    if runs:
        from audits.tasks import enqueue_group

        ids = [run.id for run in runs]
        transaction.on_commit(lambda: enqueue_group(ids))
    return runs


def audit_client(*, client: Client, user: User | None = None) -> list[AuditRun]:
    return audit_runs_start(domains=list(client.domains.all()), user=user)


def domains_due_for_daily_audit(now: datetime | None = None) -> list[Domain]:
    now = now or timezone.now()
    return list(
        Domain.objects.filter(daily_audit=True)
        .annotate(last=Max("audit_runs__created"))
        .filter(Q(last__isnull=True) | Q(last__lt=now - DAILY))
    )
