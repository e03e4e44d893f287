"""Core records of a consultancy's work: clients, their contacts, domains, routes and sprints."""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import timedelta
from functools import cache
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import Q
from django.utils.timezone import now

from launchready.domains import display_name, shown_name
from launchready.roles import STAFF_ROLES, Role

SPRINT_LENGTH = timedelta(hours=48)


@cache
def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


def _memberships() -> models.QuerySet[Any, Any]:
    """Everyone's memberships of workspaces, reached by the model's label: the core imports no app."""
    return apps.get_model("accounts", "Membership")._default_manager.all()


def staff_workspaces(user: Any) -> models.QuerySet[Any, Any]:
    """The ids of the workspaces where this user is the consultancy's staff (owner or consultant)."""
    return _memberships().filter(user=user, role__in=STAFF_ROLES).values("workspace_id")


def _founder_clients(user: Any) -> models.QuerySet[Any, Any]:
    return _memberships().filter(user=user, role=Role.FOUNDER).values("client_id")


class ClientQuerySet(models.QuerySet["Client"]):
    def visible_to(self, user: object) -> ClientQuerySet:
        """Clients this user may see: every client of their staff workspaces, and their own as a founder."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(Q(workspace__in=staff_workspaces(user)) | Q(id__in=_founder_clients(user)))

    def editable_by(self, user: object) -> ClientQuerySet:
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(workspace__in=staff_workspaces(user))


class Client(models.Model):
    """A founder's company that the consultancy takes to launch."""

    class ProductKind(models.TextChoices):
        COACHING_DASHBOARD = "coaching_dashboard", "Coaching or consulting subscription dashboard"
        CREATOR_PORTAL = "creator_portal", "Creator-platform client portal"
        AI_CHATBOT = "ai_chatbot", "AI chatbot"
        MOBILE_BACKEND = "mobile_backend", "Mobile-app backend"
        B2B_DASHBOARD = "b2b_dashboard", "B2B dashboard"
        OTHER = "other", "Other"

    class Stage(models.TextChoices):
        PROTOTYPE_TO_DEMO = "prototype_to_demo", "Prototype to demo"
        DEMO_TO_LAUNCH = "demo_to_launch", "Demo to launch"
        LAUNCH_TO_FIRST_CUSTOMERS = "launch_to_first_customers", "Launch to first customers"
        FIRST_CUSTOMERS_TO_GROWTH = "first_customers_to_growth", "First customers to growth"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", models.CASCADE, related_name="clients")
    name = models.CharField("company name", max_length=120)
    product_kind = models.CharField(
        "kind of product", max_length=32, choices=ProductKind.choices, default=ProductKind.OTHER
    )
    stage = models.CharField(max_length=32, choices=Stage.choices, default=Stage.DEMO_TO_LAUNCH)
    timezone = models.CharField("time zone", max_length=64, default="UTC")
    notes = models.TextField(blank=True)
    created = models.DateTimeField(default=now)

    objects = ClientQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["workspace", "name"])]

    def __str__(self) -> str:
        return self.name


class ClientStatus(models.Model):
    """A client at a glance, one row per client: its launch verdict and the counts of its monitors, background
    jobs and journeys, as the dashboard, the client page and the monitoring overview show them. Kept by the code
    that changes what it says (launchready/status.py), so that a page of fifty clients reads fifty rows instead
    of aggregating their audit runs, monitors, heartbeats, journeys and incidents. A client without a row has
    never been audited and has no monitor, heartbeat or journey.

    No database constraint on the client: a refresh racing with the client's deletion may leave a row behind,
    which nothing reads (every read starts from the client); launchready/signals.py deletes it with the client."""

    client = models.OneToOneField(Client, models.CASCADE, primary_key=True, related_name="status", db_constraint=False)
    # Kept by the core (launchready/status.py): the deadline the dashboard orders its clients by.
    sprint_deadline = models.DateTimeField(null=True, blank=True, help_text="The first open sprint's deadline.")
    # Kept by the audits (audits/client_status.py): the latest finished run of each domain and repository scan.
    verdict = models.CharField(max_length=10, blank=True, help_text="go, no_go or unchecked; empty: never audited.")
    blockers = models.PositiveIntegerField(default=0)
    auditing = models.BooleanField(default=False, help_text="An audit of one of its domains is queued or running.")
    # Kept by the monitoring (monitoring/client_status.py).
    monitors = models.PositiveIntegerField(default=0)
    down = models.PositiveIntegerField(default=0, help_text="Monitors down, paused ones included.")
    active_down = models.PositiveIntegerField(default=0, help_text="Monitors down and not paused.")
    paused = models.PositiveIntegerField(default=0)
    open_incidents = models.PositiveIntegerField(default=0)
    # Kept by the monitoring too: its heartbeats (background jobs) and its journeys.
    heartbeats = models.PositiveIntegerField(default=0)
    heartbeats_late = models.PositiveIntegerField(default=0, help_text="Not paused, and alerted late.")
    heartbeats_failed = models.PositiveIntegerField(default=0, help_text="Not paused, the last run said /fail.")
    journeys = models.PositiveIntegerField(default=0, help_text="Enabled journeys.")
    journeys_failing = models.PositiveIntegerField(default=0, help_text="Enabled journeys marked failing.")
    failing_journey = models.CharField(max_length=120, blank=True, help_text="Its name, when only one is failing.")

    class Meta:
        verbose_name_plural = "client statuses"

    def __str__(self) -> str:
        return f"Status of client {self.client_id}"


class Contact(models.Model):
    """A person at the client: who to call, who approves, who holds which login."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=120)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    role = models.CharField("role at the company", max_length=80, blank=True)
    is_primary = models.BooleanField("primary contact", default=False)

    class Meta:
        ordering = ["-is_primary", "name"]

    def __str__(self) -> str:
        return self.name


class Domain(models.Model):
    """One of a client's domains: the apex, its canonical host, the hosts in use and how it is run."""

    class CanonicalHost(models.TextChoices):
        WWW = "www", "www (www.example.com)"
        APEX = "apex", "apex (example.com)"

    class HostingProvider(models.TextChoices):
        VERCEL = "vercel", "Vercel"
        NETLIFY = "netlify", "Netlify"
        RENDER = "render", "Render"
        FLY = "fly", "Fly.io"
        HEROKU = "heroku", "Heroku"
        RAILWAY = "railway", "Railway"
        CLOUDFLARE_PAGES = "cloudflare_pages", "Cloudflare Pages / Workers"
        AWS = "aws", "AWS"
        GCP = "gcp", "Google Cloud"
        AZURE = "azure", "Azure"
        DIGITALOCEAN = "digitalocean", "DigitalOcean"
        FIREBASE = "firebase", "Firebase"
        SUPABASE = "supabase", "Supabase"
        VPS = "vps", "A virtual server (VPS)"
        OTHER = "other", "Other"

    class DeployMethod(models.TextChoices):
        GIT_PUSH = "git_push", "Automatic deploy on git push"
        CI_PIPELINE = "ci_pipeline", "CI pipeline (GitHub Actions, GitLab CI …)"
        CONTAINER = "container", "Container image to a registry"
        CLI = "cli", "Provider's command-line tool"
        MANUAL = "manual", "Manual upload or SSH"
        OTHER = "other", "Other"

    class MailProvider(models.TextChoices):
        GOOGLE = "google", "Google Workspace"
        MICROSOFT = "microsoft", "Microsoft 365"
        SENDGRID = "sendgrid", "SendGrid"
        MAILGUN = "mailgun", "Mailgun"
        POSTMARK = "postmark", "Postmark"
        SES = "ses", "Amazon SES"
        RESEND = "resend", "Resend"
        MAILCHIMP = "mailchimp", "Mailchimp / Mandrill"
        BREVO = "brevo", "Brevo"
        ZOHO = "zoho", "Zoho Mail"
        FASTMAIL = "fastmail", "Fastmail"
        HUBSPOT = "hubspot", "HubSpot"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, models.CASCADE, related_name="domains")
    name = models.CharField("apex domain", max_length=253, help_text="Stored in ASCII (punycode).")
    canonical_host = models.CharField(max_length=8, choices=CanonicalHost.choices, default=CanonicalHost.WWW)
    hosts = models.JSONField(default=list, blank=True, help_text="Sub-domain labels in use, e.g. app, api.")
    mail_providers = models.JSONField(default=list, blank=True)
    dkim_selectors = models.JSONField(default=list, blank=True)
    asset_hosts = models.JSONField(
        default=list, blank=True, help_text="CDN hosts outside the domain that serve its scripts, e.g. cdn.example.net."
    )
    hosting_provider = models.CharField(max_length=32, choices=HostingProvider.choices, default=HostingProvider.OTHER)
    deploy_method = models.CharField(max_length=32, choices=DeployMethod.choices, default=DeployMethod.GIT_PUSH)
    hosting_app = models.CharField(
        "app name at the host",
        max_length=100,
        blank=True,
        help_text="The Heroku or Fly.io app, Vercel or Railway project, or folder on the server; "
        "it goes into the handover pack's deploy and rollback commands.",
    )
    daily_audit = models.BooleanField("re-audit daily", default=True)
    created = models.DateTimeField(default=now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["client", "name"], name="one_domain_per_client")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return shown_name(self.name)

    @property
    def canonical_name(self) -> str:
        return f"www.{self.name}" if self.canonical_host == self.CanonicalHost.WWW else self.name

    def host_name(self, label: str) -> str:
        """The full name of one of this domain's hosts; an empty label is the canonical host."""
        return f"{label}.{self.name}" if label else self.canonical_name

    @property
    def mail_provider_labels(self) -> list[str]:
        labels = dict(self.MailProvider.choices)
        return [str(labels.get(p, p)) for p in self.mail_providers]


class Route(models.Model):
    """A path on one of a domain's hosts that must work at launch: login, checkout, health …"""

    class Kind(models.TextChoices):
        HOMEPAGE = "homepage", "Homepage"
        LOGIN = "login", "Login"
        DASHBOARD = "dashboard", "Dashboard"
        API_HEALTH = "api_health", "API health"
        CHECKOUT = "checkout", "Checkout"
        WEBHOOK = "webhook", "Webhook"
        AUTH_CALLBACK = "auth_callback", "Auth callback"
        OTHER = "other", "Other"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    domain = models.ForeignKey(Domain, models.CASCADE, related_name="routes")
    host = models.CharField(
        max_length=63, blank=True, help_text="Sub-domain label (app, api); empty for the canonical host."
    )
    path = models.CharField(max_length=500, default="/")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    expected_statuses = models.JSONField(default=list)
    keyword = models.CharField(max_length=200, blank=True, help_text="Text the response must contain.")
    created = models.DateTimeField(default=now)

    class Meta:
        ordering = ["host", "path"]
        constraints = [models.UniqueConstraint(fields=["domain", "host", "path"], name="one_route_per_address")]

    def __str__(self) -> str:
        return self.url

    @property
    def url(self) -> str:
        return f"https://{self.domain.host_name(self.host)}{self.path}"

    @property
    def display_url(self) -> str:
        return f"https://{display_name(self.domain.host_name(self.host))}{self.path}"

    @property
    def expected_statuses_text(self) -> str:
        return ", ".join(str(s) for s in self.expected_statuses)


class SprintQuerySet(models.QuerySet["Sprint"]):
    def current(self) -> SprintQuerySet:
        return self.filter(state__in=[Sprint.State.PLANNED, Sprint.State.ACTIVE])


class Sprint(models.Model):
    """A 48-hour Launch Ready engagement for one client."""

    class State(models.TextChoices):
        PLANNED = "planned", "Planned"
        ACTIVE = "active", "In progress"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, models.CASCADE, related_name="sprints")
    started_at = models.DateTimeField("start")
    deadline = models.DateTimeField()
    state = models.CharField(max_length=20, choices=State.choices, default=State.PLANNED)
    notes = models.TextField(blank=True)
    created = models.DateTimeField(default=now)

    objects = SprintQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["client", "state"])]

    def __str__(self) -> str:
        return f"Sprint for {self.client} from {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.state in (self.State.PLANNED, self.State.ACTIVE)
