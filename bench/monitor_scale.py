"""Monitoring scale: N routes at a 60-second interval, one scheduler process, real PostgreSQL (DESIGN.md 6, 9).

What is measured
    For each size N (default 1000, 5000 and 10000 routes) the bench builds N monitors directly in the
    database (bulk_create of clients, domains, routes and monitors: N/10 sandbox domains, ten routes each
    on their www, app and api hosts, every route answering 200 or its expected status), staggers their
    first due times evenly across the first interval, and then plays the beat and the worker for
    --minutes: a beat every --tick-seconds (the production schedule's 3 s by default, settings.py
    MONITORING_TICK_SECONDS) and ONE worker process, this one, running the real task body
    `monitoring.tasks.monitoring_tick()` (note_tick, sync_monitors, tick: claim_due of what falls due
    before the next beat, probe_round with asyncio through launchready/net.py starting each probe on its
    due second, record) one tick at a time. As a Celery worker with prefetch 1 would, a beat that fires
    while a tick is still running waits for it, and is dropped when it has waited longer than 0.9 of the
    period (the task's `expires` is one period). The phases
    are timed by wrapping the module functions the task looks up; product code is not changed.

    The sandbox (DNS, HTTP and HTTPS for every domain; no injected latency unless --http-latency-ms or
    --dns-latency-ms) is served by a child process (launchready/sandbox/process.py's SandboxProcess) so that its
    TLS and DNS work does not share this interpreter's lock with the scheduler; its CPU is reported on
    its own line. Its DNS socket gets a 4 MiB receive buffer (--sandbox-dns-rcvbuf), as a busy resolver's
    would have: with the system default (208 KiB here) part of each round's burst of DNS questions is
    dropped, the resolver asks again after its 3 s timeout, and those probes fail as slow (about 17% of
    them at 1,000 routes). PostgreSQL is the real server on 127.0.0.1:5432 (trust auth, user postgres),
    in a database the bench creates and drops (--database, default launchready_bench_<pid>; --keep-db
    keeps it), with DJANGO_ENV=test and DEBUG off; the cache and the Celery broker are kept in this process.

What it prints
    Per size: the schedule (probes per second needed and achieved, the share of probes that failed and
    why, schedule lag p50/p95/p99/max from Probe.lag_ms, i.e. probe start minus due time, monitors still
    overdue by more than one beat at the end, the probes' own latency figures), a minute-by-minute table
    (so a scheduler falling behind
    shows as a growing lag), the ticks (how many, skipped beats, wall and CPU per phase: claim, probe,
    record, plus note_tick and sync_monitors), CPU seconds used by this process, by the sandbox process,
    by PostgreSQL (every postgres process, including backends that ended, through the postmaster's
    reaped-children counters; this bench's own backend on its own line) and by the whole machine (what
    is left is other work on the machine), and storage: monitoring_probe's table and index bytes per
    probe and per route per day (pg_total_relation_size, indexes one by one), then the hourly and daily
    rollups built from the run (rollup_hour, rollup_day: their time, and bytes per route per day) and the
    storage per route once the retention windows are full; then the rollups timed on full-size input
    (one hour of raw probes for every monitor and one day of hourly rollups, generated in SQL and removed
    afterwards; --no-rollup-at-scale skips it). Last, one summary table across sizes beside the target:
    10,000 routes at 60 s with schedule lag p99 under 5 s. Nothing is asserted.

Run from the repository root:
    .venv/bin/python bench/monitor_scale.py                                # 1000, 5000, 10000 routes, 5 min each
    .venv/bin/python bench/monitor_scale.py --sizes 1000 --minutes 1       # a quick run
    .venv/bin/python bench/monitor_scale.py --sizes 10000 --minutes 2
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for _path in (str(ROOT), str(BENCH)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

PG_SERVER = "postgres://postgres@127.0.0.1:5432"
TARGET_ROUTES, TARGET_P99_S = 10_000, 5.0

# (host label, path, kind, expected statuses, keyword): ten routes per sandbox domain, all healthy.
# The dashboard answers 302 to the login page, which the probe follows (two requests for that route).
ROUTES: list[tuple[str, str, str, list[int], str]] = [
    ("", "/", "homepage", [200], ""),
    ("app", "/login", "login", [200], "Sign in"),
    ("api", "/health", "api_health", [200], ""),
    ("", "/static/app.3f9a1c.js", "other", [200], ""),
    ("app", "/dashboard", "dashboard", [200, 302], ""),
    ("api", "/webhooks/stripe", "webhook", [200, 400, 405], ""),
    ("", "/static/app.3f9a1c.css", "other", [200], ""),
    ("", "/?ref=monitor", "other", [200], ""),
    ("", "/static/vendor.7d2e4b.js", "other", [200], ""),
    ("", "/static/logo.svg", "other", [200], ""),
]


# --- Set-up: environment, database, Django ----------------------------------------------------------


def prepare_environment(database: str) -> None:
    """The settings this bench runs under; set before Django reads them."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "launchready.settings"
    os.environ["DATABASE_URL"] = f"{PG_SERVER}/{database}"
    os.environ["DJANGO_ENV"] = "test"
    os.environ["DEBUG"] = "false"  # as in production: no query log kept in memory
    # No Redis: nothing this bench does may touch a shared broker or cache (see use_private_cache_and_broker).
    os.environ.pop("REDIS_URL", None)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:  # the sandbox listens on two sockets per site
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))


def recreate_database(database: str, *, drop_only: bool = False) -> None:
    import psycopg

    if not re.fullmatch(r"launchready_bench\w*", database):
        raise SystemExit(f"refusing to drop {database!r}: the bench's database name must start with launchready_bench")
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        # No FORCE: a database someone is connected to is theirs, and this fails rather than cut them off.
        conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{database}"')


def setup_django() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    use_private_cache_and_broker()
    call_command("migrate", verbosity=0)


def use_private_cache_and_broker() -> None:
    """note_tick writes the last tick's time to the cache, and an opened incident queues alerts: keep both
    in this process (a local-memory cache, an in-memory broker) rather than in files other runs share."""
    from django.test.utils import override_settings

    from launchready.celery import app

    override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "bench"}}
    ).enable()
    app.conf.broker_url = "memory://"


# --- CPU and load from /proc ----------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # fields from the 3rd (state) on: comm may hold spaces


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (all its threads)."""
    fields = _stat_fields(pid)
    return 0.0 if fields is None else (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def postgres_cpu() -> float:
    """CPU seconds of every postgres process, plus what the postmaster reaped from backends that ended."""
    procs: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
        except OSError:
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None:
            procs[int(entry.name)] = fields
    total = 0.0
    for fields in procs.values():
        total += int(fields[11]) + int(fields[12])
        if int(fields[1]) not in procs:  # the postmaster: its parent is not postgres
            total += int(fields[13]) + int(fields[14])
    return total / CLOCK_TICKS


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    total = sum(values[:8])  # user nice system idle iowait irq softirq steal
    return (total - values[3] - values[4]) / CLOCK_TICKS, total / CLOCK_TICKS


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


@dataclass
class CpuSnapshot:
    wall: float
    bench: float
    sandbox: float
    postgres: float
    backend: float
    machine_busy: float
    machine_total: float

    @classmethod
    def take(cls, sandbox_pid: int, backend_pid: int) -> CpuSnapshot:
        busy, total = machine_cpu()
        times = os.times()
        return cls(
            time.monotonic(),
            times.user + times.system,
            process_cpu(sandbox_pid),
            postgres_cpu(),
            process_cpu(backend_pid),
            busy,
            total,
        )


# --- Building N monitors ---------------------------------------------------------------------------------


def domain_name(index: int) -> str:
    return f"mon-{index:05d}.test"


def domains_for(routes: int, per_domain: int) -> int:
    return math.ceil(routes / per_domain)


def reset_tables() -> None:
    from django.db import connection

    from launchready.models import Client
    from monitoring.models import SchedulerGap

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Client._meta.db_table}, {SchedulerGap._meta.db_table} RESTART IDENTITY CASCADE")


def build_monitors(routes: int, per_domain: int, interval: int, first_due: datetime) -> None:
    """N monitors on N/per_domain sandbox domains; due times staggered evenly over the first interval, in
    an order that visits every domain before any domain's next route (as many clients' routes would be)."""
    from django.db import connection

    from accounts.models import Workspace
    from launchready.models import Client, Domain, Route
    from monitoring.models import Monitor

    n_domains = domains_for(routes, per_domain)
    workspace = Workspace.objects.first() or Workspace.objects.create(name="Monitoring scale bench")
    clients = Client.objects.bulk_create(
        [Client(workspace=workspace, name=f"Bench client {i:04d}") for i in range(math.ceil(n_domains / 10))]
    )
    domains = Domain.objects.bulk_create(
        [
            Domain(
                client=clients[i // 10],
                name=domain_name(i),
                hosts=["app", "api"],
                mail_providers=["google"],
                dkim_selectors=["google"],
                daily_audit=False,
            )
            for i in range(n_domains)
        ],
        batch_size=2000,
    )
    # Monitor i: domain i % D, route template i // D; due at first_due + i * interval / N.
    plan = [(i % n_domains, i // n_domains) for i in range(routes)]
    route_objs = []
    for d, t in plan:
        label, path, kind, expected, keyword = ROUTES[t % len(ROUTES)]
        if t >= len(ROUTES):
            path = f"/static/extra-{t}.js"
        route_objs.append(
            Route(domain=domains[d], host=label, path=path, kind=kind, expected_statuses=expected, keyword=keyword)
        )
    route_objs = Route.objects.bulk_create(route_objs, batch_size=2000)
    step = interval / routes
    Monitor.objects.bulk_create(
        [
            Monitor(
                client_id=route.domain.client_id,
                route=route,
                url=route.url,
                expected_statuses=route.expected_statuses,
                keyword=route.keyword,
                interval=interval,
                next_due_at=first_due + timedelta(seconds=i * step),
            )
            for i, route in enumerate(route_objs)
        ],
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# --- The beat and the worker -----------------------------------------------------------------------------


@dataclass
class Tick:
    beat: float  # when the beat fired (seconds from the start)
    start: float  # when the worker started it
    probed: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    phases: dict[str, tuple[float, float]] = field(default_factory=dict)  # phase -> (wall, cpu)


PHASES = ("note_tick", "sync_monitors", "claim_due", "probe_round", "record")


@contextmanager
def timed_phases(current: Callable[[], Tick | None]) -> Iterator[None]:
    """Wrap the task's phases (module attributes the task and tick() look up at call time) with timers;
    product code is not changed, and the originals are put back afterwards."""
    from monitoring import scheduler, tasks

    def add(name: str, wall: float, cpu: float) -> None:
        tick = current()
        if tick is not None:
            w, c = tick.phases.get(name, (0.0, 0.0))
            tick.phases[name] = (w + wall, c + cpu)

    def sync_wrapper(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            w, c = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                add(name, time.perf_counter() - w, time.process_time() - c)

        return wrapped

    def async_wrapper(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        async def wrapped(*args: Any, **kwargs: Any) -> Any:
            w, c = time.perf_counter(), time.process_time()
            try:
                return await fn(*args, **kwargs)
            finally:
                add(name, time.perf_counter() - w, time.process_time() - c)

        return wrapped

    originals = [
        (tasks, "note_tick", tasks.note_tick, sync_wrapper),
        (tasks, "sync_monitors", tasks.sync_monitors, sync_wrapper),
        (scheduler, "claim_due", scheduler.claim_due, sync_wrapper),
        (scheduler, "probe_round", scheduler.probe_round, async_wrapper),
        (scheduler, "record", scheduler.record, sync_wrapper),
    ]
    for module, name, fn, wrap in originals:
        setattr(module, name, wrap(name, fn))
    try:
        yield
    finally:
        for module, name, fn, _ in originals:
            setattr(module, name, fn)


def run_beat(seconds: float, period: float) -> list[Tick]:
    """Beats every `period` s for `seconds`; one worker runs them one at a time, dropping a beat that
    waited longer than its `expires` (0.9 of the period, as settings.py gives the 10 s tick 9 s)."""
    from monitoring.tasks import monitoring_tick

    expires = 0.9 * period
    ticks: list[Tick] = []
    current: list[Tick | None] = [None]
    start = time.monotonic()
    k = 0
    with timed_phases(lambda: current[0]):
        while True:
            beat = k * period
            if beat >= seconds:
                break
            now = time.monotonic() - start
            if now < beat:
                time.sleep(beat - now)
                now = time.monotonic() - start
            elif now >= beat + expires:
                ticks.append(Tick(beat, -1.0))  # expired in the queue: never run
                k += 1
                continue
            tick = Tick(beat, now)
            current[0] = tick
            w, c = time.perf_counter(), time.process_time()
            tick.probed = monitoring_tick()
            tick.wall, tick.cpu = time.perf_counter() - w, time.process_time() - c
            current[0] = None
            ticks.append(tick)
            k += 1
    return ticks


# --- Figures from the database -----------------------------------------------------------------------------


def sql(query: str, params: list[Any] | tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return list(cursor.fetchall()) if cursor.description else []


@dataclass
class Schedule:
    probes: int
    failed: int
    p50: float
    p95: float
    p99: float
    max: float
    causes: list[tuple[str, int, str]]
    minutes: list[tuple[int, int, int, float, float, float]]
    overdue: int
    oldest_overdue: float
    latency_p50: float
    latency_p99: float
    incidents: int


def schedule_figures(t0: datetime, end: datetime, period: float) -> Schedule:
    from monitoring.models import Incident, Monitor, Probe

    probe, monitor = Probe._meta.db_table, Monitor._meta.db_table
    row = sql(
        f"SELECT count(*), count(*) FILTER (WHERE NOT ok), "  # noqa: S608
        f"percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY lag_ms), max(lag_ms) FROM {probe}"
    )[0]
    quantiles = row[2] or [0.0, 0.0, 0.0]
    latency = sql(
        f"SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY latency_ms) FROM {probe} WHERE ok"  # noqa: S608
    )[0][0] or [0.0, 0.0]
    causes = sql(
        f"SELECT cause, count(*), min(error) FROM {probe} WHERE NOT ok GROUP BY cause ORDER BY 2 DESC"  # noqa: S608
    )
    minutes = sql(
        f"SELECT floor(extract(epoch FROM at - %s) / 60)::int AS m, count(*), count(*) FILTER (WHERE NOT ok), "  # noqa: S608
        f"percentile_cont(0.5) WITHIN GROUP (ORDER BY lag_ms), percentile_cont(0.99) WITHIN GROUP (ORDER BY lag_ms), "
        f"max(lag_ms) FROM {probe} GROUP BY m ORDER BY m",
        [t0],
    )
    overdue = sql(
        f"SELECT count(*), coalesce(extract(epoch FROM %s - min(next_due_at)), 0) FROM {monitor} "  # noqa: S608
        "WHERE next_due_at < %s",
        [end, end - timedelta(seconds=period)],
    )[0]
    return Schedule(
        row[0],
        row[1],
        quantiles[0] / 1000,
        quantiles[1] / 1000,
        quantiles[2] / 1000,
        (row[3] or 0.0) / 1000,
        causes,
        [(int(m[0]), m[1], m[2], m[3] / 1000, m[4] / 1000, m[5] / 1000) for m in minutes],
        overdue[0],
        float(overdue[1]),
        latency[0],
        latency[1],
        Incident.objects.count(),
    )


@dataclass
class TableSize:
    rows: int
    total: int  # pg_total_relation_size: heap, TOAST, free-space and visibility maps, indexes
    heap: int
    indexes: list[tuple[str, int]]

    @property
    def per_row(self) -> float:
        return self.total / self.rows if self.rows else 0.0


def table_size(table: str, where: str = "") -> TableSize:
    rows = sql(f"SELECT count(*) FROM {table} {where}")[0][0]  # noqa: S608
    total, heap = sql("SELECT pg_total_relation_size(%s), pg_relation_size(%s)", [table, table])[0]
    indexes = sql(
        "SELECT indexrelname, pg_relation_size(indexrelid) FROM pg_stat_user_indexes WHERE relname = %s ORDER BY 1",
        [table],
    )
    return TableSize(rows, total, heap, [(name, size) for name, size in indexes])


@dataclass
class Storage:
    probe: TableSize
    rollup: TableSize
    monitor: TableSize
    hourly_rows: int
    daily_rows: int
    rollup_seconds: float
    rollup_cpu: float
    rolled_probes: int
    at_scale: dict[str, float] = field(default_factory=dict)


def storage_figures(t0: datetime, end: datetime) -> Storage:
    from monitoring.models import Monitor, Probe, Rollup
    from monitoring.rollup import HOUR, day_start, hour_start, rollup_day, rollup_hour

    # As autovacuum would: the sizes below include the free-space and visibility maps.
    sql(f"VACUUM ANALYZE {Probe._meta.db_table}, {Monitor._meta.db_table}")
    probe = table_size(Probe._meta.db_table)
    monitor = table_size(Monitor._meta.db_table)
    w, c = time.perf_counter(), time.process_time()
    hour = hour_start(t0)
    while hour <= end:
        rollup_hour(hour)
        hour += HOUR
    day = day_start(t0)
    while day <= end:
        rollup_day(day)
        day += timedelta(days=1)
    seconds, cpu = time.perf_counter() - w, time.process_time() - c
    sql(f"VACUUM ANALYZE {Rollup._meta.db_table}")
    rollup = table_size(Rollup._meta.db_table)
    hourly = Rollup.objects.filter(period=Rollup.Period.HOUR).count()
    daily = Rollup.objects.filter(period=Rollup.Period.DAY).count()
    return Storage(probe, rollup, monitor, hourly, daily, seconds, cpu, probe.rows)


def rollup_at_scale(interval: int) -> dict[str, float]:
    """Time the rollups on full-size input: a full hour of raw probes for every monitor (generated in SQL on a
    day before the run), then a full day of hourly rollups; both removed afterwards."""
    from django.utils import timezone

    from monitoring import histogram
    from monitoring.models import Monitor, Probe, Rollup
    from monitoring.rollup import day_start, rollup_day, rollup_hour

    probe, rollup, monitor = Probe._meta.db_table, Rollup._meta.db_table, Monitor._meta.db_table
    today = day_start(timezone.now())
    hour, day = today - timedelta(days=2) + timedelta(hours=12), today - timedelta(days=3)
    per_hour = 3600 // interval
    out: dict[str, float] = {}
    w = time.perf_counter()
    sql(
        f"INSERT INTO {probe} (monitor_id, at, ok, status, latency_ms, cause, error, lag_ms) "  # noqa: S608
        f"SELECT m.id, %s + make_interval(secs => g * {interval} + mod(m.id, {interval})), true, 200, "
        f"20 + random() * 300, '', '', random() * 1000 FROM {monitor} m CROSS JOIN generate_series(0, %s) g",
        [hour, per_hour - 1],
    )
    hist = histogram.empty()
    for i in range(per_hour):
        histogram.add(hist, 20 + (i * 37) % 300)
    sql(
        f"INSERT INTO {rollup} (monitor_id, period, start, probes, failures, unknown_seconds, histogram) "  # noqa: S608
        f"SELECT m.id, 'hour', %s + make_interval(hours => g), %s, 0, 0, %s::jsonb "
        f"FROM {monitor} m CROSS JOIN generate_series(0, 23) g",
        [day, per_hour, json.dumps(hist)],
    )
    sql(f"ANALYZE {probe}, {rollup}")
    out["generate"] = time.perf_counter() - w
    for name, job in (("hour", lambda: rollup_hour(hour)), ("day", lambda: rollup_day(day))):
        pg, w, c = postgres_cpu(), time.perf_counter(), time.process_time()
        out[f"{name}_rows"] = job()
        out[f"{name}_wall"], out[f"{name}_cpu"] = time.perf_counter() - w, time.process_time() - c
        out[f"{name}_pg"] = postgres_cpu() - pg
    out["hour_input"], out["day_input"] = per_hour * out["hour_rows"], 24 * out["day_rows"]
    sql(f"DELETE FROM {probe} WHERE at < %s", [today - timedelta(days=1)])  # noqa: S608
    sql(f"DELETE FROM {rollup} WHERE start < %s", [today - timedelta(days=1)])  # noqa: S608
    return out


# --- One size ----------------------------------------------------------------------------------------------


@dataclass
class Result:
    routes: int
    seconds: float
    schedule: Schedule
    ticks: list[Tick]
    cpu: dict[str, float]
    storage: Storage
    sandbox_requests: int
    sandbox_dns: int
    udp_drops: int | None
    load_before: str
    load_after: str


def run_size(args: argparse.Namespace, routes: int, sandbox: Any, backend_pid: int) -> Result:
    from audit_latency import udp_receive_errors
    from django.utils import timezone

    print(
        f"\n=== {routes:,} routes, interval {args.interval} s, beat every {args.tick_seconds:g} s, "
        f"{args.minutes:g} min ===",
        flush=True,
    )
    reset_tables()
    built = time.perf_counter()
    t0 = timezone.now() + timedelta(seconds=args.settle)
    build_monitors(routes, args.routes_per_domain, args.interval, t0)
    print(
        f"built {domains_for(routes, args.routes_per_domain):,} domains and {routes:,} routes and monitors in "
        f"{time.perf_counter() - built:.1f} s; first due at the first beat",
        flush=True,
    )
    wait = (t0 - timezone.now()).total_seconds()
    if wait > 0:
        time.sleep(wait)
    load_before = loadavg()
    before_stats, udp_before = sandbox.stats(), udp_receive_errors()
    before = CpuSnapshot.take(sandbox.pid, backend_pid)
    ticks = run_beat(args.minutes * 60, args.tick_seconds)
    after = CpuSnapshot.take(sandbox.pid, backend_pid)
    after_stats, udp_after = sandbox.stats(), udp_receive_errors()
    load_after = loadavg()
    end = timezone.now()
    cpu = {
        "wall": after.wall - before.wall,
        "bench": after.bench - before.bench,
        "sandbox": after.sandbox - before.sandbox,
        "postgres": after.postgres - before.postgres,
        "backend": after.backend - before.backend,
        "machine": after.machine_busy - before.machine_busy,
        "machine_total": after.machine_total - before.machine_total,
    }
    schedule = schedule_figures(t0, end, args.tick_seconds)
    storage = storage_figures(t0, end)
    result = Result(
        routes,
        cpu["wall"],
        schedule,
        ticks,
        cpu,
        storage,
        int(after_stats["http_requests"] - before_stats["http_requests"]),
        int(after_stats["dns_queries"] - before_stats["dns_queries"]),
        None if udp_before is None or udp_after is None else udp_after - udp_before,
        load_before,
        load_after,
    )
    print_result(args, result)
    if args.rollup_at_scale:
        storage.at_scale = rollup_at_scale(args.interval)
        print_rollup_at_scale(storage.at_scale)
    return result


# --- Printing ------------------------------------------------------------------------------------------------


def kib(n: float) -> str:
    return f"{n / 1024:,.1f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:,.1f} MiB"


def print_result(args: argparse.Namespace, r: Result) -> None:
    s, cpu, wall = r.schedule, r.cpu, r.seconds
    needed = r.routes / args.interval
    print(f"load average before: {r.load_before}; after: {r.load_after}")
    print(
        f"schedule: {s.probes:,} probes in {wall:.0f} s = {s.probes / wall:.1f}/s (needed {needed:.1f}/s); "
        f"failed {s.failed:,} ({100 * s.failed / max(1, s.probes):.2f}%); "
        f"lag p50 {s.p50:.2f} s, p95 {s.p95:.2f} s, p99 {s.p99:.2f} s, max {s.max:.2f} s; "
        f"overdue by more than one beat at the end: {s.overdue:,}"
        + (f" (oldest {s.oldest_overdue:.0f} s)" if s.overdue else "")
    )
    print(
        f"probe latency as the probe measured it (successful probes): p50 {s.latency_p50:.0f} ms, "
        f"p99 {s.latency_p99:.0f} ms (the sandbox adds {args.http_latency_ms:g} ms; the rest is this machine, "
        f"including the probe's wait for its own event loop)"
    )
    for cause, count, error in s.causes:
        print(f"  failed as {cause or '?'}: {count:,} (e.g. {error[:100]!r})")
    if s.incidents:
        print(f"  incidents opened (two failures in a row; each costs record() its own queries): {s.incidents:,}")
    print(
        f"sandbox saw {r.sandbox_requests:,} HTTP requests ({r.sandbox_requests / max(1, s.probes):.2f} per probe) "
        f"and {r.sandbox_dns:,} DNS queries; UDP receive-buffer drops on this machine: "
        f"{'?' if r.udp_drops is None else r.udp_drops}"
    )
    print("  minute  probes  per s  failed  lag p50  lag p99  lag max")
    by_minute = {m[0]: m for m in s.minutes}
    for minute in range(max(math.ceil(wall / 60), max(by_minute, default=0) + 1)):
        m, count, failed, p50, p99, worst = by_minute.get(minute, (minute, 0, 0, 0.0, 0.0, 0.0))
        if not count:
            print(f"  {m:>6}  {0:>6}  {0:>5.1f}  {0:>6}        -        -        -   (no probe started)")
            continue
        print(f"  {m:>6}  {count:>6}  {count / 60:>5.1f}  {failed:>6}  {p50:>7.2f}  {p99:>7.2f}  {worst:>7.2f}")
    ran = [t for t in r.ticks if t.start >= 0]
    skipped = len(r.ticks) - len(ran)
    late = [t.start - t.beat for t in ran]
    over = sum(1 for t in ran if t.wall > args.tick_seconds)
    print(
        f"ticks: {len(ran)} run, {skipped} beats dropped (expired while a tick ran), {over} longer than the beat; "
        f"probed per tick mean {sum(t.probed for t in ran) / max(1, len(ran)):.0f}, "
        f"max {max((t.probed for t in ran), default=0)}; "
        f"started after their beat by mean {sum(late) / max(1, len(late)):.2f} s, max {max(late, default=0):.2f} s"
    )
    longest = max(ran, key=lambda t: t.wall, default=None)
    if longest is not None:
        parts = ", ".join(f"{name} {w:.2f} s ({c:.2f} s CPU)" for name, (w, c) in longest.phases.items() if w >= 0.01)
        print(
            f"  longest tick: the beat at {longest.beat:.0f} s, {longest.probed:,} monitors, "
            f"{longest.wall:.1f} s: {parts}"
        )
    print("  phase           wall mean  wall max   CPU mean   (this process, per tick)")
    for phase in (*PHASES, "whole tick"):
        if phase == "whole tick":
            walls, cpus = [t.wall for t in ran], [t.cpu for t in ran]
        else:
            walls = [t.phases.get(phase, (0.0, 0.0))[0] for t in ran]
            cpus = [t.phases.get(phase, (0.0, 0.0))[1] for t in ran]
        n = max(1, len(ran))
        print(f"  {phase:<14} {sum(walls) / n:>9.3f}s {max(walls, default=0):>8.3f}s {sum(cpus) / n:>9.3f}s")
    cores = os.cpu_count() or 1
    other = cpu["machine"] - cpu["bench"] - cpu["sandbox"] - cpu["postgres"]
    print(f"CPU seconds over {wall:.0f} s of wall time ({cores} cores = {cores * wall:.0f} CPU-s available):")
    for label, value in (
        ("this process (beat + worker: claim, asyncio probes, record)", cpu["bench"]),
        ("sandbox process (DNS, HTTP/HTTPS servers; Python too)", cpu["sandbox"]),
        ("PostgreSQL, every process", cpu["postgres"]),
        ("  of which this bench's backend", cpu["backend"]),
        ("whole machine, busy", cpu["machine"]),
        ("  other work on the machine", other),
    ):
        print(f"  {label:<62} {value:>8.1f} s  ({100 * value / wall:>5.1f}% of one core)")
    per_probe = cpu["bench"] / max(1, s.probes) * 1000
    print(
        f"  per probe: this process {per_probe:.2f} ms, sandbox {cpu['sandbox'] / max(1, s.probes) * 1000:.2f} ms, "
        f"PostgreSQL {cpu['postgres'] / max(1, s.probes) * 1000:.2f} ms of CPU"
    )
    print_storage(args, r)


def print_storage(args: argparse.Namespace, r: Result) -> None:
    st = r.storage
    per_day = 86400 / args.interval
    raw_day = st.probe.per_row * per_day
    rollup_row = st.rollup.per_row
    rollup_day = rollup_row * 25  # 24 hourly rollups and one daily per route per day
    print(
        f"storage: monitoring_probe {st.probe.rows:,} rows, {kib(st.probe.total)} "
        f"(heap {kib(st.probe.heap)}) = {st.probe.per_row:.0f} B per probe "
        f"-> {raw_day / 1024:,.1f} KiB per route per day at {args.interval} s"
    )
    for name, size in st.probe.indexes:
        print(f"  index {name:<48} {kib(size):>12}  {size / max(1, st.probe.rows):>5.0f} B per probe")
    print(
        f"  rollup_hour + rollup_day over the run's {st.rolled_probes:,} probes: {st.rollup_seconds:.2f} s wall, "
        f"{st.rollup_cpu:.2f} s CPU here"
    )
    print(
        f"  monitoring_rollup {st.rollup.rows:,} rows ({st.hourly_rows:,} hourly, {st.daily_rows:,} daily), "
        f"{kib(st.rollup.total)} = {rollup_row:.0f} B per rollup -> {rollup_day / 1024:,.1f} KiB per route per day"
    )
    for name, size in st.rollup.indexes:
        print(f"  index {name:<48} {kib(size):>12}  {size / max(1, st.rollup.rows):>5.0f} B per rollup")
    retention_h = raw_retention_hours()
    bound = raw_day * retention_h / 24 + rollup_row * (35 * 24 + 400)
    print(
        f"  bounded per route once the windows are full: "
        f"raw {retention_h} h {raw_day * retention_h / 24 / 1024:,.0f} KiB "
        f"+ hourly 35 days {rollup_row * 35 * 24 / 1024:,.0f} KiB + daily 400 days {rollup_row * 400 / 1024:,.0f} KiB "
        f"= {bound / 1024 / 1024:.2f} MiB ({r.routes:,} routes: {bound * r.routes / 1024**3:.1f} GiB)"
    )
    print(
        f"  monitoring_monitor after the run: {kib(st.monitor.total)} for {st.monitor.rows:,} monitors "
        f"({st.monitor.per_row:.0f} B each, updated once a probe)"
    )


def print_rollup_at_scale(a: dict[str, float]) -> None:
    if a:
        task = 2 * (a["hour_wall"] + a["day_wall"])
        print(
            f"rollups on full-size input (generated in {a['generate']:.1f} s): rollup_hour over one hour of "
            f"{a['hour_input']:,.0f} raw probes {a['hour_wall']:.2f} s wall ({a['hour_cpu']:.2f} s CPU here, "
            f"{a['hour_pg']:.2f} s PostgreSQL); rollup_day over {a['day_input']:,.0f} hourly rollups "
            f"{a['day_wall']:.2f} s wall ({a['day_cpu']:.2f} s CPU here, {a['day_pg']:.2f} s PostgreSQL)"
        )
        print(
            f"  monitoring_rollup (every 300 s) runs each twice (this hour and the last, today and yesterday): "
            f"about {task:.1f} s per run, {100 * task / 300:.1f}% of a worker, at this size"
        )


def raw_retention_hours() -> int:
    from django.conf import settings

    return int(getattr(settings, "MONITORING_RAW_RETENTION_HOURS", 48))


def print_summary(args: argparse.Namespace, results: list[Result]) -> None:
    print(
        f"\n=== Summary: interval {args.interval} s, beat every {args.tick_seconds:g} s, one worker process, "
        f"{args.minutes:g} min per size, {os.cpu_count()} cores ==="
    )
    print(
        f"Target (DESIGN.md section 9): {TARGET_ROUTES:,} routes at a 60-second interval on this machine with "
        f"schedule lag p99 under {TARGET_P99_S:g} s; storage per route bounded."
    )
    head = (
        f"{'routes':>7} {'need/s':>7} {'got/s':>7} {'failed':>7} {'lag p50':>8} {'p95':>7} {'p99':>7} {'max':>7} "
        f"{'overdue':>8} {'tick max':>8} {'bench CPU':>9} {'sandbox':>8} {'postgres':>8} {'machine':>8} "
        f"{'raw/route/day':>13} {'rollup/route/day':>16}  p99 < 5 s"
    )
    print(head)
    for r in results:
        s, cpu, wall = r.schedule, r.cpu, r.seconds
        ran = [t for t in r.ticks if t.start >= 0]
        raw_day = r.storage.probe.per_row * 86400 / args.interval
        rollup_day = r.storage.rollup.per_row * 25
        cores = os.cpu_count() or 1
        verdict = "yes" if s.p99 < TARGET_P99_S else "NO"
        print(
            f"{r.routes:>7,} {r.routes / args.interval:>7.1f} {s.probes / wall:>7.1f} "
            f"{100 * s.failed / max(1, s.probes):>6.2f}% {s.p50:>7.2f}s {s.p95:>6.2f}s {s.p99:>6.2f}s {s.max:>6.2f}s "
            f"{s.overdue:>8,} {max((t.wall for t in ran), default=0):>7.1f}s "
            f"{100 * cpu['bench'] / wall:>8.0f}% {100 * cpu['sandbox'] / wall:>7.0f}% "
            f"{100 * cpu['postgres'] / wall:>7.0f}% {100 * cpu['machine'] / wall:>4.0f}/{cores * 100}% "
            f"{raw_day / 1024:>9.0f} KiB {rollup_day / 1024:>12.1f} KiB  {verdict}"
        )
    print(
        "CPU columns: share of one core over the run (bench = this process, the single beat + worker; sandbox = "
        "its child process; machine = all processes, out of every core). lag = probe start - due time "
        "(Probe.lag_ms), of the probes that ran; overdue = monitors more than one beat past due when the run "
        "ended, which the lag figures do not include."
    )


# --- Main ------------------------------------------------------------------------------------------------------


def parse_sizes(values: list[str]) -> list[int]:
    return [int(v.replace("_", "")) for value in values for v in value.split(",") if v.strip()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--sizes", nargs="+", default=["1000,5000,10000"], help="route counts, e.g. 1000 5000")
    parser.add_argument("--minutes", type=float, default=5.0, help="minutes of probing per size")
    parser.add_argument("--interval", type=int, default=60, help="every monitor's interval, seconds")
    parser.add_argument(
        "--tick-seconds", type=float, default=3.0, help="the beat's period (production: 3 s, settings.py)"
    )
    parser.add_argument("--routes-per-domain", type=int, default=10, help="routes on each sandbox domain")
    parser.add_argument("--http-latency-ms", type=float, default=0.0, help="delay before every HTTP response")
    parser.add_argument("--dns-latency-ms", type=float, default=0.0, help="delay before every DNS answer")
    parser.add_argument(
        "--sandbox-dns-rcvbuf",
        type=int,
        default=4 << 20,
        help="receive buffer of the sandbox's DNS socket in bytes (default 4 MiB, as a busy resolver's; 0: the "
        "system default, which drops part of each round's burst of DNS questions)",
    )
    parser.add_argument(
        "--no-rollup-at-scale",
        dest="rollup_at_scale",
        action="store_false",
        help="skip timing the rollups on a generated full hour and full day",
    )
    parser.add_argument("--settle", type=float, default=3.0, help="seconds between building and the first beat")
    parser.add_argument(
        "--database",
        default=f"launchready_bench_{os.getpid()}",
        help="created and dropped by the bench (default launchready_bench_<pid>, so that runs side by side, "
        "which other work on this machine may start, never share or drop each other's)",
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    args = parser.parse_args(argv)
    sizes = parse_sizes(args.sizes)

    prepare_environment(args.database)
    print(
        f"Monitoring scale: sizes {', '.join(f'{n:,}' for n in sizes)}; {os.cpu_count()} CPUs; "
        f"Python {sys.version.split()[0]}; load average {loadavg()} (other work on this machine shows in every figure)",
        flush=True,
    )
    recreate_database(args.database)
    try:
        setup_django()
        from django.conf import settings

        from launchready.sandbox.process import SandboxProcess

        settings.MONITORING_TICK_SECONDS = args.tick_seconds
        from django.db import connection

        n_domains = max(domains_for(n, args.routes_per_domain) for n in sizes)
        started = time.perf_counter()
        with SandboxProcess(
            [(domain_name(i), None) for i in range(n_domains)],
            latency=args.http_latency_ms / 1000,
            dns_latency=args.dns_latency_ms / 1000,
            dns_rcvbuf=args.sandbox_dns_rcvbuf,
        ) as sandbox:
            print(
                f"sandbox: {n_domains:,} healthy domains, {len(sandbox.info['sites']):,} sites, child process "
                f"{sandbox.pid}, started in {time.perf_counter() - started:.1f} s; HTTP latency "
                f"{args.http_latency_ms:g} ms, DNS latency {args.dns_latency_ms:g} ms; DNS receive buffer "
                f"{sandbox.info['dns_rcvbuf']:,} B (as the kernel reports it: twice the size asked for)",
                flush=True,
            )
            os.environ.update(sandbox.info["env"])  # the task reads its network settings from the environment
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid(), version()")
                backend_pid, version = cursor.fetchone()
            print(f"PostgreSQL: {version.split(',')[0]}; this bench's backend pid {backend_pid}")
            results = [run_size(args, n, sandbox, backend_pid) for n in sizes]
        print_summary(args, results)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            recreate_database(args.database, drop_only=True)


if __name__ == "__main__":
    main()
