"""The demo workspace that `make run` seeds: a consultant, a founder and three clients mid-launch."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Role, User, Workspace
from audits.models import AssistantProbe, AuditRun
from handover.models import AccessEntry, PackVersion
from handover.publish import pack_publish
from launchready.models import SPRINT_LENGTH, Client, Contact, Domain, Route, Sprint
from launchready.sandbox.assistants import CHAT_PATH, LEAKY_CANARY, LEAKY_HOST
from monitoring.models import AlertChannel
from web.demo_dmarc import seed_dmarc_reports
from web.demo_reports import seed_report_history
from web.demo_repository import seed_repo_scan

DEMO_WORKSPACE = "Northstar Launch Studio"
CONSULTANT_EMAIL = "demo@launchready.test"
FOUNDER_EMAIL = "founder@brightpath.test"

CLIENTS: list[dict[str, Any]] = [
    {
        "name": "Brightpath Coaching",
        "product_kind": Client.ProductKind.COACHING_DASHBOARD,
        "stage": Client.Stage.DEMO_TO_LAUNCH,
        "timezone": "Europe/London",
        "sprint_hours_ago": 30,
        "contact": ("Amelia Hart", "amelia@brightpath.test", "Founder and CEO"),
        "access": [
            ("registrar", "Namecheap", "Amelia Hart", "1Password, Brightpath Ops vault"),
            ("cloudflare", "Cloudflare", "Amelia Hart", "1Password, Brightpath Ops vault"),
            (
                "hosting",
                "Vercel",
                "Amelia Hart and the contract developer",
                "Vercel team “brightpath”, SSO with Google",
            ),
            ("email", "Google Workspace", "Amelia Hart", "Google Workspace admin console"),
        ],
        "domain": {
            "name": "brightpath.test",
            "canonical_host": Domain.CanonicalHost.WWW,
            "hosts": ["app", "api"],
            "mail_providers": ["google", "postmark"],
            "dkim_selectors": ["google", "pm"],
            "hosting_provider": Domain.HostingProvider.VERCEL,
            "deploy_method": Domain.DeployMethod.GIT_PUSH,
        },
        "routes": [
            ("", "/", Route.Kind.HOMEPAGE, [200], "Brightpath"),
            ("app", "/login", Route.Kind.LOGIN, [200], "Sign in"),
            ("app", "/dashboard", Route.Kind.DASHBOARD, [200, 302], ""),
            ("api", "/health", Route.Kind.API_HEALTH, [200], "ok"),
            ("api", "/webhooks/stripe", Route.Kind.WEBHOOK, [200, 400, 405], ""),
        ],
    },
    {
        "name": "Studiokit",
        "product_kind": Client.ProductKind.CREATOR_PORTAL,
        "stage": Client.Stage.LAUNCH_TO_FIRST_CUSTOMERS,
        "timezone": "America/New_York",
        "sprint_hours_ago": 6,
        "contact": ("Marcus Bell", "marcus@studiokit.test", "Co-founder, product"),
        "domain": {
            "name": "studiokit.test",
            "canonical_host": Domain.CanonicalHost.WWW,
            "hosts": ["app", "api"],
            "mail_providers": ["sendgrid"],
            "dkim_selectors": ["s1", "s2"],
            "hosting_provider": Domain.HostingProvider.RENDER,
            "deploy_method": Domain.DeployMethod.CI_PIPELINE,
        },
        "routes": [
            ("", "/", Route.Kind.HOMEPAGE, [200], ""),
            ("app", "/login", Route.Kind.LOGIN, [200], "Sign in"),
            ("app", "/dashboard", Route.Kind.DASHBOARD, [200, 302], ""),
            ("api", "/health", Route.Kind.API_HEALTH, [200], ""),
            ("api", "/webhooks/stripe", Route.Kind.WEBHOOK, [200, 400, 405], ""),
        ],
    },
    {
        "name": "Mira AI",
        "product_kind": Client.ProductKind.AI_CHATBOT,
        "stage": Client.Stage.PROTOTYPE_TO_DEMO,
        "timezone": "Europe/Berlin",
        "sprint_hours_ago": -20,
        "contact": ("Lena Vogt", "lena@askmira.test", "Founder"),
        "domain": {
            "name": "askmira.test",
            "canonical_host": Domain.CanonicalHost.WWW,
            "hosts": ["app", "api"],
            "mail_providers": ["resend"],
            "dkim_selectors": ["resend"],
            "hosting_provider": Domain.HostingProvider.FLY,
            "deploy_method": Domain.DeployMethod.CONTAINER,
        },
        "routes": [
            ("", "/", Route.Kind.HOMEPAGE, [200], ""),
            ("app", "/login", Route.Kind.LOGIN, [200], "Sign in"),
            ("api", "/health", Route.Kind.API_HEALTH, [200], ""),
        ],
    },
]


def demo_packs_refresh() -> list[PackVersion]:
    """Publish the demo clients' pack again when an audit finished after their latest version."""
    published = []
    for client in Client.objects.filter(workspace__name=DEMO_WORKSPACE).select_related("workspace"):
        latest = PackVersion.objects.filter(client=client).only("published_at").first()
        audits = AuditRun.objects.finished().filter(domain__client=client)
        if latest is not None and not audits.filter(finished_at__gt=latest.published_at).exists():
            continue  # no audit since the latest version: nothing new to say
        owner = Membership.objects.filter(workspace=client.workspace, role=Role.OWNER).select_related("user").first()
        note = "After the first audit" if latest is not None and latest.number == 1 else "After the latest audit"
        published.append(pack_publish(client=client, user=owner.user if owner else None, note=note))
    return published


@dataclass
class DemoLogin:
    email: str
    password: str


def _password_file(var_dir: Path) -> Path:
    return var_dir / "demo-password.txt"


def demo_password(var_dir: Path) -> str:
    """A random password made once per machine and kept under var/ (never in the repository)."""
    path = _password_file(var_dir)
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    password = "demo-" + secrets.token_urlsafe(9)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password


def _user(email: str, name: str, password: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=password, name=name)
    elif not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password"])
    EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user


@transaction.atomic
def seed_demo(var_dir: Path) -> tuple[DemoLogin, DemoLogin, bool]:
    """Create the demo workspace once; later calls only make sure the logins work."""
    password = demo_password(var_dir)
    consultant = _user(CONSULTANT_EMAIL, "Dana Okafor", password)
    founder = _user(FOUNDER_EMAIL, "Amelia Hart", password)
    workspace = Workspace.objects.filter(name=DEMO_WORKSPACE, memberships__user=consultant).first()
    created = workspace is None
    if workspace is None:
        workspace = Workspace.objects.create(name=DEMO_WORKSPACE)
        Membership.objects.create(user=consultant, workspace=workspace, role=Role.OWNER)
        now = timezone.now().replace(second=0, microsecond=0)
        clients = []
        for spec in CLIENTS:
            client = _client(workspace, spec, now)
            if spec["name"] == "Brightpath Coaching":
                Membership.objects.create(user=founder, workspace=workspace, role=Role.FOUNDER, client=client)
                seed_dmarc_reports(client, now)  # its rua= address has had three weeks of reports
            if spec["name"] == "Studiokit":  # its repository was uploaded and scanned: a committed .env
                seed_repo_scan(client)
            # Alerts reach the founders and the consultant (the console shows them under make run).
            AlertChannel.objects.create(client=client, kind=AlertChannel.Kind.EMAIL, name="Founders and consultant")
            for kind, provider, owner, where in spec.get("access", []):
                AccessEntry.objects.create(
                    client=client, kind=kind, provider=provider, owner=owner, login_location=where, updated_by=founder
                )
            # A first pack from the records straight away; it is published again once the first audit is in.
            pack_publish(client=client, user=consultant, note="Sprint kick-off: records and access inventory")
            if spec["product_kind"] == Client.ProductKind.AI_CHATBOT:
                _assistant(client)
            clients.append(client)
        seed_report_history(clients)  # a report preview with numbers at once, and one report sent
    return DemoLogin(CONSULTANT_EMAIL, password), DemoLogin(FOUNDER_EMAIL, password), created


def _client(workspace: Workspace, spec: dict[str, Any], now: datetime) -> Client:
    client = Client.objects.create(
        workspace=workspace,
        name=spec["name"],
        product_kind=spec["product_kind"],
        stage=spec["stage"],
        timezone=spec["timezone"],
    )
    name, email, role = spec["contact"]
    Contact.objects.create(client=client, name=name, email=email, role=role, is_primary=True)
    domain = Domain.objects.create(client=client, **spec["domain"])
    for host, path, kind, statuses, keyword in spec["routes"]:
        Route.objects.create(
            domain=domain, host=host, path=path, kind=kind, expected_statuses=statuses, keyword=keyword
        )
    started = now - timedelta(hours=spec["sprint_hours_ago"])
    state = Sprint.State.ACTIVE if spec["sprint_hours_ago"] >= 0 else Sprint.State.PLANNED
    Sprint.objects.create(
        client=client,
        started_at=started,
        deadline=started + SPRINT_LENGTH,
        state=state,
        notes="Quick audit first: DNS, TLS and email authentication, then the edge.",
    )
    return client


def _assistant(client: Client) -> AssistantProbe:
    """Mira's chat widget, probed with every audit: the canary is already in its instructions, and it leaks."""
    probe = AssistantProbe(
        client=client,
        url=f"https://{LEAKY_HOST}{CHAT_PATH}",
        request_template='{"message": "{{message}}", "channel": "web"}',
        answer_path="reply",
        canary=LEAKY_CANARY,
    )
    probe.headers = {"Authorization": "Bearer demo-" + secrets.token_urlsafe(12)}
    probe.save()
    return probe
