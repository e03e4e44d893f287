"""The weekly status report: each client's send schedule, one row per client and week (claimed before it
is sent, so it goes out once), the snapshot of what was sent, the recipients who opted out, and the
consultants who asked for the digest.

These tables and their migrations keep the label they were created under, `handover` (each model's
`Meta.app_label`): moving the models here needed no migration."""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models.fields.json import KT
from django.utils.timezone import now

from launchready.formatting import possessive
from launchready.models import Client
from reports.weeks import Period

WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


class ReportSchedule(models.Model):
    """When a client's weekly report goes out, in the client's time zone. No row: Monday at 09:00."""

    client = models.OneToOneField(Client, models.CASCADE, related_name="report_schedule")
    enabled = models.BooleanField("send the weekly report", default=True)
    weekday = models.PositiveSmallIntegerField("day", choices=WEEKDAYS, default=0)
    hour = models.PositiveSmallIntegerField(
        "hour", default=9, validators=[MaxValueValidator(23)], help_text="In the client's time zone."
    )

    class Meta:
        app_label = "handover"

    def __str__(self) -> str:
        return f"Weekly report of {self.client}: {self.get_weekday_display()} {self.hour:02d}:00"


class WeeklyReport(models.Model):
    """One client's report of one week. The row is created once (unique per client and week) and claimed
    with a conditional update before anything is sent; `SENDING` marks the hand-over to the mail server."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting"
        CLAIMED = "claimed", "Being prepared"
        SENDING = "sending", "Handing to the mail server"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Not sent"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, models.CASCADE, related_name="weekly_reports")
    week = models.DateField(help_text="Monday of the week it is sent in (the client's time zone).")
    period_start = models.DateTimeField(help_text="The week reported on: the one before `week`.")
    period_end = models.DateTimeField()
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    claim = models.UUIDField(null=True, blank=True, help_text="Who holds the claim.")
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created = models.DateTimeField(default=now)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True, help_text="The facts as reported.")
    html = models.TextField(blank=True, help_text="The HTML part as sent (without anyone's opt-out link).")
    text = models.TextField(blank=True)
    recipients = models.JSONField(default=list, blank=True, help_text="Addresses handed to the mail server.")
    delivered = models.JSONField(default=list, blank=True, help_text="To-addresses the mail server accepted.")

    class Meta:
        app_label = "handover"
        ordering = ["-week"]
        constraints = [models.UniqueConstraint(fields=["client", "week"], name="one_report_per_client_week")]
        indexes = [models.Index(fields=["state", "lease_until"])]

    def __str__(self) -> str:
        return f"Weekly report of {self.client} for {self.week:%Y-%m-%d}"

    @property
    def period_label(self) -> str:
        """The days reported on, in words: the seven days before the week it was sent in, or for a client's
        first report the days since it was added, as the report itself says (read from its data, or from a
        `covered_label` annotation where the data is deferred: see `with_covered_label`)."""
        label = getattr(self, "covered_label", None)
        if label is None and "data" not in self.get_deferred_fields() and isinstance(self.data, dict):
            label = self.data.get("week", {}).get("label")
        return str(label or Period(self.week, self.period_start, self.period_end).label)


def with_covered_label(reports: models.QuerySet[WeeklyReport]) -> models.QuerySet[WeeklyReport]:
    """The label of the days each report covers, read in the same query as the rows."""
    return reports.annotate(covered_label=KT("data__week__label"))


class ReportOptOut(models.Model):
    """A recipient who asked not to receive a client's weekly report (from the signed link)."""

    client = models.ForeignKey(Client, models.CASCADE, related_name="report_opt_outs")
    email = models.EmailField()
    created = models.DateTimeField(default=now)

    class Meta:
        app_label = "handover"
        ordering = ["email"]
        constraints = [models.UniqueConstraint(fields=["client", "email"], name="one_opt_out_per_address")]

    def __str__(self) -> str:
        return f"{self.email} opted out of {possessive(str(self.client))} report"


class DigestSubscription(models.Model):
    """A consultant who asked for the weekly digest by email. `last_week` is claimed with a conditional
    update before the digest is sent, so it goes out at most once a week whatever runs the beat."""

    membership = models.OneToOneField("accounts.Membership", models.CASCADE, related_name="digest_subscription")
    created = models.DateTimeField(default=now)
    last_week = models.DateField(null=True, blank=True, help_text="Monday of the last week claimed.")
    last_sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        app_label = "handover"

    def __str__(self) -> str:
        return f"Weekly digest for {self.membership}"
