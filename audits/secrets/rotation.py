"""A leaked key marked rotated by a consultant, and the mark undone. The mark closes the key's finding in the
client's latest repository scan (so it no longer counts anywhere open findings are counted); a later scan
closes it for good when the key is gone from the code, and keeps it open when the same key is still there."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audits.models import KeyRotation, RecordedFinding, RepoFinding, RepoScan
from audits.risk import latest_scan
from launchready.formatting import local_date
from launchready.models import Client

Change = RecordedFinding.Change
# A committed key stays leaked until it is rotated: a later scan that no longer sees it does not close it.
LEAKED_UNTIL_ROTATED = {"secrets.repo.key"}
NO_LONGER_SEEN = "no longer in the code, but still leaked to anyone with a copy: rotate it"
NOTE_LIMIT = 500


def rotated_on(rotation: KeyRotation) -> str:
    return f"rotated on {local_date(rotation.rotated_at)}"


def still_in_code(rotation: KeyRotation) -> str:
    return (
        f"marked as rotated on {local_date(rotation.rotated_at)}, but this key is still in the code: "
        "remove it, and check it is really revoked"
    )


@dataclass
class LeakedKey:
    finding: RepoFinding
    rotation: KeyRotation | None

    def _evidence(self, name: str) -> str:
        evidence = self.finding.evidence if isinstance(self.finding.evidence, dict) else {}
        return str(evidence.get(name, ""))

    @property
    def key(self) -> str:
        """The key as the scan shows it: its prefix and the start of its SHA-256, never the key."""
        return self._evidence("key")

    @property
    def found_in(self) -> str:
        """Where the scan saw it: files and lines, or the commits of the history."""
        return self._evidence("found in")


def leaked_keys(client: Client) -> list[LeakedKey]:
    """The keys of the latest finished scan that are open or were marked rotated, with the mark."""
    scan = latest_scan(client)
    if scan is None:
        return []
    rows = list(scan.findings.filter(check_id__in=LEAKED_UNTIL_ROTATED).order_by("rank", "id"))
    marks = {r.subject: r for r in KeyRotation.objects.filter(client=client).select_related("rotated_by")}
    return [LeakedKey(row, marks.get(row.subject)) for row in rows if row.is_open or row.subject in marks]


def key_finding(client: Client, finding_id: str) -> RepoFinding | None:
    """A key's finding in the client's latest finished scan, by its id, or None (another client's is unseen)."""
    scan = latest_scan(client)
    if scan is None or not finding_id.isdigit():
        return None
    return scan.findings.filter(check_id__in=LEAKED_UNTIL_ROTATED, id=int(finding_id)).first()


@transaction.atomic
def key_rotated_mark(*, client: Client, finding: RepoFinding, user: User, note: str) -> KeyRotation:
    """Record that the key was rotated, and close its open finding in the latest scan."""
    rotation, _ = KeyRotation.objects.update_or_create(
        client=client,
        subject=finding.subject,
        defaults={
            "scan": finding.scan,
            "change_was": finding.change,
            "rotated_by": user,
            "rotated_at": timezone.now(),
            "note": note[:NOTE_LIMIT],
        },
    )
    evidence = dict(finding.evidence) if isinstance(finding.evidence, dict) else {}
    finding.evidence = evidence | {"rotated": rotation.summary}
    finding.change = Change.FIXED
    finding.save(update_fields=["evidence", "change"])
    _recount(finding.scan)
    return rotation


@transaction.atomic
def key_rotation_undo(*, client: Client, finding: RepoFinding) -> bool:
    """Take a mistaken mark back: the key's finding in the latest scan is open again, as it would be unmarked."""
    rotation = KeyRotation.objects.select_for_update().filter(client=client, subject=finding.subject).first()
    if rotation is None:
        return False
    evidence = dict(finding.evidence) if isinstance(finding.evidence, dict) else {}
    if finding.scan_id == rotation.scan_id:  # the finding the mark closed, as it was
        evidence.pop("rotated", None)
        finding.change = rotation.change_was or Change.STILL_OPEN
    elif not finding.is_open:  # closed by a later scan that no longer saw it, on the strength of the mark
        finding.change = Change.STILL_OPEN
        evidence["now"] = NO_LONGER_SEEN
    else:  # a later scan still saw it in the code: an open finding like any other
        evidence.pop("now", None)
    finding.evidence = evidence
    finding.save(update_fields=["evidence", "change"])
    _recount(finding.scan)
    rotation.delete()
    return True


def open_counts(rows: Iterable[RecordedFinding]) -> dict[str, int]:
    """A scan's counts: its open findings by severity."""
    return dict(Counter(row.severity for row in rows if row.is_open))


def _recount(scan: RepoScan) -> None:
    """The scan's open counts, again; saving the scan refreshes the client's status row."""
    scan.counts = open_counts(scan.findings.all())
    scan.save(update_fields=["counts"])
