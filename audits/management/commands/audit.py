"""`manage.py audit DOMAIN [--json] [--host NAME ...]`: the quick audit from the shell, without a client record.

Exit status: 0 go, 1 no-go, 2 could not run or could not check (part of the audit saw nothing to judge).
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from audits.catalog import CATALOG, COULD_NOT_CHECK, render, severity_of, verdict_of
from audits.engine import run_audit
from audits.findings import LaunchVerdict
from audits.risk import impact_rank
from audits.target import AuditTarget
from launchready.domains import DomainError, normalise_label, parse_domain
from launchready.net import NetConfig, NetConfigError

EXIT_STATUS = {LaunchVerdict.GO: 0, LaunchVerdict.NO_GO: 1, LaunchVerdict.UNCHECKED: 2}
HEADLINES = {
    LaunchVerdict.GO: "GO: no launch blocker",
    LaunchVerdict.NO_GO: "NO-GO: fix the blockers below before launch",
    LaunchVerdict.UNCHECKED: "COULD NOT CHECK: no blocker seen, but part of the audit saw nothing to judge; not a go",
}
COLOURS = {"blocker": "\033[1;31m", "high": "\033[31m", "medium": "\033[33m", "low": "\033[36m", "info": "\033[2m"}


class Command(BaseCommand):
    help = "Audit a domain (apex, www, the usual sub-domains that exist, and --host names) and print the risk list."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("domain")
        parser.add_argument("--json", action="store_true", help="print findings as JSON")
        parser.add_argument("--host", action="append", default=[], help="another host label or name to include")
        parser.add_argument(
            "--canonical", choices=["www", "apex"], help="the canonical host (default: where the apex settles)"
        )
        parser.add_argument("--deadline", type=float, default=90.0, help="seconds the whole audit may take")
        parser.add_argument("--all", action="store_true", help="also print info findings")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            target = self._target(options)
            config = NetConfig.from_env()
        except (DomainError, NetConfigError) as exc:
            self.stderr.write(f"audit: {exc}")
            sys.exit(2)
        try:
            outcome = asyncio.run(run_audit(target, config=config, deadline=options["deadline"]))
        except Exception as exc:  # the audit itself could not run: say so in one line
            self.stderr.write(f"audit: could not run: {type(exc).__name__}: {exc}")
            sys.exit(2)
        findings = sorted(outcome.findings, key=lambda f: impact_rank(f, target.apex))
        verdict = verdict_of((f.check_id, severity_of(f).value) for f in findings)
        if verdict == LaunchVerdict.GO and outcome.partial:
            verdict = LaunchVerdict.UNCHECKED
        self._print(target, findings, verdict, options, outcome.seconds)
        if verdict == LaunchVerdict.UNCHECKED:
            unchecked = [render(f)["title"] for f in findings if f.check_id in COULD_NOT_CHECK]
            self.stderr.write(f"audit: could not check: {'; '.join(unchecked) or 'some checks did not finish'}")
        sys.exit(EXIT_STATUS[verdict])

    def _target(self, options: dict[str, Any]) -> AuditTarget:
        parsed = parse_domain(options["domain"])
        labels: list[str] = []
        # The host named in front of the domain (shop.example.com) is audited with it, never dropped.
        for host in ([f"{parsed.host}.{parsed.apex}"] if parsed.host else []) + options["host"]:
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
            canonical=options["canonical"] or "www",
            canonical_known=options["canonical"] is not None,
            labels=labels,
            probe_usual_labels=True,
        )

    def _print(
        self, target: AuditTarget, findings: list[Any], verdict: LaunchVerdict, options: dict[str, Any], seconds: float
    ) -> None:
        if options["json"]:
            payload = {
                "domain": target.apex,
                "go": verdict == LaunchVerdict.GO,
                "verdict": verdict.value,
                "seconds": round(seconds, 2),
                "findings": [
                    {
                        "check_id": f.check_id,
                        "severity": severity_of(f).value,
                        "area": CATALOG[f.check_id].area.value,
                        "subject": f.subject,
                        **render(f),
                        "evidence": f.evidence,
                    }
                    for f in findings
                ],
            }
            self.stdout.write(json.dumps(payload, indent=2, default=str))
            return
        colour = sys.stdout.isatty()
        self.stdout.write(f"{target.apex}: {HEADLINES[verdict]}  ({seconds:.1f} s)\n")
        for finding in findings:
            severity = severity_of(finding).value
            if severity == "info" and not options["all"]:
                continue
            text = render(finding)
            tag = f"{COLOURS[severity]}{severity.upper():8}\033[0m" if colour else f"{severity.upper():8}"
            self.stdout.write(f"{tag} {text['title']}  [{finding.check_id}]")
            self.stdout.write(f"         {text['explanation']}")
            for consequence in finding.evidence.get("consequences", []):
                self.stdout.write(f"         follows: {consequence}")
            for line in text["fix"].splitlines():
                self.stdout.write(f"         fix: {line}")
            self.stdout.write("")
