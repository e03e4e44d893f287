"""Real-send verdicts and DMARC aggregate reports on one worker process.

What is measured
    Verdicts: the sandbox sender's variants (aligned, misaligned From, broken body hash, expired signature,
    1024-bit key, SPF-failing address, no TLS), each built and signed once, then judged one after another in
    this process exactly as the worker's task judges a stored message (`audits.inbound.verification._judge`:
    a fresh Net per message, so no DNS answer is shared between messages): SPF for MAIL FROM and HELO, every
    DKIM signature with dkimpy, DMARC discovery and alignment, reverse DNS, the header checks. The DNS is the
    sandbox's, served from a child process (a core of its own, as the real resolvers are elsewhere), with
    --dns-latency-ms added to every answer (default 0: the verdict's own cost). The database write of the
    verdict is not included.

    Reports: DMARC aggregate reports of the sandbox's making (launchready/sandbox/dmarc_reports.py), with
    --sources records each, gzipped and zipped, read as the receiver's mailbox reads them: the whole report
    email through `reports_in` (MIME, unpacking within the limits, defusedxml, the records), one after another.

What it prints
    The load average first (other work on the machine shows in every figure); per variant the messages
    verified per second, the median milliseconds per verdict and this process's CPU milliseconds per verdict
    (the figure least moved by other load); all variants together; then reports parsed per second, gzip and
    zip, the records per second that makes and the CPU milliseconds per report. Nothing is asserted.

Run from the repository root:
    .venv/bin/python bench/mail_verdicts.py                     # 40 verdicts per variant, 400 reports per format
    .venv/bin/python bench/mail_verdicts.py --messages 100 --reports 1000 --sources 200
    .venv/bin/python bench/mail_verdicts.py --dns-latency-ms 20
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "launchready.settings")


def _serve_dns(keys_dir: str, latency: float, pipe: Connection) -> None:
    """The child: the sender's records (SPF, DKIM keys, DMARC, reverse DNS) served until the parent says stop."""
    from launchready.sandbox.dns_server import ZoneData
    from launchready.sandbox.mail_sender import add_sender_records, sender_keys
    from launchready.sandbox.runner import Sandbox

    zone = ZoneData(latency=latency)
    add_sender_records(zone, sender_keys(Path(keys_dir)))
    with Sandbox(zone) as sandbox:
        pipe.send(sandbox.net_config())
        pipe.recv()


def _verdicts(config: Any, keys_dir: str, messages: int) -> list[tuple[str, int, float, float, list[float]]]:
    from audits.inbound.verdict import Envelope
    from audits.inbound.verification import _judge
    from launchready.sandbox.mail_sender import (
        GOOD_IP,
        SENDER,
        SENDER_HOST,
        UNLISTED_IP,
        VARIANTS,
        build_message,
        sender_keys,
    )

    keys = sender_keys(Path(keys_dir))
    rows = []
    for variant in VARIANTS:
        raw = build_message(variant, "test-bench@mail.launchready.test", keys)
        envelope = Envelope(
            peer=UNLISTED_IP if variant == "spf_fail" else GOOD_IP,
            helo=SENDER_HOST,
            mail_from=f"bounce@{SENDER}",
            tls_version="" if variant == "no_tls" else "TLSv1.3",
        )
        asyncio.run(_judge(raw, envelope, config))  # warm: imports, the first connection
        times = []
        cpu = time.process_time()
        wall = time.perf_counter()
        for _ in range(messages):
            start = time.perf_counter()
            verdict = asyncio.run(_judge(raw, envelope, config))
            times.append(time.perf_counter() - start)
        rows.append((variant, messages, time.perf_counter() - wall, time.process_time() - cpu, times))
        ids = sorted({f.check_id for f in verdict.findings})
        print(f"  {variant:<16} {', '.join(ids)}", file=sys.stderr)
    return rows


def _reports(count: int, sources: int) -> list[tuple[str, int, float, float, int]]:
    from audits.inbound.dmarc_reports import reports_in
    from launchready.sandbox.dmarc_reports import Source, aggregate_xml, gzipped, report_email, zipped

    rows = []
    feed = [
        Source(f"127.0.{i // 250}.{i % 250 + 1}", 1 + i % 40, dkim="pass" if i % 3 else "fail") for i in range(sources)
    ]
    xml = aggregate_xml("sends-mail.test", feed)
    for kind, attachment, name, content_type in (
        ("gzip", gzipped(xml), "report.xml.gz", "application/gzip"),
        ("zip", zipped(xml), "report.zip", "application/zip"),
    ):
        raw = report_email(
            "dmarc-bench@mail.launchready.test", "sends-mail.test", attachment, name=name, content_type=content_type
        )
        reports, problems = reports_in(raw)
        assert not problems and len(reports[0].records) == sources, problems  # the fixture reads whole
        cpu = time.process_time()
        wall = time.perf_counter()
        for _ in range(count):
            reports_in(raw)
        rows.append((kind, count, time.perf_counter() - wall, time.process_time() - cpu, len(raw)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=40, help="verdicts per variant")
    parser.add_argument("--reports", type=int, default=400, help="report emails per format")
    parser.add_argument("--sources", type=int, default=50, help="records per report")
    parser.add_argument("--dns-latency-ms", type=float, default=0.0)
    args = parser.parse_args()

    import django

    django.setup()
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as keys_dir:
        parent, child = multiprocessing.Pipe()
        server = multiprocessing.get_context("spawn").Process(
            target=_serve_dns, args=(keys_dir, args.dns_latency_ms / 1000, child), daemon=True
        )
        from launchready.sandbox.mail_sender import sender_keys

        sender_keys(Path(keys_dir))  # made here first, so that the child publishes the keys this process signs with
        server.start()
        try:
            config = parent.recv()
            print(f"\nVerdicts, one at a time, DNS from a child process (+{args.dns_latency_ms:.0f} ms per answer):")
            rows = _verdicts(config, keys_dir, args.messages)
        finally:
            parent.send("stop")
            server.join(10)
    print(f"  {'variant':<16} {'msgs/s':>8} {'median ms':>10} {'cpu ms/msg':>11}")
    for variant, n, wall, cpu, times in rows:
        print(f"  {variant:<16} {n / wall:>8.1f} {1000 * statistics.median(times):>10.1f} {1000 * cpu / n:>11.1f}")
    total = sum(r[1] for r in rows)
    wall = sum(r[2] for r in rows)
    cpu = sum(r[3] for r in rows)
    print(f"  {'all variants':<16} {total / wall:>8.1f} {'':>10} {1000 * cpu / total:>11.1f}")

    print(f"\nDMARC aggregate reports, {args.sources} records each, the whole report email read:")
    print(f"  {'format':<8} {'bytes':>7} {'reports/s':>10} {'records/s':>10} {'cpu ms/report':>14}")
    for kind, n, wall, cpu, size in _reports(args.reports, args.sources):
        print(f"  {kind:<8} {size:>7} {n / wall:>10.1f} {n * args.sources / wall:>10.0f} {1000 * cpu / n:>14.2f}")


if __name__ == "__main__":
    main()
