"""Rate limits beyond sign-in: sending invitations and the deploy API. The rates sit with allauth's own
in ACCOUNT_RATE_LIMITS and are counted by allauth's rate limiter in the shared cache, the same
machinery that already guards login, sign-up and password reset."""

from __future__ import annotations

from allauth.core import ratelimit
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

INVITE = "invite"
API_DEPLOYS = "api_deploys"


def invitation_limited(request: HttpRequest) -> HttpResponse | None:
    """A 429 page once a person (or an address) has sent too many invitations; None while within the rate."""
    if ratelimit.consume(request, action=INVITE, user=request.user):
        return None
    context = {"message": "Too many invitations sent in a short time. Wait a few minutes, then try again."}
    return render(request, "429.html", context, status=429)


def api_limited(request: HttpRequest, token_prefix: str) -> JsonResponse | None:
    """A JSON 429 once a token, or an address, calls the API too often; None while within the rate.
    The address is counted before the token is even looked at, so guessing tokens is throttled too."""
    if ratelimit.consume(request, action=API_DEPLOYS, key=token_prefix or "-"):
        return None
    response = JsonResponse({"error": "too many requests: slow down and retry in a minute"}, status=429)
    response["Retry-After"] = "60"
    return response
