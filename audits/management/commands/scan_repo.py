"""`manage.py scan_repo PATH [--json | --sarif] [--no-history] [--fail-on high]`: the repository scan of a folder, a
zip or tar(.gz) archive or a git bundle, from a shell or CI; `--files NAME ...` scans only the files named (the
pre-commit hook).

Exit status: 0 passed, 1 blocked (a secret key or a committed .env file; with --fail-on high, any high finding too,
such as a logging call that writes a password or a token), 2 could not scan or found nothing to check (one line
on stderr; with --json or --sarif a document saying why on stdout).
The scanning and the formats are in audits/secrets/report.py and audits/secrets/sarif.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandParser

from audits.findings import Severity
from audits.secrets.archive import ArchiveError
from audits.secrets.report import EXIT_UNSCANNED, Scan, as_json, as_text, scan_named_files, scan_target
from audits.secrets.sarif import as_sarif


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # the scan needs no database, static files or site settings
    help = (
        "Scan a folder, an archive or a git bundle (its files and git history) for committed keys, .env files, "
        "debug settings and logging calls that write secrets or personal data. Exit 0 passed, 1 blocked, 2 could "
        "not scan."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="*", metavar="PATH", help="a folder, zip, tar.gz, tar or git bundle")
        output = parser.add_mutually_exclusive_group()
        output.add_argument("--json", action="store_true", help="print the report as JSON")
        output.add_argument("--sarif", action="store_true", help="print the report as SARIF 2.1.0 (code scanning)")
        parser.add_argument("--no-history", action="store_true", help="read the files only, not the git history")
        parser.add_argument(
            "--fail-on",
            choices=[Severity.BLOCKER.value, Severity.HIGH.value, Severity.MEDIUM.value],
            default=Severity.BLOCKER.value,
            help="the least severe finding that blocks (default blocker; high also blocks on logging calls that "
            "write passwords, tokens, keys or cookies, and on debug settings)",
        )
        parser.add_argument(
            "--files", action="store_true", help="scan only the files named (as a pre-commit hook passes them)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        paths: list[str] = options["paths"]
        if not options["files"] and len(paths) != 1:
            self.stderr.write("scan_repo: name one PATH (a folder, an archive or a git bundle), or use --files")
            sys.exit(EXIT_UNSCANNED)
        shown = "the files named" if options["files"] else paths[0]
        try:
            fail_on = Severity(options["fail_on"])
            if options["files"]:
                scan = scan_named_files(paths, fail_on=fail_on)
            else:
                scan = scan_target(Path(paths[0]), history=not options["no_history"], fail_on=fail_on)
        except ArchiveError as exc:
            self._cannot(shown, str(exc), options)
        except Exception:  # never the library's message: it could quote the files
            self._cannot(shown, "The scan stopped on an unexpected error while reading it.", options)
        if scan.unchecked:
            self.stderr.write(f"scan_repo: {shown}: could not check: {scan.unchecked}")
        self._print(scan, options)
        sys.exit(scan.exit_status)

    def _cannot(self, shown: str, reason: str, options: dict[str, Any]) -> NoReturn:
        """One line on stderr; with --json or --sarif a document saying why as well, for the CI that reads it."""
        self.stderr.write(f"scan_repo: {shown}: could not scan: {reason}")
        if options["json"] or options["sarif"]:
            kind = "files" if options["files"] else "unknown"
            self._print(Scan.failed(shown, kind, False, reason), options)
        sys.exit(EXIT_UNSCANNED)

    def _print(self, scan: Scan, options: dict[str, Any]) -> None:
        if options["json"]:
            self.stdout.write(json.dumps(as_json(scan), indent=2))
        elif options["sarif"]:
            self.stdout.write(json.dumps(as_sarif(scan), indent=2))
        else:
            self.stdout.write(as_text(scan), ending="")
