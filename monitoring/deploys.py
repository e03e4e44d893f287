"""Deploy markers: per-client API tokens (stored as a prefix and an HMAC, shown once), recording a deploy
from the client's CI, and the post-deploy smoke test of its key routes."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from launchready.models import Client, Route
from launchready.net import Net
from monitoring.alerts import alerts_for
from monitoring.models import Alert, ApiToken, Deploy

SMOKE_KINDS = [Route.Kind.HOMEPAGE, Route.Kind.LOGIN, Route.Kind.DASHBOARD, Route.Kind.API_HEALTH]
SMOKE_BUDGET_MS = 2000


def _digest(secret: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), secret.encode(), hashlib.sha256).hexdigest()


def token_create(*, client: Client, name: str, user: User | None) -> tuple[ApiToken, str]:
    """A new token; the full value is returned once and never stored."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(30)
    token = ApiToken.objects.create(client=client, name=name, prefix=prefix, digest=_digest(secret), created_by=user)
    return token, f"lr_{prefix}_{secret}"


@dataclass(frozen=True)
class TokenCheck:
    """What a presented token turned out to be: a live token, or why it was refused (never its secret).
    `prefix` is set only when the prefix belongs to a live token and the secret did not match."""

    token: ApiToken | None = None
    refusal: str = ""
    prefix: str = ""


def token_check(value: str) -> TokenCheck:
    """The live token this value belongs to, compared in constant time, or the reason it is refused."""
    parts = value.strip().split("_", 2)
    if not value.strip():
        return TokenCheck(refusal="no token")
    if len(parts) != 3 or parts[0] != "lr" or not parts[1] or not parts[2]:
        return TokenCheck(refusal="not a Launch Ready token")
    token = ApiToken.objects.select_related("client").filter(prefix=parts[1], revoked_at__isnull=True).first()
    if token is None:
        return TokenCheck(refusal="unknown or revoked token")
    if not hmac.compare_digest(token.digest, _digest(parts[2])):
        return TokenCheck(refusal=f"wrong secret for token #{token.pk}", prefix=token.prefix)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return TokenCheck(token=token)


def deploy_record(*, token: ApiToken, version: str, commit: str, environment: str) -> Deploy:
    deploy = Deploy.objects.create(
        client=token.client, token=token, version=version, commit=commit, environment=environment or "production"
    )
    from monitoring.tasks import smoke_test_task

    transaction.on_commit(lambda: smoke_test_task.delay(deploy.id))
    return deploy


def smoke_routes(client: Client) -> list[Route]:
    """One route of each kind that matters after a deploy: homepage, login, dashboard, an API endpoint."""
    routes = Route.objects.filter(domain__client=client, kind__in=SMOKE_KINDS).select_related("domain")
    chosen: dict[str, Route] = {}
    for route in routes.order_by("created"):
        chosen.setdefault(route.kind, route)
    return [chosen[k] for k in SMOKE_KINDS if k in chosen]


async def _probe(routes: list[Route]) -> list[dict[str, Any]]:
    async with Net() as net:

        async def one(route: Route) -> dict[str, Any]:
            started = time.monotonic()
            result = await net.fetch(route.url, max_bytes=65536)
            elapsed = (time.monotonic() - started) * 1000
            status = result.final.status
            problem = ""
            if result.error is not None:
                problem = f"{result.error}: {result.final.detail}"
            elif status not in (route.expected_statuses or [200]):
                problem = f"answered {status}"
            elif elapsed > SMOKE_BUDGET_MS:
                problem = f"took {elapsed:.0f} ms (budget {SMOKE_BUDGET_MS} ms)"
            return {
                "url": route.url,
                "kind": route.kind,
                "status": status,
                "ms": round(elapsed),
                "ok": not problem,
                "problem": problem,
            }

        return list(await asyncio.gather(*(one(r) for r in routes)))


def smoke_test(deploy: Deploy) -> Deploy:
    results = asyncio.run(_probe(smoke_routes(deploy.client)))
    passed = all(r["ok"] for r in results)
    deploy.smoke = Deploy.Smoke.PASSED if passed else Deploy.Smoke.FAILED
    deploy.smoke_results = results
    deploy.smoke_finished_at = timezone.now()
    deploy.save(update_fields=["smoke", "smoke_results", "smoke_finished_at"])
    if not passed:
        failing = "; ".join(f"{r['url']} {r['problem']}" for r in results if not r["ok"])
        alerts_for(
            deploy.client_id,
            Alert.Kind.DEPLOY,
            f"deploy:{deploy.id}",
            payload={
                "subject": f"Smoke test failed after deploy {deploy.version or deploy.commit[:8]}",
                "detail": f"After the {deploy.environment} deploy: {failing}",
            },
        )
    return deploy
