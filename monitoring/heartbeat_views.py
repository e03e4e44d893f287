"""Heartbeat pages: the heartbeats on a client's monitoring page (with their ping URLs and snippets to copy),
adding and editing one, pausing, a new ping URL, removing it."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.http import AuthedRequest
from launchready.models import Client
from launchready.tenancy import get_rw_client_for_user
from monitoring import lateness, pings
from monitoring.forms import HeartbeatForm
from monitoring.heartbeat_facts import HeartbeatFacts, facts
from monitoring.heartbeat_schedule import State
from monitoring.models import Heartbeat, HeartbeatOutage
from monitoring.pings import heartbeat_create, ping_url
from monitoring.scoping import get_rw_heartbeat_for_user
from monitoring.snippets import Snippet, snippets

RECENT_OUTAGES = 10
# Late and failing first, then those running well, then those never pinged, then those paused.
ORDER = {State.FAILED: 0, State.LATE: 0, State.UP: 1, State.NEVER: 2, State.PAUSED: 3}


@dataclass(frozen=True)
class HeartbeatRow:
    facts: HeartbeatFacts
    url: str
    snippets: list[Snippet]


def heartbeat_rows(client: Client) -> tuple[list[HeartbeatRow], list[HeartbeatOutage]]:
    """The client's heartbeats (late and failing first) and their latest outages: two queries."""
    now = timezone.now()
    heartbeats = list(Heartbeat.objects.filter(client=client).select_related("client"))
    rows = []
    for heartbeat in heartbeats:
        url = ping_url(heartbeat)
        rows.append(HeartbeatRow(facts(heartbeat, now), url, snippets(heartbeat, url)))
    rows.sort(key=lambda r: (ORDER.get(r.facts.state, 1), r.facts.name.lower()))
    outages = list(
        HeartbeatOutage.objects.filter(heartbeat__client=client).select_related("heartbeat")[:RECENT_OUTAGES]
    )
    return rows, outages


@login_required
def heartbeat_add(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    client = get_rw_client_for_user(request.user, client_code)
    form = HeartbeatForm(request.POST or None, client=client)
    if request.method == "POST" and form.is_valid():
        heartbeat = heartbeat_create(client=client, **form.cleaned_data)
        messages.success(request, f"Heartbeat {heartbeat.name} added: put its ping URL in the job (below).")
        return redirect("heartbeat_edit", heartbeat.code)
    return render(request, "monitoring/heartbeat_form.html", {"form": form, "client": client})


@login_required
def heartbeat_edit(request: AuthedRequest, heartbeat_code: UUID) -> HttpResponse:
    heartbeat = get_rw_heartbeat_for_user(request.user, heartbeat_code)
    client = heartbeat.client
    form = HeartbeatForm(request.POST or None, instance=heartbeat, client=client)
    if request.method == "POST" and form.is_valid():
        # Only the form's fields: the pings write the others meanwhile. The sweep looks again with the new
        # schedule: late now, or no longer.
        form.save(commit=False).save(update_fields=HeartbeatForm.Meta.fields)
        Heartbeat.objects.filter(pk=heartbeat.pk).update(due_at=timezone.now())
        messages.success(request, f"Heartbeat {heartbeat.name} saved.")
        return redirect("client_monitoring", client.code)
    url = ping_url(heartbeat)
    context = {
        "form": form,
        "client": client,
        "heartbeat": heartbeat,
        "facts": facts(heartbeat, timezone.now()),
        "url": url,
        "snippets": snippets(heartbeat, url),
        "outages": HeartbeatOutage.objects.filter(heartbeat=heartbeat)[:RECENT_OUTAGES],
    }
    return render(request, "monitoring/heartbeat_form.html", context)


@login_required
@require_POST
def heartbeat_pause(request: AuthedRequest, heartbeat_code: UUID) -> HttpResponse:
    heartbeat = get_rw_heartbeat_for_user(request.user, heartbeat_code)
    if request.POST.get("pause") == "0":
        lateness.resume(heartbeat)
        messages.success(request, f"Resumed {heartbeat.name}: its schedule counts from now.")
    else:
        lateness.pause(heartbeat)
        messages.success(request, f"Paused {heartbeat.name}: no alert about it until it is resumed.")
    return redirect("client_monitoring", heartbeat.client.code)


@login_required
@require_POST
def heartbeat_new_url(request: AuthedRequest, heartbeat_code: UUID) -> HttpResponse:
    heartbeat = get_rw_heartbeat_for_user(request.user, heartbeat_code)
    pings.heartbeat_new_url(heartbeat)
    messages.warning(request, f"{heartbeat.name} has a new ping URL: the old one no longer works. Update the job.")
    return redirect("heartbeat_edit", heartbeat.code)


@login_required
@require_POST
def heartbeat_delete(request: AuthedRequest, heartbeat_code: UUID) -> HttpResponse:
    heartbeat = get_rw_heartbeat_for_user(request.user, heartbeat_code)
    heartbeat.delete()
    messages.success(request, f"Heartbeat {heartbeat.name} removed: its ping URL no longer works.")
    return redirect("client_monitoring", heartbeat.client.code)
