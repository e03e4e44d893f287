"""Audit throughput: the product's full audits of N domains against two peers doing only their part.

What is measured (DESIGN.md section 9, "Audit throughput")
    N sandbox domains (default 200) named peer-000.test, peer-001.test …: the even ones healthy, the odd
    ones each built with the knobs of one tripping scenario of launchready.sandbox.scenarios.TRIPS in
    turn (expired and self-signed certificates, TLS 1.0, redirect loops, missing SPF, broken DMARC …),
    served by one loopback sandbox in a child process of this script, with injected latency (default
    50 ms before every DNS answer, 100 ms before every HTTP response; TCP and TLS handshakes get none).
    Then, one after another, against that same sandbox, each timed from start to finish:

    LaunchReady   the full audit (`audits.engine.run_audit`: DNS, TLS, redirects, routes, edge, headers,
                  email) of all N domains in this process, through the batch runner `manage.py audit
                  DOMAIN...` uses (`audits.batch.audit_many`): at most --concurrency in flight (default
                  the command's; 0: no bound), each started once the process's event loop keeps up,
                  route timing taken by the product's timing process (launchready/timing.py), whose CPU
                  is counted with this process's. One healthy domain is audited alone first (a warm-up,
                  and the reference its healthy peers' findings are compared with).
    checkdmarc    SPF and DMARC only: its own `check_spf` and `check_dmarc`, called for each domain in
                  turn exactly as its `check_domains` (the CLI) calls them, in a subprocess of this
                  script using its own virtual environment. Its CLI takes nameservers as bare addresses
                  (port 53), so the subprocess passes the sandbox's DNS server as a dnspython
                  `Do53Nameserver(address, port)` through the same `nameservers` argument the CLI fills.
    sslyze        certificate and old-protocol checks only: `sslyze --certinfo --certinfo_ca_file
                  <sandbox CA> --tlsv1 --tlsv1_1 --mozilla_config disable`, on every HTTPS host of every
                  domain (apex, www, app, api: the hosts the product's TLS check handshakes with), each
                  given as `host:port{ip}` (SNI = host, connection to the sandbox address and port), in
                  a subprocess using its own virtual environment; sslyze scans its targets concurrently
                  in its own way.

    The peers' virtual environments are made by this script under bench/.venvs/ (gitignored) with pip,
    from PyPI: sslyze 6 needs cryptography below 47 and checkdmarc 6 a newer one, hence one each.

What it prints
    A table: tool, version, what it checks, domains, wall time of the whole process (a peer's includes
    its interpreter starting and importing), its scan time (a peer's own timer around its work; for the
    product the same as wall), domains per second, and each peer's time divided by the product's
    full-audit time (above 1: the product, doing everything, was faster than the peer doing its part).
    Then sanity figures: the sandbox's DNS queries and HTTP requests per tool, the product's partial
    audits, whether its healthy domains' findings match a lone audit's, and whether each tripping
    domain's check was found. Nothing is asserted.

Run from the repository root (the default run takes a few minutes on 2 cores):
    .venv/bin/python bench/audit_peers.py [--domains 200] [--concurrency 8] [--skip sslyze]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for path in (str(ROOT), str(BENCH)):
    if path not in sys.path:
        sys.path.insert(0, path)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "launchready.settings")

from audit_latency import target_for, udp_receive_errors  # noqa: E402

from audits.batch import (  # noqa: E402
    COULD_NOT_RUN,
    DEFAULT_CONCURRENCY,
    DomainAudit,
    audit_many,
)
from audits.checks.email import PROBE_IP, dmarc_findings, spf_findings  # noqa: E402
from audits.email import dmarc, spf  # noqa: E402
from audits.engine import run_audit  # noqa: E402
from launchready.net import Net, NetConfig  # noqa: E402
from launchready.sandbox.process import SandboxProcess  # noqa: E402
from launchready.sandbox.scenarios import TRIPS  # noqa: E402
from launchready.timing import TimingProcess  # noqa: E402

VENVS = BENCH / ".venvs"

CHECKDMARC_DRIVER = r"""
import json, sys, time
import dns.nameserver
from checkdmarc.dmarc import check_dmarc
from checkdmarc.spf import check_spf

host, port, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
domains = sys.argv[4:]
nameservers = [dns.nameserver.Do53Nameserver(host, port)]
started = time.monotonic()
spf_valid = dmarc_valid = 0
for domain in domains:  # one after another, with the arguments checkdmarc.check_domains passes
    spf = check_spf(domain, parked=False, nameservers=nameservers, timeout=timeout)
    dmarc = check_dmarc(domain, parked=False, nameservers=nameservers, timeout=timeout)
    spf_valid += bool(spf.get("valid"))
    dmarc_valid += bool(dmarc.get("valid"))
print(json.dumps({"seconds": time.monotonic() - started, "spf_valid": spf_valid, "dmarc_valid": dmarc_valid}))
"""


@dataclass
class Row:
    tool: str
    version: str
    checks: str
    domains: int
    wall: float
    scan: float
    cpu: float = 0.0  # the tool's own processes' CPU seconds
    server: dict[str, float] = field(default_factory=dict)  # what the sandbox saw meanwhile
    drops: int | None = None  # UDP datagrams dropped for want of buffer room, machine-wide
    expected: str = "-"  # domains whose findings were as expected (the product only)
    notes: list[str] = field(default_factory=list)


class Phase:
    """Times one tool's run: wall clock, CPU (this process or its finished children), sandbox counts."""

    def __init__(self, sandbox: SandboxProcess, children: bool) -> None:
        self.sandbox, self.children = sandbox, children

    def _cpu(self) -> float:
        if not self.children:
            return time.process_time()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def __enter__(self) -> Phase:
        self.before, self.drops = self.sandbox.stats(), udp_receive_errors()
        self.cpu, self.started = self._cpu(), time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.monotonic() - self.started
        self.cpu = self._cpu() - self.cpu
        after, drops = self.sandbox.stats(), udp_receive_errors()
        self.server = {k: after[k] - self.before[k] for k in after}
        self.drops = drops - self.drops if drops is not None and self.drops is not None else None

    def fill(self, row: Row) -> Row:
        row.cpu, row.server, row.drops = self.cpu, self.server, self.drops
        return row


# --- The domains -----------------------------------------------------------------------------------


def peer_domains(n: int) -> list[tuple[str, str | None]]:
    """peer-000.test …: even ones healthy, odd ones tripping one check each, every scenario in turn."""
    trips = sorted(TRIPS)
    return [(f"peer-{i:03d}.test", None if i % 2 == 0 else trips[(i // 2) % len(trips)]) for i in range(n)]


# --- The product -----------------------------------------------------------------------------------


async def audit_all(
    domains: list[tuple[str, str | None]], config: NetConfig, concurrency: int, deadline: float
) -> tuple[float, list[DomainAudit], int]:
    """The product's batch runner (what `manage.py audit DOMAIN...` uses) on the sandbox targets; the wall
    time, the results and the most audits that were in flight at once."""
    in_flight = [0]
    started = time.monotonic()
    results = await audit_many(
        [target_for(apex, trip) for apex, trip in domains],
        config=config,
        concurrency=concurrency,
        deadline=deadline,
        on_start=lambda _: in_flight.append(in_flight[-1] + 1),
        on_done=lambda _: in_flight.append(in_flight[-1] - 1),
    )
    return time.monotonic() - started, results, max(in_flight)


def timer_cpu() -> float:
    """CPU seconds of the product's timing process (launchready.timing), 0 when none runs."""
    pid = TimingProcess.child_pid()
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def product(args: argparse.Namespace, sandbox: SandboxProcess, domains: list[tuple[str, str | None]]) -> Row:
    config = sandbox.config()
    reference_apex = next(apex for apex, trip in domains if trip is None)
    alone = asyncio.run(run_audit(target_for(reference_apex), config=config, deadline=args.deadline))
    reference = {f.check_id for f in alone.findings}
    timer_before = timer_cpu()
    with Phase(sandbox, children=False) as phase:
        wall, results, peak = asyncio.run(audit_all(domains, config, args.concurrency, args.deadline))
    timer_seconds = timer_cpu() - timer_before
    phase.cpu += timer_seconds
    row = phase.fill(
        Row(
            "LaunchReady",
            "this tree",
            "full audit: DNS, TLS, redirects, routes, edge, headers, email",
            len(domains),
            wall,
            wall,
        )
    )
    crashed = [r for r in results if r.verdict == COULD_NOT_RUN]
    done = [(d, r) for d, r in zip(domains, results, strict=True) if r.verdict != COULD_NOT_RUN]
    partial = [d[0] for d, o in done if o.partial]
    seconds = sorted(o.seconds for _, o in done)
    row.notes.append(
        f"{len(done)} audits finished, {len(crashed)} raised, {len(partial)} partial (a check failed or ran out of "
        f"time); at most {peak} in flight; per-audit seconds in the crowd: median {statistics.median(seconds):.2f}, "
        f"p95 {seconds[int(0.95 * (len(seconds) - 1))]:.2f}, max {seconds[-1]:.2f}; "
        f"lone audit of {reference_apex}: {alone.seconds:.2f} s; CPU: {row.cpu - timer_seconds:.1f} s in this "
        f"process, {timer_seconds:.1f} s in its timing process ({row.cpu / len(domains) * 1000:.0f} ms per audit)"
    )
    healthy = [(d, o) for d, o in done if d[1] is None]
    differing: Counter[str] = Counter()
    same = 0
    for _, outcome in healthy:
        ids = {f.check_id for f in outcome.findings}
        same += ids == reference
        differing.update(f"+{i}" for i in ids - reference)
        differing.update(f"-{i}" for i in reference - ids)
    note = f"healthy domains whose findings equal the lone audit's: {same}/{len(healthy)}"
    if differing:
        note += " (differences: " + ", ".join(f"{k} x{v}" for k, v in differing.most_common(8)) + ")"
    row.notes.append(note)
    tripping = [(d, o) for d, o in done if d[1] is not None]
    missed = [d[1] for d, o in tripping if d[1] not in {f.check_id for f in o.findings}]
    row.expected = f"{same + len(tripping) - len(missed)}/{len(domains)}"
    note = f"tripping domains whose check was found: {len(tripping) - len(missed)}/{len(tripping)}"
    if missed:
        note += " (missed: " + ", ".join(sorted(set(missed))) + ")"
    row.notes.append(note)
    old = sum(1 for _, o in done for f in o.findings if f.check_id == "tls.old_protocol")
    spf = sum(1 for _, o in done if any(f.check_id.startswith("email.spf.") for f in o.findings))
    dmarc = sum(1 for _, o in done if any(f.check_id.startswith("email.dmarc.") for f in o.findings))
    row.notes.append(
        f"hosts with TLS 1.0/1.1 accepted: {old}; domains with an SPF finding: {spf}, with a DMARC finding: {dmarc}"
    )
    return row


async def email_part(domains: list[tuple[str, str | None]], config: NetConfig, concurrency: int) -> list[int]:
    """The product's SPF and DMARC alone (what checkdmarc does), as its email check runs them, for every
    domain, `concurrency` at a time: the number of findings per domain."""
    gate = asyncio.Semaphore(concurrency if concurrency > 0 else len(domains))

    async def one(apex: str) -> int:
        async with gate, Net(config, deadline=30) as net:
            analysis, probe, discovery = await asyncio.gather(
                spf.analyse(net, apex),
                spf.check_host(net, PROBE_IP, apex, f"postmaster@{apex}"),
                dmarc.discover(net, apex),
            )
            target = target_for(apex)
            return len(spf_findings(target, analysis, True, probe)) + len(await dmarc_findings(net, apex, discovery))

    return list(await asyncio.gather(*(one(apex) for apex, _ in domains)))


def product_email(args: argparse.Namespace, sandbox: SandboxProcess, domains: list[tuple[str, str | None]]) -> Row:
    config = sandbox.config()
    with Phase(sandbox, children=False) as phase:
        found = asyncio.run(email_part(domains, config, max(args.concurrency, 32)))
    row = phase.fill(
        Row(
            "LR email",
            "this tree",
            "SPF + DMARC only (the email check's part), 32 domains at a time, in this process",
            len(domains),
            phase.wall,
            phase.wall,
        )
    )
    row.notes.append(f"{sum(1 for n in found if n)} domains with an SPF or DMARC finding")
    return row


# --- The peers -------------------------------------------------------------------------------------


def peer_python(name: str, requirement: str, module: str, install: bool) -> Path:
    """bench/.venvs/<name>/bin/python, with `requirement` installed from PyPI when it is missing."""
    venv = VENVS / name
    python = venv / "bin" / "python"
    if not python.exists():
        if not install:
            raise SystemExit(f"{venv} does not exist (run without --no-install to create it)")
        print(f"creating {venv} …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if subprocess.run([str(python), "-c", f"import {module}"], capture_output=True).returncode != 0:
        if not install:
            raise SystemExit(f"{module} is not installed in {venv} (run without --no-install)")
        print(f"installing {requirement} into {venv} …", flush=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", requirement], check=True)
    return python


def versions(python: Path, *dists: str) -> dict[str, str]:
    code = (
        "import json, sys\nfrom importlib.metadata import version\n"
        "print(json.dumps({d: version(d) for d in sys.argv[1:]}))"
    )
    out = subprocess.run([str(python), "-c", code, *dists], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def run_checkdmarc(
    args: argparse.Namespace, sandbox: SandboxProcess, domains: list[tuple[str, str | None]], python: Path
) -> Row:
    host, port = sandbox.info["dns"]
    v = versions(python, "checkdmarc", "cryptography", "dnspython")
    with Phase(sandbox, children=True) as phase:
        proc = subprocess.run(
            [str(python), "-c", CHECKDMARC_DRIVER, host, str(port), str(args.checkdmarc_timeout)]
            + [apex for apex, _ in domains],
            capture_output=True,
            text=True,
        )
    if proc.returncode != 0:
        raise SystemExit(f"checkdmarc failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    row = phase.fill(
        Row(
            "checkdmarc",
            v["checkdmarc"],
            "SPF + DMARC (check_spf, check_dmarc), one domain after another",
            len(domains),
            phase.wall,
            result["seconds"],
        )
    )
    row.notes.append(
        f"SPF valid for {result['spf_valid']}/{len(domains)} domains, DMARC valid for "
        f"{result['dmarc_valid']}/{len(domains)}; cryptography {v['cryptography']}, dnspython {v['dnspython']}"
    )
    return row


def run_sslyze(
    args: argparse.Namespace, sandbox: SandboxProcess, domains: list[tuple[str, str | None]], python: Path
) -> Row:
    port = sandbox.info["https_port"]
    # Every site of the sandbox belongs to one of the domains: apex, www, app and api (when it exists).
    targets = [
        f"{host}:{port}{{{site['ip']}}}" for site in sandbox.info["sites"] if site["https"] for host in site["hosts"]
    ]
    v = versions(python, "sslyze", "nassl", "cryptography")
    sslyze = python.parent / "sslyze"
    with tempfile.TemporaryDirectory(prefix="bench-sslyze-") as tmp:
        targets_file, out_file = Path(tmp) / "targets.txt", Path(tmp) / "out.json"
        targets_file.write_text("\n".join(targets) + "\n")
        command = [
            str(sslyze),
            "--targets_in",
            str(targets_file),
            "--certinfo",
            "--certinfo_ca_file",
            sandbox.info["ca"],
            "--tlsv1",
            "--tlsv1_1",
            "--mozilla_config",
            "disable",
            "--json_out",
            str(out_file),
            "--quiet",
        ]
        with Phase(sandbox, children=True) as phase:
            proc = subprocess.run(command, capture_output=True, text=True)
        if not out_file.exists():
            raise SystemExit(f"sslyze failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        report = json.loads(out_file.read_text())
    scan = (
        datetime.fromisoformat(report["date_scans_completed"].rstrip("Z"))
        - datetime.fromisoformat(report["date_scans_started"].rstrip("Z"))
    ).total_seconds()
    results = report["server_scan_results"]
    statuses = Counter(r["connectivity_status"] for r in results)
    old = 0
    for r in results:
        scans = r.get("scan_result") or {}
        for key in ("tls_1_0_cipher_suites", "tls_1_1_cipher_suites"):
            if ((scans.get(key) or {}).get("result") or {}).get("accepted_cipher_suites"):
                old += 1
                break
    row = phase.fill(
        Row(
            "sslyze",
            v["sslyze"],
            f"certificate + TLS 1.0/1.1 (--certinfo --tlsv1 --tlsv1_1) of {len(targets)} hosts",
            len(domains),
            phase.wall,
            scan,
        )
    )
    row.notes.append(
        f"{len(results)} servers scanned: "
        + ", ".join(f"{k.lower()} {v}" for k, v in statuses.items())
        + f"; hosts with TLS 1.0/1.1 accepted: {old}; nassl {v['nassl']}, cryptography {v['cryptography']}"
    )
    return row


# --- Report ----------------------------------------------------------------------------------------


def print_table(rows: list[Row]) -> None:
    base = rows[0]
    header = (
        f"{'tool':<12} {'version':<9} {'domains':>7} {'wall s':>7} {'scan s':>7} {'cpu s':>6} {'domains/s':>9} "
        f"{'x product':>9} {'as expected':>11}  checks"
    )
    print(header)
    print("-" * (len(header) + 50))
    for row in rows:
        ratio = "-" if row is base else f"{row.scan / base.wall:.2f}"
        print(
            f"{row.tool:<12} {row.version:<9} {row.domains:>7} {row.wall:>7.1f} {row.scan:>7.1f} {row.cpu:>6.1f} "
            f"{row.domains / row.scan:>9.1f} {ratio:>9} {row.expected:>11}  {row.checks}"
        )
    email = next((row for row in rows if row.tool == "LR email"), None)
    checkdmarc = next((row for row in rows if row.tool == "checkdmarc"), None)
    if email is not None and checkdmarc is not None:
        print(
            f"\nLike for like, SPF + DMARC: checkdmarc {checkdmarc.scan:.1f} s, the product {email.wall:.1f} s "
            f"(checkdmarc / product: {checkdmarc.scan / email.wall:.2f})"
        )
    print(
        "\n'x product' = the peer's scan time / the product's full-audit wall time (above 1: the product was faster);"
        "\n'wall s' of a peer includes its interpreter starting and importing, 'scan s' is its own timer;"
        "\n'cpu s' is the tool's own CPU time (the sandbox's is below); 'domains/s' = domains / scan s;"
        "\n'as expected': healthy domains whose findings equal a lone audit's, plus tripping domains whose check"
        "\nwas found (fewer than all: the audits were cut short or misled by load, and their speed means little)."
    )
    for row in rows:
        server = row.server
        drops = "unknown" if row.drops is None else str(row.drops)
        print(
            f"\n{row.tool}: the sandbox answered {server.get('dns_queries', 0):.0f} DNS queries and "
            f"{server.get('http_requests', 0):.0f} HTTP requests using {server.get('cpu_seconds', 0):.1f} s of CPU; "
            f"UDP datagrams dropped for want of buffer room (machine-wide): {drops}"
        )
        for note in row.notes:
            print(f"  {note}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--domains", type=int, default=200, help="how many sandbox domains")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help=f"product audits in flight at most (default {DEFAULT_CONCURRENCY}, the command's; 0: no bound)",
    )
    parser.add_argument("--dns-latency-ms", type=float, default=50.0, help="delay before every DNS answer")
    parser.add_argument("--http-latency-ms", type=float, default=100.0, help="delay before every HTTP response")
    parser.add_argument(
        "--sandbox-dns-rcvbuf",
        type=int,
        default=0,
        help="receive buffer of the sandbox's DNS socket, bytes (0: the system default)",
    )
    parser.add_argument("--deadline", type=float, default=90.0, help="each product audit's deadline, seconds")
    parser.add_argument("--checkdmarc-timeout", type=float, default=2.0, help="checkdmarc's DNS timeout (its default)")
    parser.add_argument("--skip", action="append", default=[], choices=["checkdmarc", "sslyze"], help="skip a peer")
    parser.add_argument("--checkdmarc-requirement", default="checkdmarc>=5,<7", help="pip requirement")
    parser.add_argument("--sslyze-requirement", default="sslyze>=6,<7", help="pip requirement")
    parser.add_argument("--no-install", action="store_true", help="never create the peers' virtual environments")
    args = parser.parse_args(argv)

    peers: dict[str, Path] = {}
    if "checkdmarc" not in args.skip:
        peers["checkdmarc"] = peer_python("checkdmarc", args.checkdmarc_requirement, "checkdmarc", not args.no_install)
    if "sslyze" not in args.skip:
        peers["sslyze"] = peer_python("sslyze", args.sslyze_requirement, "sslyze", not args.no_install)

    domains = peer_domains(args.domains)
    print(
        f"Audit throughput: {len(domains)} sandbox domains ({sum(t is None for _, t in domains)} healthy), "
        f"{args.dns_latency_ms:g} ms per DNS answer, {args.http_latency_ms:g} ms per HTTP response; product "
        f"concurrency {args.concurrency or 'all'}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    started = time.monotonic()
    with SandboxProcess(
        domains,
        latency=args.http_latency_ms / 1000,
        dns_latency=args.dns_latency_ms / 1000,
        dns_rcvbuf=args.sandbox_dns_rcvbuf,
    ) as sb:
        print(
            f"sandbox up in {time.monotonic() - started:.1f} s (pid {sb.pid}; its DNS socket's receive buffer: "
            f"{sb.info['dns_rcvbuf']} bytes); auditing …",
            flush=True,
        )
        rows = [product(args, sb, domains)]
        print(f"LaunchReady: {rows[0].wall:.1f} s", flush=True)
        rows.append(product_email(args, sb, domains))
        print(f"LaunchReady, SPF + DMARC only: {rows[-1].wall:.1f} s", flush=True)
        if "checkdmarc" in peers:
            rows.append(run_checkdmarc(args, sb, domains, peers["checkdmarc"]))
            print(f"checkdmarc: {rows[-1].wall:.1f} s", flush=True)
        if "sslyze" in peers:
            rows.append(run_sslyze(args, sb, domains, peers["sslyze"]))
            print(f"sslyze: {rows[-1].wall:.1f} s", flush=True)
    print(f"load average now {os.getloadavg()[0]:.2f}\n")
    print_table(rows)


if __name__ == "__main__":
    main()
