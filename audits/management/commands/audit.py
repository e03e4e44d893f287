"""`manage.py audit DOMAIN... [--file FILE] [--json] [--concurrency N]`: the audit from the shell, without
a client record, for one domain or hundreds in one process.

One domain prints its risk list; several print a table, one row per domain, in the order given. With
--json, one JSON document per domain and per line (JSON Lines), as each audit ends. On a terminal the
progress is shown on stderr while the audits run.

Exit status, the worst of all domains: 1 when a domain is no-go; otherwise 2 when one could not be
checked (part of its audit saw nothing to judge) or not audited at all (not a domain, the audit broke);
0 when every domain is go. Bad arguments and settings exit 2 before any audit starts.
"""

from __future__ import annotations

import asyncio
import json
import math
import shutil
import sys
import warnings
from typing import Any

from django.core.management.base import BaseCommand, CommandParser, OutputWrapper

from audits.batch import (
    COULD_NOT_RUN,
    DEFAULT_CONCURRENCY,
    DomainAudit,
    as_json,
    audit_many,
    exit_status,
    read_domains,
)
from audits.catalog import render, severity_of
from audits.findings import LaunchVerdict, Severity
from launchready.domains import DomainError, normalise_label
from launchready.formatting import escape_controls, plural
from launchready.net import NetConfig, NetConfigError

HEADLINES = {
    LaunchVerdict.GO: "GO: no launch blocker",
    LaunchVerdict.NO_GO: "NO-GO: fix the blockers below before launch",
    LaunchVerdict.UNCHECKED: "COULD NOT CHECK: no blocker seen, but part of the audit saw nothing to judge; not a go",
}
SHORT = {
    LaunchVerdict.GO: "GO",
    LaunchVerdict.NO_GO: "NO-GO",
    LaunchVerdict.UNCHECKED: "COULD NOT CHECK",
    COULD_NOT_RUN: "COULD NOT RUN",
}
MAX_FILE_BYTES = 10 * 1024 * 1024
NAME_WIDTH = 40  # the table's domain column at most


def shown(text: object) -> str:
    """Text from a domain or a file as a terminal may print it: control characters escaped."""
    return escape_controls(text, keep="\t\n")


COLOURS = {"blocker": "\033[1;31m", "high": "\033[31m", "medium": "\033[33m", "low": "\033[36m", "info": "\033[2m"}


class Command(BaseCommand):
    help = (
        "Audit domains (apex, www, the usual sub-domains that exist, and --host names) and print each risk list; "
        "several domains print a table. Exit status: 1 when a domain is no-go; otherwise 2 when one could not be "
        "checked or audited; 0 when all are go."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("domains", nargs="*", metavar="DOMAIN", help="a domain or a web address")
        parser.add_argument(
            "--file",
            help="read domains from this file, one per line, '#' comments, repeats dropped ('-': standard input)",
        )
        parser.add_argument(
            "--json", action="store_true", help="print one JSON document per domain and line (JSON Lines)"
        )
        parser.add_argument(
            "--concurrency",
            type=int,
            default=DEFAULT_CONCURRENCY,
            help=f"audits in flight at once (default {DEFAULT_CONCURRENCY}; 0: all at once)",
        )
        parser.add_argument(
            "--host", action="append", default=[], help="another host to include (with several domains: a label)"
        )
        parser.add_argument(
            "--canonical", choices=["www", "apex"], help="the canonical host (default: where the apex settles)"
        )
        parser.add_argument("--deadline", type=float, default=90.0, help="seconds each audit may take (default 90)")
        parser.add_argument("--all", action="store_true", help="also print info findings")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._handle(options)
        except KeyboardInterrupt:  # Ctrl-C before the audits began (reading the list, starting up)
            self.stderr.write("audit: interrupted; none audited")
            sys.exit(130)

    def _handle(self, options: dict[str, Any]) -> None:
        try:
            domains = self._domains(options)
            config = NetConfig.from_env()
        except (OSError, NetConfigError, ValueError) as exc:
            self.stderr.write(f"audit: {exc}")
            sys.exit(2)
        progress = Progress(self.stderr, len(domains)) if len(domains) > 1 else None

        def done(result: DomainAudit) -> None:
            if options["json"]:
                if progress is not None:
                    progress.clear()  # a terminal shows both streams: the document on a line of its own
                self._emit_json(result)
            if progress is not None:
                progress.done(result)

        try:
            results = asyncio.run(
                audit_many(
                    domains,
                    config=config,
                    concurrency=max(0, options["concurrency"]),
                    hosts=options["host"],
                    canonical=options["canonical"],
                    deadline=options["deadline"],
                    on_start=progress.start if progress is not None else None,
                    on_done=done,
                )
            )
        except KeyboardInterrupt:
            # The audits cut short leave coroutines that never ran; saying so at exit is noise after Ctrl-C.
            warnings.simplefilter("ignore", RuntimeWarning)
            if progress is not None:
                progress.clear()
            finished = f"; {progress.finished} of {progress.total} audited" if progress is not None else ""
            self.stderr.write(f"audit: interrupted{finished}")
            sys.exit(130)
        if progress is not None:
            progress.clear()
        if not options["json"]:
            if len(results) == 1:
                self._print_one(results[0], options["all"])
            else:
                self._print_table(results)
        for result in results:
            self._explain(result, single=len(results) == 1)
        sys.exit(exit_status(results))

    def _domains(self, options: dict[str, Any]) -> list[str]:
        lines = list(options["domains"])
        if options["file"]:
            lines += _read_list(options["file"]).splitlines()
        domains = read_domains(lines)
        if not domains:
            raise ValueError("no domain given: name one or more, or --file FILE")
        if len(domains) > 1 and any("." in host.strip(".") for host in options["host"]):
            raise ValueError("with several domains, --host takes a label (shop), not a full name")
        for host in options["host"]:
            try:
                for part in host.lower().rstrip(".").split("."):
                    normalise_label(part)
            except DomainError as exc:
                raise ValueError(f"--host {shown(host)}: {exc}") from None
        deadline = options["deadline"]
        if not (math.isfinite(deadline) and 1 <= deadline <= 3600):
            raise ValueError("--deadline takes seconds between 1 and 3600")
        if options["concurrency"] < 0:
            raise ValueError("--concurrency takes 0 (no bound) or more")
        return domains

    def _emit_json(self, result: DomainAudit) -> None:
        self.stdout.write(json.dumps(as_json(result), default=str))
        self.stdout.flush()

    def _explain(self, result: DomainAudit, *, single: bool) -> None:
        """One stderr line for a domain that could not be audited or checked."""
        if result.verdict == COULD_NOT_RUN:
            where = "" if single else f"{result.given}: "
            self.stderr.write(shown(f"audit: {where}{result.error}"))
        elif result.verdict == LaunchVerdict.UNCHECKED:
            unchecked = "; ".join(result.unchecked) or "some checks did not finish"
            where = "" if single else f"{result.domain}: "
            self.stderr.write(shown(f"audit: {where}could not check: {unchecked}"))

    def _print_one(self, result: DomainAudit, show_info: bool) -> None:
        if result.verdict == COULD_NOT_RUN:
            return
        colour = sys.stdout.isatty()
        self.stdout.write(f"{result.domain}: {HEADLINES[LaunchVerdict(result.verdict)]}  ({result.seconds:.1f} s)\n")
        for finding in result.findings:
            severity = severity_of(finding).value
            if severity == "info" and not show_info:
                continue
            text = render(finding)
            tag = f"{COLOURS[severity]}{severity.upper():8}\033[0m" if colour else f"{severity.upper():8}"
            self.stdout.write(f"{tag} {shown(text['title'])}  [{finding.check_id}]")
            self.stdout.write(f"         {shown(text['explanation'])}")
            for consequence in finding.evidence.get("consequences", []):
                self.stdout.write(f"         follows: {shown(consequence)}")
            for line in text["fix"].splitlines():
                self.stdout.write(f"         fix: {shown(line)}")
            self.stdout.write("")

    def _print_table(self, results: list[DomainAudit]) -> None:
        # Cut to a terminal's width; a file or a pipe gets every line whole.
        width = max(80, shutil.get_terminal_size().columns) if self.stdout.isatty() else 0
        name = min(NAME_WIDTH, max(6, *(len(shown(r.domain)) for r in results)))
        head = f"{'DOMAIN':{name}}  {'VERDICT':15}  BLOCKER  HIGH  MEDIUM  SECONDS  FIRST TO FIX"
        self.stdout.write(head)
        for result in results:
            first = shown(result.error if result.verdict == COULD_NOT_RUN else _first_to_fix(result))
            domain = shown(result.domain)
            domain = domain if len(domain) <= name else domain[: name - 1] + "…"
            row = (
                f"{domain:{name}}  {SHORT[result.verdict]:15}  {result.count(Severity.BLOCKER):7}  "
                f"{result.count(Severity.HIGH):4}  {result.count(Severity.MEDIUM):6}  {result.seconds:7.1f}  "
            )
            room = max(20, width - len(row)) if width else len(first)
            self.stdout.write(row + (first if len(first) <= room else first[: room - 1] + "…"))
        tally = ", ".join(f"{n} {SHORT[v].lower()}" for v in SHORT if (n := sum(r.verdict == v for r in results)))
        self.stdout.write(
            f"\n{plural(len(results), 'domain')}: {tally}. `manage.py audit DOMAIN` prints one domain's risk list."
        )


def _read_list(path: str) -> str:
    """The domain list's text, read no further than MAX_FILE_BYTES (a device that never ends included)."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        else:
            with open(path, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise OSError(f"cannot read {shown(path)}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"{shown(path)} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB: split the list")
    return data.decode("utf-8", errors="replace")


def _first_to_fix(result: DomainAudit) -> str:
    for finding in result.findings:
        if severity_of(finding) != Severity.INFO:
            return str(render(finding)["title"])
    return "nothing"


class Progress:
    """A one-line count of the batch on a terminal's stderr, rewritten in place; nothing elsewhere."""

    def __init__(self, stream: OutputWrapper, total: int) -> None:
        self.stream, self.total = stream, total
        self.live = stream.isatty()
        self.finished = 0
        self.running = 0
        self.no_go = 0
        self.not_seen = 0

    def start(self, given: str) -> None:
        self.running += 1
        self._show(f"auditing {shown(given)}")

    def done(self, result: DomainAudit) -> None:
        self.running -= 1
        self.finished += 1
        self.no_go += result.verdict == LaunchVerdict.NO_GO
        self.not_seen += result.verdict in (LaunchVerdict.UNCHECKED, COULD_NOT_RUN)
        self._show(f"{shown(result.domain)} {SHORT[result.verdict].lower()}")

    def _show(self, last: str) -> None:
        if not self.live:
            return
        line = (
            f"{self.finished} of {self.total} audited ({self.no_go} no-go, {self.not_seen} not seen), "
            f"{self.running} in flight; {last}"
        )
        width = shutil.get_terminal_size((120, 24)).columns - 1
        self.stream.write("\r\033[K" + line[:width], style_func=lambda text: text, ending="")
        self.stream.flush()

    def clear(self) -> None:
        if self.live:
            self.stream.write("\r\033[K", style_func=lambda text: text, ending="")
            self.stream.flush()
