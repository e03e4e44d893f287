"""The product audits itself: served by gunicorn on loopback in production mode (TLS from gunicorn
with a certificate of the sandbox CA, a sandbox DNS name pointing at it, whitenoise for static files),
the audit reports no blocker and no high finding."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from audits.catalog import render, severity_of
from audits.engine import run_audit
from audits.findings import Severity
from audits.target import AuditTarget, RouteSpec
from launchready.net import NetConfig
from launchready.sandbox.ca import SandboxCA
from launchready.sandbox.runner import Sandbox
from launchready.sandbox.scenarios import build_dns_only, shared_world
from tests.conftest import ROOT, wait_until

APEX = "launchready-self.test"
ADDRESS = "127.0.8.10"
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((ADDRESS, 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        with socket.create_connection((ADDRESS, port), timeout=0.5):
            return True
    except OSError:
        return False


def _warm(port: int, tls: bool) -> None:
    """One request as a browser would make it (not part of what is measured)."""
    for path in ("/healthz", "/accounts/login/", "/accounts/signup/"):
        raw = socket.create_connection((ADDRESS, port), timeout=15)
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # warm-up only: the audit verifies
        with context.wrap_socket(raw, server_hostname=APEX) if tls else raw as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {APEX}\r\nConnection: close\r\n\r\n".encode())
            while sock.recv(65536):
                pass


def _warm_up(https_port: int, http_port: int) -> None:
    """Every thread of every worker answers once before the audit: first answers compile templates and open
    database and broker connections, which is start-up cost, not the product's time to first byte."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        jobs = [pool.submit(_warm, https_port, True) for _ in range(16)]
        jobs += [pool.submit(_warm, http_port, False) for _ in range(4)]
        for job in jobs:
            job.result()


@dataclass
class Product:
    sandbox: Sandbox
    ca: SandboxCA
    https_port: int
    http_port: int

    def net_config(self) -> NetConfig:
        return NetConfig(
            resolvers=(("127.0.0.1", self.sandbox.dns.port),),
            port_map={53: self.sandbox.dns.port, 80: self.http_port, 443: self.https_port},
            ca_bundle=str(self.ca.bundle_path),
            allow_private_targets=True,
        )


def _production_env(tmp_path: Path) -> dict[str, str]:
    db = connection.settings_dict
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("LAUNCHREADY_", "PYTEST"))},
        "DJANGO_ENV": "production",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": f"{APEX},www.{APEX}",
        "SITE_URL": f"https://{APEX}",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"),
        "LAUNCHREADY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "EMAIL_URL": "smtp://127.0.0.1:2525",
        "DEFAULT_FROM_EMAIL": f"Launch Ready <hello@{APEX}>",
        "STATIC_ROOT": str(tmp_path / "static"),
        "LAUNCHREADY_VAR_DIR": str(tmp_path / "var"),
    }


def _gunicorn(env: dict[str, str], port: int, tls: tuple[Path, Path] | None) -> subprocess.Popen[bytes]:
    # As docker-compose serves it (threads, so a slow client does not hold the only worker), on two CPUs.
    command = [sys.executable, "-m", "gunicorn", "launchready.wsgi", "--bind", f"{ADDRESS}:{port}"]
    command += ["--workers", "2", "--threads", "4", "--preload"]
    if tls is not None:
        command += ["--certfile", str(tls[0]), "--keyfile", str(tls[1])]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture
def product(tmp_path: Path) -> Iterator[Product]:
    world = shared_world()
    build_dns_only(world, APEX, ADDRESS)
    ca = SandboxCA(tmp_path / "ca")
    issued = ca.issue([APEX, f"www.{APEX}"])
    env = _production_env(tmp_path)
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, capture_output=True
    )
    assert collect.returncode == 0, collect.stderr.decode()[-2000:]
    https_port, http_port = _free_port(), _free_port()
    servers = [_gunicorn(env, https_port, (issued.cert_path, issued.key_path)), _gunicorn(env, http_port, None)]
    try:
        assert wait_until(lambda: _listening(https_port) and _listening(http_port), timeout=30), (
            "gunicorn did not start"
        )
        with Sandbox(world.zone) as sandbox:
            yield Product(sandbox, ca, https_port, http_port)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


def test_the_product_in_production_mode_passes_its_own_audit(product: Product) -> None:
    target = AuditTarget(
        apex=APEX,
        canonical="apex",
        mail_providers=["google"],
        dkim_selectors=["google"],
        routes=[
            RouteSpec(f"https://{APEX}/accounts/login/", "login", (200,), "Sign in"),
            RouteSpec(f"https://{APEX}/accounts/signup/", "other", (200,)),
            RouteSpec(f"https://{APEX}/healthz", "api_health", (200,)),
        ],
    )
    outcome = asyncio.run(run_audit(target, config=product.net_config(), deadline=60))
    print("\n".join(sorted(f"{severity_of(f)} {f.check_id} {f.subject}" for f in outcome.findings)))  # on failure
    serious = [
        f"{severity_of(f)} {f.check_id} {f.subject}: {render(f)['title']} {f.evidence}"
        for f in outcome.findings
        if severity_of(f) in (Severity.BLOCKER, Severity.HIGH)
    ]
    assert serious == [], "\n".join(serious)
    assert outcome.failed_checks == [] and outcome.timed_out_checks == []
    seen = {f.check_id for f in outcome.findings}
    assert "tls.certificate" in seen  # the audit really reached the product over TLS
    # Sign-in, sign-up and health answered as expected (their speed on this shared machine is not judged here).
    assert not seen & {"route.unreachable", "route.unexpected_status", "route.keyword_missing"}, seen
