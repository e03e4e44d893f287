"""The monitoring objects a user may change, built from the core's scoping primitive: 404 for strangers,
403 for a founder."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import Q
from django.shortcuts import get_object_or_404

from launchready.models import Client, staff_workspaces
from launchready.tenancy import get_visible, require_staff
from monitoring.models import AlertChannel, ApiToken, Heartbeat, Journey, JourneyRun, JourneyStep, Monitor


def get_rw_monitor_for_user(user: Any, code: UUID) -> Monitor:
    monitor = get_visible(Monitor.objects.select_related("client__workspace"), user, code, "client")
    require_staff(user, monitor.client.workspace_id)
    return monitor


def get_rw_channel_for_user(user: Any, code: UUID) -> AlertChannel:
    """A client's channel (404 unless the client is visible, 403 for its founder), or a workspace default
    channel (404 unless the user is staff of that workspace)."""
    visible = Q(client__in=Client.objects.visible_to(user)) | Q(
        client__isnull=True, workspace__in=staff_workspaces(user)
    )
    channel = get_object_or_404(
        AlertChannel.objects.select_related("client__workspace", "workspace").filter(visible), code=code
    )
    require_staff(user, channel.owner_workspace_id)
    return channel


def get_rw_token_for_user(user: Any, code: UUID) -> ApiToken:
    token = get_visible(ApiToken.objects.select_related("client__workspace"), user, code, "client")
    require_staff(user, token.client.workspace_id)
    return token


def get_rw_heartbeat_for_user(user: Any, code: UUID) -> Heartbeat:
    heartbeat = get_visible(Heartbeat.objects.select_related("client__workspace"), user, code, "client")
    require_staff(user, heartbeat.client.workspace_id)
    return heartbeat


def get_rw_journey_for_user(user: Any, code: UUID) -> Journey:
    journey = get_visible(Journey.objects.select_related("client__workspace"), user, code, "client")
    require_staff(user, journey.client.workspace_id)
    return journey


def get_rw_journey_step_for_user(user: Any, code: UUID) -> JourneyStep:
    step = get_visible(JourneyStep.objects.select_related("journey__client__workspace"), user, code, "journey__client")
    require_staff(user, step.journey.client.workspace_id)
    return step


def get_rw_journey_run_for_user(user: Any, code: UUID) -> JourneyRun:
    run = get_visible(JourneyRun.objects.select_related("journey__client__workspace"), user, code, "journey__client")
    require_staff(user, run.journey.client.workspace_id)
    return run
