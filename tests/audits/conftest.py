"""Helpers for the audit tests (the sandbox fixtures live in tests/conftest.py)."""

from __future__ import annotations

from audits.target import AuditTarget, RouteSpec


def target_for(apex: str, *, labels: list[str] | None = None) -> AuditTarget:
    """The target a consultant would set up for a sandbox domain: app and api hosts, the usual routes."""
    return AuditTarget(
        apex=apex,
        labels=labels if labels is not None else ["app", "api"],
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
