"""Rate limits beyond allauth's own: sending invitations, the deploy API, heartbeat pings, and the sign-in's
failures per account and address. The rates sit with allauth's in ACCOUNT_RATE_LIMITS and are counted by allauth's
rate limiter in the shared cache, the same machinery that already guards login, sign-up and password reset.

Every answer over a limit is a 429 with a Retry-After header that says when the next attempt can pass."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

from allauth.account.adapter import get_adapter
from allauth.core import ratelimit
from allauth.core.internal import ratelimit as ratelimit_internal
from allauth.core.internal.ratelimit import get_cache_key, get_ip, get_rates
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

INVITE = "invite"
API_DEPLOYS = "api_deploys"  # calls with a valid token: per token and per address
API_SCANS = "api_scans"  # repositories sent to be scanned with a valid token: per token and per address
API_DEPLOYS_FAILED = "api_deploys_failed"  # failed token checks per address
# Wrong secrets per token prefix, from every address (a rate's name, not a secret).
API_DEPLOYS_WRONG_SECRET = "api_deploys_wrong_secret"  # nosec B105
HEARTBEAT_PINGS = "heartbeat_pings"  # pings per heartbeat (keyed by its URL's digest), from every address
HEARTBEAT_UNKNOWN = "heartbeat_unknown"  # pings to a URL no heartbeat has, per address
LOGIN_FAILED = "login_failed"  # allauth's: failures per address, and per account from every address
LOGIN_FAILED_HERE = "login_failed_here"  # ours: failures per account from one address

# allauth's own 429s (its rate_limit decorator), by page: the action whose rates apply there.
PAGE_ACTIONS = {  # page and action names, not passwords  # nosec B105
    "account_login": "login",
    "account_signup": "signup",
    "account_reset_password": "reset_password",
    "account_reset_password_from_key": "reset_password_from_key",
    "account_change_password": "change_password",
    "account_set_password": "change_password",
    "account_complete_password_reset": "reset_password_from_key",
    "account_change_phone": "change_phone",
    "account_email": "manage_email",
    "account_reauthenticate": "reauthenticate",
}


def _wait(request: HttpRequest, action: str, key: str | None) -> float:
    """Seconds until the next attempt passes every rate of the action it is over; 0 when it is over none.
    Read from the hits allauth's limiter keeps per rate (a rate counted per key needs the key)."""
    now = time.time()
    wait = 0.0
    for rate in get_rates(app="allauth.account", action=action):
        if (rate.per == "key" and key is None) or (rate.per == "user" and not request.user.is_authenticated):
            continue
        cache_key = get_cache_key(request, app="allauth.account", action=action, rate=rate, key=key)
        history = [t for t in cache.get(cache_key, []) if t > now - rate.duration]
        if len(history) >= rate.amount:
            wait = max(wait, history[rate.amount - 1] + rate.duration - now)
    return wait


def retry_after(request: HttpRequest, *limits: tuple[str, str | None]) -> int:
    """Seconds to wait before the next attempt, over every (action, key) given; at least 1. When no rate
    reads as full (a race, or a rate per key that was not given), the longest window: never too short."""
    wait = max((_wait(request, action, key) for action, key in limits), default=0.0)
    if not wait:
        windows = [float(r.duration) for action, _ in limits for r in get_rates(app="allauth.account", action=action)]
        wait = max(windows, default=60.0)
    return max(1, math.ceil(wait))


def in_words(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def too_many(request: HttpRequest, message: str, seconds: int) -> HttpResponse:
    """The 429 of a page: JSON for a script that asked for JSON, the 429 page otherwise; with Retry-After."""
    if get_adapter(request).is_ajax(request):
        response: HttpResponse = JsonResponse({"error": message, "retry_after": seconds}, status=429)
    else:
        response = render(request, "429.html", {"message": message, "retry_after": seconds}, status=429)
    response["Retry-After"] = str(seconds)
    return response


def handler429(request: HttpRequest) -> HttpResponse:
    """allauth's 429 (sign-in, sign-up, password reset over their per-address rates), with Retry-After."""
    match = request.resolver_match
    action = PAGE_ACTIONS.get(match.url_name or "", "") if match else ""
    # On a page not listed, every action's rates are an upper bound: the wait is never understated.
    limits = [(action, None)] if action else [(a, None) for a in settings.ACCOUNT_RATE_LIMITS]
    seconds = retry_after(request, *limits)
    return too_many(request, f"Too many attempts in a short time. Try again in {in_words(seconds)}.", seconds)


def invitation_limited(request: HttpRequest) -> HttpResponse | None:
    """A 429 page once a person (or an address) has sent too many invitations; None while within the rate."""
    if ratelimit.consume(request, action=INVITE, user=request.user):
        return None
    seconds = retry_after(request, (INVITE, None))
    message = f"Too many invitations sent in a short time. Try again in {in_words(seconds)}."
    return too_many(request, message, seconds)


# --- The token APIs (deploys, scans): a valid token keeps its own budget, whatever others send with its visible
# prefix ---


def api_failure_counted(request: HttpRequest, prefix: str) -> bool:
    """Counts a failed token check against the address and, when a live token's secret was wrong, against
    that token's prefix. False once either is over its rate (an address over it is not counted further)."""
    within = ratelimit.consume(request, action=API_DEPLOYS_FAILED)
    if prefix:
        within = ratelimit.consume(request, action=API_DEPLOYS_WRONG_SECRET, key=prefix) and within
    return within


def api_call_counted(request: HttpRequest, prefix: str, action: str = API_DEPLOYS) -> bool:
    """Counts a call made with a valid token; False once the token, or its address, is over its rate (the
    deploy API's, or `action`'s: an upload to scan has a rate of its own)."""
    return ratelimit.consume(request, action=action, key=prefix)


# --- Heartbeat pings: a GET counts too (allauth's own limiter passes GETs over unless asked) ---


def _counted(request: HttpRequest, action: str, key: str | None = None) -> bool:
    usage = ratelimit_internal.consume(request, app="allauth.account", action=action, key=key, limit_get=True)
    return usage is not None


def heartbeat_ping_counted(request: HttpRequest, digest: str) -> bool:
    """Counts a ping against its heartbeat's rate; False once the heartbeat is over it."""
    return _counted(request, HEARTBEAT_PINGS, digest)


def heartbeat_miss_counted(request: HttpRequest) -> bool:
    """Counts a ping to a URL no heartbeat has against the address; False once the address is over its rate."""
    return _counted(request, HEARTBEAT_UNKNOWN)


# --- Sign-in: failures per account from one address, beside allauth's per address and per account ---


def sign_in_key(request: HttpRequest, email: str) -> str:
    """One account seen from one address (IPv6 by its /64, as allauth counts addresses)."""
    return f"{email.strip().lower()}|{get_ip(request)}"


def sign_in_refused_here(request: HttpRequest, email: str) -> bool:
    """True once this account has failed too often from this address; other addresses are not affected."""
    return not ratelimit.consume(request, action=LOGIN_FAILED_HERE, key=sign_in_key(request, email), dry_run=True)


def sign_in_failure_counted(request: HttpRequest, email: str) -> None:
    ratelimit.consume(request, action=LOGIN_FAILED_HERE, key=sign_in_key(request, email))


def sign_in_failures_cleared(request: HttpRequest, emails: Iterable[str]) -> None:
    for email in emails:
        ratelimit.clear(request, action=LOGIN_FAILED_HERE, key=sign_in_key(request, email))


def sign_in_throttled(request: HttpRequest, email: str) -> HttpResponse:
    """The 429 of a sign-in over any of its failure rates, saying how long to wait."""
    # allauth's own key for the account's failures, so that the wait read is the one it counts.
    here, everywhere = (
        sign_in_key(request, email),
        get_adapter(request)._get_login_attempts_cache_key(request, email=email),
    )
    seconds = retry_after(request, (LOGIN_FAILED_HERE, here), (LOGIN_FAILED, everywhere))
    message = (
        f"Too many failed sign-ins. Try again in {in_words(seconds)}, or reset your password if you have forgotten it."
    )
    return too_many(request, message, seconds)
