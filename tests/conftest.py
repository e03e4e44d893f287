"""Shared fixtures: a workspace seen from every role, and a clean cache for the rate limits."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client as HttpClient

from accounts.models import Membership, Role, User
from launchready.celery import app
from launchready.models import Client, Domain, Route, Sprint
from launchready.sandbox.runner import Sandbox
from launchready.sandbox.scenarios import build_world
from launchready.sandbox.smtp import SmtpSink
from launchready.sandbox.web import WebSandbox
from tests.factories import (
    ClientFactory,
    DomainFactory,
    MembershipFactory,
    RouteFactory,
    SprintFactory,
    UserFactory,
    WorkspaceFactory,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    cache.clear()


@dataclass
class Tenant:
    """One workspace with an owner, a consultant, a client with a domain, route and sprint, and its founder."""

    owner: User
    consultant: User
    founder: User
    client: Client
    domain: Domain
    route: Route
    sprint: Sprint

    @property
    def workspace(self):  # type: ignore[no-untyped-def]
        return self.client.workspace


def make_tenant() -> Tenant:
    workspace = WorkspaceFactory()
    owner = MembershipFactory(workspace=workspace, role=Role.OWNER).user
    consultant = MembershipFactory(workspace=workspace, role=Role.CONSULTANT).user
    client = ClientFactory(workspace=workspace)
    founder = MembershipFactory(workspace=workspace, role=Role.FOUNDER, client=client).user
    domain = DomainFactory(client=client)
    route = RouteFactory(domain=domain)
    sprint = SprintFactory(client=client)
    return Tenant(owner, consultant, founder, client, domain, route, sprint)


@pytest.fixture
def tenant(db: None) -> Tenant:
    return make_tenant()


@pytest.fixture
def other_tenant(db: None) -> Tenant:
    return make_tenant()


def login(user: User, *, authenticated_ago: float = 0.0) -> HttpClient:
    """A browser signed in as `user`, as a real sign-in leaves it: allauth's record of when the person
    last proved who they are sits in the session (the sudo window counts from it)."""
    http = HttpClient()
    http.force_login(user)
    session = http.session
    session["account_authentication_methods"] = [{"method": "password", "at": time.time() - authenticated_ago}]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
    return http


@pytest.fixture
def outsider(db: None) -> User:
    """A signed-in user with no membership anywhere."""
    return UserFactory()


@contextmanager
def eager() -> Iterator[None]:
    """Celery tasks run in-process while inside (the integration tests use a real worker instead)."""
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False
        app.conf.task_eager_propagates = False


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    with eager():
        yield


def wait_until(predicate: Any, timeout: float = 30.0) -> bool:
    """Poll what a real worker or server does (not a wait for time to pass); True once it holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return bool(predicate())


# --- The sandbox: the healthy domain, every tripping domain and the demo, served once per session ---------
@pytest.fixture(scope="session")
def world_sandbox() -> Iterator[Sandbox]:
    world = build_world()
    with Sandbox(world.zone, web=WebSandbox(world.sites)) as sandbox:
        yield sandbox


@pytest.fixture
def fresh_timer() -> Iterator[None]:
    """No timing process before or after: the next one is started anew."""
    from launchready import timing

    def reset() -> None:
        timer, timing.TimingProcess._instance = timing.TimingProcess._instance, None
        if timer is not None:
            timer._proc.kill()
            timer.close()
        timing.TimingProcess._failed_at = -timing.RETRY_AFTER
        timing.TimingProcess._troubled = False

    reset()
    yield
    reset()


@pytest.fixture
def sandbox_env(world_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """The LAUNCHREADY_* settings pointing at the sandbox, as the product (and a worker started after) reads them."""
    for key, value in world_sandbox.env().items():
        monkeypatch.setenv(key, value)
    return world_sandbox


# --- A real worker and a real SMTP sink, for the integration and browser tests -------------------------


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


def start_worker(
    smtp_sink: SmtpSink,
    name: str = "",
    *,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    ping: bool = True,
) -> subprocess.Popen[bytes]:
    """A real Celery worker (solo pool) on the test database, mailing the sink. With `ping`, wait until it
    answers on this process's broker; a worker on another broker is left to show itself by its work."""
    settings = connection.settings_dict
    database_url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    process_env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "EMAIL_URL": f"smtp://{smtp_sink.host}:{smtp_sink.port}",
        "DJANGO_ENV": "test",
        **(env or {}),
    }
    hostname = f"test-{os.getpid()}{'-' + name if name else ''}@%h"
    command = [sys.executable, "-m", "celery", "-A", "launchready", "worker", "--pool", "solo", "--loglevel", "INFO"]
    command += ["--without-gossip", "--without-mingle", "--hostname", hostname]
    process = subprocess.Popen(
        [*command, *args], cwd=ROOT, env=process_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    if not ping:
        return process
    deadline = time.monotonic() + 30
    expected = hostname.replace("%h", socket.gethostname())
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the worker exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        if any(expected in reply for reply in app.control.ping(timeout=0.5)):
            return process
    process.kill()
    raise RuntimeError("the worker did not answer a ping within 30 s")


def stop_worker(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def worker(transactional_db: None, smtp_sink: SmtpSink) -> Iterator[subprocess.Popen[bytes]]:
    app.control.purge()
    process = start_worker(smtp_sink)
    yield process
    stop_worker(process)


__all__ = ["Membership", "Tenant", "login", "make_tenant"]
