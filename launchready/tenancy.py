"""The one way views fetch tenant data: the scoping primitive, and a pair of helpers per core object kind.

`get_<kind>_for_user` answers 404 unless the user may see the object (a consultant of its workspace,
or the founder of its client). `get_rw_<kind>_for_user` also answers 403 when the user may only read
it (a founder looking at their own client's records). Each app builds the helpers for its own objects
from `get_visible` and `require_staff`, in its `scoping.py`.
"""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db import models
from django.shortcuts import get_object_or_404

from launchready.models import Client, Contact, Domain, Route, Sprint, staff_workspaces

M = TypeVar("M", bound=models.Model)


def is_staff_of(user: Any, workspace_id: int) -> bool:
    return staff_workspaces(user).filter(workspace_id=workspace_id).exists()


def require_staff(user: Any, workspace_id: int) -> None:
    if not is_staff_of(user, workspace_id):
        raise PermissionDenied("Only the consultancy can change this.")


def get_visible(queryset: models.QuerySet[M], user: Any, code: UUID, client_path: str) -> M:
    """The object of this code whose client (reached by `client_path`) the user may see, or a 404."""
    visible = Client.objects.visible_to(user)
    return get_object_or_404(queryset.filter(**{f"{client_path}__in": visible}), code=code)


def get_client_for_user(user: Any, code: UUID) -> Client:
    return get_object_or_404(Client.objects.visible_to(user).select_related("workspace"), code=code)


def get_rw_client_for_user(user: Any, code: UUID) -> Client:
    client = get_client_for_user(user, code)
    require_staff(user, client.workspace_id)
    return client


def get_domain_for_user(user: Any, code: UUID) -> Domain:
    return get_visible(Domain.objects.select_related("client__workspace"), user, code, "client")


def get_rw_domain_for_user(user: Any, code: UUID) -> Domain:
    domain = get_domain_for_user(user, code)
    require_staff(user, domain.client.workspace_id)
    return domain


def get_route_for_user(user: Any, code: UUID) -> Route:
    return get_visible(Route.objects.select_related("domain__client__workspace"), user, code, "domain__client")


def get_rw_route_for_user(user: Any, code: UUID) -> Route:
    route = get_route_for_user(user, code)
    require_staff(user, route.domain.client.workspace_id)
    return route


def get_sprint_for_user(user: Any, code: UUID) -> Sprint:
    return get_visible(Sprint.objects.select_related("client__workspace"), user, code, "client")


def get_rw_sprint_for_user(user: Any, code: UUID) -> Sprint:
    sprint = get_sprint_for_user(user, code)
    require_staff(user, sprint.client.workspace_id)
    return sprint


def get_rw_contact_for_user(user: Any, code: UUID) -> Contact:
    contact = get_visible(Contact.objects.select_related("client__workspace"), user, code, "client")
    require_staff(user, contact.client.workspace_id)
    return contact
