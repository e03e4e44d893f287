"""What other apps read of the audits: the risk list, the open findings of the latest audits and repository
scans, the latest real send's verdict, what changed in a week, and the certificates the audits saw. Plain data
out; the tables stay here."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count
from django.urls import reverse

from audits import risk
from audits.catalog import UNSEEN_ITEMS
from audits.findings import LaunchVerdict, Severity
from audits.inbound import senders
from audits.models import (
    OPEN,
    AuditFinding,
    AuditRun,
    JourneyFinding,
    RecordedFinding,
    RepoFinding,
    RepoScan,
    SendFinding,
)
from audits.risk import RiskList
from launchready.models import Client, Domain

SERIOUS = (Severity.BLOCKER.value, Severity.HIGH.value, Severity.MEDIUM.value)
CHANGED = [AuditFinding.Change.NEW, AuditFinding.Change.REGRESSED, AuditFinding.Change.FIXED]


# --- one client's risk list ------------------------------------------------------------------------


def risk_list(client: Client) -> RiskList:
    """The open findings of each domain's latest audit and of the latest repository scan, ranked together."""
    return risk.risk_list(client)


def open_by_domain(risks: RiskList) -> dict[int, list[RecordedFinding]]:
    """The risk list's open findings by the domain whose audit found them (a repository scan's belong to none)."""
    out: dict[int, list[RecordedFinding]] = defaultdict(list)
    for finding in risks.all_open:
        if isinstance(finding, AuditFinding):
            out[finding.run.domain_id].append(finding)
    return out


@dataclass(frozen=True)
class FixedFinding:
    check_id: str
    subject: str
    title: str
    severity: str
    domain: str  # the audited domain, as people read it


def fixed_findings(client: Client) -> list[FixedFinding]:
    """Every finding an audit of the client's domains saw fixed (not the informational ones), most urgent first."""
    rows = (
        AuditFinding.objects.filter(run__domain__client=client, change=AuditFinding.Change.FIXED)
        .exclude(severity=Severity.INFO)
        .select_related("run__domain")
        .order_by("rank", "id")
    )
    return [FixedFinding(f.check_id, f.subject, f.title, f.severity, f.run.domain.display_name) for f in rows]


# --- the latest audit of one client, by Launch Ready item ----------------------------------------------


@dataclass
class OpenFinding:
    title: str
    severity: str
    url: str  # the audit run, or the repository scans, where it was found


@dataclass
class AuditFacts:
    """What the latest audit of each domain and the latest repository scan say, by item."""

    runs: list[int] = field(default_factory=list)
    audited_at: datetime | None = None
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # item: severity: open findings
    findings: dict[str, list[OpenFinding]] = field(default_factory=dict)  # item: up to 5 serious open findings
    complete: bool = False  # every latest run finished all its checks
    cdn: dict[str, str] = field(default_factory=dict)  # host: the CDN the audit saw answer for it
    unseen: dict[str, str] = field(default_factory=dict)  # item: the open finding that kept the audit from seeing it


def latest_audit_facts(client_id: int) -> AuditFacts:
    """What the latest audit of each domain and the latest repository scan leave open, by item, and the
    evidence of the good state they recorded, in a fixed number of queries."""
    domain_ids = list(Domain.objects.filter(client_id=client_id).values_list("id", flat=True))
    run_ids = risk.latest_run_ids(domain_ids) if domain_ids else []
    scan = (
        RepoScan.objects.finished()
        .filter(client_id=client_id)
        .order_by("-created")
        .values("id", "client__code")
        .first()
    )
    if not run_ids and not scan:
        return AuditFacts()
    ends = list(AuditRun.objects.filter(id__in=run_ids).values_list("finished_at", "state"))
    audited_at = max((f for f, _ in ends if f), default=None)
    complete = bool(ends) and all(state == AuditRun.State.DONE for _, state in ends)
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    findings: dict[str, list[OpenFinding]] = defaultdict(list)
    audit_rows = AuditFinding.objects.filter(run_id__in=run_ids).filter(OPEN)
    scan_rows = RepoFinding.objects.filter(scan_id=scan["id"] if scan else None).filter(OPEN)
    for rows in (audit_rows, scan_rows):
        for item, severity, n in rows.values_list("item", "severity").annotate(n=Count("id")).order_by():
            counts[item][severity] = counts[item].get(severity, 0) + n
    serious = audit_rows.filter(severity__in=SERIOUS).order_by("rank", "id")
    for item, title, severity, run_code in serious.values_list("item", "title", "severity", "run__code"):
        if len(findings[item]) < 5:
            findings[item].append(OpenFinding(title, severity, reverse("audit_run_detail", args=[run_code])))
    serious_in_repo = scan_rows.filter(severity__in=SERIOUS).order_by("rank", "id")
    for item, title, severity, client_code in serious_in_repo.values_list(
        "item", "title", "severity", "scan__client__code"
    ):
        if len(findings[item]) < 5:
            findings[item].append(OpenFinding(title, severity, reverse("repo_scans", args=[client_code])))
    cdn = {
        host: str(evidence.get("cdn", ""))
        for host, evidence in AuditFinding.objects.filter(run_id__in=run_ids, check_id="edge.cdn")
        .filter(OPEN)
        .values_list("subject", "evidence")
        if isinstance(evidence, dict)
    }
    unseen: dict[str, str] = {}
    blind = AuditFinding.objects.filter(run_id__in=run_ids, check_id__in=UNSEEN_ITEMS).filter(OPEN).order_by("rank")
    for check_id, title in blind.values_list("check_id", "title"):
        for item in UNSEEN_ITEMS[check_id]:
            unseen.setdefault(item.value, title)
    return AuditFacts(run_ids, audited_at, counts, findings, complete, cdn, unseen)


# --- the latest real send of one client ---------------------------------------------------------------


@dataclass(frozen=True)
class RealSend:
    """The verdict on the latest email the client's app sent to a real-send test address."""

    received_at: datetime
    passed: bool  # nothing a receiving server would hold against it (no blocker or high finding)
    findings: list[OpenFinding]  # its blocker, high and medium findings, most urgent first
    domain: str  # the From domain it passed DMARC for, when it did
    url: str  # the client's real-send page

    @property
    def problem(self) -> str:
        """The most urgent thing wrong with it, in the finding's words; empty when nothing is."""
        return self.findings[0].title if self.findings else ""


def latest_real_send(client_id: int) -> RealSend | None:
    """The client's latest judged real send, or None when none has been judged yet; two queries."""
    send = (
        risk.judged_sends()
        .filter(address__client_id=client_id)
        .values("id", "received", "verdict", "address__client__code")
        .first()
    )
    if send is None:
        return None
    url = reverse("send_test", args=[send["address__client__code"]])
    rows = SendFinding.objects.filter(message_id=send["id"]).filter(OPEN).order_by("rank", "id")
    findings, domain = [], ""
    for check_id, subject, title, severity in rows.values_list("check_id", "subject", "title", "severity"):
        if severity in SERIOUS:
            findings.append(OpenFinding(title, severity, url))
        elif check_id == "email.send.authenticated":
            domain = subject
    passed = bool(isinstance(send["verdict"], dict) and send["verdict"].get("passed"))
    return RealSend(send["received"], passed, findings, domain, url)


# --- many clients at once, for the weekly reports ------------------------------------------------------


@dataclass(frozen=True)
class LatestAudits:
    """The latest finished audit of each domain of a group of clients."""

    runs: list[int]
    audited: set[int]  # clients with at least one finished audit
    unfinished: set[int]  # clients whose latest audit of some domain did not finish every check


def latest_audits(client_ids: list[int]) -> LatestAudits:
    domains = list(Domain.objects.filter(client_id__in=client_ids).values_list("id", flat=True))
    runs = risk.latest_run_ids(domains)
    audited: set[int] = set()
    unfinished: set[int] = set()
    for client_id, state, verdict in AuditRun.objects.filter(id__in=runs).values_list(
        "domain__client_id", "state", "verdict"
    ):
        audited.add(client_id)
        if state != AuditRun.State.DONE or verdict == LaunchVerdict.UNCHECKED:
            unfinished.add(client_id)
    return LatestAudits(runs, audited, unfinished)


@dataclass(frozen=True)
class Risk:
    title: str
    severity: str
    explanation: str
    fix: str


def open_risks(client_ids: list[int], runs: list[int]) -> dict[int, list[Risk]]:
    """Each client's open findings but the informational ones, of these latest runs, of its latest repository
    scan (a committed key is a blocker too) and of its journeys' latest runs (so is a sign-in that fails), most
    urgent first."""
    ranked: dict[int, list[tuple[int, Risk]]] = defaultdict(list)
    for client_id, rank, title, severity, explanation, fix in (
        AuditFinding.objects.filter(run_id__in=runs)
        .exclude(change=AuditFinding.Change.FIXED)
        .exclude(severity=Severity.INFO)
        .values_list("run__domain__client_id", "rank", "title", "severity", "explanation", "fix")
    ):
        ranked[client_id].append((rank, Risk(title, severity, explanation, fix)))
    scans = risk.latest_scans(client_ids)
    for client_id, rank, title, severity, explanation, fix in (
        RepoFinding.objects.filter(scan__in=list(scans.values()))
        .exclude(change=RepoFinding.Change.FIXED)
        .exclude(severity=Severity.INFO)
        .values_list("scan__client_id", "rank", "title", "severity", "explanation", "fix")
    ):
        ranked[client_id].append((rank, Risk(title, severity, explanation, fix)))
    for client_id, rank, title, severity, explanation, fix in (
        JourneyFinding.objects.filter(client_id__in=client_ids)
        .filter(OPEN)
        .exclude(severity=Severity.INFO)
        .values_list("client_id", "rank", "title", "severity", "explanation", "fix")
    ):
        ranked[client_id].append((rank, Risk(title, severity, explanation, fix)))
    return {client_id: [r for _, r in sorted(rows, key=lambda r: r[0])] for client_id, rows in ranked.items()}


def certificate_expiries(runs: list[int]) -> dict[int, list[tuple[str, str]]]:
    """Each client's (host, not-after in ISO form) of the certificates these runs saw."""
    out: dict[int, list[tuple[str, str]]] = defaultdict(list)
    rows = AuditFinding.objects.filter(run_id__in=runs, check_id="tls.certificate")
    for client_id, host, evidence in rows.values_list("run__domain__client_id", "subject", "evidence"):
        if isinstance(evidence, dict) and evidence.get("not_after"):
            out[client_id].append((host, str(evidence["not_after"])))
    return out


@dataclass(frozen=True)
class FindingChange:
    check_id: str
    subject: str
    title: str
    severity: str
    fixed: bool  # else new, or back again


def finding_changes(client_ids: list[int], start: datetime, end: datetime) -> dict[int, list[FindingChange]]:
    """The findings (but the informational ones) that audits finished in [start, end) saw appear, come back or get
    fixed, in the order the audits finished."""
    out: dict[int, list[FindingChange]] = defaultdict(list)
    for client_id, check_id, subject, title, severity, change in (
        AuditFinding.objects.filter(
            run__domain__client_id__in=client_ids,
            run__finished_at__gte=start,
            run__finished_at__lt=end,
            change__in=CHANGED,
        )
        .exclude(severity=Severity.INFO)
        .order_by("run__finished_at", "rank")
        .values_list("run__domain__client_id", "check_id", "subject", "title", "severity", "change")
    ):
        out[client_id].append(FindingChange(check_id, subject, title, severity, change == AuditFinding.Change.FIXED))
    return out


# --- who sends as the client, from its DMARC reports ---------------------------------------------------

senders_for = senders.senders_for
senders_of = senders.senders_of
Senders = senders.Senders
