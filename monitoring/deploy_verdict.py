"""A deploy's smoke-test verdict as the client's CI reads it (`GET /api/v1/deploys/<id>`): pending, passed or
failed with the failing steps; with `?wait=N` the answer waits up to N seconds (at most 60) for the verdict,
reading the row once a second and giving its database connection back between reads. The answer also carries
the p95 of each core route the day before and the hour after the deploy (monitoring/deploy_latency.py)."""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from django.db import connection

from launchready.models import Client
from monitoring.deploy_latency import measure
from monitoring.models import Deploy

MAX_WAIT = 60
POLL_SECONDS = 1.0


def wait_seconds(raw: str) -> int | None:
    """The wait asked for, capped at MAX_WAIT; None when it is not a whole number of seconds."""
    raw = raw.strip()
    if not raw:
        return 0
    if not raw.isdigit():
        return None
    return min(int(raw), MAX_WAIT)


def deploy_of(client: Client, code: str) -> Deploy | None:
    """The client's deploy with this code; None for a malformed code or another client's deploy."""
    try:
        uuid = UUID(code)
    except ValueError:
        return None
    return Deploy.objects.filter(client=client, code=uuid).first()


def _release_connection() -> None:
    # Outside a transaction the connection is closed between reads (the next read opens one), so a waiting CI
    # holds none while it sleeps.
    if not connection.in_atomic_block:
        connection.close()


def settled(deploy: Deploy, wait: int, *, clock: Any = time.monotonic, sleep: Any = time.sleep) -> Deploy:
    """The deploy once its smoke test has a verdict, or as it stands after `wait` seconds."""
    deadline = clock() + wait
    while deploy.smoke == Deploy.Smoke.PENDING and clock() < deadline:
        _release_connection()
        sleep(min(POLL_SECONDS, max(0.0, deadline - clock())))
        fresh = Deploy.objects.filter(pk=deploy.pk).only("smoke", "smoke_results", "smoke_finished_at").first()
        if fresh is None:
            break
        deploy.smoke, deploy.smoke_results, deploy.smoke_finished_at = (
            fresh.smoke,
            fresh.smoke_results,
            fresh.smoke_finished_at,
        )
    return deploy


def verdict(deploy: Deploy) -> dict[str, Any]:
    """The verdict as JSON: its state, every step's result and the failing ones in words; and under "latency"
    each core route's p95 before and after ("measuring" until the hour after is over)."""
    results = list(deploy.smoke_results or [])
    failing = [
        {"step": r.get("url", ""), "kind": r.get("kind", ""), "problem": r.get("problem", "")}
        for r in results
        if not r.get("ok")
    ]
    return {
        "deploy": str(deploy.code),
        "state": deploy.smoke,
        "version": deploy.version,
        "commit": deploy.commit,
        "environment": deploy.environment,
        "created": deploy.created.isoformat(),
        "finished_at": deploy.smoke_finished_at and deploy.smoke_finished_at.isoformat(),
        "failing": failing,
        "steps": [
            {
                "step": r.get("url", ""),
                "kind": r.get("kind", ""),
                "status": r.get("status"),
                "ms": r.get("ms"),
                "ok": bool(r.get("ok")),
                "problem": r.get("problem", ""),
            }
            for r in results
        ],
        "latency": [route.as_json() for route in measure([deploy]).get(deploy.id, [])],
    }
