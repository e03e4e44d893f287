"""The sprint checklist: the ten Launch Ready items by stage of the 48 hours, each item's state read
from the latest audit, the monitors and the published pack where they can tell, the consultant's tick otherwise."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from audits.catalog import UNSEEN_ITEMS
from audits.findings import ITEM_LABELS, Item, Severity
from audits.models import OPEN, AuditFinding, AuditRun, RepoFinding, RepoScan
from audits.risk import latest_run_ids
from handover.models import ChecklistTick, PackVersion
from launchready.formatting import plural
from launchready.models import Domain, Route, Sprint
from monitoring.alerts import routed_channels
from monitoring.models import Monitor

# The 48 hours, in the order the work is done; each Launch Ready item belongs to the stage that settles it.
STAGES: list[tuple[str, str, list[Item]]] = [
    ("Quick audit", "Hours 0–4: see where the domain and its hosts stand.", [Item.DOMAIN_SETUP]),
    (
        "Stabilise the edge",
        "DNS, proxy, certificates and one canonical host.",
        [Item.CLOUDFLARE, Item.SSL, Item.REDIRECTS],
    ),
    ("Harden config and secrets", "Nothing secret in the code or the browser.", [Item.ENV_VARS, Item.SECRETS]),
    ("Deploy", "Ship the fixes with sane cache headers.", [Item.CACHING]),
    ("Protect and observe", "Every route watched, alerts reaching a person.", [Item.UPTIME]),
    ("Verify customer paths", "Sign-up, login and the emails customers receive.", [Item.EMAIL_AUTH]),
    ("Handover", "The founder can run production without us.", [Item.HANDOVER]),
]
# Items the audit judges: a clean area ticks them. Environment variables need a person to look.
AUDITED = {Item.DOMAIN_SETUP, Item.EMAIL_AUTH, Item.CLOUDFLARE, Item.SSL, Item.REDIRECTS, Item.CACHING, Item.SECRETS}
SERIOUS = (Severity.BLOCKER.value, Severity.HIGH.value, Severity.MEDIUM.value)


class State(StrEnum):
    DONE = "done"
    BLOCKED = "blocked"
    ATTENTION = "attention"
    TODO = "todo"


@dataclass
class OpenFinding:
    title: str
    severity: str
    url: str  # the audit run, or the repository scans, where it was found


@dataclass
class ItemState:
    item: Item
    label: str
    state: State = State.TODO
    source: str = ""  # audit, monitors, pack or consultant
    reason: str = ""
    findings: list[OpenFinding] = field(default_factory=list)
    tick: ChecklistTick | None = None

    @property
    def done(self) -> bool:
        return self.state == State.DONE


@dataclass
class Stage:
    name: str
    hint: str
    items: list[ItemState]


@dataclass
class Checklist:
    stages: list[Stage]
    audited_at: datetime | None

    @property
    def items(self) -> list[ItemState]:
        return [i for s in self.stages for i in s.items]

    @property
    def done_count(self) -> int:
        return sum(1 for i in self.items if i.done)

    @property
    def percent(self) -> int:
        return int(100 * self.done_count / len(self.items))


@dataclass
class _Audit:
    """What the latest audit of each domain and the latest repository scan say, by item."""

    runs: list[int] = field(default_factory=list)
    audited_at: datetime | None = None
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    findings: dict[str, list[OpenFinding]] = field(default_factory=dict)
    complete: bool = False  # every latest run finished all its checks
    cdn: dict[str, str] = field(default_factory=dict)  # host: the CDN the audit saw answer for it


@dataclass
class _Evidence:
    audit: _Audit
    uptime_reason: str
    pack: PackVersion | None
    ticks: dict[str, ChecklistTick]
    unseen: dict[str, str] = field(default_factory=dict)  # item: the open finding that kept the audit from seeing it

    @property
    def runs(self) -> list[int]:
        return self.audit.runs

    @property
    def audited_at(self) -> datetime | None:
        return self.audit.audited_at

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        return self.audit.counts

    @property
    def findings(self) -> dict[str, list[OpenFinding]]:
        return self.audit.findings


def _audit_evidence(client_id: int) -> _Audit:
    """What the latest audit of each domain and the latest repository scan leave open, by item, and the
    evidence of the good state they recorded."""
    domain_ids = list(Domain.objects.filter(client_id=client_id).values_list("id", flat=True))
    run_ids = latest_run_ids(domain_ids) if domain_ids else []
    scan = (
        RepoScan.objects.finished()
        .filter(client_id=client_id)
        .order_by("-created")
        .values("id", "client__code")
        .first()
    )
    if not run_ids and not scan:
        return _Audit()
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
    return _Audit(run_ids, audited_at, counts, findings, complete, cdn)


def uptime_reason(client_id: int) -> str:
    """Empty when every route has an active monitor that is up and an alert channel is on; else why not."""
    routes = Route.objects.filter(domain__client_id=client_id).count()
    if not routes:
        return "No route is recorded yet."
    states = dict(
        Monitor.objects.filter(client_id=client_id, paused=False)
        .values_list("state")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("state", "n")
    )
    watched = sum(states.values())
    reasons = []
    if watched < routes:
        reasons.append(f"{plural(routes - watched, 'route')} of {routes} not monitored")
    if states.get(Monitor.State.DOWN):
        reasons.append(f"{plural(states[Monitor.State.DOWN], 'route')} down")
    if states.get(Monitor.State.UNKNOWN):
        reasons.append(f"{plural(states[Monitor.State.UNKNOWN], 'monitor')} not checked yet")
    if not routed_channels(client_id):
        reasons.append("no alert channel to tell anyone")
    return "; ".join(reasons).capitalize() + ("." if reasons else "")


def _evidence(sprint: Sprint) -> _Evidence:
    audit = _audit_evidence(sprint.client_id)
    ticks = {t.item: t for t in ChecklistTick.objects.filter(sprint=sprint).select_related("ticked_by")}
    pack = PackVersion.objects.filter(client_id=sprint.client_id).only("number", "published_at").first()
    unseen: dict[str, str] = {}
    blind = AuditFinding.objects.filter(run_id__in=audit.runs, check_id__in=UNSEEN_ITEMS).filter(OPEN).order_by("rank")
    for check_id, title in blind.values_list("check_id", "title"):
        for item in UNSEEN_ITEMS[check_id]:
            unseen.setdefault(item.value, title)
    return _Evidence(audit, uptime_reason(sprint.client_id), pack, ticks, unseen)


def _good_state(item: Item, ev: _Evidence) -> str:
    """Why the audit shows this item in order, or empty when it cannot show it: no finding is not evidence
    (a check that could not look finds nothing too)."""
    if not ev.audit.complete:
        return ""
    if item == Item.CLOUDFLARE:
        behind = sorted(host for host, cdn in ev.audit.cdn.items() if cdn == "Cloudflare")
        if not behind or len(behind) < len(ev.audit.cdn):
            return ""
        return f"The latest audit saw Cloudflare answer for {', '.join(behind)}."
    return "Clean in the latest audit: every check of it ran and found nothing to fix."


def _no_evidence_reason(item: Item, ev: _Evidence) -> str:
    if not ev.audit.complete:
        return "The latest audit did not finish every check, so it cannot show this is in order."
    if item == Item.CLOUDFLARE:
        others = sorted({cdn for cdn in ev.audit.cdn.values() if cdn != "Cloudflare"})
        if others:
            names = ", ".join(others)
            return f"Served through {names}, not Cloudflare: tick it by hand once its protection is checked."
        return "The latest audit did not see Cloudflare in front of the site."
    return ""


def _judge(item: Item, ev: _Evidence) -> ItemState:
    state = ItemState(item, ITEM_LABELS[item], findings=ev.findings.get(item.value, []), tick=ev.ticks.get(item.value))
    counts = ev.counts.get(item.value, {})
    blockers = counts.get(Severity.BLOCKER.value, 0)
    if blockers:
        state.state, state.source = State.BLOCKED, "audit"
        state.reason = f"{plural(blockers, 'blocker')} open in the latest audit."
        return state
    serious = sum(counts.get(s, 0) for s in SERIOUS)
    if item in AUDITED and ev.runs and item.value in ev.unseen and not serious:
        state.reason = f"Not checked: {ev.unseen[item.value]}."  # a clean area is one that was seen
    elif item in AUDITED and ev.runs:
        good = "" if serious else _good_state(item, ev)
        if good:
            state.state, state.source, state.reason = State.DONE, "audit", good
            return state
        if serious:
            state.state, state.source = State.ATTENTION, "audit"
            state.reason = f"{plural(serious, 'finding')} to work down (high or medium)."
        else:
            state.reason = _no_evidence_reason(item, ev)
    elif item == Item.UPTIME:
        if not ev.uptime_reason and not serious:
            state.state, state.source = State.DONE, "monitors"
            state.reason = "Every route has an active monitor that is up, and alerts reach a channel."
            return state
        state.state, state.source = State.ATTENTION, "monitors"
        state.reason = ev.uptime_reason or f"{plural(serious, 'finding')} to work down."
    elif item == Item.HANDOVER and ev.pack is not None:
        state.state, state.source = State.DONE, "pack"
        state.reason = (
            f"Handover pack v{ev.pack.number} published {timezone.localtime(ev.pack.published_at):%-d %b %Y}."
        )
        return state
    elif item == Item.HANDOVER:
        state.reason = "Ticks itself when the handover pack is published."
    elif item in AUDITED:
        state.reason = "No audit has finished yet."
    if state.tick is not None and state.tick.done:  # the consultant's word where the evidence is silent or partial
        state.state, state.source = State.DONE, "consultant"
    return state


def sprint_checklist(sprint: Sprint) -> Checklist:
    """The checklist in a fixed number of queries, whatever the number of findings, routes or ticks."""
    ev = _evidence(sprint)
    stages = [Stage(name, hint, [_judge(item, ev) for item in items]) for name, hint, items in STAGES]
    return Checklist(stages, ev.audited_at)


@transaction.atomic
def checklist_tick(*, sprint: Sprint, item: Item, done: bool, notes: str, user: User) -> ChecklistTick:
    tick, _ = ChecklistTick.objects.update_or_create(
        sprint=sprint,
        item=item.value,
        defaults={"done": done, "notes": notes.strip()[:2000], "ticked_by": user, "ticked_at": timezone.now()},
    )
    return tick
