"""Sign-ins and two-factor changes, as allauth reports them, written to each workspace's activity log; a
password reset also lifts the sign-in throttle of that account at the address it was done from."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from allauth.account.signals import password_reset, user_logged_in
from allauth.mfa.signals import authenticator_added, authenticator_removed
from django.dispatch import receiver

from accounts.activity import record_for_every_workspace
from accounts.ratelimits import sign_in_failures_cleared


@receiver(user_logged_in)
def _signed_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record_for_every_workspace(user, "auth.signed_in", request=request)


@receiver(authenticator_added)
def _mfa_added(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    if authenticator.type == "totp":
        record_for_every_workspace(user, "mfa.enabled", "Authenticator app", request)


@receiver(authenticator_removed)
def _mfa_removed(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    if authenticator.type == "totp":
        record_for_every_workspace(user, "mfa.disabled", "Authenticator app", request)


@receiver(password_reset)
def _password_reset(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    # The emailed link proved the mailbox; allauth has already cleared the account-wide count.
    sign_in_failures_cleared(request, EmailAddress.objects.filter(user=user).values_list("email", flat=True))
