"""One sandbox world for the audit tests: the healthy domain, every tripping domain and the demo."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from audits.target import AuditTarget, RouteSpec
from launchready.sandbox.runner import Sandbox
from launchready.sandbox.scenarios import build_world
from launchready.sandbox.web import WebSandbox


@pytest.fixture(scope="session")
def world_sandbox() -> Iterator[Sandbox]:
    world = build_world()
    with Sandbox(world.zone, web=WebSandbox(world.sites)) as sandbox:
        yield sandbox


@pytest.fixture
def sandbox_env(world_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """The LAUNCHREADY_* settings pointing at the sandbox, as the product reads them."""
    for key, value in world_sandbox.env().items():
        monkeypatch.setenv(key, value)
    return world_sandbox


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
