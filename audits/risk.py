"""The risk list: findings ranked by launch impact, their change since the last run, and go/no-go."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from audits.catalog import CATALOG, COULD_NOT_CHECK, render, severity_of, verdict_of
from audits.engine import AuditOutcome, ids_of
from audits.findings import Area, Finding, LaunchVerdict, Severity
from audits.models import OPEN, AuditFinding, AuditRun, RecordedFinding, RepoFinding, RepoScan
from launchready.models import Client, Domain

Change = AuditFinding.Change
R = TypeVar("R", bound=RecordedFinding)

# Within a severity, the paths that touch the most users come first: sign-in and payment before a blog.
KIND_WEIGHT = {"login": 0, "auth callback": 0, "checkout": 1, "dashboard": 2, "api health": 3, "webhook": 3}
LABEL_WEIGHT = {"login": 0, "auth": 0, "app": 2, "api": 3, "www": 4, "": 4}
AREA_ORDER = [
    Area.TLS,
    Area.SECRETS,
    Area.DNS,
    Area.ROUTES,
    Area.REDIRECTS,
    Area.HEADERS,
    Area.EMAIL,
    Area.EDGE,
    Area.ASSISTANT,
    Area.AUDIT,
]


def _weight(finding: Finding) -> int:
    kind = str(finding.params.get("kind", "")).lower()
    if kind in KIND_WEIGHT:
        return KIND_WEIGHT[kind]
    host = urlsplit(finding.subject).hostname if "://" in finding.subject else finding.subject.split("#")[0]
    label = (host or "").split(".")[0] if (host or "").count(".") >= 2 else ""
    return LABEL_WEIGHT.get(label, 5)


def impact_rank(finding: Finding) -> int:
    severity = severity_of(finding)
    weight = _weight(finding)
    area = CATALOG[finding.check_id].area
    return severity.rank * 10000 + weight * 100 + AREA_ORDER.index(area)


def previous_run(run: AuditRun) -> AuditRun | None:
    return (
        AuditRun.objects.finished()
        .filter(domain_id=run.domain_id, created__lt=run.created)
        .order_by("-created")
        .first()
    )


@dataclass
class History:
    previous: set[tuple[str, str]]
    ever: set[tuple[str, str]]


def history_for(run: AuditRun) -> History:
    before = previous_run(run)
    previous = set(before.findings.filter(OPEN).values_list("check_id", "subject")) if before is not None else set()
    ever = set(
        AuditFinding.objects.filter(run__domain_id=run.domain_id, run__created__lt=run.created)
        .filter(OPEN)
        .values_list("check_id", "subject")
        .distinct()
    )
    return History(previous, ever)


def _change(fingerprint: tuple[str, str], history: History) -> str:
    if fingerprint in history.previous:
        return AuditFinding.Change.STILL_OPEN
    if fingerprint in history.ever:
        return AuditFinding.Change.REGRESSED
    return AuditFinding.Change.NEW


def _recorded(model: type[R], finding: Finding, history: History, **owner: Any) -> R:
    verdict = CATALOG[finding.check_id]
    text = render(finding)
    return model(
        **owner,
        check_id=finding.check_id,
        subject=finding.subject[:500],
        area=verdict.area.value,
        severity=severity_of(finding).value,
        item=verdict.item.value,
        title=text["title"][:300],
        explanation=text["explanation"],
        fix=text["fix"],
        evidence=_jsonable(finding.evidence),
        change=_change((finding.check_id, finding.subject[:500]), history),
        rank=impact_rank(finding),
    )


def _fixed_copy(model: type[R], f: RecordedFinding, change: str, **owner: Any) -> R:
    fields = ("check_id", "subject", "area", "severity", "item", "title", "explanation", "fix", "evidence", "rank")
    return model(**owner, change=change, **{name: getattr(f, name) for name in fields})


def record_findings(run: AuditRun, findings: list[Finding], history: History) -> None:
    """Save findings as their check completes, so a run cut short keeps what it had found."""
    AuditFinding.objects.bulk_create([_recorded(AuditFinding, finding, history, run=run) for finding in findings])


@transaction.atomic
def audit_run_finish(run: AuditRun, outcome: AuditOutcome, history: History) -> AuditRun:
    """Close a run: add the findings that were fixed since the last run, counts, go/no-go."""
    current = set(run.findings.values_list("check_id", "subject"))
    before = previous_run(run)
    if before is not None:
        # A check that failed or ran out of time proves nothing fixed: its earlier findings stay open.
        unproven = ids_of(outcome.failed_checks + outcome.timed_out_checks)
        # Under one diagnosis (the domain does not exist…) the earlier findings are neither fixed nor open:
        # the diagnosis stands for them.
        gone = [f for f in before.findings.filter(OPEN) if (f.check_id, f.subject) not in current]
        gone = [] if outcome.folded else gone
        AuditFinding.objects.bulk_create(
            [
                _fixed_copy(
                    AuditFinding,
                    f,
                    Change.STILL_OPEN if f.check_id in unproven else Change.FIXED,
                    run=run,
                )
                for f in gone
            ]
        )
    open_findings = list(run.findings.filter(OPEN).values_list("check_id", "severity"))
    run.counts = dict(Counter(severity for _, severity in open_findings))
    verdict = verdict_of(open_findings)
    if verdict == LaunchVerdict.GO and outcome.partial:
        verdict = LaunchVerdict.UNCHECKED
    run.verdict = verdict.value
    run.go = verdict == LaunchVerdict.GO
    run.inventory = [{"name": r.name, "type": r.rdtype, "value": r.value, "ttl": r.ttl} for r in outcome.inventory]
    run.state = AuditRun.State.PARTIAL if outcome.partial else AuditRun.State.DONE
    run.reason = _partial_reason(outcome)
    run.finished_at = timezone.now()
    run.seconds = outcome.seconds
    run.dns_queries = outcome.dns_queries
    run.checks_done = run.checks_total
    run.current_check = ""
    run.save()
    return run


@transaction.atomic
def repo_scan_finish(scan: RepoScan, findings: list[Finding], stats: dict[str, int]) -> RepoScan:
    """Record a repository scan's findings with their change since the client's previous scan, and close it."""
    earlier = RepoScan.objects.finished().filter(client_id=scan.client_id, created__lt=scan.created)
    before = earlier.order_by("-created").first()
    previous = set(before.findings.filter(OPEN).values_list("check_id", "subject")) if before is not None else set()
    ever = set(RepoFinding.objects.filter(scan__in=earlier).filter(OPEN).values_list("check_id", "subject"))
    history = History(previous, ever)
    rows = [_recorded(RepoFinding, finding, history, scan=scan) for finding in findings]
    current = {(row.check_id, row.subject) for row in rows}
    if before is not None:
        gone = [f for f in before.findings.filter(OPEN) if (f.check_id, f.subject) not in current]
        rows += [_fixed_copy(RepoFinding, f, Change.FIXED, scan=scan) for f in gone]
    RepoFinding.objects.bulk_create(rows)
    scan.counts = dict(Counter(row.severity for row in rows if row.is_open))
    scan.stats = stats
    scan.state = RepoScan.State.DONE
    scan.finished_at = timezone.now()
    scan.save(update_fields=["counts", "stats", "state", "finished_at"])
    return scan


def _partial_reason(outcome: AuditOutcome) -> str:
    parts = []
    if outcome.failed_checks:
        parts.append(f"checks that failed: {', '.join(outcome.failed_checks)}")
    if outcome.timed_out_checks:
        parts.append(f"checks cut off by the deadline: {', '.join(outcome.timed_out_checks)}")
    return "; ".join(parts)


STALE_AFTER = timedelta(minutes=5)
QUEUED_TOO_LONG = timedelta(hours=6)  # a long daily backlog is still worked through, not thrown away


def reap_stale_runs(now: Any = None) -> int:
    """End runs whose worker stopped: partial if they had found something, failed otherwise. Never 'running'."""
    now = now or timezone.now()
    stale = AuditRun.objects.active().filter(heartbeat_at__lt=now - STALE_AFTER) | AuditRun.objects.filter(
        state=AuditRun.State.QUEUED, heartbeat_at__isnull=True, created__lt=now - QUEUED_TOO_LONG
    )
    ended = 0
    for run in stale:
        has_findings = run.findings.exists()
        state = AuditRun.State.PARTIAL if has_findings else AuditRun.State.FAILED
        # Cut short: a blocker seen is still a no-go; otherwise nobody can say go.
        blocker = run.findings.filter(OPEN, severity=Severity.BLOCKER.value).exists()
        verdict = "" if not has_findings else (LaunchVerdict.NO_GO if blocker else LaunchVerdict.UNCHECKED).value
        reason = (
            f"The worker stopped during the audit, after {run.checks_done} of {run.checks_total} checks."
            if run.state == AuditRun.State.RUNNING
            else "The audit never started: no worker picked it up within six hours."
        )
        ended += AuditRun.objects.filter(pk=run.pk, state=run.state).update(
            state=state, reason=reason, finished_at=now, go=None if not has_findings else False, verdict=verdict
        )
    return ended


def latest_run_ids(domain_ids: list[int]) -> list[int]:
    """The id of each domain's latest finished run, read without loading its history."""
    latest = AuditRun.objects.finished().filter(domain=OuterRef("pk")).order_by("-created").values("id")[:1]
    ids = Domain.objects.filter(id__in=domain_ids).annotate(latest=Subquery(latest)).values_list("latest", flat=True)
    return [i for i in ids if i is not None]


def latest_runs(domains: QuerySet[Domain] | list[Domain]) -> dict[int, AuditRun]:
    """The latest finished run of each domain, in one query."""
    domain_ids = domains.values("id") if isinstance(domains, QuerySet) else [d.id for d in domains]
    latest = AuditRun.objects.finished().filter(domain=OuterRef("pk")).order_by("-created").values("id")[:1]
    run_ids = Domain.objects.filter(id__in=domain_ids).annotate(latest=Subquery(latest)).values("latest")
    runs = AuditRun.objects.filter(id__in=run_ids).select_related("domain").defer("inventory")
    return {run.domain_id: run for run in runs}


@dataclass
class RiskList:
    findings: list[RecordedFinding]  # open, filtered as asked
    fixed: list[RecordedFinding]
    runs: list[AuditRun]
    go: bool | None  # None: never audited; False for no-go and for "could not check"
    all_open: list[RecordedFinding]  # open, whatever the filters: the verdict counts these
    scan: RepoScan | None = None  # the latest finished repository scan, whose findings are included
    verdict: LaunchVerdict | None = None  # None: never audited

    @property
    def blockers(self) -> int:
        return self.counts[Severity.BLOCKER.value]

    @property
    def unchecked(self) -> list[str]:
        """What the audits could not check, in the words of the open findings that say so."""
        return [f.title for f in self.all_open if f.check_id in COULD_NOT_CHECK]

    @property
    def partial(self) -> bool:
        return any(run.state == AuditRun.State.PARTIAL for run in self.runs)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys((s.value for s in Severity), 0)
        for finding in self.all_open:
            counts[finding.severity] += 1
        return counts


def latest_scan(client: Client) -> RepoScan | None:
    return RepoScan.objects.finished().filter(client=client).order_by("-created").first()


def latest_scans(client_ids: list[int]) -> dict[int, RepoScan]:
    """The latest finished repository scan of each of these clients (one query): its open findings count
    on the risk list, so on every figure that counts blockers too."""
    latest = RepoScan.objects.finished().filter(client_id=OuterRef("pk")).order_by("-created").values("id")[:1]
    scan_ids = Client.objects.filter(id__in=client_ids).annotate(scan=Subquery(latest)).values("scan")
    scans = RepoScan.objects.filter(id__in=scan_ids).only("id", "client_id", "counts")
    return {scan.client_id: scan for scan in scans}


def risk_list(client: Client, *, area: str = "", severity: str = "") -> RiskList:
    """The open findings of each domain's latest audit and of the latest repository scan, ranked together."""
    runs = list(latest_runs(client.domains.all()).values())
    rows = AuditFinding.objects.filter(run__in=runs).select_related("run__domain").order_by("rank", "id")
    scan = latest_scan(client)
    scan_rows = list(RepoFinding.objects.filter(scan=scan)) if scan is not None else []
    for row in scan_rows:
        row.scan = scan  # type: ignore[assignment]
    all_rows: list[RecordedFinding] = sorted([*rows, *scan_rows], key=lambda f: f.rank)
    open_rows = [f for f in all_rows if f.is_open]
    audited = bool(runs) or scan is not None
    verdict = client_verdict(open_rows, runs) if audited else None
    go = None if verdict is None else verdict == LaunchVerdict.GO
    all_open = list(open_rows)
    if area:
        open_rows = [f for f in open_rows if f.area == area]
    if severity:
        open_rows = [f for f in open_rows if f.severity == severity]
    fixed = [f for f in all_rows if not f.is_open]
    return RiskList(open_rows, fixed, runs, go, all_open, scan, verdict)


def client_verdict(open_rows: list[RecordedFinding], runs: list[AuditRun]) -> LaunchVerdict:
    """The verdict of the latest runs together: a blocker anywhere is no-go; a run that could not check
    something (or was cut short) keeps the rest from saying go."""
    verdict = verdict_of((f.check_id, f.severity) for f in open_rows)
    cut_short = any(run.state == AuditRun.State.PARTIAL or run.verdict == LaunchVerdict.UNCHECKED for run in runs)
    return LaunchVerdict.UNCHECKED if verdict == LaunchVerdict.GO and cut_short else verdict


def export(client: Client) -> dict[str, Any]:
    """The risk list as JSON: the latest run of every domain and its open findings."""
    risks = risk_list(client)
    return {
        "client": client.name,
        "go": risks.go,
        "verdict": risks.verdict and risks.verdict.value,
        "generated_at": timezone.now().isoformat(),
        "runs": [
            {
                "domain": run.domain.name,
                "run": str(run.code),
                "state": run.state,
                "finished_at": run.finished_at and run.finished_at.isoformat(),
                "go": run.go,
                "verdict": run.verdict,
            }
            for run in risks.runs
        ],
        "findings": [
            {
                "check_id": f.check_id,
                "domain": f.run.domain.name if isinstance(f, AuditFinding) else "",
                "source": f.source,
                "subject": f.subject,
                "area": f.area,
                "severity": f.severity,
                "item": f.item,
                "title": f.title,
                "explanation": f.explanation,
                "fix": f.fix,
                "evidence": f.evidence,
                "change": f.change,
            }
            for f in risks.findings
        ],
        "fixed": [{"check_id": f.check_id, "subject": f.subject, "title": f.title} for f in risks.fixed],
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
