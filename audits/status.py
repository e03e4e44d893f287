"""What the audit banner says right now: queued, running with its progress, failed, or the verdict of the
latest finished audit; read from each domain's latest run, whatever its state, in one query."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import OuterRef, Subquery

from audits.models import AuditRun
from launchready.models import Client


@dataclass
class AuditStatus:
    latest: list[AuditRun] = field(default_factory=list)  # each domain's latest run, by domain name

    @property
    def active(self) -> list[AuditRun]:
        return [r for r in self.latest if r.state in (AuditRun.State.QUEUED, AuditRun.State.RUNNING)]

    @property
    def running(self) -> list[AuditRun]:
        return [r for r in self.latest if r.state == AuditRun.State.RUNNING]

    @property
    def queued(self) -> list[AuditRun]:
        return [r for r in self.latest if r.state == AuditRun.State.QUEUED]

    @property
    def failed(self) -> list[AuditRun]:
        return [r for r in self.latest if r.state == AuditRun.State.FAILED]

    @property
    def checks_done(self) -> int:
        return sum(r.checks_done for r in self.running)

    @property
    def checks_total(self) -> int:
        return sum(r.checks_total for r in self.running)

    @property
    def headline(self) -> str:
        """The banner's first words while something is under way ("" when nothing is)."""
        if self.running:
            total = self.checks_total
            text = f"Audit running: {self.checks_done} of {total} checks done" if total else "Audit running"
            if self.queued:
                text += f"; {len(self.queued)} more domain{'s' if len(self.queued) != 1 else ''} waiting"
            return text
        if self.queued:
            return "Audit queued"
        return ""


def audit_status(client: Client) -> AuditStatus:
    latest = AuditRun.objects.filter(domain=OuterRef("pk")).order_by("-created", "-id").values("id")[:1]
    ids = client.domains.annotate(latest=Subquery(latest)).values("latest")
    runs = AuditRun.objects.filter(id__in=ids).select_related("domain").defer("inventory")
    return AuditStatus(sorted(runs, key=lambda r: r.domain.name))
