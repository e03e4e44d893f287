"""A repository scan from the command line or CI (`manage.py scan_repo`, the pre-commit hook): what to scan, the
verdict, and the report as text or JSON. SARIF is in audits/secrets/sarif.py.

A key is shown as its findings show it, a prefix and the first 8 hex digits of its SHA-256, never whole.

The JSON report (`--json`) keeps this shape; a field is only ever added, and `format` changes if one changes:

    {
      "format": "launchready-scan/1",
      "target": "the PATH as given" | "3 files named",
      "kind": "directory" | "files" | "zip" | "tar.gz" | "tar" | "bundle",
      "history": true,                  # whether git history was read
      "history_unreadable": false,      # a .git folder was there but its history could not be read
      "verdict": "passed" | "blocked" | "unscanned",
                                        # blocked: at least one blocker (a secret key, a committed .env file),
                                        # or with --fail-on high|medium a finding that severe; unscanned: nothing
                                        # could be checked (exit 2), `reason` says why
      "reason": "There was no file to read." | null,
      "fail_on": "blocker" | "high" | "medium",
      "counts": {"blocker": 0, "high": 0, "medium": 0, "low": 0, "info": 0},
      "stats": {"files": 0, "blobs": 0, "bytes": 0, "commits_with_history": 0,
                "skipped_links": 0, "skipped_large": 0,
                "log_calls": 0, "log_left_out": 0,     # logging calls parsed; places left unread at a limit
                "log_too_large": 0,                    # source files too large for the log-hygiene rules
                "unchecked_archives": 0},              # archives among the files not read (too deep, damaged)
      "findings": [
        {
          "check_id": "secrets.repo.key",
          "severity": "blocker",
          "title": "…", "explanation": "…", "fix": "…",   # the fix holds the rotation steps
          "provider": "AWS secret access key" | null,
          "key": "AKIA•••• (sha256 1a2b3c4d)" | null,    # never the whole key
          "seen_in": "the working tree" | "git history only" | null,
          "logged": "request.headers" | null,             # a log-hygiene finding: the name logged, never a value
          "locations": [{"path": "app/settings.py", "line": 3 | null, "commit": "abc1234" | null}]
        }
      ]
    }

Findings come most severe first. Exit status: 0 passed, 1 blocked, 2 could not scan. The log-hygiene findings
(secrets.log.*: a logging call that writes a password, a token, a key, an Authorization header, a cookie, whole
request headers or body, a card number: high; an email address: medium) are reported but block only with
--fail-on high (or medium).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audits.catalog import render, severity_of
from audits.findings import Finding, Severity
from audits.secrets.archive import ArchiveError, Limits, sniff
from audits.secrets.local import scan_directory, scan_files
from audits.secrets.repo import Location, RepoReport, scan_upload
from launchready.formatting import plural

FORMAT = "launchready-scan/1"
PASSED, BLOCKED, UNSCANNED = "passed", "blocked", "unscanned"
EXIT_PASSED, EXIT_BLOCKED, EXIT_UNSCANNED = 0, 1, 2


@dataclass
class Scan:
    target: str
    kind: str
    history: bool
    report: RepoReport
    # The least severe finding that blocks: a blocker by default (a secret key, a committed .env file); `high` also
    # blocks on the high findings (debug settings, logging calls that write passwords, tokens, keys, cookies).
    fail_on: Severity = Severity.BLOCKER
    failure: str = ""  # why the scan could not run at all (nothing was read)

    @classmethod
    def failed(cls, target: str, kind: str, history: bool, reason: str, fail_on: Severity = Severity.BLOCKER) -> Scan:
        """A scan that could not run, for the reports that still print a document saying why."""
        return cls(target, kind, history, RepoReport([], {}), fail_on, reason)

    @property
    def unchecked(self) -> str:
        """Why nothing could be checked, or '' when something was: a scan that read no file and no earlier
        version proves nothing, so it never passes."""
        if self.failure:
            return self.failure
        stats = self.report.stats
        if stats.get("files", 0) or stats.get("blobs", 0):
            return ""
        skipped = []
        if stats.get("skipped_large"):
            skipped.append(f"{plural(stats['skipped_large'], 'file')} over the size limit")
        if stats.get("skipped_links"):
            skipped.append(plural(stats["skipped_links"], "link or special file"))
        if skipped:
            return f"No file could be read: every file was skipped ({' and '.join(skipped)})."
        if self.kind == "files":
            return ""  # the files named were all deleted (a commit that only removes files adds no key)
        return "There was no file to read."

    @property
    def history_read(self) -> bool:
        """Whether git history was really read: asked for, and a .git folder or bundle there to read."""
        return self.history and bool(self.report.stats.get("commits_with_history"))

    @property
    def history_unreadable(self) -> bool:
        return self.history and bool(self.report.stats.get("history_unreadable"))

    @property
    def findings(self) -> list[Finding]:
        """Most severe first, then by check and subject, so two runs print the same order."""
        return sorted(self.report.findings, key=lambda f: (severity_of(f).rank, f.check_id, f.subject))

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if severity_of(f).rank <= self.fail_on.rank]

    @property
    def verdict(self) -> str:
        if self.blocking:
            return BLOCKED
        return UNSCANNED if self.unchecked else PASSED

    @property
    def exit_status(self) -> int:
        return {BLOCKED: EXIT_BLOCKED, UNSCANNED: EXIT_UNSCANNED}.get(self.verdict, EXIT_PASSED)

    def locations(self, finding: Finding) -> list[Location]:
        return self.report.locations.get((finding.check_id, finding.subject), [])


def scan_target(
    path: Path, *, history: bool = True, limits: Limits | None = None, fail_on: Severity = Severity.BLOCKER
) -> Scan:
    """Scan a folder, a zip or tar(.gz) archive, or a git bundle. Raises ArchiveError with one line to show
    when it cannot be scanned (not there, unreadable, not an archive, damaged, over a limit)."""
    try:
        if path.is_dir():
            return Scan(str(path), "directory", history, scan_directory(path, limits, history=history), fail_on)
        if not path.exists():
            raise ArchiveError("No such file or folder.")
        if not path.is_file():
            raise ArchiveError("This is neither a folder nor a file.")
        with open(path, "rb") as f:
            kind = sniff(f.read(512)) or "unknown"
        return Scan(str(path), kind, history, scan_upload(path, limits, history=history), fail_on)
    except OSError as exc:
        raise ArchiveError(f"It could not be read ({(exc.strerror or 'an error reading it').lower()}).") from exc


def scan_named_files(
    names: Iterable[str], *, limits: Limits | None = None, fail_on: Severity = Severity.BLOCKER
) -> Scan:
    """Scan the files named (a commit's staged files): never the history, nor the whole-repository checks."""
    names = list(names)
    return Scan(f"{plural(len(names), 'file')} named", "files", False, scan_files(names, limits), fail_on)


def _entry(scan: Scan, finding: Finding) -> dict[str, Any]:
    text = render(finding)
    return {
        "check_id": finding.check_id,
        "severity": severity_of(finding).value,
        "title": text["title"],
        "explanation": text["explanation"],
        "fix": text["fix"],
        "provider": finding.params.get("provider"),
        "key": finding.params.get("key"),
        "seen_in": finding.evidence.get("seen in"),
        "logged": finding.params.get("logged"),
        "locations": [
            {"path": place.path, "line": place.line or None, "commit": place.commit or None}
            for place in scan.locations(finding)
        ],
    }


def as_json(scan: Scan) -> dict[str, Any]:
    """The report in the documented shape above."""
    findings = scan.findings
    counts = Counter(severity_of(f).value for f in findings)
    return {
        "format": FORMAT,
        "target": scan.target,
        "kind": scan.kind,
        "history": scan.history_read,
        "history_unreadable": scan.history_unreadable,
        "verdict": scan.verdict,
        "reason": scan.unchecked or None,
        "fail_on": scan.fail_on.value,
        "counts": {severity.value: counts.get(severity.value, 0) for severity in Severity},
        "stats": dict(scan.report.stats),
        "findings": [_entry(scan, f) for f in findings],
    }


def place_text(place: Location) -> str:
    """'app/settings.py:3', or '.env:1 in commit abc1234 (git history)'."""
    where = f"{place.path}:{place.line}" if place.line else place.path
    return f"{where} in commit {place.commit} (git history)" if place.commit else where


def _read_what(scan: Scan) -> str:
    stats = scan.report.stats
    text = f"Read {plural(stats.get('files', 0), 'file')}"
    if scan.history_read:
        text += f" and {plural(stats.get('blobs', 0), 'earlier file version')} from git history"
    if stats.get("log_calls"):
        text += f", and checked {plural(stats['log_calls'], 'logging call')}"
    skipped = []
    if stats.get("skipped_links"):
        skipped.append(plural(stats["skipped_links"], "link or special file"))
    if stats.get("skipped_large"):
        skipped.append(f"{plural(stats['skipped_large'], 'file')} over the size limit")
    if stats.get("unchecked_archives"):
        skipped.append(f"{plural(stats['unchecked_archives'], 'archive')} inside the files that could not be opened")
    if stats.get("log_too_large"):
        skipped.append(f"{plural(stats['log_too_large'], 'source file')} over the log-hygiene size limit")
    if stats.get("log_left_out"):
        skipped.append(f"{plural(stats['log_left_out'], 'possible logging call')} over the log-hygiene limits")
    text += f"; skipped {' and '.join(skipped)}." if skipped else "."
    if scan.history_unreadable:
        text += (
            " The git history could not be read (the .git folder's objects are missing or unreadable, as in a"
            " partial copy): a key committed earlier and since removed from the files would not be found."
        )
    return text


def as_text(scan: Scan, *, show_info: bool = True) -> str:
    """The report for a person: the verdict, then each finding with where it is, the redacted key and the fix."""
    findings = scan.findings
    blockers = sum(1 for f in findings if severity_of(f) == Severity.BLOCKER)
    if scan.history_read:
        history = "with git history"
    elif scan.history_unreadable:
        history = "git history could not be read"
    elif scan.history and scan.kind != "bundle":
        history = "no git history in it"
    else:
        history = "without git history"
    what = scan.target if scan.kind == "files" else f"{scan.target} ({scan.kind}, {history})"
    if blockers:
        headline = f"BLOCKED: {plural(blockers, 'blocker')} (a secret to rotate or a file that must not be committed)"
    elif scan.blocking:
        headline = f"BLOCKED: {plural(len(scan.blocking), 'finding')} at {scan.fail_on.value} or above (--fail-on)"
    elif scan.unchecked:
        headline = f"COULD NOT CHECK: {scan.unchecked} Nothing was checked, so this is not a pass."
    else:
        headline = "PASSED: no secret found" if not findings else "PASSED: no blocker"
    lines = [f"{what}: {headline}", ""]
    for finding in findings:
        severity = severity_of(finding)
        if severity == Severity.INFO and not show_info:
            continue
        text = render(finding)
        lines.append(f"{severity.value.upper():8} {text['title']}  [{finding.check_id}]")
        if finding.params.get("provider"):
            lines.append(f"         provider: {finding.params['provider']}")
        if finding.params.get("key"):
            lines.append(f"         key:      {finding.params['key']}")
        if finding.params.get("logged"):
            lines.append(f"         logs:     {finding.params['logged']} ({finding.params['call']})")
        for place in scan.locations(finding):
            lines.append(f"         at:       {place_text(place)}")
        for number, line in enumerate(text["fix"].splitlines()):
            lines.append(f"         {'fix:' if number == 0 else '':9} {line}")
        lines.append("")
    lines.append(_read_what(scan))
    return "\n".join(lines) + "\n"
