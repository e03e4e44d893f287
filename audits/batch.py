"""Audits of many domains in one process, a few in flight at once: an agency's whole book in one go.

`manage.py audit` uses it for one domain as for two hundred. Each domain's audit is the same full audit
a client's domain gets (run_audit); a domain that cannot be audited at all (not a domain name, or the
audit itself broke) gets a result that says why, and the others go on.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from audits.catalog import CATALOG, COULD_NOT_CHECK, render, severity_of, verdict_of
from audits.engine import DEFAULT_DEADLINE, run_audit
from audits.findings import Finding, LaunchVerdict, Severity
from audits.risk import impact_rank
from audits.target import AuditTarget
from launchready.domains import DomainError, normalise_label, parse_domain
from launchready.net import NetConfig
from launchready.timing import TICK, LagMeter

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 8
# An audit starts only while this process's loop keeps up (late by less than this lately): at its start an
# audit asks scores of questions at once, and a loop that falls seconds behind lets its own DNS and
# connect timeouts fire before it reads the answers. Audits that wait for a turn have not started yet.
ADMIT_LAG = 0.1
ADMIT_WINDOW = 0.25
START_GAP = 0.02  # seconds between two starts at the least
COULD_NOT_RUN = "could_not_run"
# The exit status of a batch is its worst verdict's: a blocker anywhere first, then anything unseen.
EXIT_STATUS = {LaunchVerdict.GO: 0, LaunchVerdict.NO_GO: 1, LaunchVerdict.UNCHECKED: 2, COULD_NOT_RUN: 2}
WORST_FIRST = (LaunchVerdict.NO_GO, COULD_NOT_RUN, LaunchVerdict.UNCHECKED, LaunchVerdict.GO)


@dataclass
class DomainAudit:
    """One domain's audit as the shell reports it."""

    given: str  # the domain as it was asked for
    target: AuditTarget | None = None  # None: the text is not a domain the audit can look at
    findings: list[Finding] = field(default_factory=list)  # most urgent first
    verdict: str = COULD_NOT_RUN  # a LaunchVerdict, or COULD_NOT_RUN
    seconds: float = 0.0
    error: str = ""  # why it could not run, in one line
    partial: bool = False  # a check failed or ran out of time

    @property
    def domain(self) -> str:
        return self.target.apex if self.target is not None else self.given

    @property
    def exit_status(self) -> int:
        return EXIT_STATUS[self.verdict]

    def count(self, severity: Severity) -> int:
        return sum(severity_of(f) == severity for f in self.findings)

    @property
    def unchecked(self) -> list[str]:
        """The titles of what could not be checked."""
        return [render(f)["title"] for f in self.findings if f.check_id in COULD_NOT_CHECK]


MAX_DOMAINS = 10_000  # in one batch
MAX_LINE = 1_000  # characters of one line that are read (a domain is at most 253)
_USERINFO = re.compile(r"(?<=//)[^/@\s]*@")


def read_domains(lines: Iterable[str]) -> list[str]:
    """Domains from a file, one per line; blank lines and `#` comments are skipped, repeats dropped (the
    same domain spelt otherwise too: Example.com, https://example.com/, www.example.com.), credentials in a
    URL (user:password@) never kept. Raises ValueError past MAX_DOMAINS."""
    domains: list[str] = []
    seen: set[tuple[str, str]] = set()
    for line in lines:
        text = _USERINFO.sub("", line[:MAX_LINE].split("#", 1)[0].strip())
        key = _same_audit(text)
        if text and key not in seen:
            if len(domains) == MAX_DOMAINS:
                raise ValueError(f"more than {MAX_DOMAINS:,} domains: split the list into batches")
            seen.add(key)
            domains.append(text)
    return domains


def _same_audit(text: str) -> tuple[str, str]:
    """What decides a domain's audit: its apex and the host named in front of it (www is always audited);
    text that is not a domain stands for itself, so that it is reported once."""
    try:
        parsed = parse_domain(text)
    except DomainError:
        return ("", text.lower())
    return (parsed.apex, "" if parsed.host == "www" else parsed.host)


def target_for(domain: str, hosts: Sequence[str] = (), canonical: str | None = None) -> AuditTarget:
    """What the shell audits for a domain: the apex, www, the usual sub-domains that exist, the host named
    in front of the domain (shop.example.com) and each --host; raises DomainError for text that is not one."""
    parsed = parse_domain(domain)
    labels: list[str] = []
    for host in ([f"{parsed.host}.{parsed.apex}"] if parsed.host else []) + list(hosts):
        name = host.lower().rstrip(".")
        if name.endswith("." + parsed.apex):
            name = name[: -len(parsed.apex) - 1]
        elif "." in name:
            raise DomainError(f"--host {host} is not a name under {parsed.apex}")
        label = ".".join(normalise_label(part) for part in name.split("."))
        if label and label != "www" and label not in labels:
            labels.append(label)
    return AuditTarget(
        apex=parsed.apex,
        canonical=canonical or "www",
        canonical_known=canonical is not None,
        labels=labels,
        probe_usual_labels=True,
    )


async def audit_domain(
    given: str | AuditTarget,
    *,
    config: NetConfig,
    hosts: Sequence[str] = (),
    canonical: str | None = None,
    deadline: float = DEFAULT_DEADLINE,
) -> DomainAudit:
    """One domain's audit: text is parsed into the shell's target, a target is audited as it is."""
    if isinstance(given, AuditTarget):
        target = given
    else:
        try:
            target = target_for(given, hosts, canonical)
        except DomainError as exc:
            return DomainAudit(given, error=str(exc))
    result = DomainAudit(given if isinstance(given, str) else given.apex, target)
    started = time.monotonic()
    try:
        outcome = await run_audit(target, config=config, deadline=deadline)
    except Exception as exc:  # the audit itself broke: this domain says so in one line, the others go on
        log.error("audit of %s could not run: %s", target.apex, type(exc).__name__)
        log.debug("audit of %s could not run", target.apex, exc_info=True)
        result.error = f"could not run: {type(exc).__name__}: {exc}"
        result.seconds = time.monotonic() - started
        return result
    apex = target.apex
    result.findings = sorted(outcome.findings, key=lambda f: impact_rank(f, apex))
    verdict = verdict_of((f.check_id, severity_of(f).value) for f in result.findings)
    result.verdict = LaunchVerdict.UNCHECKED if verdict == LaunchVerdict.GO and outcome.partial else verdict
    result.seconds, result.partial = outcome.seconds, outcome.partial
    return result


async def audit_many(
    domains: Sequence[str | AuditTarget],
    *,
    config: NetConfig,
    concurrency: int = DEFAULT_CONCURRENCY,
    hosts: Sequence[str] = (),
    canonical: str | None = None,
    deadline: float = DEFAULT_DEADLINE,
    on_start: Callable[[str], None] | None = None,
    on_done: Callable[[DomainAudit], None] | None = None,
) -> list[DomainAudit]:
    """Audit every domain, `concurrency` at a time (0: all at once); results in the order asked. Each
    audit's deadline counts from its own start, not from the batch's."""
    slots = asyncio.Semaphore(concurrency if concurrency > 0 else max(1, len(domains)))
    meter, turns = LagMeter(), asyncio.Lock()
    running = 0

    async def one(given: str | AuditTarget) -> DomainAudit:
        nonlocal running
        async with slots:
            async with turns:  # one start at a time, each once the last one's first burst has shown in the lag
                while running and meter.recent(ADMIT_WINDOW) > ADMIT_LAG:
                    await asyncio.sleep(TICK * 4)
                running += 1
                if on_start is not None:
                    on_start(given.apex if isinstance(given, AuditTarget) else given)
                audit = asyncio.ensure_future(
                    audit_domain(given, config=config, hosts=hosts, canonical=canonical, deadline=deadline)
                )
                await asyncio.wait([audit], timeout=START_GAP)
            try:
                result = await audit
            finally:
                running -= 1
        if on_done is not None:
            on_done(result)
        return result

    meter.acquire()
    try:
        return list(await asyncio.gather(*(one(given) for given in domains)))
    finally:
        meter.release()


def exit_status(results: Iterable[DomainAudit]) -> int:
    verdicts = {result.verdict for result in results}
    worst = next((v for v in WORST_FIRST if v in verdicts), LaunchVerdict.GO)
    return EXIT_STATUS[worst]


def as_json(result: DomainAudit) -> dict[str, Any]:
    """One domain's result as a JSON document (a line of the JSON Lines output)."""
    payload: dict[str, Any] = {
        "domain": result.domain,
        "go": result.verdict == LaunchVerdict.GO,
        "verdict": str(result.verdict),
        "seconds": round(result.seconds, 2),
    }
    if result.target is None or result.error:
        payload["given"] = result.given
        payload["error"] = result.error
    payload["findings"] = [
        {
            "check_id": f.check_id,
            "severity": severity_of(f).value,
            "area": CATALOG[f.check_id].area.value,
            "subject": f.subject,
            **render(f),
            "evidence": f.evidence,
        }
        for f in result.findings
    ]
    return payload
