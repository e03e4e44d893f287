"""Forms for clients, contacts, domains, routes and sprints; all input is normalised here."""

from __future__ import annotations

import re
from typing import Any, cast
from urllib.parse import urlsplit

from django import forms
from django.db import IntegrityError, transaction
from django.utils import timezone

from launchready.domains import (
    DomainError,
    display_name,
    is_lookalike,
    normalise_hostname,
    normalise_label,
    normalise_selector,
    parse_domain,
)
from launchready.models import SPRINT_LENGTH, Client, Contact, Domain, Route, Sprint, timezone_choices

DEFAULT_STATUSES: dict[str, list[int]] = {
    Route.Kind.HOMEPAGE: [200],
    Route.Kind.LOGIN: [200],
    Route.Kind.DASHBOARD: [200, 302],
    Route.Kind.API_HEALTH: [200],
    Route.Kind.CHECKOUT: [200],
    Route.Kind.WEBHOOK: [200, 204, 400, 401, 405],
    Route.Kind.AUTH_CALLBACK: [200, 302, 400],
    Route.Kind.OTHER: [200],
}


def split_list(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text or "") if part]


class ClientForm(forms.ModelForm[Client]):
    timezone = forms.ChoiceField(label="Time zone", choices=timezone_choices, initial="UTC")

    class Meta:
        model = Client
        fields = ["name", "product_kind", "stage", "timezone", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Enter the company's name.")
        return name


class ContactForm(forms.ModelForm[Contact]):
    class Meta:
        model = Contact
        fields = ["name", "role", "email", "phone", "is_primary"]

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if phone and not re.fullmatch(r"[+()0-9 .\-]{5,40}", phone):
            raise forms.ValidationError("Enter a phone number with digits, spaces, + ( ) - only.")
        return phone


class DomainForm(forms.ModelForm[Domain]):
    name = forms.CharField(
        label="Domain",
        max_length=2048,
        help_text="Paste the domain or any address on it: example.com, https://www.example.com/pricing.",
    )
    hosts_text = forms.CharField(
        label="Hosts in use",
        required=False,
        help_text="Sub-domains the product uses, separated by commas: app, api, admin, portal.",
    )
    mail_providers = forms.MultipleChoiceField(
        label="Mail-sending providers",
        choices=Domain.MailProvider.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    selectors_text = forms.CharField(
        label="DKIM selectors",
        required=False,
        help_text="If you know them, separated by commas: google, s1, k1, resend.",
    )

    asset_hosts_text = forms.CharField(
        label="Script CDN hosts",
        required=False,
        help_text="Hosts outside this domain that serve the app's JavaScript, separated by commas: "
        "d1a2b3.cloudfront.net. The audit reads scripts from these too when it looks for leaked keys.",
    )
    lookalike_confirmed = forms.BooleanField(
        label="Yes, this is the client's domain, lookalike letters and all",
        required=False,
        widget=forms.HiddenInput,  # shown only when the name entered needs it
    )

    class Meta:
        model = Domain
        fields = [
            "name",
            "canonical_host",
            "mail_providers",
            "hosting_provider",
            "deploy_method",
            "hosting_app",
            "daily_audit",
        ]
        widgets = {"canonical_host": forms.RadioSelect}

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = client
        self.extra_host = ""
        if self.instance.pk:
            self.initial["name"] = display_name(self.instance.name)
            self.initial["hosts_text"] = ", ".join(self.instance.hosts)
            self.initial["selectors_text"] = ", ".join(self.instance.dkim_selectors)
            self.initial["asset_hosts_text"] = ", ".join(self.instance.asset_hosts)

    def clean_hosting_app(self) -> str:
        value = self.cleaned_data.get("hosting_app", "").strip()
        if value and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/-]*", value):
            raise forms.ValidationError(
                "Use the name as the host shows it: letters, digits, dots, dashes, underscores or slashes, no spaces."
            )
        return value

    def clean_name(self) -> str:
        try:
            parsed = parse_domain(self.cleaned_data["name"])
        except DomainError as exc:
            raise forms.ValidationError(str(exc)) from None
        if parsed.host and parsed.host != "www":
            self.extra_host = parsed.host
        if self._client_has_domain(parsed.apex):
            raise forms.ValidationError("This client already has that domain.")
        if is_lookalike(parsed.apex) and parsed.apex != self.instance.name:
            self._warn_lookalike(parsed.apex)
        return parsed.apex

    def _client_has_domain(self, apex: str) -> bool:
        """Whether another of the client's domains has this name (the bulk import answers from what it loaded)."""
        return Domain.objects.filter(client=self.client, name=apex).exclude(pk=self.instance.pk).exists()

    def _warn_lookalike(self, apex: str) -> None:
        """A name that mixes scripts or passes for a Latin one is kept only once the consultant, warned,
        confirms it: a homograph of the client's real domain would audit someone else's site."""
        field = self.fields["lookalike_confirmed"]
        field.widget = forms.CheckboxInput()
        if self.data.get(self.add_prefix("lookalike_confirmed")) in ("on", "true", "True", "1"):
            return
        raise forms.ValidationError(
            f"{display_name(apex)} mixes scripts or is written in letters that pass for Latin ones: its ASCII "
            f"form is {apex}. Check that this is the client's domain and not a lookalike of it, then tick "
            "the box below to add it."
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        apex = cleaned.get("name", "")
        labels: list[str] = []
        errors: list[str] = []
        for entry in split_list(cleaned.get("hosts_text", "")) + ([self.extra_host] if self.extra_host else []):
            entry = entry.lower().rstrip(".")
            if apex and entry.endswith("." + apex):
                entry = entry[: -len(apex) - 1]
            try:
                label = normalise_label(entry) if "." not in entry else _nested_label(entry)
            except DomainError as exc:
                errors.append(str(exc))
                continue
            if label != "www" and label not in labels:
                labels.append(label)
        if errors:
            self.add_error("hosts_text", errors)
        cleaned["hosts"] = labels
        selectors: list[str] = []
        for entry in split_list(cleaned.get("selectors_text", "")):
            try:
                selector = normalise_selector(entry)
            except DomainError as exc:
                self.add_error("selectors_text", str(exc))
                continue
            if selector not in selectors:
                selectors.append(selector)
        cleaned["dkim_selectors"] = selectors
        cleaned["asset_hosts"] = self._asset_hosts(cleaned.get("asset_hosts_text", ""))
        return cleaned

    def _asset_hosts(self, text: str) -> list[str]:
        hosts: list[str] = []
        for entry in split_list(text):
            try:
                host = normalise_hostname(entry)
            except DomainError as exc:
                self.add_error("asset_hosts_text", f"{entry}: {exc}")
                continue
            if host not in hosts:
                hosts.append(host)
        return hosts[:10]

    def save(self, commit: bool = True) -> Domain:
        domain = super().save(commit=False)
        domain.client = self.client
        domain.hosts = self.cleaned_data["hosts"]
        domain.dkim_selectors = self.cleaned_data["dkim_selectors"]
        domain.asset_hosts = self.cleaned_data["asset_hosts"]
        if commit:
            domain.save()
        return domain


def _nested_label(entry: str) -> str:
    """A deeper host such as eu.api: each part checked as a label."""
    parts = [normalise_label(part) for part in entry.split(".")]
    return ".".join(parts)


class RouteForm(forms.ModelForm[Route]):
    host = forms.ChoiceField(label="Host", required=False)
    path = forms.CharField(
        max_length=2048, initial="/", help_text="The path, such as /login or /api/health, or paste the full URL."
    )
    statuses_text = forms.CharField(
        label="Expected status codes",
        required=False,
        help_text="Separated by commas. Leave empty for the usual codes for this kind of route.",
    )

    class Meta:
        model = Route
        fields = ["host", "path", "kind", "keyword"]

    def __init__(self, *args: Any, domain: Domain, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.domain = domain
        self.pasted_host: str | None = None  # the host of a pasted address, once cleaned
        self.added_host = ""  # a sub-domain this route added to the domain's hosts
        self.sibling_domains: list[Domain] | None = None  # the client's other domains, when already loaded
        choices = [("", f"{display_name(domain.canonical_name)} (canonical host)")]
        choices += [(label, f"{label}.{domain.display_name}") for label in domain.hosts]
        if self.instance.host and self.instance.host not in domain.hosts:
            choices.append((self.instance.host, f"{self.instance.host}.{domain.display_name}"))
        cast(forms.ChoiceField, self.fields["host"]).choices = choices
        if self.instance.pk:
            self.initial["statuses_text"] = self.instance.expected_statuses_text

    def clean_path(self) -> str:
        raw = self.cleaned_data["path"].strip()
        self.pasted_host = None
        if "://" in raw or _starts_with_host(raw, self.domain):
            raw, self.pasted_host = self._split_url(raw)
        if not raw.startswith("/"):
            raw = "/" + raw
        if any(c.isspace() for c in raw) or any(ord(c) < 32 for c in raw):
            raise forms.ValidationError("A path cannot contain spaces or control characters.")
        if len(raw) > 500:
            raise forms.ValidationError("That path is longer than 500 characters.")
        return raw

    def _split_url(self, raw: str) -> tuple[str, str]:
        """The path and the host label of a pasted address; a form error for anything that would be dropped."""
        parts = urlsplit(raw if "://" in raw else "https://" + raw)
        if parts.scheme.lower() != "https":
            raise forms.ValidationError(
                "Routes are watched over https://: paste the https:// address "
                "(the audit checks that http:// redirects to it)."
            )
        try:
            port = parts.port
        except ValueError:
            raise forms.ValidationError("That address has a port that is not a number.") from None
        if port not in (None, 443):
            raise forms.ValidationError("Routes are watched on the standard https port (443); remove the port.")
        if parts.username is not None or parts.password is not None:
            raise forms.ValidationError("Paste the address without a user name or password.")
        try:
            label = route_host_label(self.domain, parts.hostname or "", siblings=self.sibling_domains)
        except DomainError as exc:
            raise forms.ValidationError(str(exc)) from None
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), label

    def clean_statuses_text(self) -> list[int]:
        statuses: list[int] = []
        for part in split_list(self.cleaned_data.get("statuses_text", "")):
            if not part.isdigit() or not 100 <= int(part) <= 599:
                raise forms.ValidationError(f"“{part}” is not an HTTP status code (100 to 599).")
            if int(part) not in statuses:
                statuses.append(int(part))
        return statuses

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.pasted_host is not None:
            cleaned["host"] = self.pasted_host  # the address pasted names its host: it wins over the list
        path = cleaned.get("path")
        if path is not None and "host" in cleaned:
            existing = self._existing_route(cleaned["host"], path)
            if existing is not None:
                existing.domain = self.domain
                self.add_error(
                    "path",
                    f"{existing.display_url} is already a route of this domain ({existing.get_kind_display()}): "
                    "edit that one instead.",
                )
        return cleaned

    def _existing_route(self, host: str, path: str) -> Route | None:
        """Another route of the domain at this address (the bulk import answers from what it loaded)."""
        return Route.objects.filter(domain=self.domain, host=host, path=path).exclude(pk=self.instance.pk).first()

    def save(self, commit: bool = True) -> Route:
        route = super().save(commit=False)
        route.domain = self.domain
        route.host = self.cleaned_data["host"]
        statuses = self.cleaned_data["statuses_text"]
        route.expected_statuses = statuses or DEFAULT_STATUSES.get(route.kind, [200])
        self.added_host = ""
        if commit:
            if route.host and route.host not in self.domain.hosts:
                # A sub-domain first named by a route is in use: the audits look at it from now on.
                self.domain.hosts = [*self.domain.hosts, route.host]
                self.domain.save(update_fields=["hosts"])
                self.added_host = route.host
            route.save()
        return route

    def save_unique(self) -> Route | None:
        """Save, or None with a form error when the same address was saved a moment ago (a double click,
        two people at once): the database refuses the second one."""
        try:
            with transaction.atomic():
                return self.save()
        except IntegrityError:
            self.add_error("path", "That address was just added as a route of this domain; it is there once.")
            return None


def route_host_label(domain: Domain, text: str, *, siblings: list[Domain] | None = None) -> str:
    """The host label of a route from the host of a pasted address: "" for the canonical host, the
    sub-domain (app, eu.api) for any other host under the apex. A DomainError says why any other host
    cannot be a route of this domain, rather than dropping it. `siblings`, the client's other domains
    when the caller has them, saves looking them up."""
    name = normalise_hostname(text)
    apex = domain.name
    if name == domain.canonical_name:
        return ""
    if name in (apex, f"www.{apex}"):
        raise DomainError(
            f"{display_name(domain.canonical_name)} is the canonical host of {domain.display_name}, "
            f"so routes on {display_name(name)} are watched there: paste the address on "
            f"{display_name(domain.canonical_name)}, or change the canonical host on the domain's page."
        )
    if not name.endswith("." + apex):
        if siblings is None:
            sibling = (
                Domain.objects.filter(client_id=domain.client_id)
                .exclude(pk=domain.pk)
                .filter(name__in=_suffixes(name))
                .first()
            )
        else:
            sibling = next((d for d in siblings if d is not domain and d.name in _suffixes(name)), None)
        if sibling is not None:
            raise DomainError(
                f"{display_name(name)} is on {sibling.display_name}, another of this client's domains: "
                "add the route there."
            )
        raise DomainError(
            f"{display_name(name)} is not on {domain.display_name}: add its domain to the client first, "
            "then its routes."
        )
    label = name[: -len(apex) - 1]
    if len(label) > Route._meta.get_field("host").max_length:  # type: ignore[operator]
        raise DomainError(f"The host in front of {domain.display_name} is longer than 63 characters.")
    return label


def _suffixes(name: str) -> list[str]:
    labels = name.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def _starts_with_host(raw: str, domain: Domain) -> bool:
    """A pasted address without its scheme (app.example.com/login) rather than a path."""
    if raw.startswith("/"):
        return False
    first = raw.split("/", 1)[0].split("?", 1)[0].lower().rstrip(".")
    try:
        first = normalise_hostname(first)
    except DomainError:
        return False
    return first == domain.name or first.endswith("." + domain.name)


class SprintForm(forms.ModelForm[Sprint]):
    started_at = forms.DateTimeField(
        label="Start",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="In the client's time zone. The deadline is 48 hours later.",
    )

    class Meta:
        model = Sprint
        fields = ["started_at", "state", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = client
        if not self.instance.pk:
            self.initial.setdefault("started_at", timezone.localtime().replace(second=0, microsecond=0))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        state = cleaned.get("state")
        if state in (Sprint.State.PLANNED, Sprint.State.ACTIVE):
            others = Sprint.objects.filter(client=self.client).current().exclude(pk=self.instance.pk)
            if others.exists():
                raise forms.ValidationError(
                    "This client already has a sprint planned or in progress; complete or cancel it first."
                )
        return cleaned

    def save(self, commit: bool = True) -> Sprint:
        sprint = super().save(commit=False)
        sprint.client = self.client
        sprint.deadline = sprint.started_at + SPRINT_LENGTH
        if commit:
            sprint.save()
        return sprint
