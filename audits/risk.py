"""The risk list: the open findings of a client's latest runs and scan, ranked by launch impact, and its go/no-go."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from audits.catalog import CATALOG, COULD_NOT_CHECK, severity_of, verdict_of
from audits.findings import Area, Finding, LaunchVerdict, Severity
from audits.models import (
    AuditFinding,
    AuditRun,
    JourneyFinding,
    MailAddress,
    ReceivedMessage,
    RecordedFinding,
    RepoFinding,
    RepoScan,
    SendFinding,
)
from launchready.models import Client, Domain, Route

# Within a severity, the paths that touch the most users come first: sign-in and payment before a blog;
# then the hosts, by their label under the domain (a finding about no one host weighs as the domain itself).
KIND_WEIGHT: dict[str, int] = {
    Route.Kind.LOGIN: 0,
    Route.Kind.AUTH_CALLBACK: 0,
    Route.Kind.CHECKOUT: 1,
    Route.Kind.DASHBOARD: 2,
    Route.Kind.API_HEALTH: 3,
    Route.Kind.WEBHOOK: 3,
}
LABEL_WEIGHT = {"login": 0, "auth": 0, "app": 2, "api": 3, "www": 4, "": 4}
ELSEWHERE = 5  # another label, or a host outside the domain (a CDN, a vendor's chat endpoint)
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


def host_label(host: str, apex: str) -> str | None:
    """The first label of a host under the audited domain ("app" for app.example.com; "" for the domain itself
    and when the finding is about no one host), or None for a host outside the domain."""
    if not host or host == apex:
        return ""
    if apex and host.endswith(f".{apex}"):
        return host[: -len(apex) - 1].split(".")[0]
    return None


def _weight(finding: Finding, apex: str) -> int:
    if finding.route_kind in KIND_WEIGHT:
        return KIND_WEIGHT[finding.route_kind]
    label = host_label(finding.host, apex)
    return ELSEWHERE if label is None else LABEL_WEIGHT.get(label, ELSEWHERE)


def impact_rank(finding: Finding, apex: str = "") -> int:
    """Lower is more urgent: severity first, then the route or host it touches, then the area."""
    severity = severity_of(finding)
    weight = _weight(finding, apex)
    area = CATALOG[finding.check_id].area
    return severity.rank * 10000 + weight * 100 + AREA_ORDER.index(area)


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
    send: ReceivedMessage | None = None  # the latest judged real send, whose findings are included
    journeys: list[JourneyFinding] | None = None  # the journeys' latest runs that failed, or failed and then passed

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


def judged_sends() -> QuerySet[ReceivedMessage]:
    """Real sends that have their verdict (a DMARC report is no real send; a message still waiting has none)."""
    return ReceivedMessage.objects.filter(
        address__kind=MailAddress.Kind.SEND_TEST, state=ReceivedMessage.State.VERIFIED
    ).order_by("-received", "-id")


def latest_send(client: Client) -> ReceivedMessage | None:
    """The client's latest real send that has its verdict."""
    return judged_sends().filter(address__client=client).defer("content").first()


def latest_sends(client_ids: list[int]) -> dict[int, int]:
    """The id of the latest judged real send of each of these clients that has one (one query)."""
    latest = judged_sends().filter(address__client_id=OuterRef("pk")).values("id")[:1]
    rows = Client.objects.filter(id__in=client_ids).annotate(send=Subquery(latest)).values_list("id", "send")
    return {client_id: send for client_id, send in rows if send is not None}


def risk_list(client: Client, *, area: str = "", severity: str = "") -> RiskList:
    """The open findings of each domain's latest audit, of the latest repository scan, of the latest real send
    and of the journeys' latest runs, ranked together."""
    runs = list(latest_runs(client.domains.all()).values())
    by_id = {run.id: run for run in runs}
    rows = list(AuditFinding.objects.filter(run__in=runs).order_by("rank", "id"))
    for finding in rows:  # the runs read above, with their domains, rather than a copy of each joined to every row
        finding.run = by_id[finding.run_id]
    scan = latest_scan(client)
    scan_rows = list(RepoFinding.objects.filter(scan=scan)) if scan is not None else []
    for row in scan_rows:
        row.scan = scan  # type: ignore[assignment]
    send = latest_send(client)
    send_rows = list(SendFinding.objects.filter(message=send)) if send is not None else []
    for send_row in send_rows:
        send_row.message = send  # type: ignore[assignment]
    journey_rows = list(JourneyFinding.objects.filter(client=client))
    all_rows: list[RecordedFinding] = sorted([*rows, *scan_rows, *send_rows, *journey_rows], key=lambda f: f.rank)
    open_rows = [f for f in all_rows if f.is_open]
    audited = bool(runs) or scan is not None or send is not None or any(journey_blocks(f) for f in journey_rows)
    verdict = client_verdict(open_rows, runs) if audited else None
    go = None if verdict is None else verdict == LaunchVerdict.GO
    all_open = list(open_rows)
    if area:
        open_rows = [f for f in open_rows if f.area == area]
    if severity:
        open_rows = [f for f in open_rows if f.severity == severity]
    fixed = [f for f in all_rows if not f.is_open]
    return RiskList(open_rows, fixed, runs, go, all_open, scan, verdict, send, journey_rows)


def journey_blocks(finding: JourneyFinding) -> bool:
    """A journey's finding that is a launch blocker: it says no-go even for a client never audited (customers
    cannot sign in), where a lesser one waits for an audit to give a verdict beside."""
    return finding.is_open and finding.severity == Severity.BLOCKER


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
        "real_send": risks.send
        and {
            "received_at": risks.send.received.isoformat(),
            "passed": bool(risks.send.verdict.get("passed")),
        },
        "fixed": [{"check_id": f.check_id, "subject": f.subject, "title": f.title} for f in risks.fixed],
    }
