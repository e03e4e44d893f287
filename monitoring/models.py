"""Monitors per route, their probe results and rollups, incidents and their timelines."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.timezone import now

from launchready.crypto import decrypt, encrypt
from launchready.models import Client, Route


class MonitorQuerySet(models.QuerySet["Monitor"]):
    def visible_to(self, user: Any) -> MonitorQuerySet:
        return self.filter(client__in=Client.objects.visible_to(user))

    def active(self) -> MonitorQuerySet:
        return self.filter(paused=False)


class Monitor(models.Model):
    """Watches one route: probed every `interval` seconds, alerting after N failures in a row."""

    class State(models.TextChoices):
        UNKNOWN = "unknown", "Unknown"
        UP = "up", "Up"
        DOWN = "down", "Down"

    class Cause(models.TextChoices):
        NONE = "", "—"
        DNS = "dns", "DNS"
        TLS = "tls", "TLS"
        CONNECT = "connect", "Connection refused"
        TIMEOUT = "timeout", "Timeout"
        STATUS = "status", "Unexpected status"
        KEYWORD = "keyword", "Keyword missing"
        SLOW = "slow", "Slower than budget"
        REFUSED = "refused", "Private address refused"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, models.CASCADE, related_name="monitors")
    route = models.OneToOneField(Route, models.CASCADE, related_name="monitor")
    url = models.URLField(max_length=600)
    method = models.CharField(max_length=8, default="GET", choices=[("GET", "GET"), ("HEAD", "HEAD")])
    expected_statuses = models.JSONField(default=list)
    keyword = models.CharField(max_length=200, blank=True)
    interval = models.PositiveIntegerField(
        "interval (seconds)", default=60, validators=[MinValueValidator(30), MaxValueValidator(300)]
    )
    timeout = models.FloatField(
        "timeout (seconds)", default=10, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    latency_budget_ms = models.PositiveIntegerField(default=2000)
    alert_after = models.PositiveSmallIntegerField(default=2, help_text="Failures in a row before an alert.")
    recover_after = models.PositiveSmallIntegerField(default=2, help_text="Successes in a row before recovery.")
    paused = models.BooleanField(default=False)
    state = models.CharField(max_length=8, choices=State.choices, default=State.UNKNOWN)
    next_due_at = models.DateTimeField(default=now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    consecutive_successes = models.PositiveIntegerField(default=0)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_latency_ms = models.FloatField(null=True, blank=True)
    last_cause = models.CharField(max_length=10, choices=Cause.choices, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(default=now)
    # The probes of the two latest days (UTC) counted as they are recorded (monitoring/tallies.py): the live part
    # of the overview's uptime, read from this row rather than from the raw probes and the rollups still changing.
    tally_day = models.DateField(null=True, blank=True, help_text="The day of the latest probe counted.")
    tally_probes = models.PositiveIntegerField(default=0)
    tally_failures = models.PositiveIntegerField(default=0)
    tally_prev_probes = models.PositiveIntegerField(default=0, help_text="Probes of the day before tally_day.")
    tally_prev_failures = models.PositiveIntegerField(default=0)

    objects = MonitorQuerySet.as_manager()

    class Meta:
        ordering = ["url"]
        indexes = [models.Index(fields=["paused", "next_due_at"]), models.Index(fields=["client", "state"])]

    def __str__(self) -> str:
        return self.url


class Probe(models.Model):
    """One raw probe result; kept for a short window (MONITORING_RAW_RETENTION), then only rollups remain."""

    monitor = models.ForeignKey(Monitor, models.CASCADE, related_name="probes")
    at = models.DateTimeField(db_index=True)
    ok = models.BooleanField()
    status = models.PositiveSmallIntegerField(null=True)
    latency_ms = models.FloatField(null=True)
    cause = models.CharField(max_length=10, blank=True)
    error = models.CharField(max_length=200, blank=True)
    lag_ms = models.FloatField(default=0, help_text="How late the probe ran against its schedule.")

    class Meta:
        indexes = [models.Index(fields=["monitor", "-at"])]

    def __str__(self) -> str:
        return f"{self.monitor_id} at {self.at:%H:%M:%S}: {'ok' if self.ok else self.cause}"


class Rollup(models.Model):
    """Counts and a fixed-bucket latency histogram for one monitor over one hour or one day."""

    class Period(models.TextChoices):
        HOUR = "hour", "Hour"
        DAY = "day", "Day"

    monitor = models.ForeignKey(Monitor, models.CASCADE, related_name="rollups")
    period = models.CharField(max_length=4, choices=Period.choices)
    start = models.DateTimeField()
    probes = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    unknown_seconds = models.PositiveIntegerField(default=0, help_text="Time the monitoring itself was not running.")
    histogram = models.JSONField(default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["monitor", "period", "start"], name="one_rollup_per_period")]
        indexes = [
            models.Index(fields=["monitor", "period", "-start"]),
            # The overview's 30-day uptime of every client: the daily rows of a window alone, read from the index.
            models.Index(
                fields=["start"],
                include=["monitor", "probes", "failures"],
                condition=models.Q(period="day"),
                name="daily_rollups_by_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.monitor_id} {self.period} from {self.start:%Y-%m-%d %H:%M}"


class Incident(models.Model):
    """One outage of one monitor, from the alert to the recovery, with its timeline."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    monitor = models.ForeignKey(Monitor, models.CASCADE, related_name="incidents")
    started_at = models.DateTimeField(help_text="The first failure of the run that raised it.")
    ended_at = models.DateTimeField(null=True, blank=True)
    cause = models.CharField(max_length=10, choices=Monitor.Cause.choices, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    last_reminder_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["monitor", "ended_at"])]

    def __str__(self) -> str:
        return f"Outage of {self.monitor} from {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class IncidentEvent(models.Model):
    class Kind(models.TextChoices):
        FIRST_FAILURE = "first_failure", "First failure"
        OPENED = "opened", "Marked down"
        ALERT_SENT = "alert_sent", "Alert sent"
        NO_CHANNEL = "no_channel", "No channel: nobody was told"
        REMINDER = "reminder", "Reminder"
        HELD = "held", "Alerts held"
        RECOVERED = "recovered", "Recovered"

    incident = models.ForeignKey(Incident, models.CASCADE, related_name="events")
    at = models.DateTimeField(default=now)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%H:%M:%S}"


class SchedulerGap(models.Model):
    """A stretch of time the scheduler itself was away: counted as unknown, never as up."""

    start = models.DateTimeField()
    end = models.DateTimeField()

    class Meta:
        ordering = ["-start"]

    def __str__(self) -> str:
        return f"Scheduler away {self.start:%Y-%m-%d %H:%M} to {self.end:%H:%M}"


class AlertChannel(models.Model):
    """Where a client's alerts go: email, a Slack incoming webhook, or a signed generic webhook.

    A channel belongs to one client, or (with no client) to a workspace as its default: the clients of
    that workspace without an enabled channel of their own send their alerts there.
    The webhook URLs and signing secret live in `secret`, encrypted at rest; they are never shown again.
    """

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        SLACK = "slack", "Slack"
        WEBHOOK = "webhook", "Webhook"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, models.CASCADE, null=True, blank=True, related_name="alert_channels")
    workspace = models.ForeignKey(
        "accounts.Workspace",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="default_alert_channels",
        help_text="Set for a workspace's default channel (and then no client).",
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(max_length=80)
    recipients = models.JSONField(
        default=list, blank=True, help_text="Email addresses; empty: founders and consultants."
    )
    secret = models.TextField(blank=True, help_text="Encrypted JSON: url and signing secret.")
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    consecutive_failures = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    last_duration_ms = models.FloatField(null=True, blank=True)
    created = models.DateTimeField(default=now)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(client__isnull=False, workspace__isnull=True)
                | models.Q(client__isnull=True, workspace__isnull=False),
                name="channel_of_a_client_or_a_workspace",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"

    @property
    def is_workspace_default(self) -> bool:
        return self.client_id is None

    @property
    def owner_workspace(self) -> Any:
        """The workspace the channel belongs to, directly or through its client."""
        return self.workspace if self.client is None else self.client.workspace

    @property
    def owner_workspace_id(self) -> int:
        return self.workspace_id if self.client is None else self.client.workspace_id  # type: ignore[return-value]

    @property
    def config(self) -> dict[str, Any]:
        return json.loads(decrypt(self.secret)) if self.secret else {}

    @config.setter
    def config(self, value: dict[str, Any]) -> None:
        self.secret = encrypt(json.dumps(value)) if value else ""


class Alert(models.Model):
    """One message to one channel about one event. Claimed with a conditional update before it is sent,
    so that a retried task or two racing workers never send it twice."""

    class Kind(models.TextChoices):
        DOWN = "down", "Down"
        UP = "up", "Recovered"
        REMINDER = "reminder", "Still down"
        TEST = "test", "Test"
        DEPLOY = "deploy", "Deploy smoke test"
        WATCH = "watch", "Watch"
        FLAPPING = "flapping", "Flapping"
        LATE = "late", "Job late"
        JOB_FAILED = "job_fail", "Job failed"
        JOB_BACK = "job_back", "Job running again"
        JOURNEY = "journey", "Journey"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    channel = models.ForeignKey(AlertChannel, models.CASCADE, related_name="alerts")
    # Whose event it is: the channel's client, or the client a workspace default channel spoke for.
    client = models.ForeignKey(Client, models.CASCADE, null=True, blank=True, related_name="alerts")
    incident = models.ForeignKey(Incident, models.CASCADE, null=True, blank=True, related_name="alerts")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # What the alert is about, once per channel: "incident:12:down", "deploy:7", "test:…".
    dedupe_key = models.CharField(max_length=80, blank=True)
    payload = models.JSONField(
        default=dict, blank=True, help_text="Subject and detail of alerts not about an incident."
    )
    sequence = models.PositiveSmallIntegerField(default=0, help_text="Reminders are numbered.")
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created = models.DateTimeField(default=now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "incident", "kind", "sequence"], name="one_alert_per_event"),
            models.UniqueConstraint(
                fields=["channel", "dedupe_key"], condition=~models.Q(dedupe_key=""), name="one_alert_per_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} alert to {self.channel}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.client_id is None and self.channel_id is not None:  # a client's own channel speaks for it
            self.client_id = self.channel.client_id
        super().save(*args, **kwargs)


class ApiToken(models.Model):
    """A per-client token for the deploy-marker API: shown once, stored as a prefix and an HMAC, revocable."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    created_by = models.ForeignKey("accounts.User", models.SET_NULL, null=True, related_name="+")
    created = models.DateTimeField(default=now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} (lr_{self.prefix}_…)"


class Deploy(models.Model):
    """A deploy reported by the client's CI, with the post-deploy smoke test's verdict."""

    class Smoke(models.TextChoices):
        PENDING = "pending", "Running"
        PASSED = "passed", "Passed"
        FAILED = "failed", "Failed"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, models.CASCADE, related_name="deploys")
    token = models.ForeignKey(ApiToken, models.SET_NULL, null=True, blank=True, related_name="deploys")
    version = models.CharField(max_length=100, blank=True)
    commit = models.CharField(max_length=64, blank=True)
    environment = models.CharField(max_length=40, default="production")
    created = models.DateTimeField(default=now)
    smoke = models.CharField(max_length=8, choices=Smoke.choices, default=Smoke.PENDING)
    smoke_results = models.JSONField(default=list, blank=True)
    smoke_finished_at = models.DateTimeField(null=True, blank=True)
    # "Every job pinged since the deploy": one entry per heartbeat, waiting until it pings or its first expected
    # ping after the deploy is overdue (monitoring/smoke.py); a warning beside the smoke test, never its verdict.
    job_checks = models.JSONField(default=list, blank=True)
    jobs_waiting = models.BooleanField(default=False)
    # The p95 of each core route in the 24 hours before and the hour after (monitoring/deploy_latency.py),
    # stored once that hour is over, while its raw probes are kept; None until then.
    latency = models.JSONField(null=True, blank=True, default=None)

    class Meta:
        ordering = ["-created"]
        indexes = [
            models.Index(fields=["client", "-created"]),
            models.Index(fields=["created"], condition=models.Q(jobs_waiting=True), name="deploys_waiting_on_jobs"),
            models.Index(fields=["created"], condition=models.Q(latency__isnull=True), name="deploys_latency_unstored"),
        ]

    def __str__(self) -> str:
        return f"Deploy {self.version or self.commit[:8]} of {self.client}"

    @property
    def jobs_missed(self) -> int:
        """Heartbeats that did not ping between the deploy and their first expected time after it."""
        return sum(1 for c in self.job_checks or [] if c.get("state") == "missed")


class MaintenanceWindow(models.Model):
    """Planned work: alerts are held while a window is open (one-off, or weekly in the client's time zone)."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, models.CASCADE, related_name="maintenance_windows")
    monitor = models.ForeignKey(
        Monitor,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="maintenance_windows",
        help_text="Empty: every monitor of the client.",
    )
    starts_at = models.DateTimeField(null=True, blank=True, help_text="One-off window: start.")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="One-off window: end.")
    weekday = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(6)], help_text="Weekly window: 0 is Monday."
    )
    start_time = models.TimeField(null=True, blank=True)
    duration_minutes = models.PositiveIntegerField(default=60)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["client", "starts_at", "weekday"]

    def __str__(self) -> str:
        return self.note or f"Maintenance for {self.client}"

    def covers(self, at: Any, tz: Any) -> bool:
        if self.starts_at and self.ends_at:
            return bool(self.starts_at <= at < self.ends_at)
        if self.weekday is None or self.start_time is None:
            return False
        local = at.astimezone(tz)
        for days_back in (0, 1, 2, 3, 4, 5, 6):
            day = (local - timedelta(days=days_back)).date()
            if day.weekday() != self.weekday:
                continue
            start = datetime.combine(day, self.start_time, tzinfo=tz)
            if start <= local < start + timedelta(minutes=self.duration_minutes):
                return True
        return False


class DnsBaseline(models.Model):
    """The DNS records the consultant approved (from an audit's inventory): drift is measured against it."""

    domain = models.OneToOneField("launchready.Domain", models.CASCADE, related_name="dns_baseline")
    records = models.JSONField(default=list, help_text="name, type, value (TTL is not compared).")
    approved_by = models.ForeignKey("accounts.User", models.SET_NULL, null=True, related_name="+")
    approved_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return f"DNS baseline of {self.domain}"


class WatchEvent(models.Model):
    """Something a watch saw: a certificate about to expire, DNS or email-authentication drift, a p95 regression."""

    class Kind(models.TextChoices):
        CERT_EXPIRY = "cert_expiry", "Certificate expiry"
        DNS_DRIFT = "dns_drift", "DNS drift"
        EMAIL_DRIFT = "email_drift", "Email-authentication drift"
        P95_REGRESSION = "p95_regression", "p95 regression after a deploy"

    client = models.ForeignKey(Client, models.CASCADE, related_name="watch_events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    key = models.CharField(max_length=200, help_text="The same thing seen again is the same event.")
    title = models.CharField(max_length=300)
    detail = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-created"]
        constraints = [models.UniqueConstraint(fields=["client", "key"], name="one_watch_event_per_key")]

    def __str__(self) -> str:
        return self.title


class Heartbeat(models.Model):
    """A background job, cron job or worker that says it ran by calling its ping URL: late when no ping comes
    within its period (or after its cron time) plus grace, failed when it pings /fail.

    The ping URL's secret is kept twice: its SHA-256 (the ping's one indexed lookup) and, for the pages that
    show the URL to copy, encrypted at rest like the channels' secrets. The fields from `last_ping_at` on are
    written by the pings (monitoring/pings.py); `alerted` and `failures_seen` only by the lateness sweep
    (monitoring/lateness.py), with a conditional update, so an event is alerted once whatever the workers."""

    class Kind(models.TextChoices):
        JOB = "job", "Background job"
        CRON = "cron", "Cron job"
        WORKER = "worker", "Worker"

    class Schedule(models.TextChoices):
        PERIOD = "period", "Every period"
        CRON = "cron", "Cron expression"

    class Ping(models.TextChoices):
        START = "start", "Started"
        SUCCESS = "success", "Succeeded"
        FAIL = "fail", "Failed"

    class Alerted(models.TextChoices):
        UP = "up", "Nothing to tell"
        DOWN = "down", "Told it is late or failing"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, models.CASCADE, related_name="heartbeats")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.CRON)
    schedule = models.CharField(max_length=8, choices=Schedule.choices, default=Schedule.PERIOD)
    period_minutes = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 31)]
    )
    grace_minutes = models.PositiveIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 7)],
        help_text="How long after the expected time a ping may still come before it is late.",
    )
    cron = models.CharField(max_length=100, blank=True, help_text="Read in the client's time zone.")
    token_digest = models.CharField(max_length=64, unique=True)
    token_sealed = models.TextField(help_text="The ping URL's secret, encrypted (Fernet).")
    paused = models.BooleanField(default=False)
    created = models.DateTimeField(default=now)
    resumed_at = models.DateTimeField(null=True, blank=True, help_text="The schedule counts from here once resumed.")
    last_ping_at = models.DateTimeField(null=True, blank=True)
    last_ping_kind = models.CharField(max_length=8, choices=Ping.choices, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True, help_text="A run in progress: /start with no end yet.")
    last_run_seconds = models.FloatField(null=True, blank=True, help_text="From /start to the success or failure.")
    last_body = models.TextField(blank=True, help_text="The start of the latest ping's body, bounded.")
    failures = models.PositiveIntegerField(default=0, help_text="/fail pings received.")
    failures_seen = models.PositiveIntegerField(default=0, help_text="Failures the sweep has accounted for.")
    due_at = models.DateTimeField(null=True, blank=True, help_text="When the sweep should look at it next.")
    alerted = models.CharField(max_length=4, choices=Alerted.choices, default=Alerted.UP)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["paused", "alerted", "due_at"]), models.Index(fields=["client", "name"])]

    def __str__(self) -> str:
        return self.name


class JourneyQuerySet(models.QuerySet["Journey"]):
    def visible_to(self, user: Any) -> JourneyQuerySet:
        return self.filter(client__in=Client.objects.visible_to(user))


class Journey(models.Model):
    """What a customer does, as ordered HTTP steps on the client's hosts (monitoring/journey_runner.py runs
    them): sign in with the form's CSRF token, open the dashboard, call the API."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, models.CASCADE, related_name="journeys")
    name = models.CharField(max_length=120)
    interval = models.PositiveIntegerField(
        "interval (seconds)", default=300, validators=[MinValueValidator(60), MaxValueValidator(3600)]
    )
    enabled = models.BooleanField(default=True)
    variables = models.JSONField(default=dict, blank=True, help_text="Plain {{variables}}: name to value.")
    created = models.DateTimeField(default=now)
    # As a monitor (monitoring/journey_scheduler.py): due every `interval`, failing after N runs in a row.
    state = models.CharField(max_length=8, choices=Monitor.State.choices, default=Monitor.State.UNKNOWN)
    next_due_at = models.DateTimeField(default=now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    alert_after = models.PositiveSmallIntegerField(default=2, help_text="Failed runs in a row before an alert.")
    recover_after = models.PositiveSmallIntegerField(default=2, help_text="Passed runs in a row before recovery.")
    consecutive_failures = models.PositiveIntegerField(default=0)
    consecutive_successes = models.PositiveIntegerField(default=0)
    outages = models.PositiveIntegerField(default=0, help_text="Outages so far: each one's alerts are its own.")
    last_run_at = models.DateTimeField(null=True, blank=True)

    objects = JourneyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["client", "name"]), models.Index(fields=["enabled", "next_due_at"])]

    def __str__(self) -> str:
        return self.name


class HeartbeatOutage(models.Model):
    """One stretch of a heartbeat being late or failing, from the sweep's alert to the ping that ended it."""

    class Cause(models.TextChoices):
        LATE = "late", "Late"
        FAILED = "failed", "Failed"
        STUCK = "stuck", "Started, never finished"

    heartbeat = models.ForeignKey(Heartbeat, models.CASCADE, related_name="outages")
    cause = models.CharField(max_length=8, choices=Cause.choices)
    started_at = models.DateTimeField(help_text="When it became late, or the failing ping.")
    alerted_at = models.DateTimeField(default=now)
    ended_at = models.DateTimeField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    told = models.PositiveSmallIntegerField(default=0, help_text="Channels its alert went to (0: nobody was told).")
    end_detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["heartbeat", "ended_at"]), models.Index(fields=["started_at"])]

    def __str__(self) -> str:
        return f"{self.get_cause_display()}: {self.heartbeat} from {self.started_at:%Y-%m-%d %H:%M}"


class JourneyStep(models.Model):
    """One request of a journey. URL, headers and body may hold {{variables}}; extractions and assertions are
    lists of the shapes in monitoring/journey_steps.py."""

    class BodyKind(models.TextChoices):
        NONE = "none", "No body"
        FORM = "form", "Form fields"
        JSON = "json", "JSON"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    journey = models.ForeignKey(Journey, models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=120)
    method = models.CharField(
        max_length=8, default="GET", choices=[(m, m) for m in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")]
    )
    url = models.CharField("address", max_length=600)
    headers = models.JSONField(default=list, blank=True, help_text="[name, value] pairs.")
    body_kind = models.CharField(max_length=4, choices=BodyKind.choices, default=BodyKind.NONE)
    form = models.JSONField(default=list, blank=True, help_text="[name, value] pairs of a form body.")
    json_body = models.TextField(blank=True)
    extractions = models.JSONField(default=list, blank=True)
    assertions = models.JSONField(default=list, blank=True)
    follow_redirects = models.BooleanField(default=True)

    class Meta:
        ordering = ["journey", "order"]
        constraints = [models.UniqueConstraint(fields=["journey", "order"], name="one_step_per_place")]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"


class JourneySecret(models.Model):
    """A secret {{variable}} of a journey (a test account's password, a bearer token): encrypted at rest like
    channel secrets, never shown again, redacted from every run's evidence."""

    journey = models.ForeignKey(Journey, models.CASCADE, related_name="secrets")
    name = models.CharField(max_length=64)
    ciphertext = models.TextField()
    updated = models.DateTimeField(default=now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["journey", "name"], name="one_secret_per_name")]

    def __str__(self) -> str:
        return f"{self.name} (secret)"

    @property
    def value(self) -> str:
        return decrypt(self.ciphertext)

    @value.setter
    def value(self, text: str) -> None:
        self.ciphertext = encrypt(text)


class JourneyRun(models.Model):
    """One run of a journey: the verdict, the failing step explained, and each step's evidence (redacted and
    truncated: requests, hops, answers, extractions, assertions)."""

    class Trigger(models.TextChoices):
        MANUAL = "manual", "Run now"
        MONITOR = "monitor", "Monitor"
        DEPLOY = "deploy", "Deploy smoke test"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    journey = models.ForeignKey(Journey, models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=8, choices=Trigger.choices, default=Trigger.MANUAL)
    started_at = models.DateTimeField(default=now)
    ms = models.FloatField(default=0)
    ok = models.BooleanField(default=False)
    failing_step = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Its order, from 0.")
    summary = models.CharField(max_length=300)
    detail = models.TextField(blank=True)
    fix = models.TextField(blank=True)
    steps = models.JSONField(default=list)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["journey", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.journey} at {self.started_at:%Y-%m-%d %H:%M}: {'passed' if self.ok else 'failed'}"


class JourneyIncident(models.Model):
    """One outage of one journey, from the run that marked it failing to the run that recovered it, with its
    timeline; the step that failed named. Beside the route monitors' incidents, not among them: every reader
    of those (reminders, holds, the status rows, the alerts' wording, the report, the handover pack) reads
    their route."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    journey = models.ForeignKey(Journey, models.CASCADE, related_name="incidents")
    started_at = models.DateTimeField(help_text="The first failed run of the run of failures that raised it.")
    ended_at = models.DateTimeField(null=True, blank=True)
    failing_step = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Its order, from 0.")
    step_name = models.CharField(max_length=120, blank=True, help_text="The failing step's name at the time.")
    detail = models.CharField(max_length=300, blank=True, help_text="Why, in plain English (redacted).")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["journey", "ended_at"]), models.Index(fields=["started_at"])]

    def __str__(self) -> str:
        return f"Outage of {self.journey} from {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class JourneyIncidentEvent(models.Model):
    """A moment of a journey's outage, in the words of a route incident's timeline."""

    incident = models.ForeignKey(JourneyIncident, models.CASCADE, related_name="events")
    at = models.DateTimeField(default=now)
    kind = models.CharField(max_length=16, choices=IncidentEvent.Kind.choices)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%H:%M:%S}"


class JourneyRollup(models.Model):
    """A journey's scheduled runs over one hour or one day: counts, and fixed-bucket histograms of the whole
    run (runs that passed) and of each step (by its order; steps that passed). Added to as each round of runs
    is recorded (monitoring/journey_rollup.py): a journey keeps only its last runs, so nothing is rebuilt."""

    journey = models.ForeignKey(Journey, models.CASCADE, related_name="rollups")
    period = models.CharField(max_length=4, choices=Rollup.Period.choices)
    start = models.DateTimeField()
    runs = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    histogram = models.JSONField(default=list)
    step_histograms = models.JSONField(default=list, help_text="One histogram per step, by its order.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["journey", "period", "start"], name="one_journey_rollup_per_period")
        ]
        indexes = [models.Index(fields=["period", "start"])]

    def __str__(self) -> str:
        return f"{self.journey_id} {self.period} from {self.start:%Y-%m-%d %H:%M}"
