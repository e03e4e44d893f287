"""Sudo-style re-authentication before sensitive actions, on allauth's reauthentication flow.

A sign-in, a second factor or a re-entered password within the window counts (allauth keeps these
records in the session). Otherwise the action raises allauth's `ReauthenticationRequired`: its
middleware keeps the POST in the session, sends the person to "confirm your password" (or the TOTP
code) and replays the action once they have. Views check after fetching the object, so a stranger
still gets the 404 the tenancy rules promise, not a password prompt that confirms the object exists.
"""

from __future__ import annotations

import time

from allauth.account.internal.flows.login import get_authentication_records
from allauth.core.exceptions import ReauthenticationRequired
from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode


def sudo_window() -> int:
    return int(getattr(settings, "ACCOUNT_REAUTHENTICATION_TIMEOUT", 600))


def recently_authenticated(request: HttpRequest) -> bool:
    """True when the person proved who they are (password, code or sign-in) within the window."""
    if not request.user.is_authenticated:
        return False
    records = get_authentication_records(request, request.user)
    latest = max((float(r.get("at", 0)) for r in records if isinstance(r, dict)), default=0.0)
    return time.time() - latest < sudo_window()


def require_sudo(request: HttpRequest) -> None:
    """Raise allauth's re-authentication redirect unless the person authenticated recently."""
    if not recently_authenticated(request):
        raise ReauthenticationRequired()


def sudo_redirect(request: HttpRequest, back_to: str) -> HttpResponseRedirect | None:
    """For forms that carry a secret: ask for the password first and come back to the empty form, so
    the secret is never parked in the session while the person confirms who they are."""
    if recently_authenticated(request):
        return None
    return HttpResponseRedirect(f"{reverse('account_reauthenticate')}?{urlencode({REDIRECT_FIELD_NAME: back_to})}")
