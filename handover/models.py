"""What the handover keeps: the consultant's checklist ticks, the access inventory and the published packs."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.timezone import now

from audits.findings import ITEM_LABELS
from launchready.models import Client, Sprint

ITEM_CHOICES = [(item.value, label) for item, label in ITEM_LABELS.items()]


class ChecklistTick(models.Model):
    """The consultant's word on one Launch Ready item of a sprint, where the audit and monitors cannot tell."""

    sprint = models.ForeignKey(Sprint, models.CASCADE, related_name="checklist_ticks")
    item = models.CharField(max_length=32, choices=ITEM_CHOICES)
    done = models.BooleanField(default=False)
    notes = models.TextField(blank=True)
    ticked_by = models.ForeignKey("accounts.User", models.SET_NULL, null=True, blank=True, related_name="+")
    ticked_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sprint", "item"], name="one_tick_per_sprint_item")]

    def __str__(self) -> str:
        return f"{self.get_item_display()}: {'done' if self.done else 'open'}"


class AccessEntry(models.Model):
    """Who holds one of the company's logins and where it lives; never the password or key itself."""

    class Kind(models.TextChoices):
        REGISTRAR = "registrar", "Domain registrar"
        DNS = "dns", "DNS provider"
        CLOUDFLARE = "cloudflare", "Cloudflare"
        HOSTING = "hosting", "Hosting"
        EMAIL = "email", "Email provider"
        MONITORING = "monitoring", "Monitoring"
        ERROR_TRACKING = "error_tracking", "Error tracking"

    client = models.ForeignKey(Client, models.CASCADE, related_name="access_entries")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    provider = models.CharField("service", max_length=80, blank=True, help_text="e.g. Namecheap, Vercel, Sentry.")
    owner = models.CharField("who holds the login", max_length=120, blank=True)
    login_location = models.CharField(
        "where the login lives",
        max_length=200,
        blank=True,
        help_text="e.g. the company 1Password vault “Ops”. Never the password itself.",
    )
    updated_by = models.ForeignKey("accounts.User", models.SET_NULL, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["kind"]
        constraints = [models.UniqueConstraint(fields=["client", "kind"], name="one_access_entry_per_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.client}"


class PackVersion(models.Model):
    """A published handover pack: the data and the rendered document as the founder saw them that day."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, models.CASCADE, related_name="pack_versions")
    number = models.PositiveIntegerField()
    published_at = models.DateTimeField(default=now)
    published_by = models.ForeignKey("accounts.User", models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.CharField("what changed", max_length=300, blank=True)
    data = models.JSONField(help_text="The pack as built at publication.")
    html = models.TextField(help_text="The document body as rendered at publication.")
    markdown = models.TextField()
    founders_notified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the founders were emailed about this version (claimed before sending)."
    )

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["client", "number"], name="one_pack_number_per_client")]

    def __str__(self) -> str:
        return f"Handover pack v{self.number} for {self.client}"
