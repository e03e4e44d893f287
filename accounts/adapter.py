"""allauth's account adapter, with sign-in failures throttled so that nobody can lock someone else out.

allauth counts failed sign-ins per address and per account (`login_failed`); on top of that, the
failures of one account from one address (`login_failed_here`) are counted here, with a much lower
rate than the account-wide one. Someone who knows a consultant's email can then only lock out their own
address, while an attack spread over many addresses is still slowed down by the account-wide rate.
Each refusal is a 429 with Retry-After, never the sign-in form again with a 200."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from accounts.ratelimits import sign_in_failure_counted, sign_in_refused_here, sign_in_throttled


def _email(credentials: dict[str, Any]) -> str:
    return str(credentials.get("email") or credentials.get("username") or "")


class AccountAdapter(DefaultAccountAdapter):
    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        email = _email(credentials)
        # Checked before allauth's counters, so a refused attempt spends nothing of the account's budget.
        if sign_in_refused_here(request, email):
            raise ImmediateHttpResponse(sign_in_throttled(request, email))
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError as error:
            if error.code == "too_many_login_attempts":
                raise ImmediateHttpResponse(sign_in_throttled(request, email)) from None
            raise

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        sign_in_failure_counted(request, _email(credentials))
        super().authentication_failed(request, **credentials)
