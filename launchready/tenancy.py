"""The one way views fetch tenant data: a pair of helpers per object kind, 404 for strangers.

`get_<kind>_for_user` answers 404 unless the user may see the object (a consultant of its workspace,
or the founder of its client). `get_rw_<kind>_for_user` also answers 403 when the user may only read
it (a founder looking at their own client's records).
"""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.shortcuts import get_object_or_404

from accounts.models import STAFF_ROLES, Membership
from audits.models import AuditRun
from handover.models import PackVersion
from launchready.models import Client, Contact, Domain, Route, Sprint
from monitoring.models import AlertChannel, ApiToken, Monitor
from reports.models import WeeklyReport

M = TypeVar("M", bound=models.Model)


def is_staff_of(user: Any, workspace_id: int) -> bool:
    return Membership.objects.filter(user=user, workspace_id=workspace_id, role__in=STAFF_ROLES).exists()


def _require_staff(user: Any, workspace_id: int) -> None:
    if not is_staff_of(user, workspace_id):
        raise PermissionDenied("Only the consultancy can change this.")


def get_client_for_user(user: Any, code: UUID) -> Client:
    return get_object_or_404(Client.objects.visible_to(user).select_related("workspace"), code=code)


def get_rw_client_for_user(user: Any, code: UUID) -> Client:
    client = get_client_for_user(user, code)
    _require_staff(user, client.workspace_id)
    return client


def _child(queryset: models.QuerySet[M], user: Any, code: UUID, client_path: str) -> M:
    visible = Client.objects.visible_to(user)
    return get_object_or_404(queryset.filter(**{f"{client_path}__in": visible}), code=code)


def get_domain_for_user(user: Any, code: UUID) -> Domain:
    return _child(Domain.objects.select_related("client__workspace"), user, code, "client")


def get_rw_domain_for_user(user: Any, code: UUID) -> Domain:
    domain = get_domain_for_user(user, code)
    _require_staff(user, domain.client.workspace_id)
    return domain


def get_route_for_user(user: Any, code: UUID) -> Route:
    return _child(Route.objects.select_related("domain__client__workspace"), user, code, "domain__client")


def get_rw_route_for_user(user: Any, code: UUID) -> Route:
    route = get_route_for_user(user, code)
    _require_staff(user, route.domain.client.workspace_id)
    return route


def get_sprint_for_user(user: Any, code: UUID) -> Sprint:
    return _child(Sprint.objects.select_related("client__workspace"), user, code, "client")


def get_rw_sprint_for_user(user: Any, code: UUID) -> Sprint:
    sprint = get_sprint_for_user(user, code)
    _require_staff(user, sprint.client.workspace_id)
    return sprint


def get_audit_run_for_user(user: Any, code: UUID) -> AuditRun:
    return _child(AuditRun.objects.select_related("domain__client__workspace"), user, code, "domain__client")


def get_rw_monitor_for_user(user: Any, code: UUID) -> Monitor:
    monitor = _child(Monitor.objects.select_related("client__workspace"), user, code, "client")
    _require_staff(user, monitor.client.workspace_id)
    return monitor


def get_rw_channel_for_user(user: Any, code: UUID) -> AlertChannel:
    """A client's channel (404 unless the client is visible, 403 for its founder), or a workspace default
    channel (404 unless the user is staff of that workspace)."""
    visible = Q(client__in=Client.objects.visible_to(user)) | Q(
        client__isnull=True,
        workspace__in=Membership.objects.filter(user=user, role__in=STAFF_ROLES).values("workspace"),
    )
    channel = get_object_or_404(
        AlertChannel.objects.select_related("client__workspace", "workspace").filter(visible), code=code
    )
    _require_staff(user, channel.owner_workspace_id)
    return channel


def get_rw_token_for_user(user: Any, code: UUID) -> ApiToken:
    token = _child(ApiToken.objects.select_related("client__workspace"), user, code, "client")
    _require_staff(user, token.client.workspace_id)
    return token


def get_rw_contact_for_user(user: Any, code: UUID) -> Contact:
    contact = _child(Contact.objects.select_related("client__workspace"), user, code, "client")
    _require_staff(user, contact.client.workspace_id)
    return contact


def get_pack_version_for_user(user: Any, code: UUID) -> PackVersion:
    return _child(PackVersion.objects.select_related("client__workspace"), user, code, "client")


def get_report_for_user(user: Any, code: UUID) -> WeeklyReport:
    """A weekly report as sent: the client's founders and the consultancy may read it."""
    return _child(WeeklyReport.objects.select_related("client__workspace"), user, code, "client")
