"""The request type of signed-in pages: the user and their active workspace membership."""

from __future__ import annotations

from django.http import HttpRequest

from accounts.models import Membership, User


class AuthedRequest(HttpRequest):
    user: User
    membership: Membership | None
    memberships: list[Membership]
