"""Dashboard and client pages under load: 200 clients, 1,000 domains, 5,000 routes, 30 days of history
(DESIGN.md section 9).

What is measured
    The bench builds one consultancy in its own PostgreSQL database (created and dropped; the real server on
    127.0.0.1:5432): --clients clients (default 200), five domains each, five routes each (homepage, login,
    dashboard, API health, checkout: 5,000 monitors), an open sprint per client, and --days days (default 30)
    of history: a daily audit of every domain with its findings (a realistic mix from the verdict catalog,
    so the risk list has new, still-open and fixed findings to rank), hourly and daily monitor rollups with
    their latency histograms, raw probes for today (at most --raw-hours hours of them, one a minute per
    route), an incident and a deploy a day per client. Bulk data is made in SQL; the rows are the product's
    own models and every page reads them through the product's code. Rows made in SQL bypass the code that
    keeps the clients' status rows and the monitors' counts of the day, so the bench then runs what a deployment
    runs once over such data (web/status.py, manage.py refresh_status); --reuse-db runs it again.

    The product is then served by gunicorn (--workers, --worker-class, --threads; DEBUG off) with a Redis of its
    own, into which the bench first puts what the rollup task keeps there (every five minutes in production):
    the charts' settled history and the overview's settled days (--empty-cache leaves it empty: the first visit
    of each client's pages fills it, as on the code before the rollup task did it). Then --users simulated
    consultants, signed in through the real login form, fetch the consultant's pages in a mix for --seconds per
    scenario: the dashboard, a client's page, its monitoring page (uptime bars and p95 lines of its 25 routes),
    its risk list, and the monitoring overview (what is down first, every client's monitors). Two scenarios:
    each user pausing --think-ms between pages (people reading pages), and no pause at all (20 requests always
    in flight: a stress figure). The load generator runs in this process on the same two cores, so it takes CPU
    from the server it measures.

    Query counts per page are measured in-process (Django's test client and CaptureQueriesContext) on the
    full data set and on a small one (a second consultancy with two clients and one day of history), to
    show that they do not grow with the data.

    CPU per request: after the two scenarios, each page alone for --cpu-seconds with --cpu-users users and no
    pause; gunicorn's CPU (its master and workers, from /proc) and PostgreSQL's over the requests served. It
    moves far less with other work on the machine than latency does.

    --profile N instead serves nothing: each page once (the cache as the rollup task leaves it), then N times
    more (different clients) timed and under cProfile, in this process, printing CPU per request (median and
    least: the least moves least with other work on the machine) and wall, the slowest queries and the
    functions the time goes to.

What it prints
    The load average; build time and row counts; queries per page, small and full; per scenario and page:
    requests, p50, p95, p99 and max latency, requests per second, gunicorn's and PostgreSQL's CPU per request,
    and errors; CPU used by gunicorn, PostgreSQL and this process; a summary beside the target: p95 under
    100 ms with 20 concurrent users. Nothing is asserted.

Run from the repository root:
    .venv/bin/python bench/dashboard.py                       # 200 clients, 30 days, 30 s per scenario
    .venv/bin/python bench/dashboard.py --clients 20 --days 3 --seconds 10   # a quick run
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for _path in (str(ROOT), str(BENCH)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from monitor_scale import (  # noqa: E402  (the path above first)
    PG_SERVER,
    machine_cpu,
    postgres_cpu,
    prepare_environment,
    process_cpu,
    recreate_database,
    setup_django,
)

TARGET_P95_MS, TARGET_USERS = 100.0, 20
PASSWORD = "bench-password-not-secret"
ROUTE_KINDS = [("", "/", "homepage"), ("app", "/login", "login"), ("app", "/dashboard", "dashboard")]
ROUTE_KINDS += [("api", "/health", "api_health"), ("", "/checkout", "checkout")]
# Check ids of a realistic audit: a few blockers and highs, mostly medium and low, some info.
FINDING_CHECKS = [
    "tls.expiring",
    "redirect.http_not_https",
    "headers.hsts.missing",
    "headers.csp.missing",
    "headers.nosniff.missing",
    "headers.referrer_policy.missing",
    "email.dmarc.none_without_reports",
    "email.dkim.missing",
    "edge.no_cdn",
    "edge.static_not_cached",
    "dns.caa.missing",
    "dns.ipv6.none",
    "route.slow_ttfb",
    "headers.source_maps_public",
]


# --- Building the data -----------------------------------------------------------------------------------


@dataclass
class Built:
    seconds: float
    rows: dict[str, int]
    client_codes: list[str]


def build(clients: int, days: int, raw_hours: float, workspace_name: str, email: str) -> Built:
    """One consultancy and its history; bulk rows in SQL."""
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Membership, Role, User, Workspace
    from audits.catalog import CATALOG
    from launchready.models import Client, Domain, Route, Sprint
    from monitoring.models import Monitor

    started = time.perf_counter()
    now = timezone.now()
    user = User.objects.create_user(email=email, password=PASSWORD)
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    workspace = Workspace.objects.create(name=workspace_name)
    Membership.objects.create(user=user, workspace=workspace, role=Role.OWNER)
    client_objs = Client.objects.bulk_create(
        [
            Client(workspace=workspace, name=f"{workspace_name} client {i:03d}", timezone="Europe/London")
            for i in range(clients)
        ]
    )
    Sprint.objects.bulk_create(
        [
            Sprint(
                client=c,
                started_at=now - timezone.timedelta(hours=i % 47),
                deadline=now - timezone.timedelta(hours=i % 47) + timezone.timedelta(hours=48),
                state=Sprint.State.ACTIVE,
            )
            for i, c in enumerate(client_objs)
        ]
    )
    tag = re.sub(r"\W", "", workspace_name.lower())
    domains = Domain.objects.bulk_create(
        [
            Domain(client=c, name=f"{tag}-{ci}-{d}.example", hosts=["app", "api"], daily_audit=False)
            for ci, c in enumerate(client_objs)
            for d in range(5)
        ],
        batch_size=2000,
    )
    routes = Route.objects.bulk_create(
        [
            Route(domain=d, host=host, path=path, kind=kind, expected_statuses=[200])
            for d in domains
            for host, path, kind in ROUTE_KINDS
        ],
        batch_size=5000,
    )
    Monitor.objects.bulk_create(
        [
            Monitor(
                client_id=r.domain.client_id,
                route=r,
                url=r.url,
                expected_statuses=[200],
                state=Monitor.State.DOWN if i % 97 == 0 else Monitor.State.UP,
                last_checked_at=now,
                last_status=200,
                last_latency_ms=120.0,
            )
            for i, r in enumerate(routes)
        ],
        batch_size=5000,
    )
    ids = [c.id for c in client_objs]
    templates = [(cid, CATALOG[cid]) for cid in FINDING_CHECKS if cid in CATALOG]
    with connection.cursor() as cur:
        # Daily audits: one run a day per domain, the last one today; one domain in three has had a blocker
        # (the first finding below) for a week, and its runs' counts and verdict say so.
        cur.execute(
            """
            INSERT INTO audits_auditrun (code, domain_id, "group", state, scheduled, created, started_at,
                finished_at, heartbeat_at, checks_total, checks_done, current_check, reason, go, verdict, counts,
                inventory, dns_queries, seconds)
            SELECT gen_random_uuid(), d.id, gen_random_uuid(), 'done', true, t, t, t + interval '20 seconds', t,
                60, 60, '', '', NOT b.blocker, CASE WHEN b.blocker THEN 'no_go' ELSE 'go' END,
                jsonb_build_object('blocker', b.blocker::int, 'high', 2, 'medium', 6, 'low', 4, 'info', 2),
                '[{"name": "example", "type": "A", "value": "192.0.2.1", "ttl": 300}]'::jsonb, 120, 20.0
            FROM launchready_domain d
            CROSS JOIN generate_series(%s::timestamptz - (%s - 1) * interval '1 day', %s::timestamptz,
                interval '1 day') AS t
            CROSS JOIN LATERAL (SELECT (d.id %% 3 = 0 AND t > %s::timestamptz - interval '7 days') AS blocker) b
            WHERE d.client_id = ANY(%s)
            """,
            [now - timezone.timedelta(hours=1), days, now - timezone.timedelta(hours=1), now, ids],
        )
        # Findings: every run has most of the template; one in three domains has a blocker that appeared a
        # week ago; a finding fixed ten days ago disappears from the later runs.
        for n, (check_id, verdict) in enumerate(templates):
            severity = "blocker" if n == 0 else verdict.severity.value
            cur.execute(
                """
                INSERT INTO audits_auditfinding (run_id, check_id, subject, area, severity, item, title,
                    explanation, fix, evidence, change, rank)
                SELECT r.id, %s, d.name, %s, %s, %s, %s, %s, %s, '{"seen": "bench"}'::jsonb,
                    CASE WHEN r.created > %s::timestamptz - interval '1 day' THEN 'still_open' ELSE 'new' END, %s
                FROM audits_auditrun r JOIN launchready_domain d ON d.id = r.domain_id
                WHERE d.client_id = ANY(%s)
                  AND (%s <> 0 OR (d.id %% 3 = 0 AND r.created > %s::timestamptz - interval '7 days'))
                  AND (%s <> 5 OR r.created < %s::timestamptz - interval '10 days')
                """,
                [
                    check_id,
                    verdict.area.value,
                    severity,
                    verdict.item.value,
                    verdict.title.replace("{", "").replace("}", ""),
                    verdict.explanation,
                    verdict.fix,
                    now,
                    n,
                    ids,
                    n,
                    now,
                    n,
                    now,
                ],
            )
        buckets = "[" + ", ".join(str(max(0, 40 - abs(b - 12) * 6)) for b in range(24)) + "]"
        cur.execute(
            """
            INSERT INTO monitoring_rollup (monitor_id, period, start, probes, failures, unknown_seconds, histogram)
            SELECT m.id, 'day', t, 1440, CASE WHEN m.id %% 13 = 0 THEN 3 ELSE 0 END, 0, %s::jsonb
            FROM monitoring_monitor m
            CROSS JOIN generate_series(date_trunc('day', %s::timestamptz) - %s * interval '1 day',
                date_trunc('day', %s::timestamptz) - interval '1 day', interval '1 day') AS t
            WHERE m.client_id = ANY(%s)
            """,
            [buckets, now, days, now, ids],
        )
        cur.execute(
            """
            INSERT INTO monitoring_rollup (monitor_id, period, start, probes, failures, unknown_seconds, histogram)
            SELECT m.id, 'hour', t, 60, 0, 0, %s::jsonb
            FROM monitoring_monitor m
            CROSS JOIN generate_series(date_trunc('hour', %s::timestamptz) - %s * interval '1 day',
                date_trunc('hour', %s::timestamptz), interval '1 hour') AS t
            WHERE m.client_id = ANY(%s)
            """,
            [buckets, now, days, now, ids],
        )
        since = max(now.replace(hour=0, minute=0, second=0, microsecond=0), now - timezone.timedelta(hours=raw_hours))
        cur.execute(
            """
            INSERT INTO monitoring_probe (monitor_id, at, ok, status, latency_ms, cause, error, lag_ms)
            SELECT m.id, t, (m.id + extract(minute FROM t)::int) %% 211 <> 0, 200, 80 + (m.id %% 50), '', '', 300
            FROM monitoring_monitor m
            CROSS JOIN generate_series(%s::timestamptz, %s::timestamptz, interval '1 minute') AS t
            WHERE m.client_id = ANY(%s)
            """,
            [since, now, ids],
        )
        cur.execute(
            """
            INSERT INTO monitoring_incident (code, monitor_id, started_at, ended_at, cause, detail)
            SELECT gen_random_uuid(), m.id, t, t + interval '7 minutes', 'status', 'answered 502, expected 200'
            FROM (SELECT DISTINCT ON (client_id) id, client_id FROM monitoring_monitor WHERE client_id = ANY(%s)
                  ORDER BY client_id, id) m
            CROSS JOIN generate_series(%s::timestamptz - (%s - 1) * interval '1 day', %s::timestamptz,
                interval '1 day') AS t
            """,
            [ids, now - timezone.timedelta(hours=5), days, now - timezone.timedelta(hours=5)],
        )
        cur.execute(
            """
            INSERT INTO monitoring_deploy (code, client_id, version, commit, environment, created, smoke,
                smoke_results, job_checks, jobs_waiting)
            SELECT gen_random_uuid(), c.id, 'v1.' || extract(doy FROM t)::int, md5(c.id::text || t::text), 'production',
                t, 'passed', '[]'::jsonb, '[]'::jsonb, false
            FROM launchready_client c
            CROSS JOIN generate_series(%s::timestamptz - (%s - 1) * interval '1 day', %s::timestamptz,
                interval '1 day') AS t
            WHERE c.id = ANY(%s)
            """,
            [now - timezone.timedelta(hours=3), days, now - timezone.timedelta(hours=3), ids],
        )
        cur.execute("ANALYZE")
    # The rows were made in SQL, past the code that keeps the clients' status rows and the monitors' counts of
    # the day: what a deployment runs once over data recorded before it kept them (manage.py refresh_status).
    from web.status import refresh_all

    refresh_all(now, ids)
    return Built(time.perf_counter() - started, row_counts(), [str(c.code) for c in client_objs])


TABLES = [
    "launchready_client",
    "launchready_domain",
    "launchready_route",
    "audits_auditrun",
    "audits_auditfinding",
    "monitoring_rollup",
    "monitoring_probe",
    "monitoring_incident",
    "monitoring_deploy",
]


def row_counts() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cur:
        counts = {}
        for table in TABLES:
            cur.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed names
            counts[table] = cur.fetchone()[0]
    return counts


def built(email: str) -> Built:
    """What an earlier --keep-db run built for this consultant."""
    from launchready.models import Client
    from web.status import refresh_all

    clients = Client.objects.filter(workspace__memberships__user__email=email).order_by("id")
    refresh_all(client_ids=list(clients.values_list("id", flat=True)))  # as after an upgrade (refresh_status)
    codes = clients.values_list("code", flat=True)
    return Built(0.0, row_counts(), [str(c) for c in codes])


# --- Pages -------------------------------------------------------------------------------------------------


def pages(client_code: str) -> dict[str, str]:
    return {
        "dashboard": "/dashboard/",
        "client page": f"/clients/{client_code}/",
        "client monitoring": f"/clients/{client_code}/monitoring/",
        "risk list": f"/clients/{client_code}/risks/",
        "monitoring overview": "/monitoring/",
    }


# How often each page is asked for in the mix (a consultant mostly moves between clients).
MIX = {"dashboard": 3, "client page": 3, "client monitoring": 2, "risk list": 2, "monitoring overview": 1}


def query_counts(email: str, client_code: str) -> dict[str, tuple[int, int]]:
    """Queries and response bytes per page, through Django's test client in this process."""
    from django.db import connection
    from django.test import Client as HttpClient
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    http = HttpClient()
    http.force_login(User.objects.get(email=email))
    counts = {}
    for name, url in pages(client_code).items():
        with CaptureQueriesContext(connection) as ctx:
            response = http.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        counts[name] = (len(ctx.captured_queries), len(response.content))
    return counts


def profile_pages(email: str, codes: list[str], repeat: int, top: int, settle: bool) -> None:
    """Each page through Django's test client in this process: the first visit (the cache as the rollup task
    leaves it, or empty), then `repeat` more of different clients timed (CPU and wall per request), then the
    same under cProfile; prints the functions the time goes to, the product's own first."""
    import cProfile
    import pstats

    from django.core.cache import cache
    from django.db import connection
    from django.test import Client as HttpClient
    from django.test.utils import CaptureQueriesContext, override_settings

    from accounts.models import User

    # A local-memory cache as large as the server's Redis (its default keeps 300 entries).
    override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "bench-profile",
                "OPTIONS": {"MAX_ENTRIES": 10**7},
            }
        }
    ).enable()
    http = HttpClient()
    http.force_login(User.objects.get(email=email))
    cache.clear()
    if settle:  # what the rollup task leaves in the cache every five minutes
        from django.utils import timezone

        from monitoring.charts import BAR_DAYS, LINE_HOURS
        from monitoring.series import settle as settle_charts
        from monitoring.summary import settle as settle_uptime

        now = timezone.now()
        settle_charts(now, BAR_DAYS, LINE_HOURS)
        settle_uptime(now)
    print(f"\nprofile: each page once with an empty cache, then {repeat} more timed, then {repeat} under cProfile")
    for name in MIX:
        urls = [pages(codes[(7 * i) % len(codes)])[name] for i in range(repeat + 1)]
        cpu0 = time.process_time()
        http.get(urls[0])
        cold = time.process_time() - cpu0
        cpus, walls = [], []
        for url in urls[1:]:
            cpu0, wall0 = time.process_time(), time.perf_counter()
            http.get(url)
            cpus.append(time.process_time() - cpu0)
            walls.append(time.perf_counter() - wall0)
        print(
            f"\n=== {name}: first visit {1000 * cold:.1f} ms CPU; then CPU {1000 * percentile(cpus, 0.5):.1f} ms "
            f"median, {1000 * min(cpus):.1f} ms least; wall {1000 * percentile(walls, 0.5):.1f} ms median"
        )
        with CaptureQueriesContext(connection) as ctx:
            http.get(urls[-1])
        timed = sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))
        total = sum(float(q["time"]) for q in timed)
        print(f"  {len(timed)} queries, {1000 * total:.1f} ms in the database driver; the slowest:")
        for q in timed[:5]:
            print(f"    {1000 * float(q['time']):6.1f} ms  {q['sql'][:160]}")
        profiler = cProfile.Profile(time.process_time)  # CPU time, not time spent waiting for the database
        profiler.enable()
        for url in urls[1:]:
            http.get(url)
        profiler.disable()
        stats = pstats.Stats(profiler)
        print("  CPU per request under cProfile, by what it was spent on (overlapping: rendering calls the ORM too):")
        for label, ms in cpu_breakdown(stats, repeat).items():
            print(f"    {label:<44}{ms:>7.1f} ms")
        stats.sort_stats("cumulative").print_stats(r"^(?!.*(site-packages|pyenv|<frozen))", top)
        stats.sort_stats("tottime").print_stats(top)


# (label, file suffix, function name): the cumulative CPU of these functions is what the breakdown shows.
BREAKDOWN = [
    ("the whole request", "django/test/client.py", "request"),
    ("templates (Django's render)", "django/template/backends/django.py", "render"),
    ("queries: SQL compiled, sent, rows read", "django/db/models/sql/compiler.py", "execute_sql"),
    ("model instances made from rows", "django/db/models/query.py", "__iter__"),
    ("the cache (get, set, pickling)", "django/core/cache/backends/locmem.py", "get_many"),
]


def cpu_breakdown(stats: object, requests: int) -> dict[str, float]:
    out = {}
    table = stats.stats  # type: ignore[attr-defined]
    for label, suffix, name in BREAKDOWN:
        total = sum(ct for (path, _, func), (_, _, _, ct, _) in table.items() if path.endswith(suffix) and func == name)
        out[label] = 1000 * total / requests
    return out


# --- Serving and load ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Gunicorn:
    """The product as served in production: gunicorn, with a Redis of its own for the cache."""

    def __init__(self, database: str, workers: int, threads: int, worker_class: str = "gthread") -> None:
        self.port, redis_port = free_port(), free_port()
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        env = {
            **os.environ,
            "DATABASE_URL": f"{PG_SERVER}/{database}",
            "DJANGO_ENV": "test",
            "DEBUG": "false",
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        }
        self.env = env
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "launchready.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--worker-class",
                worker_class,
                *(["--threads", str(threads)] if worker_class == "gthread" else []),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("gunicorn did not start within 30 s")

    def settle(self) -> float:
        """What the rollup task does every five minutes after rebuilding the live rollups, against this server's
        cache: the charts' settled history and the overview's settled days put there. Returns its seconds."""
        code = (
            "import django; django.setup()\n"
            "from django.utils import timezone\n"
            "from monitoring.charts import BAR_DAYS, LINE_HOURS\n"
            "from monitoring.series import settle\n"
            "from monitoring.summary import settle as settle_uptime\n"
            "now = timezone.now(); settle(now, BAR_DAYS, LINE_HOURS); settle_uptime(now)\n"
        )
        env = {**self.env, "DJANGO_SETTINGS_MODULE": "launchready.settings"}
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
        return time.perf_counter() - started

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        text = children.read_text() if children.exists() else ""
        return [self.process.pid, *(int(p) for p in text.split())]

    def cpu(self) -> float:
        return sum(process_cpu(pid) for pid in self.pids())

    def stop(self) -> None:
        for process in (self.process, self.redis):
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


async def sign_in(base: str, email: str) -> dict[str, str]:
    """The real login form; returns the session's cookies."""
    import httpx

    async with httpx.AsyncClient(base_url=base, follow_redirects=False) as http:
        form = await http.get("/accounts/login/")
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        if match is None:
            raise SystemExit("no CSRF token on the login page")
        answer = await http.post(
            "/accounts/login/",
            data={"csrfmiddlewaretoken": match.group(1), "login": email, "password": PASSWORD},
            headers={"Referer": f"{base}/accounts/login/"},
        )
        if answer.status_code != 302:
            raise SystemExit(f"signing in answered {answer.status_code}")
        return dict(http.cookies.items())


@dataclass
class Scenario:
    name: str
    seconds: float
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: int = 0
    cpu: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0


async def load(
    base: str,
    cookies: dict[str, str],
    codes: list[str],
    users: int,
    scenario: Scenario,
    think: float,
    only: str | None = None,
) -> None:
    """`users` consultants fetching pages in the MIX (or only the page `only`) until the scenario's time is up."""
    import httpx

    names = [only] if only else [name for name, weight in MIX.items() for _ in range(weight)]
    deadline = time.monotonic() + scenario.seconds

    async def user(n: int) -> None:
        rng = random.Random(n)
        async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=30) as http:
            while time.monotonic() < deadline:
                name = rng.choice(names)
                url = pages(rng.choice(codes))[name]
                started = time.perf_counter()
                try:
                    response = await http.get(url)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                elapsed = (time.perf_counter() - started) * 1000
                if ok:
                    scenario.latencies[name].append(elapsed)
                else:
                    scenario.errors += 1
                if think:
                    await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))

    await asyncio.gather(*(user(n) for n in range(users)))


async def visit_all(base: str, cookies: dict[str, str], codes: list[str]) -> int:
    """Every page of every client once, four at a time."""
    import httpx

    urls = sorted({url for code in codes for url in pages(code).values()})
    queue: asyncio.Queue[str] = asyncio.Queue()
    for url in urls:
        queue.put_nowait(url)

    async def visitor() -> None:
        async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=60) as http:
            while not queue.empty():
                await http.get(queue.get_nowait())

    await asyncio.gather(*(visitor() for _ in range(4)))
    return len(urls)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


@dataclass
class PageCpu:
    requests: int
    gunicorn_ms: float  # gunicorn's CPU (master and workers) per request
    postgres_ms: float  # every PostgreSQL process's CPU per request


def cpu_per_page(
    server: Gunicorn, cookies: dict[str, str], codes: list[str], seconds: float, users: int
) -> dict[str, PageCpu]:
    """Each page alone for `seconds`, `users` at a time without pausing: the CPU gunicorn and PostgreSQL used,
    divided by the requests served. Less sensitive to other work on the machine than latency is."""
    out = {}
    for name in MIX:
        scenario = Scenario(f"{name} alone", seconds)
        before = (server.cpu(), postgres_cpu())
        asyncio.run(load(server.base, cookies, codes, users, scenario, 0.0, only=name))
        after = (server.cpu(), postgres_cpu())
        n = max(1, len(scenario.latencies.get(name, [])))
        out[name] = PageCpu(n, 1000 * (after[0] - before[0]) / n, 1000 * (after[1] - before[1]) / n)
    return out


def print_scenario(s: Scenario, cpu: dict[str, PageCpu] | None = None) -> None:
    print(f"\n--- {s.name}: {s.seconds:g} s ---")
    heading = f"  {'page':<22}{'requests':>9}{'per s':>8}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}"
    print(heading + (f"{'CPU/request':>14}{'PostgreSQL':>12}" if cpu else ""))
    everything: list[float] = []
    for name in MIX:
        values = s.latencies.get(name, [])
        everything += values
        per_request = f"{cpu[name].gunicorn_ms:>12.1f}ms{cpu[name].postgres_ms:>10.1f}ms" if cpu else ""
        print(
            f"  {name:<22}{len(values):>9,}{len(values) / s.seconds:>8.1f}{percentile(values, 0.5):>7.0f}ms"
            f"{percentile(values, 0.95):>7.0f}ms{percentile(values, 0.99):>7.0f}ms{max(values, default=0):>7.0f}ms"
            + per_request
        )
    print(
        f"  {'all pages':<22}{len(everything):>9,}{len(everything) / s.seconds:>8.1f}"
        f"{percentile(everything, 0.5):>7.0f}ms{percentile(everything, 0.95):>7.0f}ms"
        f"{percentile(everything, 0.99):>7.0f}ms{max(everything, default=0):>7.0f}ms   errors: {s.errors}"
    )
    wall = s.wall or s.seconds
    print(
        "  CPU over the scenario (share of one core): "
        + ", ".join(f"{k} {100 * v / wall:.0f}%" for k, v in s.cpu.items())
    )


def run_scenario(
    server: Gunicorn, cookies: dict[str, str], codes: list[str], args: argparse.Namespace, name: str, think: float
) -> Scenario:
    scenario = Scenario(name, args.seconds)
    before = (server.cpu(), postgres_cpu(), time.process_time(), machine_cpu()[0], process_cpu(server.redis.pid))
    started = time.perf_counter()
    asyncio.run(load(server.base, cookies, codes, args.users, scenario, think))
    scenario.wall = time.perf_counter() - started  # the last pages end after the deadline
    after = (server.cpu(), postgres_cpu(), time.process_time(), machine_cpu()[0], process_cpu(server.redis.pid))
    scenario.cpu = {
        "gunicorn": after[0] - before[0],
        "PostgreSQL": after[1] - before[1],
        "Redis": after[4] - before[4],
        "load generator (this process)": after[2] - before[2],
        "whole machine": after[3] - before[3],
    }
    return scenario


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--clients", type=int, default=200, help="clients (five domains and 25 routes each)")
    parser.add_argument("--days", type=int, default=30, help="days of history")
    parser.add_argument("--raw-hours", type=float, default=6.0, help="hours of today's raw probes at most")
    parser.add_argument("--users", type=int, default=TARGET_USERS, help="concurrent signed-in consultants")
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds per scenario")
    parser.add_argument(
        "--visit-all",
        action="store_true",
        help="visit every client's pages once before measuring (a warm cache: the steady state, not a fresh deploy)",
    )
    parser.add_argument(
        "--empty-cache",
        action="store_true",
        help="do not run the rollup task's cache fill first: the first visit of each client's pages fills it",
    )
    parser.add_argument("--think-ms", type=float, default=1000.0, help="mean pause between a user's pages")
    parser.add_argument(
        "--cpu-seconds", type=float, default=8.0, help="seconds per page when measuring CPU per request"
    )
    parser.add_argument("--cpu-users", type=int, default=4, help="users at once when measuring CPU per request")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread)")
    parser.add_argument(
        "--worker-class",
        choices=["gthread", "sync"],
        default="gthread",
        help="gunicorn's worker class: threads in each worker (as the Dockerfile serves), or one request at a time",
    )
    parser.add_argument("--database", default=f"launchready_bench_dashboard_{os.getpid()}")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    parser.add_argument(
        "--reuse-db", action="store_true", help="use the data a --keep-db run left in --database rather than build it"
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="profile each page N times in this process (cProfile) and stop, without serving it",
    )
    parser.add_argument("--profile-top", type=int, default=25, help="functions listed per page by --profile")
    args = parser.parse_args(argv)

    prepare_environment(args.database)
    print(
        f"Dashboard bench: {args.clients} clients, {args.days} days of history, {args.users} users; "
        f"{os.cpu_count()} CPUs; load average {Path('/proc/loadavg').read_text().strip()}"
    )
    if not args.reuse_db:
        recreate_database(args.database)
    server = None
    try:
        setup_django()
        if args.reuse_db:
            small, full = built("small@bench.test"), built("big@bench.test")
            print(f"reusing {args.database}: " + ", ".join(f"{k.split('_', 1)[1]} {v:,}" for k, v in full.rows.items()))
        else:
            small = build(2, 1, 1, "Small consultancy", "small@bench.test")
            full = build(args.clients, args.days, args.raw_hours, "Big consultancy", "big@bench.test")
            print(
                f"built in {full.seconds:.1f} s: "
                + ", ".join(f"{k.split('_', 1)[1]} {v:,}" for k, v in full.rows.items())
            )
        from django.db import connection

        small_q = query_counts("small@bench.test", small.client_codes[0])
        full_q = query_counts("big@bench.test", full.client_codes[len(full.client_codes) // 2])
        print("\nqueries per page (small: 2 clients, 1 day; full) and the full page's size:")
        for name in MIX:
            print(f"  {name:<22} {small_q[name][0]:>4} {full_q[name][0]:>6}   {full_q[name][1] / 1024:>8.0f} KiB")
        if args.profile:
            profile_pages("big@bench.test", full.client_codes, args.profile, args.profile_top, not args.empty_cache)
            return
        connection.close()

        server = Gunicorn(args.database, args.workers, args.threads, args.worker_class)
        threads = f" x {args.threads} threads" if args.worker_class == "gthread" else ""
        print(f"\ngunicorn: {args.workers} {args.worker_class} workers{threads}, DEBUG off")
        if not args.empty_cache:
            print(f"\nthe rollup task's cache fill (charts' and overview's settled history): {server.settle():.1f} s")
        cookies = asyncio.run(sign_in(server.base, "big@bench.test"))
        # Warm each worker's imports and template cache before measuring.
        warm = Scenario("warm-up", 3)
        asyncio.run(load(server.base, cookies, full.client_codes, 4, warm, 0))
        if args.visit_all:
            started = time.perf_counter()
            visited = asyncio.run(visit_all(server.base, cookies, full.client_codes))
            took = time.perf_counter() - started
            print(f"\nvisited every client's pages once (a warm cache): {visited:,} pages in {took:.1f} s")
        scenarios = [
            run_scenario(
                server,
                cookies,
                full.client_codes,
                args,
                f"{args.users} users, ~{args.think_ms:g} ms between pages",
                args.think_ms / 1000,
            ),
            run_scenario(server, cookies, full.client_codes, args, f"{args.users} users, no pause (stress)", 0.0),
        ]
        started = time.perf_counter()
        cpu = cpu_per_page(server, cookies, full.client_codes, args.cpu_seconds, args.cpu_users)
        print(
            f"\nCPU per request: each page alone, {args.cpu_users} users without pausing, {args.cpu_seconds:g} s "
            f"each ({time.perf_counter() - started:.0f} s); gunicorn's CPU and PostgreSQL's over the requests served"
        )
        for s in scenarios:
            print_scenario(s, cpu)
        print(f"\nload average at the end: {Path('/proc/loadavg').read_text().strip()}")
        print(
            f"\n=== Summary (target, DESIGN.md section 9: p95 under {TARGET_P95_MS:g} ms with {TARGET_USERS} "
            "concurrent users) ==="
        )
        for s in scenarios:
            everything = [v for values in s.latencies.values() for v in values]
            worst = max(MIX, key=lambda n: percentile(s.latencies.get(n, []), 0.95))
            p95 = percentile(everything, 0.95)
            print(
                f"  {s.name:<42} p95 all pages {p95:>5.0f} ms, worst page {worst} "
                f"{percentile(s.latencies.get(worst, []), 0.95):.0f} ms  {'yes' if p95 < TARGET_P95_MS else 'NO'}"
            )
        grown = [n for n in MIX if full_q[n][0] > small_q[n][0]]
        print(f"  queries grow with the data on: {', '.join(grown) if grown else 'no page'}")
    finally:
        if server is not None:
            server.stop()
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            recreate_database(args.database, drop_only=True)


if __name__ == "__main__":
    main()
