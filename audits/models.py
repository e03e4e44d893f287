"""Audit runs and the findings they record, with each finding's change since the last run."""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.timezone import now

from audits.findings import LaunchVerdict
from launchready.crypto import decrypt, decrypt_bytes, encrypt, encrypt_bytes
from launchready.formatting import local_date
from launchready.models import Client, Domain


class AuditRunQuerySet(models.QuerySet["AuditRun"]):
    def visible_to(self, user: Any) -> AuditRunQuerySet:
        return self.filter(domain__client__in=Client.objects.visible_to(user))

    def finished(self) -> AuditRunQuerySet:
        return self.filter(state__in=[AuditRun.State.DONE, AuditRun.State.PARTIAL])

    def active(self) -> AuditRunQuerySet:
        return self.filter(state__in=[AuditRun.State.QUEUED, AuditRun.State.RUNNING])


class AuditRun(models.Model):
    """One audit of one domain. Its state is the state machine of the job."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        PARTIAL = "partial", "Partial"
        FAILED = "failed", "Failed"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    domain = models.ForeignKey(Domain, models.CASCADE, related_name="audit_runs")
    group = models.UUIDField(default=uuid.uuid4, db_index=True, help_text="Runs started together share a group.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    scheduled = models.BooleanField(default=False, help_text="Started by the daily re-audit.")
    triggered_by = models.ForeignKey("accounts.User", models.SET_NULL, null=True, blank=True, related_name="+")
    created = models.DateTimeField(default=now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    checks_total = models.PositiveSmallIntegerField(default=0)
    checks_done = models.PositiveSmallIntegerField(default=0)
    current_check = models.CharField(max_length=64, blank=True)
    reason = models.TextField(blank=True, help_text="Why the run failed or is partial.")
    go = models.BooleanField(null=True, help_text="No open blocker, and nothing that could not be checked.")
    verdict = models.CharField(
        max_length=10,
        blank=True,
        choices=[(v.value, v.label) for v in LaunchVerdict],
        help_text="Go, no-go, or could not check; empty until the run has finished.",
    )
    counts = models.JSONField(default=dict, blank=True)
    inventory = models.JSONField(default=list, blank=True, help_text="DNS records seen: name, type, value, TTL.")
    dns_queries = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)

    objects = AuditRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["domain", "-created"]), models.Index(fields=["state", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"Audit of {self.domain} ({self.state})"

    @property
    def progress_percent(self) -> int:
        return int(100 * self.checks_done / self.checks_total) if self.checks_total else 0


class RecordedFinding(models.Model):
    """A finding as recorded, with the verdict text rendered at the time: by an audit run or a repository scan."""

    class Change(models.TextChoices):
        NEW = "new", "New"
        STILL_OPEN = "still_open", "Still open"
        REGRESSED = "regressed", "Regressed"
        FIXED = "fixed", "Fixed"

    check_id = models.CharField(max_length=64)
    subject = models.CharField(max_length=500, blank=True)
    area = models.CharField(max_length=16)
    severity = models.CharField(max_length=8)
    item = models.CharField(max_length=32)
    title = models.CharField(max_length=300)
    explanation = models.TextField()
    fix = models.TextField()
    evidence = models.JSONField(default=dict, blank=True)
    change = models.CharField(max_length=12, choices=Change.choices, default=Change.NEW)
    rank = models.PositiveIntegerField(default=0, help_text="Lower is more urgent.")

    class Meta:
        abstract = True
        ordering = ["rank", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.change != self.Change.FIXED

    @property
    def source(self) -> str:
        """What the finding was found in, for the reader: a domain, or a repository."""
        return ""


class AuditFinding(RecordedFinding):
    """A finding of an audit run."""

    run = models.ForeignKey(AuditRun, models.CASCADE, related_name="findings")

    class Meta:
        ordering = ["rank", "id"]
        indexes = [models.Index(fields=["run", "rank"]), models.Index(fields=["check_id"])]

    @property
    def source(self) -> str:
        return self.run.domain.display_name


class RepoScanQuerySet(models.QuerySet["RepoScan"]):
    def finished(self) -> RepoScanQuerySet:
        return self.filter(state=RepoScan.State.DONE)

    def active(self) -> RepoScanQuerySet:
        return self.filter(state__in=[RepoScan.State.QUEUED, RepoScan.State.RUNNING])


class RepoScan(models.Model):
    """One scan of a client repository uploaded by the consultant. The upload itself is kept only until the
    scan ends (see RepoUpload); what remains is this record and its redacted findings."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, models.CASCADE, related_name="repo_scans")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    filename = models.CharField(max_length=200, help_text="The uploaded file's name, for the consultant's reference.")
    kind = models.CharField(max_length=10, help_text="zip, tar.gz, tar or bundle.")
    size = models.PositiveBigIntegerField(default=0)
    triggered_by = models.ForeignKey("accounts.User", models.SET_NULL, null=True, blank=True, related_name="+")
    created = models.DateTimeField(default=now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="Why the scan failed.")
    stats = models.JSONField(default=dict, blank=True)
    counts = models.JSONField(default=dict, blank=True)

    objects = RepoScanQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["client", "-created"])]

    def __str__(self) -> str:
        return f"Repository scan of {self.filename} ({self.state})"


class RepoUpload(models.Model):
    """The uploaded archive, held in the database only between the upload and the end of its scan, so that
    any worker machine can read it; deleted when the scan ends, whatever the outcome."""

    scan = models.OneToOneField(RepoScan, models.CASCADE, related_name="upload")
    data = models.BinaryField()

    def __str__(self) -> str:
        return f"Upload for scan {self.scan_id}"


class RepoFinding(RecordedFinding):
    """A finding of a repository scan."""

    scan = models.ForeignKey(RepoScan, models.CASCADE, related_name="findings")

    class Meta:
        ordering = ["rank", "id"]
        indexes = [models.Index(fields=["scan", "rank"])]

    @property
    def source(self) -> str:
        return f"Repository {self.scan.filename}"


OPEN = ~Q(change=AuditFinding.Change.FIXED)


class KeyRotation(models.Model):
    """A consultant's word that a leaked key (a repository finding, by its subject: the provider and the key's
    fingerprint) was rotated: who said so, when, and an optional note. While it stands the key's finding is
    closed; a later scan that still sees the same key in the code keeps it open."""

    client = models.ForeignKey(Client, models.CASCADE, related_name="key_rotations")
    subject = models.CharField(max_length=500, help_text="The key's finding subject: provider and fingerprint.")
    scan = models.ForeignKey(RepoScan, models.SET_NULL, null=True, blank=True, related_name="+")
    change_was = models.CharField(
        max_length=12,
        blank=True,
        choices=RecordedFinding.Change.choices,
        help_text="The change the marked finding had, put back if the mark is undone.",
    )
    rotated_by = models.ForeignKey("accounts.User", models.SET_NULL, null=True, blank=True, related_name="+")
    rotated_at = models.DateTimeField(default=now)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "subject"], name="key_rotation_once")]

    def __str__(self) -> str:
        return f"Key {self.subject} rotated"

    @property
    def by(self) -> str:
        return self.rotated_by.get_full_name() if self.rotated_by else "a former colleague"

    @property
    def summary(self) -> str:
        """'Rotated on 2 December 2026 by Ann Lee'."""
        return f"Rotated on {local_date(self.rotated_at)} by {self.by}"


def new_canary() -> str:
    return f"LR-CANARY-{secrets.token_hex(6).upper()}"


class AssistantProbe(models.Model):
    """A client's AI assistant, as the red-team probe reaches it: the chat endpoint, how to put a message
    in a request and where the answer is in the response, and the canary planted in its instructions.

    Header values (an Authorization header, an API key) are secrets: they live in `secret_headers`,
    encrypted at rest, and only their names are ever shown again.
    """

    class Method(models.TextChoices):
        POST = "POST", "POST"
        PUT = "PUT", "PUT"
        GET = "GET", "GET (message in the query string)"

    class BodyFormat(models.TextChoices):
        JSON = "json", "JSON"
        FORM = "form", "Form fields"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.OneToOneField(Client, models.CASCADE, related_name="assistant_probe")
    url = models.URLField("Chat endpoint", max_length=500)
    method = models.CharField(max_length=4, choices=Method.choices, default=Method.POST)
    body_format = models.CharField(max_length=4, choices=BodyFormat.choices, default=BodyFormat.JSON)
    request_template = models.TextField(default='{"message": "{{message}}"}')
    answer_path = models.CharField(max_length=200, blank=True, help_text="Dotted path, e.g. reply or choices.0.text")
    header_names = models.JSONField(default=list, blank=True, help_text="Names of the headers sent; values are secret.")
    secret_headers = models.TextField(blank=True, help_text="Encrypted JSON: header name to value.")
    canary = models.CharField(max_length=64, default=new_canary)
    enabled = models.BooleanField(default=True)
    created = models.DateTimeField(default=now)
    updated = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return f"AI assistant of {self.client}"

    @property
    def headers(self) -> dict[str, str]:
        return json.loads(decrypt(self.secret_headers)) if self.secret_headers else {}

    @headers.setter
    def headers(self, value: dict[str, str]) -> None:
        self.secret_headers = encrypt(json.dumps(value)) if value else ""
        self.header_names = sorted(value)


def new_mail_token() -> str:
    """The part of an issued address that makes it unguessable: 24 lower-case base32 characters (120 bits)."""
    return base64.b32encode(secrets.token_bytes(15)).decode().lower()


class MailAddress(models.Model):
    """An address the product's mail receiver issued for a client: a one-time address for a real-send test
    (test-<token>@<mail domain>) or the mailbox DMARC aggregate reports are sent to (dmarc-<token>@…).
    The receiver accepts mail for these addresses only."""

    class Kind(models.TextChoices):
        SEND_TEST = "send_test", "Real-send test"
        DMARC_REPORTS = "dmarc_reports", "DMARC reports"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, models.CASCADE, related_name="mail_addresses")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    token = models.CharField(max_length=32, unique=True, default=new_mail_token)
    created = models.DateTimeField(default=now)
    expires = models.DateTimeField(null=True, blank=True, help_text="No mail is accepted after this (none: never).")
    created_by = models.ForeignKey("accounts.User", models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["client", "kind", "-created"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} address of {self.client}"

    @property
    def local_part(self) -> str:
        prefix = "test" if self.kind == self.Kind.SEND_TEST else "dmarc"
        return f"{prefix}-{self.token}"


class ReceivedMessage(models.Model):
    """One message the receiver accepted for an issued address: what the SMTP session showed (the connecting
    address, HELO, MAIL FROM, TLS), the message itself encrypted at rest until its retention ends, and the
    verdict worked out from it."""

    class State(models.TextChoices):
        RECEIVED = "received", "Received"
        VERIFIED = "verified", "Verified"
        FAILED = "failed", "Could not be verified"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    address = models.ForeignKey(MailAddress, models.CASCADE, related_name="messages")
    received = models.DateTimeField(default=now)
    peer = models.GenericIPAddressField(help_text="The address that connected to the receiver.")
    helo = models.CharField(max_length=255, blank=True)
    mail_from = models.CharField(max_length=320, blank=True, help_text="The envelope sender (MAIL FROM).")
    recipient = models.CharField(max_length=320)
    tls_version = models.CharField(max_length=16, blank=True, help_text="Empty when the sender did not use TLS.")
    tls_cipher = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)
    content = models.TextField(blank=True, help_text="The raw message, encrypted (Fernet); wiped after retention.")
    wipe_after = models.DateTimeField(db_index=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.RECEIVED)
    verdict = models.JSONField(default=dict, blank=True)
    verified = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["address", "-received"])]

    def __str__(self) -> str:
        return f"Message for {self.address}"

    @property
    def raw(self) -> bytes:
        """The message as received; empty once wiped."""
        return decrypt_bytes(self.content) if self.content else b""

    @raw.setter
    def raw(self, value: bytes) -> None:
        self.content = encrypt_bytes(value)


class SendFinding(RecordedFinding):
    """A finding of a real send: one received message's verdict, recorded like an audit's so that the latest
    real send joins the client's risk list, with its change since the send before it."""

    message = models.ForeignKey(ReceivedMessage, models.CASCADE, related_name="findings")

    class Meta:
        ordering = ["rank", "id"]
        indexes = [models.Index(fields=["message", "rank"])]

    @property
    def source(self) -> str:
        return f"Real send of {local_date(self.message.received)}"


class JourneyFinding(RecordedFinding):
    """The latest run of one of the client's journeys, recorded like an audit's finding so that it joins the
    client's risk list: open while the latest run failed (a sign-in journey's failure is a blocker), fixed by the
    next run that passes. The journey is named by its code and name only: the journeys themselves are the
    monitoring's."""

    client = models.ForeignKey(Client, models.CASCADE, related_name="journey_findings")
    journey = models.UUIDField(help_text="The journey's code.")
    journey_name = models.CharField(max_length=120)
    ran_at = models.DateTimeField(help_text="When the run this row reflects started.")

    class Meta:
        ordering = ["rank", "id"]
        constraints = [models.UniqueConstraint(fields=["client", "journey"], name="one_finding_per_journey")]

    @property
    def source(self) -> str:
        return f"Journey {self.journey_name}"


class DmarcReport(models.Model):
    """One DMARC aggregate report received for a client: who sent it, for which domain and period. Its records
    are summed into DmarcSource rows; the same report received twice (same reporter, same report id) counts once."""

    client = models.ForeignKey(Client, models.CASCADE, related_name="dmarc_reports")
    message = models.ForeignKey(ReceivedMessage, models.SET_NULL, null=True, blank=True, related_name="+")
    org_name = models.CharField(max_length=255, help_text="The reporting organisation, as it names itself.")
    report_id = models.CharField(max_length=255)
    domain = models.CharField(max_length=253, help_text="The domain whose policy the report applies.")
    policy = models.CharField(max_length=16, blank=True, help_text="The p= the reporter saw published.")
    begin = models.DateTimeField()
    end = models.DateTimeField()
    received = models.DateTimeField(default=now)
    messages = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "org_name", "report_id"], name="dmarc_report_once"),
        ]
        indexes = [models.Index(fields=["client", "-begin"])]

    def __str__(self) -> str:
        return f"DMARC report {self.report_id} from {self.org_name}"


class DmarcSource(models.Model):
    """The mail one address sent as a client's domain on one day, as one reporting organisation saw it, with
    how much passed SPF, DKIM (both aligned) and DMARC; and who the address belongs to, by its reverse DNS."""

    client = models.ForeignKey(Client, models.CASCADE, related_name="dmarc_sources")
    org_name = models.CharField(max_length=255)
    day = models.DateField(help_text="The first day (UTC) of the report that counted this mail.")
    source_ip = models.GenericIPAddressField()
    messages = models.PositiveBigIntegerField(default=0)
    spf_pass = models.PositiveBigIntegerField(default=0)
    dkim_pass = models.PositiveBigIntegerField(default=0)
    dmarc_pass = models.PositiveBigIntegerField(default=0)
    host = models.CharField(max_length=255, blank=True, help_text="The address's reverse DNS name, when it has one.")
    host_confirmed = models.BooleanField(default=False, help_text="The name resolves back to the address.")
    provider = models.CharField(max_length=64, blank=True, help_text="The mail provider the confirmed name belongs to.")
    looked_up = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "org_name", "source_ip", "day"], name="dmarc_source_day_once"),
        ]
        indexes = [models.Index(fields=["client", "day"]), models.Index(fields=["client", "looked_up"])]

    def __str__(self) -> str:
        return f"{self.source_ip} on {self.day}"
