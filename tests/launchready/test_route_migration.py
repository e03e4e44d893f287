"""The migration that makes one route per address keeps the first route of each address saved twice and
drops the later copies. The suite runs without migrations, so this runs them, in a database of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg

from tests.conftest import ROOT

SEED = """
from accounts.models import Workspace
from launchready.models import Client, Domain, Route
domain = Domain.objects.create(client=Client.objects.create(workspace=Workspace.objects.create(name="W"), name="S"),
                               name="studiokit.test")
first = Route.objects.create(domain=domain, host="", path="/login", expected_statuses=[200])
Route.objects.create(domain=domain, host="", path="/login", expected_statuses=[200])
other = Route.objects.create(domain=domain, host="app", path="/login", expected_statuses=[200])
print(first.id, other.id)
"""
KEPT = "from launchready.models import Route; print(*sorted(Route.objects.values_list('id', flat=True)))"


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def test_it_keeps_the_first_copy_of_a_route_saved_twice() -> None:
    base = urlsplit(os.environ["DATABASE_URL"])
    scratch = base.path.lstrip("/") + "_route_migration"
    admin = urlunsplit(base._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        conn.execute(f'CREATE DATABASE "{scratch}"')
    env = {**os.environ, "DATABASE_URL": urlunsplit(base._replace(path=f"/{scratch}"))}
    try:
        _manage(env, "migrate", "--no-input", "-v", "0")
        _manage(env, "migrate", "launchready", "0004_domain_asset_hosts", "--no-input", "-v", "0")
        first, other = _manage(env, "shell", "-c", SEED).split()
        _manage(env, "migrate", "--no-input", "-v", "0")
        assert _manage(env, "shell", "-c", KEPT).split() == sorted([first, other], key=int)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
