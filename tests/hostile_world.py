"""A workspace in which every text a consultant, a founder, the deploy API or an audited domain controls is
hostile, built through the product's own paths wherever one exists.

The audited domain (`hostile-text.test` in the sandbox) carries hostile text in its DNS records, headers,
cookies, redirects, certificate and assistant replies; a real audit, real probes, a real deploy through the
API and its smoke test bring it in. Then every text field of every row of every model of the project is
overwritten with hostile text (cut to the field's size), except the fields `EXEMPT` names with the reason
they cannot carry it, so a field added tomorrow is hostile in this world without anyone adding it here.
Only then are the pack published and the emails sent, so what they froze is made of hostile text too.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.apps import apps
from django.core import mail
from django.core.mail import get_connection
from django.db import models
from django.test import Client as HttpClient
from django.test.signals import template_rendered
from django.utils import timezone

from accounts.activity import record_activity
from accounts.invitation_mail import invitation_send_email
from accounts.invitations import invitation_create
from accounts.models import Invitation, Membership, Role, User, hash_token
from audits.inbound.addresses import dmarc_address_for, send_test_address_issue
from audits.inbound.mailbox import Session, message_store
from audits.inbound.verification import received_message_verify
from audits.lifecycle import audit_run_execute as execute
from audits.models import AssistantProbe, AuditRun, KeyRotation, RepoScan
from handover.models import AccessEntry, ChecklistTick
from handover.publish import pack_publish
from launchready.models import Client, Contact, Domain, Route
from launchready.sandbox.dmarc_reports import REPORT_SOURCES, Source, aggregate_xml, gzipped, report_email
from launchready.sandbox.hostile_text import ALL, CHAT_HOST, CHAT_PATH, HOSTILE_TEXT, IN_URL, LONG, fitted
from monitoring import lateness
from monitoring.alerts import alerts_for_event, test_alert
from monitoring.delivery import alert_send
from monitoring.deploys import token_create
from monitoring.journey_scheduler import tick as journey_tick
from monitoring.journey_templates import sign_in
from monitoring.journeys import create_journey, run_journey_now, set_secret
from monitoring.models import (
    Alert,
    AlertChannel,
    Deploy,
    Heartbeat,
    Incident,
    Journey,
    MaintenanceWindow,
    Monitor,
    SchedulerGap,
)
from monitoring.pings import heartbeat_create, ping_token, record_ping
from monitoring.rollup import rollup_hour
from monitoring.scheduler import claim_due, probe_round, record, sync_monitors
from monitoring.smoke import follow_job_checks
from monitoring.watches import baseline_approve, raise_event
from reports.digest import digest_message, digest_rows, digest_token, subscribe
from reports.mail import deliver, opt_out, opt_out_token, report_create
from reports.models import ReportSchedule, WeeklyReport
from reports.weeks import client_zone, period_for, week_of
from tests.conftest import eager
from tests.factories import ClientFactory, MembershipFactory, SprintFactory, WorkspaceFactory
from web.demo_repository import seed_repo_scan

APPS = ("launchready", "accounts", "audits", "monitoring", "handover", "reports")

# Text fields that cannot carry hostile text, each with the reason. Everything else is overwritten.
EXEMPT: dict[str, str] = {
    "accounts.User.password": "a password hash, never shown",
    "accounts.Invitation.token_hash": "a hash of the invitation's secret, never shown",
    "accounts.Activity.verb": "the product's own key into accounts.activity.VERBS",
    "accounts.Activity.ip_network": "made by the product from the request's address",
    "launchready.Client.timezone": "checked against the time-zone database on input",
    "launchready.Domain.name": "checked as a host name on input (launchready/domains.py)",
    "launchready.Route.host": "checked as one DNS label of the domain on input",
    "audits.AuditRun.current_check": "the name of one of the product's checks",
    "audits.AuditFinding.check_id": "the product's check id, the key into the catalog",
    "audits.AuditFinding.area": "the product's area key",
    "audits.AuditFinding.severity": "the product's severity key",
    "audits.AuditFinding.item": "the product's checklist item key",
    "audits.RepoFinding.check_id": "the product's check id, the key into the catalog",
    "audits.RepoFinding.area": "the product's area key",
    "audits.RepoFinding.severity": "the product's severity key",
    "audits.RepoFinding.item": "the product's checklist item key",
    "audits.SendFinding.check_id": "the product's check id, the key into the catalog",
    "audits.SendFinding.area": "the product's area key",
    "audits.SendFinding.severity": "the product's severity key",
    "audits.SendFinding.item": "the product's checklist item key",
    "audits.JourneyFinding.check_id": "the product's check id, the key into the catalog",
    "audits.JourneyFinding.area": "the product's area key",
    "audits.JourneyFinding.severity": "the product's severity key",
    "audits.JourneyFinding.item": "the product's checklist item key",
    "audits.RepoScan.kind": "the product's archive kind",
    "audits.AssistantProbe.secret_headers": "ciphertext (Fernet)",
    "audits.AssistantProbe.canary": "made by the product",
    "audits.MailAddress.token": "made by the product (random base32), the unguessable part of an issued address",
    "audits.ReceivedMessage.content": "ciphertext (Fernet)",
    "monitoring.Probe.cause": "the product's cause key",
    "monitoring.AlertChannel.secret": "ciphertext (Fernet)",
    "monitoring.JourneySecret.ciphertext": "ciphertext (Fernet)",
    "monitoring.JourneySecret.name": "checked as a variable name on input",
    "monitoring.Alert.dedupe_key": "the product's own key, never shown",
    "monitoring.ApiToken.prefix": "made by the product (random hex), the token's public part",
    "monitoring.ApiToken.digest": "a hash of the token's secret, never shown",
    "monitoring.Heartbeat.token_digest": "a hash of the ping URL's secret, never shown",
    "monitoring.Heartbeat.token_sealed": "ciphertext (Fernet)",
    "handover.PackVersion.html": "the product's own rendering of the pack, made here from hostile records",
    "handover.PackVersion.markdown": "the product's own rendering of the pack, made here from hostile records",
    "handover.WeeklyReport.html": "the product's own rendering of the report, made here from hostile records",
    "handover.WeeklyReport.text": "the product's own rendering of the report, made here from hostile records",
}

# Models with no row in the world, each with the reason; a new model needs a row or a reason.
NO_ROWS: dict[str, str] = {
    "audits.RepoUpload": "an upload lives only until its scan starts, and is never shown",
}

HOSTILE_EMAIL = '"<img src=x onerror=alert(1) data-lrx=1>{n}"@lrx.test'


@dataclass
class HostileWorld:
    owner: User
    consultant: User
    founder: User
    client: Client
    objects: dict[str, Any]  # a URL parameter's name to the object it names
    tokens: dict[str, str] = field(default_factory=dict)  # a URL's name to the token its link carries
    sent: list[mail.EmailMessage] = field(default_factory=list)
    email_templates: set[str] = field(default_factory=set)


@contextmanager
def _recording_templates(into: set[str]) -> Iterator[None]:
    def seen(sender: Any, template: Any, context: Any, **kwargs: Any) -> None:
        if template.name:
            into.add(template.name)

    template_rendered.connect(seen)
    try:
        yield
    finally:
        template_rendered.disconnect(seen)


def _structure() -> HostileWorld:
    workspace = WorkspaceFactory()
    owner = MembershipFactory(workspace=workspace, role=Role.OWNER).user
    consultant = MembershipFactory(workspace=workspace, role=Role.CONSULTANT).user
    client = ClientFactory(workspace=workspace)
    founder_membership = MembershipFactory(workspace=workspace, role=Role.FOUNDER, client=client)
    domain = Domain.objects.create(
        client=client,
        name=HOSTILE_TEXT,
        hosts=["app", "api"],
        mail_providers=["google"],
        dkim_selectors=["google"],
        canonical_host=Domain.CanonicalHost.WWW,
    )
    routes = [
        Route.objects.create(domain=domain, host="", path="/", kind=Route.Kind.HOMEPAGE, expected_statuses=[200]),
        Route.objects.create(
            domain=domain, host="app", path="/login", kind=Route.Kind.LOGIN, expected_statuses=[200], keyword=ALL[:200]
        ),
        Route.objects.create(
            domain=domain, host="api", path="/health", kind=Route.Kind.API_HEALTH, expected_statuses=[200]
        ),
    ]
    sprint = SprintFactory(client=client)
    contact = Contact.objects.create(client=client, name="Contact", email="contact@lrx.test", is_primary=True)
    probe = AssistantProbe(
        client=client,
        url=f"https://{CHAT_HOST}{CHAT_PATH}",
        request_template='{"message": "{{message}}"}',
        answer_path="reply",
        canary="lrx-canary-0000",
    )
    probe.headers = {"Authorization": "Bearer lrx"}
    probe.save()
    channel = AlertChannel.objects.create(
        client=client, kind=AlertChannel.Kind.EMAIL, name="Founders", recipients=["founders@lrx.test"]
    )
    webhook = AlertChannel(client=client, kind=AlertChannel.Kind.WEBHOOK, name="Hook")
    webhook.config = {"url": f"https://api.{HOSTILE_TEXT}/health", "signing_secret": "whsec-lrx"}
    webhook.save()
    # Heartbeats named with hostile text before the deploy, so that its smoke test's job checks carry it too: one
    # that will report a failure (its ping URLs are walked), one late during last week (the weekly report's), one
    # failing and back, one on a cron expression (made hostile with the rest: pages must still read it).
    heartbeats = {
        key: heartbeat_create(client=client, name=fitted(100), **fields)
        for key, fields in {
            "failing": {"kind": Heartbeat.Kind.JOB},
            "late": {"period_minutes": 30, "grace_minutes": 10},
            "back": {"kind": Heartbeat.Kind.WORKER},
            "cron": {"schedule": Heartbeat.Schedule.CRON, "cron": "0 3 * * *"},
        }.items()
    }
    objects = {
        "client_code": client,
        "heartbeat_code": heartbeats["failing"],
        "domain_code": domain,
        "route_code": routes[1],
        "sprint_code": sprint,
        "contact_code": contact,
        "membership_code": founder_membership,
        "channel_code": channel,
    }
    return HostileWorld(owner, consultant, founder_membership.user, client, objects)


def _probe_rounds(world: HostileWorld, config: Any) -> None:
    """Three rounds of real probes, a minute apart: the login route answers 500, so an incident opens."""
    import asyncio

    sync_monitors()
    start = timezone.now()
    for n in range(3):
        at = start + timedelta(minutes=n)
        monitors = claim_due(at + timedelta(minutes=5))
        record(monitors, asyncio.run(probe_round(monitors, config)), at)
    rollup_hour(start)
    world.objects["monitor_code"] = Monitor.objects.get(route=world.objects["route_code"])


def _through_the_api(world: HostileWorld) -> None:
    """A deploy reported by the client's CI with hostile text in every field, and a repository it sends to be
    scanned, through the real endpoints."""
    token, secret = token_create(client=world.client, name="CI", user=world.owner)
    world.objects["token_code"] = token
    body = {"version": fitted(100), "commit": fitted(64), "environment": fitted(40)}
    response = HttpClient().post(
        "/api/v1/deploys", json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert response.status_code == 201, response.content
    world.objects["deploy_code"] = Deploy.objects.get(code=response.json()["deploy"])
    # A repository sent by the same CI, named with hostile text (the name is shown on the repository page).
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("app/main.py", "print('hello')\n")
    response = HttpClient().generic(
        "POST",
        "/api/v1/scans",
        archive.getvalue(),
        content_type="application/octet-stream",
        QUERY_STRING=urlencode({"name": fitted(200)}),
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 202, response.content
    world.objects["scan_code"] = RepoScan.objects.get(code=response.json()["scan"])


def _records(world: HostileWorld) -> None:
    client, domain = world.client, world.objects["domain_code"]
    run = AuditRun.objects.filter(domain=domain).order_by("-id").first()
    assert run is not None
    world.objects["run_code"] = run
    baseline_approve(domain=domain, inventory=run.inventory, user=world.owner)
    raise_event(client.id, "dns_drift", ALL[:200], ALL[:300], {"record": ALL, "was": ALL, "now": LONG})
    MaintenanceWindow.objects.create(
        client=client, starts_at=timezone.now() - timedelta(days=2), ends_at=timezone.now() - timedelta(days=1)
    )
    for kind in AccessEntry.Kind.values:
        AccessEntry.objects.create(client=client, kind=kind, provider="p", owner="o", login_location="l")
    ChecklistTick.objects.create(
        sprint=world.objects["sprint_code"], item="domain_setup", done=True, ticked_by=world.owner
    )
    demo = seed_repo_scan(client)
    # A leaked key marked rotated whose finding a later scan kept open (still in the code): the page shows the
    # mark with its note, and both the mark and its withdrawal as forms.
    key = demo.findings.filter(check_id="secrets.repo.key").first()
    assert key is not None
    KeyRotation.objects.create(client=client, subject=key.subject, scan=demo, rotated_by=world.owner, note=ALL)
    world.objects["invitation_code"] = invitation_create(
        workspace=client.workspace, email="new@lrx.test", role=Role.CONSULTANT, invited_by=world.owner
    )
    record_activity(client.workspace, world.owner, "client.deleted", target=ALL)
    ReportSchedule.objects.create(client=client, weekday=0, hour=9)
    opt_out(client, "gone@lrx.test")
    SchedulerGap.objects.create(start=timezone.now() - timedelta(hours=3), end=timezone.now() - timedelta(hours=2))
    _real_send(client)
    _heartbeat_pings(world)
    _journey(world)


def _real_send(client: Client) -> None:
    """A real-send test address and a message it received whose every header is hostile, judged by the product."""
    address = send_test_address_issue(client=client)
    dmarc_address_for(client)
    # A forwarder's ARC set whose sealer (d=) is hostile, and links to the hostile domain and to hostile hosts.
    arc = (
        f"ARC-Seal: i=1; cv=none; a=rsa-sha256; d={IN_URL}; s={IN_URL}; b=AAAA\r\n"
        f"ARC-Message-Signature: i=1; a=rsa-sha256; d={IN_URL}; s=x; h=from; bh=AAAA; b=AAAA\r\n"
        f"ARC-Authentication-Results: i=1; {ALL[:200]}\r\n"
    )
    raw = (
        f"{arc}From: {ALL[:200]} <x@{HOSTILE_TEXT}>\r\nSubject: {ALL[:300]}\r\n"
        f"Message-ID: <{IN_URL}@{HOSTILE_TEXT}>\r\n"
        f"List-Unsubscribe: <javascript:alert(1)>\r\n\r\nhttps://{HOSTILE_TEXT}/{IN_URL} https://{IN_URL}/\r\n{LONG}\r\n"
    ).encode("utf-8", errors="replace")
    session = Session(peer="127.0.0.9", helo=ALL[:200], mail_from=f"{IN_URL}@{HOSTILE_TEXT}")
    stored = message_store(address_id=address.id, recipient=ALL[:300], session=session, raw=raw, retention_days=7)
    received_message_verify(stored.id)
    _dmarc_report(client)


def _dmarc_report(client: Client) -> None:
    """A DMARC aggregate report with a hostile reporter, received and read as the receiver's reports are; its
    sources' names (and every other text of its rows) are made hostile with the rest."""
    rua = f"{dmarc_address_for(client).local_part}@mail.launchready.test"
    rows = [Source(s.ip, 5, dkim="fail", spf="fail") for s in REPORT_SOURCES.values()]
    last_week = int((timezone.now() - timedelta(days=7)).timestamp())  # the weekly report's week, and the pack's
    xml = aggregate_xml(HOSTILE_TEXT, rows, org=ALL[:200], report_id=ALL[:200], begin=last_week)
    raw = report_email(rua, HOSTILE_TEXT, gzipped(xml), name="r.xml.gz", content_type="application/gzip")
    address = dmarc_address_for(client)
    stored = message_store(
        address_id=address.id, recipient=rua, session=Session(peer="127.0.0.9"), raw=raw, retention_days=7
    )
    received_message_verify(stored.id)
    assert client.dmarc_sources.count() == len(REPORT_SOURCES), "the hostile report was kept"


def _heartbeat_pings(world: HostileWorld) -> None:
    """Pings through the real endpoint, hostile bodies included; the late one pinged last week."""
    client = world.client
    failing = world.objects["heartbeat_code"]
    token = ping_token(failing)
    world.tokens.update({name: token for name in ("heartbeat_ping", "heartbeat_ping_start", "heartbeat_ping_fail")})
    http = HttpClient()
    assert http.post(f"/ping/{token}/start", ALL.encode(), content_type="text/plain").status_code == 200
    assert http.post(f"/ping/{token}/fail", LONG.encode(), content_type="text/plain").status_code == 200
    back = Heartbeat.objects.select_related("client").get(client=client, kind=Heartbeat.Kind.WORKER)
    back_token = ping_token(back)
    assert http.post(f"/ping/{back_token}/fail", ALL.encode(), content_type="text/plain").status_code == 200
    assert http.post(f"/ping/{back_token}", ALL.encode(), content_type="text/plain").status_code == 200
    cron = Heartbeat.objects.select_related("client").get(client=client, schedule=Heartbeat.Schedule.CRON)
    record_ping(cron, Heartbeat.Ping.SUCCESS, ALL[:1000], timezone.now() - timedelta(hours=2))
    last_week = period_for(client, week_of(timezone.now(), client_zone(client)))
    late = Heartbeat.objects.select_related("client").get(client=client, period_minutes=30)
    record_ping(late, Heartbeat.Ping.SUCCESS, ALL[:1000], last_week.start + timedelta(hours=1))
    lateness.sweep(last_week.start + timedelta(hours=3))
    follow_job_checks(timezone.now() + timedelta(days=3))  # the deploy's checks: each job missed its time


def _journey(world: HostileWorld) -> None:
    """A sign-in journey run against the hostile domain: its evidence holds the site's headers, cookies and
    answers; the steps' own texts are made hostile with every other field."""
    app = f"https://app.{HOSTILE_TEXT}"
    journey = create_journey(world.client, "Sign in", sign_in(f"{app}/login", f"{app}/dashboard"))
    journey.variables = {"who": ALL[:200]}
    journey.save()
    set_secret(journey, "password", "lrx-secret-password")
    world.objects["journey_code"] = journey
    world.objects["step_code"] = journey.steps.order_by("order").first()
    world.objects["journey_run_code"] = run_journey_now(journey)
    for _ in range(journey.alert_after):  # as a monitor: the login answers 500, so it fails and alerts
        Journey.objects.filter(pk=journey.pk).update(next_due_at=timezone.now())
        journey_tick(timezone.now())


def _value_for(model_field: models.Field[Any, Any], n: int) -> str:
    if isinstance(model_field, models.EmailField):
        return HOSTILE_EMAIL.format(n=n)
    if isinstance(model_field, models.URLField):
        return f"https://{HOSTILE_TEXT}/{IN_URL}"[: model_field.max_length]
    if model_field.name == "path":
        return "/" + IN_URL
    return fitted(model_field.max_length)


def hostile_fields() -> Iterator[tuple[type[models.Model], models.Field[Any, Any]]]:
    """Every text field of the project's models that hostile text can reach."""
    for model in apps.get_models():
        if model._meta.app_label not in APPS:
            continue
        for model_field in model._meta.concrete_fields:
            if not isinstance(model_field, models.CharField | models.TextField):
                continue
            if model_field.choices or model_field.primary_key:
                continue
            if f"{model._meta.label}.{model_field.name}" in EXEMPT:
                continue
            yield model, model_field


def overwrite_texts() -> int:
    """Every row's every hostile-reachable text field made hostile; returns how many fields were written."""
    written = 0
    by_model: dict[type[models.Model], list[models.Field[Any, Any]]] = {}
    for model, model_field in hostile_fields():
        by_model.setdefault(model, []).append(model_field)
    for model, fields in by_model.items():
        for n, pk in enumerate(model._default_manager.values_list("pk", flat=True)):
            model._default_manager.filter(pk=pk).update(**{f.name: _value_for(f, n) for f in fields})
            written += len(fields)
    AlertChannel.objects.filter(kind=AlertChannel.Kind.EMAIL).update(recipients=[HOSTILE_EMAIL.format(n="r")])
    return written


def _send_everything(world: HostileWorld) -> None:
    """What the product freezes and sends, made from the hostile records."""
    client = world.client
    world.objects["pack_code"] = pack_publish(client=client, user=world.owner, note=ALL[:300])
    report = report_create(client=client, sent_week=week_of(timezone.now(), client_zone(client)))
    deliver(report.id, connection=get_connection("django.core.mail.backends.locmem.EmailBackend"))
    world.objects["report_code"] = WeeklyReport.objects.get(id=report.id)
    staff = Membership.objects.get(user=world.owner, workspace=client.workspace)
    subscribe(staff)
    digest_message(staff, digest_rows([client])).send()
    invitation_send_email(Invitation.objects.get(id=world.objects["invitation_code"].id))
    token = Invitation.new_token()  # the link's token, known here (the email's own is made at send time)
    Invitation.objects.filter(id=world.objects["invitation_code"].id).update(token_hash=hash_token(token))
    world.tokens.update(
        {
            "invitation_accept": token,
            "report_opt_out": opt_out_token(client, world.founder.email),
            "report_digest_opt_out": digest_token(staff),
        }
    )
    channel = world.objects["channel_code"]
    test_alert(channel)
    journey_alerts = list(Alert.objects.filter(kind=Alert.Kind.JOURNEY))
    assert journey_alerts, "the journey failed twice as a monitor: its alert is queued"
    lateness.sweep()  # the failure and the failure-and-back, named with the hostile text written over them
    job_alerts = Alert.objects.filter(kind__in=(Alert.Kind.LATE, Alert.Kind.JOB_FAILED, Alert.Kind.JOB_BACK))
    for alert in [*journey_alerts, *job_alerts]:
        alert_send(alert_id=alert.id)
    incident = Incident.objects.filter(monitor__client=client).order_by("-id").first()
    assert incident is not None, "the login route answers 500: an incident is open"
    for alert in alerts_for_event(incident, "down", sequence=99):
        alert_send(alert_id=alert.id)


def build_hostile_world(net_config: Any) -> HostileWorld:
    """The world, with the sandbox's settings already in the environment."""
    mail.outbox = []
    world = _structure()
    with eager():
        execute(AuditRun.objects.create(domain=world.objects["domain_code"]))
        execute(AuditRun.objects.create(domain=world.objects["domain_code"]))  # a second run: changes since
        _probe_rounds(world, net_config)
        _through_the_api(world)
        _records(world)
        overwrite_texts()
        with _recording_templates(world.email_templates):
            _send_everything(world)
        overwrite_texts()
    for key, obj in list(world.objects.items()):
        world.objects[key] = type(obj)._default_manager.get(pk=obj.pk)
    world.sent = list(mail.outbox)
    return world


def models_without_rows() -> list[str]:
    return [
        model._meta.label
        for model in apps.get_models()
        if model._meta.app_label in APPS and model._meta.label not in NO_ROWS and not model._default_manager.exists()
    ]
