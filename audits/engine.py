"""Runs every check of one audit concurrently, within a deadline, keeping partial results."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from audits.checks import assistant, edge, email, headers, redirects, routes, secrets, tls, webhooks
from audits.checks import dns as dns_checks
from audits.checks.declaration import Check, CheckFn
from audits.findings import Finding
from audits.target import USUAL_LABELS, AuditTarget, RouteSpec
from launchready.models import Route
from launchready.net import DnsRecord, Net, NetConfig

log = logging.getLogger(__name__)

DEFAULT_DEADLINE = 90.0
Progress = Callable[[int, int, str, list[Finding]], Awaitable[None]]

# Every check, as its module declares it, in the order they start.
CHECKS: tuple[Check, ...] = (
    *dns_checks.CHECKS,
    *tls.CHECKS,
    *redirects.CHECKS,
    *routes.CHECKS,
    *webhooks.CHECKS,
    *edge.CHECKS,
    *headers.CHECKS,
    *secrets.CHECKS,
    *email.CHECKS,
    *assistant.CHECKS,
)
BY_NAME = {check.name: check for check in CHECKS}
# The engine's own findings, about the audit rather than the domain.
OWN_IDS = frozenset({"audit.check_failed", "audit.deadline", "audit.no_route_reached"})


def ids_of(names: Iterable[str]) -> frozenset[str]:
    """Every finding id these checks may produce."""
    return frozenset(check_id for name in names for check_id in BY_NAME[name].ids)


@dataclass
class AuditOutcome:
    findings: list[Finding] = field(default_factory=list)
    late_findings: list[Finding] = field(default_factory=list)  # not tied to one check: saved at the close
    inventory: list[DnsRecord] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    timed_out_checks: list[str] = field(default_factory=list)
    folded: bool = False  # one diagnosis (the domain does not exist…) stands for every other finding
    seconds: float = 0.0
    dns_queries: int = 0

    @property
    def partial(self) -> bool:
        return bool(self.failed_checks or self.timed_out_checks)


async def _discover(target: AuditTarget, net: Net) -> None:
    """For the shell audit, which has no client record: add the usual sub-domains (app, api …) that
    exist, take the canonical host to be where the apex settles (unless given), and check its homepage."""
    lookups, apex_home = await asyncio.gather(
        asyncio.gather(*(_label_exists(target.host(label), net) for label in USUAL_LABELS)),
        net.page(f"https://{target.apex}/"),
    )
    for label, exists in zip(USUAL_LABELS, lookups, strict=True):
        if exists and label not in target.labels:
            target.labels.append(label)
    if not target.canonical_known and apex_home.ok:
        settled = (urlsplit(apex_home.final.url).hostname or "").lower()
        target.canonical = (
            "www" if settled == f"www.{target.apex}" else "apex" if settled == target.apex else target.canonical
        )
    if not target.routes:
        target.routes.append(RouteSpec(target.homepage, Route.Kind.HOMEPAGE, (200,)))


async def _label_exists(host: str, net: Net) -> bool:
    """Whether a name has any record at all. An alias whose target is gone resolves to no address, and is
    the most dangerous host there is (anyone who claims the target serves pages on the domain); a name
    whose lookups fail is kept too, so the audit says it could not check it rather than leave it out."""
    (addresses, a, aaaa), cname = await asyncio.gather(net.addresses(host), net.dns(host, "CNAME"))
    has_alias = bool(a.cnames or aaaa.cnames or cname.values)
    return bool(addresses) or has_alias or a.is_failure or cname.is_failure


def checks_for(target: AuditTarget) -> dict[str, CheckFn]:
    return {check.name: check.run for check in CHECKS if check.applies(target)}


async def run_audit(
    target: AuditTarget,
    *,
    config: NetConfig | None = None,
    deadline: float = DEFAULT_DEADLINE,
    progress: Progress | None = None,
    sprint_open: bool = True,
) -> AuditOutcome:
    started = time.monotonic()
    outcome = AuditOutcome()
    async with Net(config, deadline=deadline) as net:
        # Asked first and beside everything else: whether the domain exists at all decides what to save.
        diagnosis_task = asyncio.ensure_future(dns_checks.check_domain(target, net))
        if target.probe_usual_labels:
            await _discover(target, net)
        checks = checks_for(target)
        tasks: dict[asyncio.Task[list[Finding]], str] = {
            asyncio.ensure_future(fn(target, net)): name for name, fn in checks.items()
        }
        inventory_task = asyncio.ensure_future(dns_checks.record_inventory(target, net))
        total, done = len(tasks), 0
        pending = set(tasks)
        end = started + deadline
        while pending:
            finished, pending = await asyncio.wait(
                pending, timeout=max(0.0, end - time.monotonic()), return_when=asyncio.FIRST_COMPLETED
            )
            if not finished:
                break
            for task in finished:
                done += 1
                found = _collect(task, tasks[task], outcome)
                if progress is not None:
                    # Under a diagnosis, the checks' findings are kept for it, never saved on their own.
                    diagnosis = await diagnosis_task  # answered long before any check ends
                    await progress(done, total, tasks[task], [] if diagnosis else found)
        for task in pending:
            task.cancel()
            outcome.timed_out_checks.append(tasks[task])
        # Let the cancelled checks unwind before their Net closes its connections.
        await asyncio.gather(*pending, return_exceptions=True)
        if outcome.timed_out_checks:
            outcome.late_findings.append(
                Finding(
                    "audit.deadline",
                    target.apex,
                    {"checks": outcome.timed_out_checks},
                    {"seconds": round(deadline), "checks": outcome.timed_out_checks},
                )
            )
        try:
            outcome.inventory = await asyncio.wait_for(inventory_task, max(0.5, end - time.monotonic()))
        except (TimeoutError, Exception) as exc:  # the inventory is a bonus, never a reason to fail
            log.warning("record inventory for %s incomplete: %s", target.apex, type(exc).__name__)
        outcome.late_findings.extend(dns_checks.check_ttls(target, outcome.inventory, sprint_open))
        outcome.late_findings.extend(no_route_reached(target, outcome.findings))
        outcome.findings.extend(outcome.late_findings)
        diagnosis = await diagnosis_task
        if diagnosis is not None:
            folded = dns_checks.fold_under(diagnosis, outcome.findings)
            outcome.findings, outcome.late_findings, outcome.folded = [folded], [folded], True
        outcome.dns_queries = net.dns_queries
    outcome.seconds = time.monotonic() - started
    return outcome


def no_route_reached(target: AuditTarget, findings: list[Finding]) -> list[Finding]:
    """One finding when every route failed: the app itself was never seen, so the audit cannot say go."""
    urls = [route.url for route in target.routes]
    unreachable = {f.subject for f in findings if f.check_id == "route.unreachable"}
    if not urls or not set(urls) <= unreachable:
        return []
    return [
        Finding(
            "audit.no_route_reached",
            target.apex,
            {"routes": urls},
            {
                "domain": target.apex,
                "tried": f"The only route tried, {urls[0]}, did not answer"
                if len(urls) == 1
                else f"None of the {len(urls)} routes tried answered ({', '.join(urls)})",
            },
        )
    ]


def _collect(task: asyncio.Task[list[Finding]], name: str, outcome: AuditOutcome) -> list[Finding]:
    """The check's findings, or one finding that says it failed; the other checks' results are kept."""
    try:
        found = task.result()
    except Exception as exc:
        log.exception("check %s failed", name)
        outcome.failed_checks.append(name)
        found = [
            Finding(
                "audit.check_failed",
                name,
                {"error": type(exc).__name__},
                {"check": name, "detail": f"{type(exc).__name__} while checking"},
            )
        ]
    outcome.findings.extend(found)
    return found
