"""The alert channel form (the webhook URL and signing secret go straight into the encrypted field), the
monitor form and the heartbeat form."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms

from launchready.domains import DomainError, parse_domain
from monitoring.heartbeat_schedule import CRON_EXAMPLE, cron_problem
from monitoring.models import AlertChannel, Heartbeat, Monitor


class AlertChannelForm(forms.Form):
    kind = forms.ChoiceField(choices=AlertChannel.Kind.choices, initial=AlertChannel.Kind.EMAIL)
    name = forms.CharField(max_length=80)
    recipients = forms.CharField(
        required=False, help_text="For email: addresses separated by commas. Empty: the founders and the consultants."
    )
    url = forms.URLField(
        required=False, assume_scheme="https", label="Webhook URL", help_text="For Slack and webhooks: https:// only."
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind, url = cleaned.get("kind"), cleaned.get("url", "")
        if kind in (AlertChannel.Kind.SLACK, AlertChannel.Kind.WEBHOOK):
            if not url or not url.startswith("https://"):
                self.add_error("url", "Enter the https:// address the alerts should be sent to.")
            else:
                try:
                    parse_domain(url)
                except DomainError as exc:
                    self.add_error("url", str(exc))
        recipients = [r.strip() for r in cleaned.get("recipients", "").replace(";", ",").split(",") if r.strip()]
        field = forms.EmailField()
        for address in recipients:
            try:
                field.clean(address)
            except forms.ValidationError:
                self.add_error("recipients", f"“{address}” is not an email address.")
        cleaned["recipient_list"] = recipients
        return cleaned

    def save(self, *, client: Any = None, workspace: Any = None) -> tuple[AlertChannel, str | None]:
        """The channel of a client, or a workspace's default channel, and for a webhook its new signing
        secret (shown once, stored only encrypted)."""
        data = self.cleaned_data
        channel = AlertChannel(
            client=client,
            workspace=None if client is not None else workspace,
            kind=data["kind"],
            name=data["name"],
            recipients=data["recipient_list"],
        )
        signing = None
        if data["kind"] == AlertChannel.Kind.WEBHOOK:
            signing = "whsec_" + secrets.token_urlsafe(24)
            channel.config = {"url": data["url"], "signing_secret": signing}
        elif data["kind"] == AlertChannel.Kind.SLACK:
            channel.config = {"url": data["url"]}
        channel.save()
        return channel, signing


class MonitorForm(forms.ModelForm[Monitor]):
    class Meta:
        model = Monitor
        fields = ["interval", "timeout", "latency_budget_ms", "alert_after", "recover_after", "keyword"]
        labels = {"latency_budget_ms": "Latency budget (ms)"}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (cleaned.get("timeout") or 0) * 1000 < (cleaned.get("latency_budget_ms") or 0):
            self.add_error("timeout", "The timeout must be longer than the latency budget.")
        for field in ("alert_after", "recover_after"):
            if not 1 <= (cleaned.get(field) or 0) <= 10:
                self.add_error(field, "Between 1 and 10.")
        return cleaned


class HeartbeatForm(forms.ModelForm[Heartbeat]):
    """A job's name and kind, and when it should ping: every period, or at the times of a cron expression read
    in the client's time zone; with the grace a ping may come late by."""

    class Meta:
        model = Heartbeat
        fields = ["name", "kind", "schedule", "period_minutes", "grace_minutes", "cron"]
        labels = {
            "name": "Name",
            "kind": "What it is",
            "schedule": "When it pings",
            "period_minutes": "Period (minutes)",
            "grace_minutes": "Grace (minutes)",
            "cron": "Cron expression",
        }
        help_texts = {
            "name": "As the founder's team knows it: “Nightly backup”, “Invoice emails”, “Queue worker”.",
            "period_minutes": "For “every period”: how often it runs (60 is hourly, 1440 daily).",
            "grace_minutes": "How late a ping may come before it counts as late, and how long a run may take "
            "between /start and its end.",
        }
        widgets = {"schedule": forms.RadioSelect}

    def __init__(self, *args: Any, client: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = client
        self.fields["cron"].help_text = (
            f"For “cron expression”: the job's crontab line's five fields, such as {CRON_EXAMPLE}, "
            f"read in {client.timezone} (the client's time zone)."
        )

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data.get("name", "").split())
        if not name:
            raise forms.ValidationError("Give the job a name.")
        taken = Heartbeat.objects.filter(client=self.client, name__iexact=name).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("Another heartbeat of this client has that name.")
        return name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cron = " ".join((cleaned.get("cron") or "").split())
        cleaned["cron"] = cron
        if cleaned.get("schedule") == Heartbeat.Schedule.CRON and (problem := cron_problem(cron)):
            self.add_error("cron", problem)
        return cleaned
