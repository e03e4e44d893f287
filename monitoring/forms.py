"""The alert channel form (the webhook URL and signing secret go straight into the encrypted field), the
monitor form and the heartbeat form."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms

from launchready.domains import DomainError, parse_domain
from monitoring.heartbeat_schedule import CRON_EXAMPLE, cron_problem
from monitoring.journey_steps import BODY_KINDS, METHODS, NAME, StepSpec, step_problems
from monitoring.journey_text import (
    LineError,
    assertions_text,
    extractions_text,
    form_text,
    headers_text,
    parse_assertions,
    parse_extractions,
    parse_form,
    parse_headers,
)
from monitoring.models import AlertChannel, Heartbeat, Journey, Monitor


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


class JourneyForm(forms.ModelForm[Journey]):
    variables_text = forms.CharField(
        label="Variables",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "mono"}),
        help_text="Plain values the steps use as {{name}}, one name=value a line. Passwords and tokens go in "
        "the secrets below.",
    )

    class Meta:
        model = Journey
        fields = ["name", "enabled", "interval", "alert_after", "recover_after"]
        labels = {"enabled": "Enabled: runs as a monitor and in the post-deploy smoke test"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["variables_text"] = form_text(sorted((self.instance.variables or {}).items()))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for field in ("alert_after", "recover_after"):
            if not 1 <= (cleaned.get(field) or 0) <= 10:
                self.add_error(field, "Between 1 and 10.")
        return cleaned

    def clean_variables_text(self) -> dict[str, str]:
        try:
            pairs = parse_form(self.cleaned_data.get("variables_text", ""))
        except LineError as exc:
            raise forms.ValidationError(str(exc)) from None
        for name, value in pairs:
            if not NAME.fullmatch(name):
                raise forms.ValidationError(f"“{name[:40]}”: a name has letters, digits and _")
            if len(value) > 2000:
                raise forms.ValidationError(f"{name}: at most 2000 characters")
        if len(pairs) > 30:
            raise forms.ValidationError("at most 30 variables")
        return dict(pairs)

    def save(self, commit: bool = True) -> Journey:
        self.instance.variables = self.cleaned_data["variables_text"]
        return super().save(commit)


def _text_area(rows: int, help_text: str, label: str) -> forms.CharField:
    return forms.CharField(
        label=label, required=False, widget=forms.Textarea(attrs={"rows": rows, "class": "mono"}), help_text=help_text
    )


class JourneyStepForm(forms.Form):
    """One step, its lists as lines of text (monitoring/journey_text.py); checked by the journey's rules."""

    name = forms.CharField(max_length=120)
    method = forms.ChoiceField(choices=[(m, m) for m in METHODS])
    url = forms.CharField(
        label="Address", max_length=600, help_text="On one of the client's domains; {{variables}} may fill the path."
    )
    headers_text = _text_area(2, "One Name: value a line, e.g. Authorization: Bearer {{api_token}}", "Headers")
    body_kind = forms.ChoiceField(label="Body", choices=list(BODY_KINDS.items()))
    form_text = _text_area(3, "Form fields, one name=value a line, e.g. password={{password}}", "Form fields")
    json_body = _text_area(3, 'JSON with variables inside quotes, e.g. {"email": "{{email}}"}', "JSON body")
    extractions_text = _text_area(
        3,
        "One a line: csrf_token = css input[name=csrfmiddlewaretoken] @value · token = json access_token · "
        "session = cookie sessionid · next = header Location · code = regex Order #(\\d+)",
        "Take into variables",
    )
    assertions_text = _text_area(
        4,
        'One a line: status 200 · contains Welcome · not_contains type="password" · json user.plan = pro · '
        "header Cache-Control no-store · cookie sessionid Secure; HttpOnly · latency 2000",
        "Checks",
    )
    follow_redirects = forms.BooleanField(required=False, initial=True, label="Follow redirects hop by hop")

    def __init__(self, *args: Any, domains: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.domains = domains

    @classmethod
    def initial_for(cls, spec: StepSpec) -> dict[str, Any]:
        return {
            "name": spec.name,
            "method": spec.method,
            "url": spec.url,
            "headers_text": headers_text(spec.headers),
            "body_kind": spec.body_kind,
            "form_text": form_text(spec.form),
            "json_body": spec.json_body,
            "extractions_text": extractions_text(spec.extractions),
            "assertions_text": assertions_text(spec.assertions),
            "follow_redirects": spec.follow_redirects,
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        parsed: dict[str, Any] = {}
        for field, parse in (
            ("headers_text", parse_headers),
            ("form_text", parse_form),
            ("extractions_text", parse_extractions),
            ("assertions_text", parse_assertions),
        ):
            try:
                parsed[field] = tuple(parse(cleaned.get(field, "")))
            except LineError as exc:
                self.add_error(field, str(exc))
        if self.errors:
            return cleaned
        spec = StepSpec(
            name=cleaned.get("name", ""),
            url=cleaned.get("url", "").strip(),
            method=cleaned.get("method", "GET"),
            headers=parsed["headers_text"],
            body_kind=cleaned.get("body_kind", "none"),
            form=parsed["form_text"],
            json_body=cleaned.get("json_body", "").strip(),
            extractions=parsed["extractions_text"],
            assertions=parsed["assertions_text"],
            follow_redirects=bool(cleaned.get("follow_redirects")),
        )
        for problem in step_problems(spec, self.domains):
            part, _, message = problem.partition(": ")
            self.add_error(PROBLEM_FIELDS.get(part.split(" ")[0]), message if part in PROBLEM_FIELDS else problem)
        cleaned["spec"] = spec
        return cleaned


# The part of the step a problem names (monitoring/journey_steps.step_problems) and the field it belongs to.
PROBLEM_FIELDS = {
    "method": "method",
    "name": "name",
    "address": "url",
    "headers": "headers_text",
    "header": "headers_text",
    "body": "body_kind",
    "form": "form_text",
    "JSON": "json_body",
    "extractions": "extractions_text",
    "extraction": "extractions_text",
    "assertions": "assertions_text",
    "assertion": "assertions_text",
}


class JourneySecretForm(forms.Form):
    """A secret is written, never read: the value field is always empty when the page is shown."""

    name = forms.CharField(max_length=64, help_text="Used in the steps as {{name}}, e.g. password.")
    value = forms.CharField(
        max_length=4096,
        widget=forms.PasswordInput(render_value=False),
        help_text="Stored encrypted; never shown again.",
    )

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not NAME.fullmatch(name):
            raise forms.ValidationError("Letters, digits and _ only.")
        return name
