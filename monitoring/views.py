"""Monitoring pages: a client's monitors with uptime bars, p95 lines and incidents; the consultant's
overview of every client's monitors, what is down first; pause and resume."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Case, IntegerField, OuterRef, Subquery, Value, When
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.views.decorators.http import require_POST

from accounts.activity import record_activity
from accounts.http import AuthedRequest
from accounts.sudo import require_sudo, sudo_redirect
from launchready.formatting import uptime_text
from launchready.jinja import jinja_partial
from launchready.models import Client
from launchready.tenancy import get_client_for_user, get_rw_client_for_user, is_staff_of
from monitoring import charts, client_status, deploy_latency, deploy_snippets, journey_rollup, series
from monitoring.alerts import open_incidents_to, routed_channels, test_alert
from monitoring.deploys import token_create
from monitoring.forms import AlertChannelForm, MonitorForm
from monitoring.heartbeat_views import heartbeat_rows
from monitoring.incident_list import client_incidents
from monitoring.journey_figures import journey_figures
from monitoring.models import AlertChannel, ApiToken, Deploy, Journey, JourneyRun, Monitor
from monitoring.rollup import day_start, observed
from monitoring.scoping import get_rw_channel_for_user, get_rw_monitor_for_user, get_rw_token_for_user
from monitoring.smoke import job_check_lines
from monitoring.summary import UPTIME_DAYS, client_summaries, down_now

DOWN_FIRST = Case(
    When(state=Monitor.State.DOWN, then=Value(0)),
    When(state=Monitor.State.UNKNOWN, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


@dataclass
class MonitorRow:
    monitor: Monitor
    bar_svg: SafeString = field(default_factory=SafeString)
    line: charts.Line = field(default_factory=charts.Line)
    uptime_30d: str = "—"
    p95_24h: float | None = None

    @property
    def line_svg(self) -> str:
        return charts.line_svg(self.line)


def monitor_rows(monitors: list[Monitor]) -> list[MonitorRow]:
    """Charts for many monitors from a few queries, whatever their number or the length of their history."""
    now = timezone.now()
    ids = [m.id for m in monitors]
    daily = series.daily_counts(monitors, now, charts.BAR_DAYS)
    p95s = series.hourly_p95(ids, now, charts.LINE_HOURS)
    deploys: dict[int, list[Any]] = defaultdict(list)
    for client_id, created, version, commit in Deploy.objects.filter(
        client_id__in={m.client_id for m in monitors}, created__gte=now - timedelta(hours=charts.LINE_HOURS)
    ).values_list("client_id", "created", "version", "commit"):
        deploys[client_id].append((created, f"Deploy {version or commit[:8]}"))
    month_ago = day_start(now) - timedelta(days=UPTIME_DAYS - 1)  # the overview's window: 30 days, today included
    rows = []
    for monitor in monitors:
        line = charts.p95_line(p95s[monitor.id], now, deploys[monitor.client_id])
        recent = [d for d in daily[monitor.id] if d[0] >= month_ago]
        probes, failures = sum(d[1] for d in recent), sum(d[2] for d in recent)
        seen = observed([(probes, failures, monitor.interval)], now - month_ago)
        rows.append(
            MonitorRow(
                monitor,
                charts.uptime_bar(daily[monitor.id], now),
                line,
                uptime_text(seen, f"last {UPTIME_DAYS} days") if probes else "—",
                line.p95_now,
            )
        )
    return rows


@login_required
def client_monitoring(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    client = get_client_for_user(request.user, client_code)
    monitors = list(Monitor.objects.filter(client=client).select_related("route__domain").order_by(DOWN_FIRST, "url"))
    can_edit = is_staff_of(request.user, client.workspace_id)
    latest = JourneyRun.objects.filter(journey=OuterRef("pk")).order_by("-started_at")
    journeys = list(
        Journey.objects.filter(client=client)
        .annotate(last_summary=Subquery(latest.values("summary")[:1]), last_ok=Subquery(latest.values("ok")[:1]))
        .order_by(DOWN_FIRST, "name")
    )
    day = journey_rollup.last_hours([j.id for j in journeys], 24)
    # The monitors in Jinja2 (jinja/monitoring/_monitors.html), the page around them in Django's templates.
    monitors_html = jinja_partial(
        request, "monitoring/_monitors.html", {"client": client, "rows": monitor_rows(monitors), "can_edit": can_edit}
    )
    if request.headers.get("HX-Request") == "true":
        return HttpResponse(monitors_html)
    incidents_html = jinja_partial(
        request,
        "monitoring/_incidents.html",
        {"incidents": client_incidents(client, [j.id for j in journeys]), "zone": _zone(client.timezone)},
    )
    heartbeats, heartbeat_outages = heartbeat_rows(client)
    context = {
        "client": client,
        "monitors_html": monitors_html,
        "incidents_html": incidents_html,
        "can_edit": can_edit,
        "heartbeats": heartbeats,
        "heartbeat_outages": heartbeat_outages,
        "journeys": [(j, journey_figures(day[j.id])) for j in journeys],
    }
    return render(request, "monitoring/client.html", context)


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):  # a name the form never lets through: UTC, not an error
        return zoneinfo.ZoneInfo("UTC")


@login_required
def overview(request: AuthedRequest) -> HttpResponse:
    membership = request.membership
    if membership is None or not membership.is_staff_role:
        raise Http404
    monitors = Monitor.objects.visible_to(request.user).filter(client__workspace=membership.workspace)
    down = down_now(monitors)
    visible = Client.objects.visible_to(request.user).filter(workspace=membership.workspace)
    clients, page = client_summaries(visible, timezone.now(), request.GET.get("page"))
    # The lines in Jinja2 (jinja/monitoring/_overview_rows.html), the page around them in Django's templates.
    context = {"down": down, "clients": clients, "page": page, "now": timezone.now()}
    rows_html = jinja_partial(request, "monitoring/_overview_rows.html", context)
    if request.headers.get("HX-Request") == "true":
        return HttpResponse(rows_html)
    return render(request, "monitoring/overview.html", {**context, "rows_html": rows_html})


@login_required
@require_POST
def monitor_pause(request: AuthedRequest, monitor_code: UUID) -> HttpResponse:
    monitor = get_rw_monitor_for_user(request.user, monitor_code)
    pause = request.POST.get("pause") == "1"
    Monitor.objects.filter(pk=monitor.pk).update(paused=pause, next_due_at=timezone.now())
    client_status.refresh([monitor.client_id])
    messages.success(request, f"{'Paused' if pause else 'Resumed'} {monitor.url}.")
    return redirect("client_monitoring", monitor.client.code)


@login_required
def channels(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    client = get_rw_client_for_user(request.user, client_code)
    # Webhook URLs are secrets: confirm the password before the form, so none is parked in the session.
    if reauth := sudo_redirect(request, reverse("alert_channels", args=[client.code])):
        return reauth
    form = AlertChannelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        channel, signing = form.save(client=client)
        _channel_added(request, channel, signing, client.workspace)
        return redirect("alert_channels", client.code)
    context = {
        "client": client,
        "form": form,
        "channels": AlertChannel.objects.filter(client=client),
        "routed": routed_channels(client.id),
    }
    return render(request, "monitoring/channels.html", context)


@login_required
def workspace_channels(request: AuthedRequest) -> HttpResponse:
    """The workspace's default channels: where the alerts of every client without a channel of its own go."""
    membership = request.membership
    if membership is None or not membership.is_staff_role:
        raise Http404
    if reauth := sudo_redirect(request, reverse("workspace_alert_channels")):
        return reauth
    workspace = membership.workspace
    form = AlertChannelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        channel, signing = form.save(workspace=workspace)
        _channel_added(request, channel, signing, workspace)
        return redirect("workspace_alert_channels")
    context = {
        "workspace": workspace,
        "form": form,
        "channels": AlertChannel.objects.filter(workspace=workspace, client__isnull=True),
        "uncovered": Client.objects.filter(workspace=workspace).exclude(alert_channels__enabled=True).count(),
    }
    return render(request, "monitoring/workspace_channels.html", context)


def _channel_added(request: AuthedRequest, channel: AlertChannel, signing: str | None, workspace: Any) -> None:
    record_activity(workspace, request.user, "channel.created", channel, request)
    told = open_incidents_to(channel)
    outages = f" {len(told)} outage{'s' if len(told) != 1 else ''} still open sent to it." if told else ""
    messages.success(request, f"{channel} added.{outages}")
    if signing:
        messages.warning(request, f"Signing secret for {channel.name} (shown once): {signing}")


def _channels_page(channel: AlertChannel) -> HttpResponse:
    if channel.client is None:
        return redirect("workspace_alert_channels")
    return redirect("alert_channels", channel.client.code)


@login_required
@require_POST
def channel_test(request: AuthedRequest, channel_code: UUID) -> HttpResponse:
    channel = get_rw_channel_for_user(request.user, channel_code)
    test_alert(channel)
    messages.success(request, f"Test alert queued for {channel}. Its result shows below in a moment.")
    return _channels_page(channel)


@login_required
@require_POST
def channel_toggle(request: AuthedRequest, channel_code: UUID) -> HttpResponse:
    channel = get_rw_channel_for_user(request.user, channel_code)
    require_sudo(request)
    AlertChannel.objects.filter(pk=channel.pk).update(
        enabled=not channel.enabled, disabled_reason="", consecutive_failures=0
    )
    change = "disabled" if channel.enabled else "enabled"
    record_activity(channel.owner_workspace, request.user, "channel.changed", f"{channel} ({change})", request)
    if not channel.enabled:  # enabled now: it hears of the outages still open
        channel.enabled = True
        if told := open_incidents_to(channel):
            messages.success(
                request, f"{len(told)} outage{'s' if len(told) != 1 else ''} still open sent to {channel}."
            )
    return _channels_page(channel)


@login_required
def tokens(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    client = get_rw_client_for_user(request.user, client_code)
    if request.method == "POST":
        require_sudo(request)
        name = request.POST.get("name", "").strip()[:80] or "CI"
        token, value = token_create(client=client, name=name, user=request.user)
        record_activity(client.workspace, request.user, "token.created", f"API token: {token.name}", request)
        messages.warning(request, f"Token {token.name} (copy it now, it is shown once): {value}")
        return redirect("deploy_tokens", client.code)
    deploys = list(Deploy.objects.filter(client=client)[:20])
    zone = _zone(client.timezone)
    latency = deploy_latency.measure(deploys)
    api_url = request.build_absolute_uri(reverse("api_deploys"))
    context = {
        "client": client,
        "tokens": ApiToken.objects.filter(client=client),
        "deploys": [
            (
                d,
                job_check_lines(d, zone),
                [(r, r.words(zone)) for r in latency.get(d.id, [])],
                len(deploy_latency.regressions(latency.get(d.id, []))),
            )
            for d in deploys
        ],
        "ci_shell": deploy_snippets.shell(api_url),
        "ci_workflow": deploy_snippets.github_actions(api_url),
    }
    return render(request, "monitoring/tokens.html", context)


@login_required
@require_POST
def token_revoke(request: AuthedRequest, token_code: UUID) -> HttpResponse:
    token = get_rw_token_for_user(request.user, token_code)
    require_sudo(request)
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    record_activity(token.client.workspace, request.user, "token.revoked", f"API token: {token.name}", request)
    messages.success(request, f"{token.name} revoked: CI using it can no longer report deploys or send scans.")
    return redirect("deploy_tokens", token.client.code)


@login_required
def monitor_edit(request: AuthedRequest, monitor_code: UUID) -> HttpResponse:
    monitor = get_rw_monitor_for_user(request.user, monitor_code)
    form = MonitorForm(request.POST or None, instance=monitor)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Monitor for {monitor.url} saved.")
        return redirect("client_monitoring", monitor.client.code)
    return render(request, "monitoring/monitor_form.html", {"form": form, "monitor": monitor, "client": monitor.client})
