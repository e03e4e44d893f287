"""Journeys at scale: N four-step journeys at a 60-second interval on one worker, beside the route monitors.

What is measured
    The bench builds N journeys (default 1,000) directly in the database, ten per sandbox SaaS app
    (launchready/sandbox/saas_app.py, healthy: a sign-in form with a CSRF token and a session cookie, a
    dashboard, a JSON API with a bearer token), each the product's own sign-in template with the API call
    (monitoring/journey_templates.py: open the sign-in page and take its CSRF token, post the form, open the
    dashboard, call the API), its secrets (email, password, token) kept encrypted as a consultant's would be,
    and their first due times spread evenly over the first interval. Then it plays the production beat
    for journeys (settings.py "journeys-tick": every 15 s, expiring after 15 s) and ONE worker process, this
    one, running the real task body `monitoring.tasks.journeys_tick()` one tick at a time, as a Celery
    worker with prefetch 1 would; a beat that waited past its expiry is dropped.

    Beside it, unless --monitors 0, bench/monitor_scale.py runs in a process of its own with --monitors
    route monitors (default 5,000) at 60 s on its own sandbox and database, started first so that its
    probing covers the whole journey run: the machine carries both loads, as one server with a worker for
    each would.

    The sandbox is served by a child process (SandboxProcess); PostgreSQL is the real server on
    127.0.0.1:5432 (trust auth, user postgres), in a database the bench creates and drops.

What it prints
    Journeys run, needed and achieved per second; runs that failed and why; schedule lag p50/p95/p99/max
    (a run's start minus the time it was due, taken by wrapping the scheduler's claim and run functions;
    product code is not changed); journeys still overdue at the end; the ticks (how many, dropped, wall and
    CPU); capacity in journeys per second per worker process (runs over the ticks' busy wall time, and over
    this process's CPU time); CPU per step (this process's CPU over the steps run) and the sandbox's; then
    the route monitors' own summary as monitor_scale.py prints it. Nothing is asserted.

Run from the repository root:
    .venv/bin/python bench/journey_scale.py             # 1,000 journeys beside 5,000 monitors, 5 min
    .venv/bin/python bench/journey_scale.py --journeys 200 --monitors 0 --minutes 1     # a quick run
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess  # only to run monitor_scale.py beside this one  # nosec B404
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for _path in (str(ROOT), str(BENCH)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from monitor_scale import (  # noqa: E402
    CpuSnapshot,
    loadavg,
    prepare_environment,
    process_cpu,
    recreate_database,
    setup_django,
)

PERIOD, EXPIRES = 15.0, 15.0  # settings.py "journeys-tick"
PER_APP = 10  # journeys per sandbox SaaS app


def app_name(index: int) -> str:
    return f"jrn-{index:04d}.test"


# --- Set-up ------------------------------------------------------------------------------------------------


def build_journeys(count: int, interval: int, first_due: datetime) -> None:
    from accounts.models import Workspace
    from launchready.models import Client, Domain
    from launchready.sandbox.saas_app import ACCOUNT_EMAIL, ACCOUNT_PASSWORD, api_token
    from monitoring.journey_templates import sign_in
    from monitoring.journeys import create_journey, set_secret

    workspace = Workspace.objects.first() or Workspace.objects.create(name="Journey scale bench")
    apps = (count + PER_APP - 1) // PER_APP
    clients = Client.objects.bulk_create(
        [Client(workspace=workspace, name=f"Bench client {i:04d}") for i in range(apps)]
    )
    Domain.objects.bulk_create(
        [
            Domain(client=client, name=app_name(i), hosts=["app", "api"], daily_audit=False)
            for i, client in enumerate(clients)
        ]
    )
    step = interval / count
    for i in range(count):
        # Journey i on app i % apps, so that neighbours in time are on different apps (as many clients' are).
        a = i % apps
        apex = app_name(a)
        steps = sign_in(f"https://app.{apex}/login", f"https://app.{apex}/dashboard", f"https://api.{apex}/v1/me")
        journey = create_journey(
            clients[a],
            f"Bench journey {i:05d}",
            steps,
            interval=interval,
            next_due_at=first_due + timedelta(seconds=i * step),
        )
        for name, value in (("email", ACCOUNT_EMAIL), ("password", ACCOUNT_PASSWORD), ("api_token", api_token(apex))):
            set_secret(journey, name, value)


# --- The beat and the worker -----------------------------------------------------------------------------


@dataclass
class Tick:
    beat: float
    started: float  # -1: dropped
    ran: int = 0
    wall: float = 0.0
    cpu: float = 0.0


@dataclass
class Observed:
    due: dict[str, datetime] = field(default_factory=dict)  # journey name: when it was due, at its claim
    lags_ms: list[float] = field(default_factory=list)
    steps_ran: int = 0
    runs: int = 0
    failed: dict[str, int] = field(default_factory=dict)


def instrument(observed: Observed) -> None:
    """Wrap the scheduler's claim (to see each journey's due time) and run (to see when it started)."""
    from django.utils import timezone

    from monitoring import journey_scheduler

    claim, run = journey_scheduler.claim_due, journey_scheduler.run_journey

    def claim_due(now: datetime, limit: int = 2000) -> list[Any]:
        journeys = claim(now, limit)
        for journey in journeys:
            observed.due[journey.name] = journey.next_due_at
        return journeys

    async def run_journey(spec: Any, config: Any = None, **kwargs: Any) -> Any:
        due = observed.due.pop(spec.name, None)
        if due is not None:
            observed.lags_ms.append((timezone.now() - due).total_seconds() * 1000)
        result = await run(spec, config, **kwargs)
        observed.runs += 1
        observed.steps_ran += sum(1 for s in result.steps if s.ran)
        if not result.ok:
            observed.failed[result.summary[:120]] = observed.failed.get(result.summary[:120], 0) + 1
        return result

    journey_scheduler.claim_due = claim_due  # type: ignore[assignment]
    journey_scheduler.run_journey = run_journey  # type: ignore[assignment]


def run_beat(seconds: float) -> list[Tick]:
    from monitoring.tasks import journeys_tick

    ticks: list[Tick] = []
    start = time.monotonic()
    k = 0
    while (beat := k * PERIOD) < seconds:
        k += 1
        now = time.monotonic() - start
        if now < beat:
            time.sleep(beat - now)
            now = time.monotonic() - start
        elif now >= beat + EXPIRES:
            ticks.append(Tick(beat, -1.0))
            continue
        tick = Tick(beat, now)
        w, c = time.perf_counter(), time.process_time()
        tick.ran = journeys_tick()
        tick.wall, tick.cpu = time.perf_counter() - w, time.process_time() - c
        ticks.append(tick)
    return ticks


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


# --- Beside: the route monitors --------------------------------------------------------------------------


def start_monitors(args: argparse.Namespace, log: Path) -> subprocess.Popen[bytes] | None:
    if not args.monitors:
        return None
    minutes = args.minutes + 1.5  # covers this bench's build and settle as well as its run
    command = [
        sys.executable,
        str(BENCH / "monitor_scale.py"),
        "--sizes",
        str(args.monitors),
        "--minutes",
        f"{minutes:g}",
        "--no-rollup-at-scale",
    ]
    with log.open("wb") as out:
        # Our own interpreter and bench script.
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)  # nosec B603
    # Wait until its monitors are built and probing, so that the journeys run beside them throughout.
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        if "routes and monitors in" in log.read_text(errors="replace"):
            time.sleep(5)
            return proc
        time.sleep(1)
    raise SystemExit(f"monitor_scale.py did not start probing; see {log}")


def monitors_summary(proc: subprocess.Popen[bytes] | None, log: Path) -> None:
    if proc is None:
        return
    proc.wait()
    text = log.read_text(errors="replace")
    print("\n--- Beside it: bench/monitor_scale.py (its own output, abridged; whole log in", log, ") ---")
    keep = False
    for line in text.splitlines():
        if line.startswith(("=== ", "schedule lag", "probes per second", "failed", "Summary", "CPU")) or keep:
            print(line)
        keep = line.startswith("Summary") or (keep and line.strip() != "")


# --- Main ------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--journeys", type=int, default=1000, help="four-step journeys")
    parser.add_argument("--interval", type=int, default=60, help="every journey's interval, seconds")
    parser.add_argument("--minutes", type=float, default=5.0, help="minutes of running")
    parser.add_argument("--monitors", type=int, default=5000, help="route monitors beside (0: none)")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds between building and the first beat")
    parser.add_argument("--database", default=f"launchready_bench_journeys_{os.getpid()}")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    args = parser.parse_args(argv)

    prepare_environment(args.database)
    print(
        f"Journey scale: {args.journeys:,} four-step journeys every {args.interval} s, {args.minutes:g} min, "
        f"beside {args.monitors:,} route monitors; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}; "
        f"load average {loadavg()} (other work on this machine shows in every figure)",
        flush=True,
    )
    log = Path(tempfile.gettempdir()) / f"journey_scale_monitors_{os.getpid()}.log"
    monitors = start_monitors(args, log)
    recreate_database(args.database)
    try:
        setup_django()
        logging.getLogger("monitoring").setLevel(logging.WARNING)  # one line per run otherwise
        from django.db import connection
        from django.utils import timezone

        from launchready.sandbox.process import SandboxProcess

        apps = (args.journeys + PER_APP - 1) // PER_APP
        with SandboxProcess([], saas_apps=[app_name(i) for i in range(apps)]) as sandbox:
            os.environ.update(sandbox.info["env"])
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                (backend_pid,) = cursor.fetchone()
            built = time.perf_counter()
            t0 = timezone.now() + timedelta(seconds=3600)  # placeholder: set after building
            build_journeys(args.journeys, args.interval, t0)
            from monitoring.models import Journey

            # Due times from the first beat on, kept in their spread.
            shift = (timezone.now() + timedelta(seconds=args.settle)) - t0
            t0 = t0 + shift
            from django.db.models import F

            Journey.objects.update(next_due_at=F("next_due_at") + shift)
            print(
                f"built {apps:,} sandbox apps and {args.journeys:,} journeys ({args.journeys * 4:,} steps) in "
                f"{time.perf_counter() - built:.1f} s",
                flush=True,
            )
            observed = Observed()
            instrument(observed)
            time.sleep(max(0.0, (t0 - timezone.now()).total_seconds()))
            load_before, stats_before = loadavg(), sandbox.stats()
            before = CpuSnapshot.take(sandbox.pid, backend_pid)
            worker_before = process_cpu(os.getpid())
            ticks = run_beat(args.minutes * 60)
            worker_cpu = process_cpu(os.getpid()) - worker_before
            after = CpuSnapshot.take(sandbox.pid, backend_pid)
            stats_after, load_after = sandbox.stats(), loadavg()
            overdue = Journey.objects.filter(next_due_at__lt=timezone.now() - timedelta(seconds=PERIOD)).count()
        wall = after.wall - before.wall
        ran = [t for t in ticks if t.started >= 0]
        lags = observed.lags_ms
        print(f"load average before: {load_before}; after: {load_after}")
        print(
            f"journeys needed {args.journeys / args.interval:.1f}/s, ran {observed.runs:,} in {wall:.0f} s = "
            f"{observed.runs / wall:.1f}/s; steps run {observed.steps_ran:,}; failed runs "
            f"{sum(observed.failed.values()):,}"
        )
        for summary, n in sorted(observed.failed.items(), key=lambda kv: -kv[1])[:5]:
            print(f"    {n:6,} × {summary}")
        print(
            f"schedule lag (start minus due): p50 {percentile(lags, 50) / 1000:.2f} s, p95 "
            f"{percentile(lags, 95) / 1000:.2f} s, p99 {percentile(lags, 99) / 1000:.2f} s, max "
            f"{(max(lags) if lags else float('nan')) / 1000:.2f} s; journeys overdue by more than a beat at the "
            f"end: {overdue:,}"
        )
        print(
            f"ticks: {len(ran)} run, {len(ticks) - len(ran)} dropped; wall per tick p50 "
            f"{percentile([t.wall for t in ran], 50):.2f} s, max {max((t.wall for t in ran), default=0):.2f} s "
            f"(a tick waits for what it claimed ahead to fall due); the worker used {worker_cpu / wall:.0%} of a core"
        )
        print(
            f"capacity of one worker process: {observed.runs / worker_cpu if worker_cpu else 0:.1f} journeys/s "
            f"({observed.steps_ran / worker_cpu if worker_cpu else 0:.0f} steps/s) over its CPU time"
        )
        steps = max(1, observed.steps_ran)
        print(
            f"CPU per step: worker {worker_cpu / steps * 1000:.1f} ms, sandbox "
            f"{(after.sandbox - before.sandbox) / steps * 1000:.1f} ms, PostgreSQL "
            f"{(after.postgres - before.postgres) / steps * 1000:.1f} ms; sandbox answered "
            f"{int(stats_after['http_requests'] - stats_before['http_requests']):,} HTTP requests"
        )
        print(f"machine: {(after.machine_busy - before.machine_busy) / wall:.2f} of {os.cpu_count()} cores busy")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            recreate_database(args.database, drop_only=True)
        monitors_summary(monitors, log)


if __name__ == "__main__":
    main()
