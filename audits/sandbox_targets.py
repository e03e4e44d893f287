"""The audit targets of the sandbox's domains, set up as a consultant would set up a client's domain."""

from __future__ import annotations

from audits.target import AuditTarget, RouteSpec
from launchready.sandbox.scenarios import EXTRA_LABELS


def sandbox_target(apex: str, *, labels: list[str] | None = None, trip: str | None = None) -> AuditTarget:
    """The target a consultant would set up for a sandbox domain: app and api hosts, the usual routes."""
    return AuditTarget(
        apex=apex,
        labels=labels if labels is not None else ["app", "api", *EXTRA_LABELS.get(trip or "", [])],
        mail_providers=["google"],
        dkim_selectors=["google"],
        routes=[
            RouteSpec(f"https://www.{apex}/", "homepage"),
            RouteSpec(f"https://app.{apex}/login", "login", (200,), "Sign in"),
            RouteSpec(f"https://app.{apex}/dashboard", "dashboard", (200, 302)),
            RouteSpec(f"https://api.{apex}/health", "api_health"),
            RouteSpec(f"https://api.{apex}/webhooks/stripe", "webhook", (200, 400, 405)),
        ],
    )
