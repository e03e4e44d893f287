"""Weekly reports at scale: 1,000 clients, their rollups, built and handed to an SMTP sink (DESIGN.md 7, 9).

What is measured
    For each history length (default 7 and 30 days) the bench creates its own PostgreSQL database
    (--database, default launchready_bench_reports_<pid>, dropped at the end unless --keep-db), migrates
    it and builds, with bulk inserts and SQL: --clients clients (default 1,000) in workspaces of ten, each
    with an owner and a consultant, one founder per client, one domain with three routes and their
    monitors, clients in three time zones (Europe/London, America/New_York, Asia/Kolkata: whole-hour,
    other-hour and half-hour week boundaries); hourly and daily rollups for every monitor over the whole
    history (generated in SQL, a latency histogram that differs per monitor and per week), one incident
    with its alerts, one deploy with a smoke test and a watch event per client in the reported week,
    and two audit runs per domain (one before the week, one in it: a finding fixed, findings new, a
    certificate). The history before the reported week is what grows; the report reads the same two
    weeks whatever it is.

    Then it plays the scheduler and the workers as production does: the beat's `make_due_reports()`
    makes the week's rows, and --workers processes (default 2, one per core) each run the real task body
    `reports.mail.deliver(report_id)` over EVERY row, in a different order (ascending, descending,
    …), then once more (the retried tasks). Each report is built, rendered and handed over SMTP to a sink
    (aiosmtpd, the product's SmtpSink, in a child process of its own). Every call races with the other
    workers on the same rows: the claim decides who sends.

What it prints
    Per history length: rows made, the wall time from the beat to the last message accepted (the target:
    under 60 s for 1,000 clients), reports sent, messages the sink received, duplicates (messages beyond
    one per report and recipient: must be 0), the outcomes of every deliver() call, the database queries
    per report (of the deliveries that sent, and of build_report alone: these must not grow with the
    history), the time per report, CPU of the workers, the sink and PostgreSQL; then a summary table
    across history lengths. Nothing is asserted.

Run from the repository root:
    .venv/bin/python bench/weekly_reports.py                       # 1000 clients, 7 and 30 days of history
    .venv/bin/python bench/weekly_reports.py --clients 200 --days 7
    .venv/bin/python bench/weekly_reports.py --workers 1 --days 30
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import resource
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for _path in (str(ROOT), str(BENCH)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from monitor_scale import postgres_cpu, prepare_environment, process_cpu, recreate_database  # noqa: E402  (the path above first)

TARGET_S = 60.0
WEEK = date(2026, 11, 16)  # the Monday the reports go out; they cover 9 to 15 November 2026
ZONES = ["Europe/London", "America/New_York", "Asia/Kolkata"]
ROUTES = [("", "/", "homepage"), ("app", "/login", "login"), ("api", "/health", "api_health")]
SINK_CODE = """
import json, signal, sys, threading
from launchready.sandbox.smtp import SmtpSink
done = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: done.set())
with SmtpSink() as sink:
    print(sink.port, flush=True)
    done.wait()
    rows = [[m["Message-ID"], rcpts, m["Subject"]] for m, (_, rcpts) in zip(sink.messages, sink.envelopes)]
json.dump(rows, sys.stdout)
"""


# --- set-up -------------------------------------------------------------------------------------------


def setup_django() -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import override_settings

    override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "bench"}}
    ).enable()
    call_command("migrate", verbosity=0)


def build_data(clients: int, days: int) -> dict[str, Any]:
    """Everything the reports read, in bulk: rows through the ORM, rollups in SQL."""
    from django.db import connection

    from accounts.models import Membership, Role, User, Workspace
    from audits.models import AuditFinding, AuditRun
    from launchready.models import Client, Domain, Route
    from monitoring.models import Alert, AlertChannel, Deploy, Incident, Monitor, WatchEvent
    from reports.weeks import period_for

    started = time.monotonic()
    created = datetime(2026, 1, 1, tzinfo=UTC)
    workspaces = Workspace.objects.bulk_create([Workspace(name=f"Consultancy {i}") for i in range(clients // 10 + 1)])
    staff = User.objects.bulk_create(
        [
            User(email=f"{kind}{i}@consultancy.example", name=f"{kind} {i}")
            for i in range(len(workspaces))
            for kind in ("owner", "consultant")
        ]
    )
    founders = User.objects.bulk_create(
        [User(email=f"founder{i}@client{i}.example", name=f"Founder {i}") for i in range(clients)]
    )
    rows = Client.objects.bulk_create(
        [
            Client(
                workspace=workspaces[i // 10], name=f"Client {i:04d}", timezone=ZONES[i % len(ZONES)], created=created
            )
            for i in range(clients)
        ]
    )
    members = [
        Membership(user=staff[2 * w + k], workspace=ws, role=(Role.OWNER, Role.CONSULTANT)[k])
        for w, ws in enumerate(workspaces)
        for k in (0, 1)
    ]
    members += [
        Membership(user=founders[i], workspace=c.workspace, role=Role.FOUNDER, client=c) for i, c in enumerate(rows)
    ]
    Membership.objects.bulk_create(members)
    domains = Domain.objects.bulk_create(
        [Domain(client=c, name=f"client{i}.example", hosts=["app", "api"], created=created) for i, c in enumerate(rows)]
    )
    routes = Route.objects.bulk_create(
        [Route(domain=d, host=h, path=p, kind=k, expected_statuses=[200]) for d in domains for h, p, k in ROUTES]
    )
    domain_client = {d.id: d.client_id for d in domains}
    monitors = Monitor.objects.bulk_create(
        [
            Monitor(client_id=domain_client[r.domain_id], route=r, url=f"https://x/{r.id}", created=created)
            for r in routes
        ]
    )
    end = datetime.combine(WEEK, datetime.min.time(), tzinfo=UTC) + timedelta(days=1)
    first = end - timedelta(days=days + 1)
    regime = end - timedelta(days=8)  # from the reported week on, a third of the monitors are slower
    with connection.cursor() as cursor:
        # One row per monitor and hour: 60 probes, two failures now and then; 57 latencies in one bucket
        # (75, 100 or 125 ms; 250 ms this week for the slower third) and 3 in the 300 ms bucket.
        cursor.execute(
            """
            WITH hists AS (
                SELECT k, slow, n, (SELECT jsonb_agg(CASE WHEN b = 5 + k + slow * 5 THEN 57 * n WHEN b = 11 THEN 3 * n
                                                         ELSE 0 END ORDER BY b) FROM generate_series(0, 28) AS b) AS h
                FROM generate_series(0, 2) AS k, generate_series(0, 1) AS slow, (VALUES (1), (24)) AS per(n)
            )
            INSERT INTO monitoring_rollup (monitor_id, period, start, probes, failures, unknown_seconds, histogram)
            SELECT m.id, 'hour', t, 60,
                   CASE WHEN (m.id + extract(epoch FROM t)::bigint / 3600) %% 97 = 0 THEN 2 ELSE 0 END, 0, hists.h
            FROM monitoring_monitor m
            CROSS JOIN generate_series(%s::timestamptz, %s::timestamptz - interval '1 hour', interval '1 hour') AS t
            JOIN hists ON hists.n = 1 AND hists.k = m.id %% 3
                      AND hists.slow = CASE WHEN t >= %s AND m.id %% 3 = 0 THEN 1 ELSE 0 END
            """,
            [first, end, regime],
        )
        hourly = cursor.rowcount
        cursor.execute(
            """
            WITH hists AS (
                SELECT k, slow, (SELECT jsonb_agg(CASE WHEN b = 5 + k + slow * 5 THEN 57 * 24 WHEN b = 11 THEN 3 * 24
                                                      ELSE 0 END ORDER BY b) FROM generate_series(0, 28) AS b) AS h
                FROM generate_series(0, 2) AS k, generate_series(0, 1) AS slow
            ), days AS (
                SELECT monitor_id, date_trunc('day', start, 'UTC') AS day, sum(probes) AS p, sum(failures) AS f
                FROM monitoring_rollup WHERE period = 'hour' AND start < %s GROUP BY 1, 2
            )
            INSERT INTO monitoring_rollup (monitor_id, period, start, probes, failures, unknown_seconds, histogram)
            SELECT days.monitor_id, 'day', days.day, days.p, days.f, 0, hists.h
            FROM days JOIN hists ON hists.k = days.monitor_id %% 3
                                AND hists.slow = CASE WHEN days.day >= %s AND days.monitor_id %% 3 = 0 THEN 1 ELSE 0 END
            """,
            [end - timedelta(days=1), regime],
        )
        daily = cursor.rowcount
        cursor.execute("ANALYZE")
    client_by_id = {c.id: c for c in rows}
    first_monitor: dict[int, Monitor] = {}
    for m in monitors:
        first_monitor.setdefault(m.client_id, m)
    incidents, alerts, deploys, events, channels = [], [], [], [], []
    for c in rows:
        period = period_for(c, WEEK)
        at = period.start + timedelta(days=2, hours=13)
        incidents.append(
            Incident(monitor=first_monitor[c.id], started_at=at, ended_at=at + timedelta(minutes=9), cause="timeout")
        )
        channels.append(AlertChannel(client=c, kind="email", name="Founders"))
        deploys.append(
            Deploy(
                client=c,
                version="v1.2.0",
                created=at + timedelta(days=1),
                smoke="passed",
                smoke_results=[{"url": "x", "ok": True}],
            )
        )
        events.append(
            WatchEvent(client=c, kind="dns_drift", key="dns:1", title="DNS records of client changed", created=at)
        )
    Incident.objects.bulk_create(incidents)
    AlertChannel.objects.bulk_create(channels)
    for ch in channels:
        at = period_for(client_by_id[ch.client_id], WEEK).start + timedelta(days=2, hours=13, minutes=3)
        alerts += [
            Alert(channel=ch, kind="down", state="sent", sent_at=at, dedupe_key="d"),
            Alert(channel=ch, kind="up", state="sent", sent_at=at + timedelta(minutes=8), dedupe_key="u"),
        ]
    Alert.objects.bulk_create(alerts)
    Deploy.objects.bulk_create(deploys)
    WatchEvent.objects.bulk_create(events)
    runs = []
    for d in domains:
        period = period_for(client_by_id[d.client_id], WEEK)
        runs.append(
            AuditRun(
                domain=d,
                state="done",
                go=False,
                created=period.start - timedelta(days=2),
                finished_at=period.start - timedelta(days=2),
            )
        )
        runs.append(
            AuditRun(
                domain=d,
                state="done",
                go=False,
                created=period.start + timedelta(days=1),
                finished_at=period.start + timedelta(days=1),
            )
        )
    AuditRun.objects.bulk_create(runs)
    findings = []
    for run_before, run_during in zip(runs[::2], runs[1::2], strict=True):
        name = run_before.domain.name
        findings.append(_finding(run_before, "email.dmarc.missing", "No DMARC record", "high", "new", name))
        findings.append(_finding(run_during, "email.dmarc.missing", "No DMARC record", "high", "fixed", name))
        findings.append(
            _finding(run_during, "headers.hsts.missing", f"HSTS is not set on app.{name}", "medium", "new", name)
        )
        findings.append(
            _finding(run_during, "exposure.env_file", f"app.{name} serves its .env file", "blocker", "new", name)
        )
        findings.append(
            _finding(
                run_during,
                "tls.certificate",
                "Certificate",
                "info",
                "new",
                f"www.{name}",
                {"not_after": (datetime.now(UTC) + timedelta(days=45)).isoformat()},
            )
        )
    AuditFinding.objects.bulk_create(findings)
    return {"hourly": hourly, "daily": daily, "seconds": time.monotonic() - started}


def _finding(
    run: Any, check_id: str, title: str, severity: str, change: str, subject: str, evidence: Any = None
) -> Any:
    from audits.models import AuditFinding

    return AuditFinding(
        run=run,
        check_id=check_id,
        subject=subject,
        area=check_id.split(".")[0],
        severity=severity,
        item="ssl",
        title=title,
        explanation=f"Why {title} matters.",
        fix=f"How to fix {title}.",
        evidence=evidence or {},
        change=change,
        rank={"blocker": 0, "high": 1, "medium": 2}.get(severity, 9),
    )


# --- the workers ---------------------------------------------------------------------------------------


def worker(index: int, ids: list[int], port: int, passes: int, results: Any) -> None:
    """One worker process: the task body over every row, in its own order, `passes` times."""
    from django.db import connection, connections
    from django.test.utils import CaptureQueriesContext, override_settings

    connections.close_all()
    override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
    ).enable()
    from reports.mail import deliver

    order = ids if index % 2 == 0 else list(reversed(ids))
    if index >= 2:
        order = order[index:] + order[:index]
    outcomes: Counter[str] = Counter()
    sent_queries = 0
    cpu = time.process_time()
    for _ in range(passes):
        for report_id in order:
            with CaptureQueriesContext(connection) as queries:
                outcome = deliver(report_id)
            outcomes[outcome] += 1
            if outcome == "sent":
                sent_queries += len(queries.captured_queries)
    results.put({"outcomes": dict(outcomes), "sent_queries": sent_queries, "cpu": time.process_time() - cpu})


def run_history(args: argparse.Namespace, days: int) -> dict[str, Any]:
    database = f"{args.database}_{days}d"
    prepare_environment(database)
    recreate_database(database)
    setup_django()
    from django.db import connection, connections
    from django.test.utils import CaptureQueriesContext

    from launchready.models import Client
    from reports.mail import prepare
    from reports.models import WeeklyReport
    from reports.schedule import make_due_reports
    from reports.weekly import build_report, build_reports

    data = build_data(args.clients, days)
    print(f"\n== {args.clients} clients, {days} days of history ==")
    print(f"set-up: {data['hourly']:,} hourly and {data['daily']:,} daily rollups, {data['seconds']:.1f} s")

    # Queries of one report, and of all of them built together, before any is sent.
    one = Client.objects.order_by("id").first()
    assert one is not None
    with CaptureQueriesContext(connection) as q_one:
        build_report(one, WEEK)
    clients = list(Client.objects.all())
    t0 = time.monotonic()
    with CaptureQueriesContext(connection) as q_all:
        build_reports(clients, WEEK)
    build_all_s = time.monotonic() - t0

    sink = subprocess.Popen(
        [sys.executable, "-c", SINK_CODE],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert sink.stdout is not None
    port = int(sink.stdout.readline())
    sink_cpu0 = process_cpu(sink.pid)
    pg0 = postgres_cpu()

    now = datetime.combine(WEEK, datetime.min.time(), tzinfo=UTC) + timedelta(hours=23)  # every zone's 09:00 has passed
    started = time.monotonic()
    ids = make_due_reports(now)
    t_prepare = time.monotonic()
    prepared = prepare(ids)
    prepare_s = time.monotonic() - t_prepare
    connections.close_all()
    results: Any = multiprocessing.get_context("fork").Queue()
    procs = [
        multiprocessing.get_context("fork").Process(target=worker, args=(i, ids, port, 2, results))
        for i in range(args.workers)
    ]
    for p in procs:
        p.start()
    reports = [results.get() for _ in procs]
    for p in procs:
        p.join()
    wall = time.monotonic() - started
    pg_cpu = postgres_cpu() - pg0
    sink_cpu = process_cpu(sink.pid) - sink_cpu0
    sink.send_signal(signal.SIGTERM)
    messages = json.loads(sink.communicate(timeout=60)[0])

    states = Counter(WeeklyReport.objects.values_list("state", flat=True))
    pairs = Counter((re.sub(r"-\d+@", "@", m[0]), r) for m in messages for r in m[1])  # (report, reader)
    duplicates = sum(n - 1 for n in pairs.values() if n > 1)
    outcomes: Counter[str] = Counter()
    for r in reports:
        outcomes.update(r["outcomes"])
    sent = states.get("sent", 0)
    sent_queries = sum(r["sent_queries"] for r in reports)
    recipients = sum(len(m[1]) for m in messages)
    per_report_ms = 1000 * wall / max(sent, 1)
    q_build, q_all_n = len(q_one.captured_queries), len(q_all.captured_queries)
    print(f"prepared by the beat (facts and snapshots of all rows at once): {prepared} in {prepare_s:.1f} s")
    print(f"rows made by the beat: {len(ids)}; reports sent: {sent}; states: {dict(states)}")
    print(
        f"wall, beat to last message accepted: {wall:.1f} s ({per_report_ms:.1f} ms a report; target {TARGET_S:.0f} s)"
    )
    print(f"messages at the sink: {len(messages)} (one per reader: {recipients} readers); duplicates: {duplicates}")
    print(f"deliver() calls by {args.workers} workers x 2 passes: {dict(outcomes)}")
    print(
        f"queries per report: build_report alone {q_build}; build_reports for all {len(clients)}: {q_all_n} "
        f"({q_all_n / len(clients):.3f} per report, {build_all_s:.1f} s); a whole delivery (claim, render, send, "
        f"record): {sent_queries / max(sent, 1):.1f}"
    )
    worker_cpu = sum(r["cpu"] for r in reports)
    print(f"CPU: workers {worker_cpu:.1f} s, sink {sink_cpu:.1f} s, PostgreSQL {pg_cpu:.1f} s")
    print(f"load average: {os.getloadavg()[0]:.2f}")
    connections.close_all()
    if not args.keep_db:
        recreate_database(database, drop_only=True)
    return {
        "days": days,
        "wall": wall,
        "sent": sent,
        "messages": len(messages),
        "duplicates": duplicates,
        "q_one": len(q_one.captured_queries),
        "q_per_report": len(q_all.captured_queries) / len(clients),
        "q_delivery": sent_queries / max(sent, 1),
    }


def _run_into(queue: Any, args: argparse.Namespace, days: int) -> None:
    queue.put(run_history(args, days))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--days", type=int, nargs="+", default=[7, 30], help="history lengths to compare")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database", default=f"launchready_bench_reports_{os.getpid()}")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))
    load = os.getloadavg()[0]
    print(f"weekly reports: {args.clients} clients, {args.workers} workers racing on every row, load {load:.2f}")
    rows = []
    for days in args.days:
        if days < 14:
            print(f"(history of {days} days: the week before the reported one is partly empty, as for a new client)")
        # Each history length in a fresh interpreter, so Django is set up against its own database.
        ctx = multiprocessing.get_context("fork")
        queue: Any = ctx.Queue()
        proc = ctx.Process(target=_run_into, args=(queue, args, days))
        proc.start()
        while True:
            try:
                rows.append(queue.get(timeout=5))
                break
            except Exception:  # queue.Empty: still working, unless it died
                if not proc.is_alive():
                    raise SystemExit(f"the {days}-day run failed (exit {proc.exitcode})") from None
        proc.join()
    print("\nsummary")
    head = ("history", "wall s", "sent", "messages", "dups", "q/report (one)", "q/report (all)", "q/delivery")
    print("{:>8} {:>7} {:>6} {:>8} {:>5} {:>15} {:>15} {:>11}".format(*head))
    for r in rows:
        print(
            f"{r['days']:>6} d {r['wall']:>7.1f} {r['sent']:>6} {r['messages']:>8} {r['duplicates']:>5} "
            f"{r['q_one']:>15} {r['q_per_report']:>15.3f} {r['q_delivery']:>11.1f}"
        )
    print(f"target: {args.clients} reports in under {TARGET_S:.0f} s, none twice; the same queries for every history")


if __name__ == "__main__":
    main()
