"""The sprint checklist: the ten Launch Ready items by stage of the 48 hours, each item's state read
from the latest audit, the monitors and the published pack where they can tell, the consultant's tick otherwise."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audits.findings import ITEM_LABELS, Item, Severity
from audits.selectors import (
    SERIOUS,
    AuditFacts,
    OpenFinding,
    RealSend,
    ScanFacts,
    latest_audit_facts,
    latest_real_send,
)
from handover.models import ChecklistTick, PackVersion
from launchready.formatting import plural, short_date
from launchready.models import Route, Sprint
from monitoring.selectors import SignInFacts, monitor_counts, routed_channel_names, sign_in_facts

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


class State(StrEnum):
    DONE = "done"
    BLOCKED = "blocked"
    ATTENTION = "attention"
    TODO = "todo"


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


@dataclass(frozen=True)
class PathCheck:
    """A stage's own check beyond its items: for "Verify customer paths", a sign-in journey that passed."""

    label: str
    done: bool
    reason: str


@dataclass
class Stage:
    name: str
    hint: str
    items: list[ItemState]
    path: PathCheck | None = None

    @property
    def done(self) -> bool:
        return all(i.done for i in self.items) and (self.path is None or self.path.done)


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
class _Evidence:
    audit: AuditFacts
    uptime_reason: str
    pack: PackVersion | None
    ticks: dict[str, ChecklistTick]
    send: RealSend | None = None  # the latest real send's verdict

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


def uptime_reason(client_id: int) -> str:
    """Empty when every route has an active monitor that is up and an alert channel is on; else why not."""
    routes = Route.objects.filter(domain__client_id=client_id).count()
    if not routes:
        return "No route is recorded yet."
    monitors = monitor_counts(client_id)
    reasons = []
    if monitors.watched < routes:
        reasons.append(f"{plural(routes - monitors.watched, 'route')} of {routes} not monitored")
    if monitors.down:
        reasons.append(f"{plural(monitors.down, 'route')} down")
    if monitors.unknown:
        reasons.append(f"{plural(monitors.unknown, 'monitor')} not checked yet")
    if not routed_channel_names(client_id):
        reasons.append("no alert channel to tell anyone")
    return "; ".join(reasons).capitalize() + ("." if reasons else "")


def _evidence(sprint: Sprint) -> _Evidence:
    audit = latest_audit_facts(sprint.client_id)
    ticks = {t.item: t for t in ChecklistTick.objects.filter(sprint=sprint).select_related("ticked_by")}
    pack = PackVersion.objects.filter(client_id=sprint.client_id).only("number", "published_at").first()
    return _Evidence(audit, uptime_reason(sprint.client_id), pack, ticks, latest_real_send(sprint.client_id))


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
    if item == Item.SECRETS:
        return _secrets(ev)
    state = _from_evidence(item, ev)
    return _with_real_send(state, ev.send) if item == Item.EMAIL_AUTH else state


SCAN_HOW = (
    "upload it (a zip, a tar.gz or a git bundle) on the client's repository scans page, or send it from CI with the "
    "snippet on that page"
)


def _secrets(ev: _Evidence) -> ItemState:
    """Secrets handling has two witnesses: the repository scan (keys committed to the code or its history, .env
    files, logging calls that write secrets) and the audit (keys in the scripts the site serves). It is done only
    when both have looked and found nothing to work down; each reason names the one that spoke."""
    item = Item.SECRETS
    state = ItemState(item, ITEM_LABELS[item], findings=ev.findings.get(item.value, []), tick=ev.ticks.get(item.value))
    scan = ev.audit.scan
    in_scan = scan.counts.get(item.value, {}) if scan else {}
    everywhere = ev.counts.get(item.value, {})
    in_audit = {severity: n - in_scan.get(severity, 0) for severity, n in everywhere.items()}
    logging = scan.logging.get(item.value, 0) if scan else 0

    def where(severities: tuple[str, ...], word: str) -> tuple[list[str], list[str]]:
        parts, sources = [], []
        repo, site = (sum(c.get(s, 0) for s in severities) for c in (in_scan, in_audit))
        if repo:
            logs = min(logging, repo) if word == "finding" else 0
            of_them = f" ({_logging_part(logs, repo)})" if logs else ""
            parts.append(f"{plural(repo, word)} in the latest repository scan{of_them}")
            sources.append("repository scan")
        if site:
            parts.append(f"{plural(site, word)} in what the site serves, in the latest audit")
            sources.append("audit")
        return parts, sources

    blockers, sources = where((Severity.BLOCKER.value,), "blocker")
    serious, serious_sources = where((Severity.HIGH.value, Severity.MEDIUM.value), "finding")
    if blockers:
        state.state, state.source = State.BLOCKED, " and ".join(sources)
        state.reason = f"Open: {'; '.join(blockers)}."
        if serious:
            state.reason += f" Then to work down (high or medium): {'; '.join(serious)}."
        return state
    sources = serious_sources
    if serious:
        state.state, state.source = State.ATTENTION, " and ".join(sources)
        state.reason = f"To work down (high or medium): {'; '.join(serious)}."
    else:
        scanned = _scan_said(scan)
        audited = _audit_said(item, ev)
        if scan is not None and not audited:
            state.state, state.source = State.DONE, "audit and repository scan"
            state.reason = f"{scanned}, and nothing leaks from what the site serves in the latest audit."
            return state
        if scan is None:
            lead = "Nothing leaks from what the site serves in the latest audit, but the" if not audited else "The"
            state.reason = f"{lead} repository has not been scanned yet: {SCAN_HOW}."
            if audited:
                state.reason += f" {audited}"
        else:
            state.reason = f"{scanned}, but {audited[0].lower()}{audited[1:]}"
    if state.tick is not None and state.tick.done and state.state != State.BLOCKED:
        state.state, state.source = State.DONE, "consultant"
    return state


def _logging_part(logs: int, findings: int) -> str:
    """How many of a scan's findings are logging calls that write secrets or personal data, in words."""
    if findings == 1:
        return "a logging call that writes secrets or personal data"
    if logs == findings:
        return "all of them logging calls that write secrets or personal data"
    if logs == 1:
        return "1 of them a logging call that writes secrets or personal data"
    return f"{logs:,} of them logging calls that write secrets or personal data"


def _scan_said(scan: ScanFacts | None) -> str:
    if scan is None or scan.finished_at is None:
        return "The latest repository scan found nothing to work down"
    on = short_date(timezone.localtime(scan.finished_at))
    return f"The latest repository scan ({on}) found nothing to work down"


def _audit_said(item: Item, ev: _Evidence) -> str:
    """Why the audit cannot vouch for what the site serves, or empty when it can."""
    if not ev.runs:
        return "No audit of the site has finished yet, so nothing says its scripts hold no key."
    if item.value in ev.audit.unseen:
        return f"The audit could not check what the site serves: {ev.audit.unseen[item.value]}."
    if not ev.audit.complete:
        return "The latest audit did not finish every check, so it cannot show the site's scripts hold no key."
    return ""


SEND_HOW = "send the app's sign-up or password-reset email to the test address on the client's page"


def _with_real_send(state: ItemState, send: RealSend | None) -> ItemState:
    """Email authentication is done only once a real send has passed: records that look right are not mail that
    arrives. A failing real send is named by its most urgent finding, and its blocker blocks the item."""
    records_right = state.done and state.source == "audit"
    if send is None:
        if state.done:
            state.state, state.source = State.TODO, ""
            lead = "The records look right in the latest audit" if records_right else "Ticked by hand"
            state.reason = f"{lead}, but no real send has passed yet: {SEND_HOW}."
        return state
    on = short_date(timezone.localtime(send.received_at))
    state.findings = [*send.findings, *state.findings][:5]
    if send.passed:
        state.source = "audit and real send" if records_right else state.source
        dmarc = f" DMARC for {send.domain}" if send.domain else ""
        state.reason = f"{state.reason} A real send on {on} passed{dmarc}.".strip()
        return state
    problem = send.problem or "see its verdict"
    if state.state == State.BLOCKED:
        state.reason = f"{state.reason} The real send on {on} failed too: {problem}."
        return state
    before = "" if state.done else state.reason
    blocker = any(f.severity == Severity.BLOCKER for f in send.findings)
    state.state, state.source = (State.BLOCKED if blocker else State.ATTENTION), "real send"
    lead = "The records look right, but the real send" if records_right else "The real send"
    state.reason = f"{lead} on {on} failed: {problem}." + (f" {before}" if before else "")
    return state


def _from_evidence(item: Item, ev: _Evidence) -> ItemState:
    state = ItemState(item, ITEM_LABELS[item], findings=ev.findings.get(item.value, []), tick=ev.ticks.get(item.value))
    counts = ev.counts.get(item.value, {})
    blockers = counts.get(Severity.BLOCKER.value, 0)
    if blockers:
        state.state, state.source = State.BLOCKED, "audit"
        state.reason = f"{plural(blockers, 'blocker')} open in the latest audit."
        return state
    serious = sum(counts.get(s, 0) for s in SERIOUS)
    if item in AUDITED and ev.runs and item.value in ev.audit.unseen and not serious:
        state.reason = f"Not checked: {ev.audit.unseen[item.value]}."  # a clean area is one that was seen
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
        published = short_date(timezone.localtime(ev.pack.published_at))
        state.reason = f"Handover pack v{ev.pack.number} published {published}."
        return state
    elif item == Item.HANDOVER:
        state.reason = "Ticks itself when the handover pack is published."
    elif item in AUDITED:
        state.reason = "No audit has finished yet."
    if state.tick is not None and state.tick.done:  # the consultant's word where the evidence is silent or partial
        state.state, state.source = State.DONE, "consultant"
    return state


CUSTOMER_PATHS = "Verify customer paths"


def sign_in_check(facts: SignInFacts) -> PathCheck:
    """Customers' paths are verified only once a sign-in journey's latest run passed."""
    label = "Sign-in journey"
    if not facts.journeys:
        return PathCheck(
            label, False, "No sign-in journey yet: add one on the client's journeys page (sign in, open the dashboard)."
        )
    if facts.ran_at is None:
        return PathCheck(label, False, "The sign-in journey has not run yet: run it from the client's journeys page.")
    on = short_date(timezone.localtime(facts.ran_at))
    if facts.ok:
        return PathCheck(label, True, f"“{facts.journey}” passed on its latest run, {on}.")
    step = f" at step “{facts.failing_step}”" if facts.failing_step else ""
    return PathCheck(label, False, f"The latest run of “{facts.journey}” ({on}) failed{step}: {facts.summary}")


def sprint_checklist(sprint: Sprint) -> Checklist:
    """The checklist in a fixed number of queries, whatever the number of findings, routes, journeys or ticks."""
    ev = _evidence(sprint)
    path = sign_in_check(sign_in_facts(sprint.client_id))
    stages = [
        Stage(name, hint, [_judge(item, ev) for item in items], path if name == CUSTOMER_PATHS else None)
        for name, hint, items in STAGES
    ]
    return Checklist(stages, ev.audited_at)


@transaction.atomic
def checklist_tick(*, sprint: Sprint, item: Item, done: bool, notes: str, user: User) -> ChecklistTick:
    tick, _ = ChecklistTick.objects.update_or_create(
        sprint=sprint,
        item=item.value,
        defaults={"done": done, "notes": notes.strip()[:2000], "ticked_by": user, "ticked_at": timezone.now()},
    )
    return tick
