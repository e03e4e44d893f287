"""Audit latency: a full audit's wall time against its critical path (DESIGN.md section 9).

What is measured
    One full audit (`audits.engine.run_audit`, every check, the target a consultant would set up: apex,
    www, app and api hosts, five routes, Google mail) of the sandbox's healthy domain, and of any
    tripping domain named with --trip, on the loopback sandbox with injected latency: by default 50 ms
    before every DNS answer and 100 ms before every HTTP response (TCP and TLS handshakes get none).
    The sandbox runs in a child process of this script (so its TLS and DNS work does not share this
    interpreter's lock with the audit), unless --in-process-sandbox is given.

How the critical path is measured (not hand-counted)
    The bench wraps the engine's own network door, `launchready.net.Net`, during each traced audit
    (product code is not changed) and records every network round trip the audit makes:
      dns   one DNS question that went to a server (Net._query, or Net.dns_at asking one nameserver
            directly; answers shared from the audit's cache are not round trips),
      http  one plain-HTTP request on the wire (Net._one, timed from the moment the address was known,
            so the DNS lookup before it is its own round trip),
      https one HTTPS request (TCP + TLS handshake + request + response, likewise),
      tls   one inspection handshake without a request (Net.tls: the certificate and old-protocol probes).
    Each round trip records the round trips it waited for, by data flow: every asyncio task carries
    the last round trips whose results it has seen; a round trip made by a task waited for those; a
    task created by another starts with its creator's and hands its own back when it ends (which is
    when the creator's `gather`/`wait` can see its result); a DNS answer, page or handshake shared
    between checks (`Net.dns` cache, `Net.shared`) hands the round trips that produced it to every
    check that reads it. (A task factory on the event loop and wrappers on Net's methods do this; the
    wrappers are removed after each traced audit, and untraced audits are timed too, to show their cost.)
    The critical path is the longest chain of waits, each round trip counted at the lesser of its time in
    the audit and its time alone: the median of --calibration unloaded trips of its kind, made one at a
    time before the audit, or, for a trip that took longer than that in the audit, the same trip made
    again alone after the audit (so a server that is slow by design, such as a 2-second login page,
    stays on the path at its real cost, while the load the audit itself puts on this machine is counted
    in the wall time and not excused in the critical path). The chain is printed link by link, so every
    dependency in it can be checked by eye.

    Two other figures are printed for reference: the same chain with each trip's duration as measured
    inside the audit, and the timestamp bound (the longest chain of round trips in which each one
    merely started after the previous one ended, dependent or not: an upper bound on the critical path).

What it prints
    The unloaded round-trip costs; then, for each audited domain, one cold and --runs traced audits and
    --untraced plain ones: wall time, critical path (an untraced run is set against the traced runs'
    median), their ratio (the bar is 1.3x), this process's CPU time during the audit, the chain's length
    in round trips and the counts of DNS queries, HTTP requests and inspection handshakes (the sandbox's
    own counts beside them); then, for each domain's last traced run, the chain link by link and each
    check's finishing time and own chain; last, the median ratios per domain. Nothing is asserted.

Run from the repository root:
    .venv/bin/python bench/audit_latency.py [--dns-latency-ms 50] [--http-latency-ms 100] [--runs 3]
        [--trip redirect.long_chain --trip email.dmarc.rua_unauthorised] [--in-process-sandbox]
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import os
import statistics
import sys
import time
import weakref
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "launchready.settings")
import django  # noqa: E402

django.setup()  # the checks read route kinds from the models

from audits.engine import checks_for, run_audit  # noqa: E402
from audits.sandbox_targets import sandbox_target  # noqa: E402
from audits.target import AuditTarget  # noqa: E402
from launchready.net import Net, NetConfig  # noqa: E402
from launchready.sandbox.process import SandboxProcess  # noqa: E402
from launchready.sandbox.scenarios import HEALTHY, TRIPS  # noqa: E402

METHOD = """\
Critical path: the longest chain of dependent network round trips, found by data flow through the
engine's own Net (each asyncio task carries the round trips it has seen the results of; a task hands
them to its creator when it ends; shared DNS answers, pages and handshakes hand over the trips that
produced them). Kinds: dns = one DNS question on the wire; http/https = one request (TCP [+ TLS] +
request + response) after its address is known; tls = one inspection handshake. Each trip counts for
the lesser of its time in the audit and its time alone: the unloaded median of its kind above, or,
for a trip slower than that in the audit, the same trip made again alone after the audit (a server
slow by design stays slow; this machine's load does not count). Ratio = wall / critical path."""


# --- The sandbox, in a child process (launchready/sandbox/process.py) or in this one -----------------


def udp_receive_errors() -> int | None:
    """Datagrams this machine dropped for want of receive-buffer room (Linux, all processes), or None."""
    try:
        lines = [line.split() for line in Path("/proc/net/snmp").read_text().splitlines() if line.startswith("Udp:")]
        return int(lines[1][lines[0].index("RcvbufErrors")])
    except (OSError, ValueError, IndexError):
        return None


def target_for(apex: str, trip: str | None = None) -> AuditTarget:
    return sandbox_target(apex, trip=trip)


# --- Tracing the round trips through Net --------------------------------------------------------------


@dataclass(eq=False)
class Op:
    """One network round trip, with the round trips it waited for."""

    kind: str  # dns, http, https, tls
    label: str
    replay: tuple[Any, ...]  # how to make the same round trip again, alone
    start: float  # the call began (an HTTP call may first look its host up)
    net_start: float  # the round trip itself began
    end: float
    preds: tuple[Op, ...]  # the last round trips of every chain this one waited for
    cost: float = 0.0  # what this trip counts for on the critical path (see analyse)
    dist: float = 0.0  # the longest chain's cost up to and including this trip
    best: Op | None = None  # the predecessor on that longest chain
    links: int = 0

    @property
    def seconds(self) -> float:
        return self.end - self.net_start


class Cell:
    """A task's running chain: the round trips whose results it has seen last."""

    __slots__ = ("frontier", "picked")

    def __init__(self, frontier: tuple[Op, ...] = ()) -> None:
        self.frontier = frontier
        self.picked: float | None = None

    def fold(self, other: tuple[Op, ...]) -> None:
        if other:
            self.frontier = tuple(dict.fromkeys((*self.frontier, *other)))


CELL: contextvars.ContextVar[Cell] = contextvars.ContextVar("bench_chain")


def _cell() -> Cell:
    cell = CELL.get(None)
    if cell is None:
        cell = Cell()
        CELL.set(cell)
    return cell


@dataclass
class CheckTrace:
    name: str
    cell: Cell
    started: float
    ended: float = 0.0

    @property
    def chain(self) -> Op | None:
        return max(self.cell.frontier, key=lambda op: op.dist, default=None)


@dataclass
class Tracer:
    """Records round trips and what each waited for, while installed (see the module docstring)."""

    ops: list[Op] = field(default_factory=list)
    checks: list[CheckTrace] = field(default_factory=list)
    watch: dict[str, str] = field(default_factory=dict)  # coroutine name -> check name
    errors: dict[str, int] = field(default_factory=dict)  # failed round trips by kind and error
    cells: weakref.WeakKeyDictionary[asyncio.Task[Any], Cell] = field(default_factory=weakref.WeakKeyDictionary)

    def record(self, kind: str, label: str, replay: tuple[Any, ...], start: float, net_start: float) -> Op:
        cell = _cell()
        op = Op(kind, label, replay, start, net_start, time.monotonic(), cell.frontier)
        cell.frontier = (op,)
        self.ops.append(op)
        return op

    def reset(self) -> None:
        self.ops, self.checks, self.errors = [], [], {}

    def error(self, key: str) -> None:
        self.errors[key] = self.errors.get(key, 0) + 1

    def task_factory(
        self,
        loop: asyncio.AbstractEventLoop,
        coro: Coroutine[Any, Any, Any],
        context: contextvars.Context | None = None,
    ) -> asyncio.Task[Any]:
        if context is None:
            parent = _cell()  # in the creating task's context
            ctx = contextvars.copy_context()
        else:
            ctx = context.copy()
            parent = ctx.get(CELL) or Cell()
        child = Cell(parent.frontier)
        ctx.run(CELL.set, child)
        task: asyncio.Task[Any] = asyncio.Task(coro, loop=loop, context=ctx)
        self.cells[task] = child
        # Registered before any gather/wait callback: the creator sees the chain with the result.
        task.add_done_callback(lambda _t: parent.fold(child.frontier))
        code = getattr(coro, "cr_code", None)
        name = self.watch.get(code.co_name) if code is not None else None
        if name is not None:
            trace = CheckTrace(name, child, time.monotonic())
            self.checks.append(trace)
            task.add_done_callback(lambda _t: setattr(trace, "ended", time.monotonic()))
        return task

    @contextmanager
    def installed(self) -> Iterator[Tracer]:
        tracer = self
        names = ("_query", "dns", "dns_at", "shared", "pick_address", "_one", "tls")
        originals = {name: getattr(Net, name) for name in names if hasattr(Net, name)}
        o_query, o_dns, o_shared = originals["_query"], originals["dns"], originals["shared"]
        o_pick, o_one, o_tls = originals["pick_address"], originals["_one"], originals["tls"]

        async def _query(self: Net, name: str, rdtype: str) -> Any:
            start = time.monotonic()
            answer = await o_query(self, name, rdtype)
            tracer.record("dns", f"{name} {rdtype}", ("dns", name, rdtype), start, start)
            if answer.is_failure:
                tracer.error(f"dns {answer.status}")
            return answer

        def _handover(self: Net, cache: dict[Any, Any], key: tuple[Any, ...], owner: bool, cell: Cell) -> None:
            """A shared answer hands the chain that produced it to whoever reads it."""
            shared_run = cache.get(key)
            if isinstance(shared_run, asyncio.Task) and shared_run in tracer.cells:
                cell.fold(tracer.cells[shared_run].frontier)  # it ran as a task of its own
                return
            chains = self.__dict__.setdefault("_bench_chains", {})  # it ran in the first asker's task
            if owner:
                chains[(id(cache), key)] = cell.frontier
            elif (id(cache), key) in chains:
                cell.fold(chains[(id(cache), key)])

        async def dns(self: Net, name: str, rdtype: str) -> Any:
            key = (name.lower().rstrip("."), rdtype.upper())
            cell, owner = _cell(), key not in self._dns_cache
            answer = await o_dns(self, name, rdtype)
            _handover(self, self._dns_cache, key, owner, cell)
            return answer

        async def shared(self: Net, key: tuple[Any, ...], make: Any) -> Any:
            cell, owner = _cell(), key not in self._memo
            result = await o_shared(self, key, make)
            _handover(self, self._memo, key, owner, cell)
            return result

        async def dns_at(self: Net, server: str, name: str, rdtype: str) -> Any:
            start = time.monotonic()
            answer = await originals["dns_at"](self, server, name, rdtype)
            if "not asked" not in answer.error and answer.status.value not in ("limit", "invalid"):
                tracer.record("dns", f"{name} {rdtype} @{server}", ("dns_at", server, name, rdtype), start, start)
            return answer

        async def pick_address(self: Net, host: str) -> Any:
            result = await o_pick(self, host)
            _cell().picked = time.monotonic()
            return result

        async def _one(self: Net, url: str, method: str, *args: Any) -> Any:
            cell, start = _cell(), time.monotonic()
            cell.picked = None
            hop, body, truncated = await o_one(self, url, method, *args)
            if hop.address:  # a request went out (not refused, not a failed lookup)
                kind = "https" if url.startswith("https:") else "http"
                tracer.record(kind, f"{method} {url}", ("fetch", method, url), start, cell.picked or start)
                if hop.error:
                    tracer.error(f"{kind} {hop.error}")
            return hop, body, truncated

        async def tls(self: Net, host: str, port: int = 443, **kwargs: Any) -> Any:
            cell, start = _cell(), time.monotonic()
            cell.picked = None
            info = await o_tls(self, host, port, **kwargs)
            if info.address:
                max_version = kwargs.get("max_version")
                probe = " (TLS <= 1.1 probe)" if max_version else ""
                replay = ("tls", host, port, max_version)
                tracer.record("tls", f"handshake {host}:{port}{probe}", replay, start, cell.picked or start)
                if info.error and not probe:
                    tracer.error(f"tls {info.error}")
            return info

        replacements: dict[str, Callable[..., Any]] = {
            "_query": _query,
            "dns": dns,
            "dns_at": dns_at,
            "shared": shared,
            "pick_address": pick_address,
            "_one": _one,
            "tls": tls,
        }
        for name, fn in replacements.items():
            if name in originals:  # dns_at: in the engines that ask nameservers directly
                setattr(Net, name, fn)
        try:
            yield self
        finally:
            for name, fn in originals.items():
                setattr(Net, name, fn)


async def alone(config: NetConfig, replay: tuple[Any, ...]) -> Op | None:
    """Make one round trip again on a fresh Net (its address looked up first) and return it."""
    CELL.set(Cell())  # in this replay's own task
    async with Net(config) as net:
        if replay[0] == "dns":
            await net.dns(replay[1], replay[2])
        elif replay[0] == "dns_at":
            await net.dns_at(replay[1], replay[2], replay[3])
        elif replay[0] == "fetch":
            await net.fetch(replay[2], method=replay[1], follow_redirects=False)
        else:
            await net.tls(replay[1], replay[2], max_version=replay[3])
    return next((op for op in _cell().frontier if op.replay == replay), None)


async def costs_alone(
    config: NetConfig, tracer: Tracer, ops: list[Op], unloaded: dict[str, float], concurrency: int
) -> dict[tuple[Any, ...], float]:
    """What each round trip that was slower in the audit than usual takes when made again alone."""
    slow = list(dict.fromkeys(op.replay for op in ops if op.seconds > unloaded.get(op.kind, 0.0) * 1.2 + 0.005))
    saved, tracer.ops = tracer.ops, []
    gate = asyncio.Semaphore(concurrency)

    async def one(replay: tuple[Any, ...]) -> Op | None:
        async with gate:
            return await asyncio.ensure_future(alone(config, replay))

    try:
        results = await asyncio.gather(*(one(r) for r in slow))
    finally:
        tracer.ops = saved
    return {r: op.seconds for r, op in zip(slow, results, strict=True) if op is not None}


def analyse(ops: list[Op], unloaded: dict[str, float], replayed: dict[tuple[Any, ...], float]) -> Op | None:
    """Cost each trip at the lesser of its time in the audit and its time alone; the longest chain."""
    for op in ops:  # in the order they ended: whatever a trip waited for ended before it
        op.cost = min(op.seconds, replayed.get(op.replay, unloaded.get(op.kind, op.seconds)))
        op.best = max(op.preds, key=lambda p: p.dist, default=None)
        op.dist = op.cost + (op.best.dist if op.best else 0.0)
        op.links = 1 + (op.best.links if op.best else 0)
    return max(ops, key=lambda op: op.dist, default=None)


def timestamp_bound(ops: list[Op]) -> float:
    """The longest chain in which each trip started after the previous ended (dependent or not)."""
    ordered = sorted(ops, key=lambda op: op.net_start)
    best: list[float] = []
    for j, op in enumerate(ordered):
        before = [best[i] for i in range(j) if ordered[i].end <= op.net_start]
        best.append(op.cost + max(before, default=0.0))
    return max(best, default=0.0)


def chain_of(op: Op | None) -> list[Op]:
    links = []
    while op is not None:
        links.append(op)
        op = op.best
    return links[::-1]


def counts(ops: list[Op]) -> dict[str, int]:
    out = {"dns": 0, "http": 0, "tls": 0}
    for op in ops:
        out["http" if op.kind in ("http", "https") else op.kind] += 1
    return out


# --- The benchmark ---------------------------------------------------------------------------------


async def calibrate(config: NetConfig, tracer: Tracer, apex: str, rounds: int) -> dict[str, float]:
    """Median unloaded time of each kind of round trip: one at a time, on a fresh Net each round."""
    tracer.reset()
    for i in range(rounds):
        async with Net(config) as net:
            await net.dns(f"calibration-{i}.{apex}", "TXT")
            await net.fetch(f"http://www.{apex}/", follow_redirects=False)
            await net.fetch(f"https://www.{apex}/", follow_redirects=False)
            await net.tls(f"www.{apex}")
    by_kind: dict[str, list[float]] = {}
    for op in tracer.ops:
        by_kind.setdefault(op.kind, []).append(op.seconds)
    tracer.reset()
    return {kind: statistics.median(values) for kind, values in by_kind.items()}


@dataclass
class RunResult:
    apex: str
    label: str
    wall: float
    ops: list[Op]
    checks: list[CheckTrace]
    critical: Op | None
    bound: float
    started: float
    server: dict[str, float]
    partial: bool
    errors: dict[str, int]
    replayed: int
    cpu: float
    traced_path: float = 0.0  # an untraced run: the median critical path of the traced runs

    @property
    def path(self) -> float:
        return self.critical.dist if self.critical else self.traced_path


async def audit_once(
    apex: str,
    trip: str | None,
    config: NetConfig,
    tracer: Tracer,
    sandbox: SandboxProcess,
    label: str,
    args: argparse.Namespace,
    unloaded: dict[str, float],
) -> RunResult:
    """One full audit, traced; then the slow trips made again alone, and the chain worked out."""
    target = target_for(apex, trip)
    tracer.watch = {fn.__name__: name for name, fn in checks_for(target).items()}
    tracer.watch["record_inventory"] = "inventory (bonus)"
    tracer.reset()
    loop = asyncio.get_running_loop()
    with tracer.installed():
        loop.set_task_factory(tracer.task_factory)  # type: ignore[arg-type]
        CELL.set(Cell())  # this task's chain starts afresh: the audit's tasks inherit it
        try:
            before = sandbox.stats()
            cpu, started = time.process_time(), time.monotonic()
            outcome = await run_audit(target, config=config, deadline=args.deadline)
            wall, cpu = time.monotonic() - started, time.process_time() - cpu
            after = sandbox.stats()
            ops, checks, errors = list(tracer.ops), list(tracer.checks), dict(tracer.errors)
            replayed = await costs_alone(config, tracer, ops, unloaded, args.replay_concurrency)
        finally:
            loop.set_task_factory(None)
    critical = analyse(ops, unloaded, replayed)
    return RunResult(
        apex,
        label,
        wall,
        ops,
        checks,
        critical,
        timestamp_bound(ops),
        started,
        {k: after[k] - before[k] for k in after},
        outcome.partial,
        errors,
        len(replayed),
        cpu,
    )


async def audit_plain(
    apex: str, trip: str | None, config: NetConfig, sandbox: SandboxProcess, label: str, path: float, deadline: float
) -> RunResult:
    """One full audit without any tracing (the tracer's own cost shows as the difference)."""
    before = sandbox.stats()
    cpu, started = time.process_time(), time.monotonic()
    outcome = await run_audit(target_for(apex, trip), config=config, deadline=deadline)
    wall, cpu = time.monotonic() - started, time.process_time() - cpu
    after = sandbox.stats()
    result = RunResult(
        apex,
        label,
        wall,
        [],
        [],
        None,
        0.0,
        started,
        {k: after[k] - before[k] for k in after},
        outcome.partial,
        {},
        0,
        cpu,
    )
    result.traced_path = path
    return result


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def print_runs(results: list[RunResult]) -> None:
    header = (
        f"{'domain':<22} {'run':<5} {'wall ms':>7} {'crit. path ms':>13} {'ratio':>5} {'cpu ms':>6} {'trips':>5} "
        f"{'DNS q':>5} {'HTTP req':>8} {'TLS hs':>6} {'server DNS/HTTP':>15}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        ratio = r.wall / r.path if r.path else float("nan")
        server = f"{r.server['dns_queries']:.0f}/{r.server['http_requests']:.0f}"
        if r.critical is not None:
            c = counts(r.ops)
            traced = f"{ms(r.path):>13} {ratio:>5.2f} {ms(r.cpu):>6} {r.critical.links:>5} "
            traced += f"{c['dns']:>5} {c['http']:>8} {c['tls']:>6}"
        else:  # untraced: the traced runs' median critical path
            traced = f"{'(' + ms(r.path) + ')':>13} {ratio:>5.2f} {ms(r.cpu):>6} {'-':>5} {'-':>5} {'-':>8} {'-':>6}"
        flag = "  partial!" if r.partial else ""
        print(f"{r.apex:<22} {r.label:<5} {ms(r.wall):>7} {traced} {server:>15}{flag}")
    print(
        "(u#: untraced runs, against the traced runs' median critical path; cpu ms: this process's CPU time "
        "during the audit)"
    )


def print_detail(r: RunResult, nominal: dict[str, float]) -> None:
    chain = chain_of(r.critical)
    print(f"\nCritical path of {r.apex} (run {r.label}): {len(chain)} dependent round trips, {ms(r.path)} ms")
    print(f"  {'#':>2}  {'kind':<5} {'counted':>7} {'in audit':>8} {'began at':>8}  round trip (times in ms)")
    for i, op in enumerate(chain, 1):
        print(
            f"  {i:>2}  {op.kind:<5} {ms(op.cost):>7} {ms(op.seconds):>8} {ms(op.net_start - r.started):>8}  {op.label}"
        )
    measured = sum(op.seconds for op in chain)
    injected = sum(nominal.get(op.kind, 0.0) for op in chain)
    print(
        f"  this chain as timed inside the audit: {ms(measured)} ms; its injected latency alone: {ms(injected)} ms;\n"
        f"  timestamp bound (longest chain of trips each starting after the previous ended): {ms(r.bound)} ms;\n"
        f"  {r.replayed} trips slower in the audit than usual were made again alone to cost them"
    )
    print(f"Checks of {r.apex} (run {r.label}), in the order they finished:")
    print(f"  {'check':<24} {'done at ms':>10} {'own chain ms':>12} {'trips':>5}")
    for check in sorted(r.checks, key=lambda c: c.ended):
        last = check.chain
        own, links = (last.dist, last.links) if last else (0.0, 0)
        print(f"  {check.name:<24} {ms(check.ended - r.started):>10} {ms(own):>12} {links:>5}")
    if r.errors:
        print("  failed round trips: " + ", ".join(f"{k} x{v}" for k, v in sorted(r.errors.items())))


async def bench(args: argparse.Namespace, sandbox: SandboxProcess) -> None:
    config = sandbox.config()
    tracer = Tracer()
    nominal = {"dns": args.dns_latency_ms / 1000, "http": args.http_latency_ms / 1000}
    nominal["https"] = nominal["http"]
    with tracer.installed():
        unloaded = await calibrate(config, tracer, HEALTHY, args.calibration)
    kinds = [kind for kind in ("dns", "http", "https", "tls") if kind in unloaded]
    print(
        f"Unloaded round trips (median of {args.calibration}, one at a time): "
        + ", ".join(f"{kind} {ms(unloaded[kind])} ms" for kind in kinds)
    )
    print(METHOD + "\n")
    domains: list[tuple[str, str | None]] = [(HEALTHY, None), *((TRIPS[t][0], t) for t in args.trip)]
    results: list[RunResult] = []
    last: dict[str, RunResult] = {}
    for apex, trip in domains:
        for run in range(args.warmup + args.runs):
            label = "cold" if run < args.warmup else f"#{run - args.warmup + 1}"
            result = await audit_once(apex, trip, config, tracer, sandbox, label, args, unloaded)
            results.append(result)
            last[apex] = result
        path = statistics.median(r.path for r in results if r.apex == apex and r.label != "cold")
        for run in range(args.untraced):
            results.append(await audit_plain(apex, trip, config, sandbox, f"u#{run + 1}", path, args.deadline))
    print_runs(results)
    for apex, result in last.items():
        if args.detail == "all" or apex == HEALTHY:
            print_detail(result, nominal)
    print()
    for apex, _ in domains:
        line = f"{apex}:"
        for name, prefix in (("traced", "#"), ("untraced", "u#")):
            runs = [r for r in results if r.apex == apex and r.label.startswith(prefix) and r.path]
            if runs:
                ratios = [r.wall / r.path for r in runs]
                line += (
                    f" {name} median wall {ms(statistics.median(r.wall for r in runs))} ms / critical path "
                    f"{ms(statistics.median(r.path for r in runs))} ms = {statistics.median(ratios):.2f}"
                    f" (worst {max(ratios):.2f});"
                )
        print(line.rstrip(";") + " (bar: 1.3x)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dns-latency-ms", type=float, default=50.0, help="delay before every DNS answer")
    parser.add_argument("--http-latency-ms", type=float, default=100.0, help="delay before every HTTP response")
    parser.add_argument("--runs", type=int, default=3, help="measured audits per domain")
    parser.add_argument("--warmup", type=int, default=1, help="audits per domain first, reported as 'cold'")
    parser.add_argument(
        "--untraced", type=int, default=3, help="audits per domain run without tracing (the tracer's cost)"
    )
    parser.add_argument("--calibration", type=int, default=5, help="unloaded round trips of each kind")
    parser.add_argument(
        "--replay-concurrency", type=int, default=4, help="slow trips made again alone, this many at a time"
    )
    parser.add_argument(
        "--trip",
        action="append",
        default=[],
        choices=sorted(TRIPS),
        metavar="CHECK_ID",
        help="also audit the sandbox domain that trips this check (repeatable), e.g. redirect.long_chain",
    )
    parser.add_argument("--detail", choices=["healthy", "all"], default="all", help="whose chains to print")
    parser.add_argument("--deadline", type=float, default=90.0, help="the audit's deadline, seconds")
    parser.add_argument("--in-process-sandbox", action="store_true", help="serve the sandbox from this process")
    args = parser.parse_args(argv)
    domains: list[tuple[str, str | None]] = [(HEALTHY, None), *((TRIPS[t][0], t) for t in args.trip)]
    where = "in this process" if args.in_process_sandbox else "in a child process"
    print(
        f"Audit latency: sandbox ({where}) with {args.dns_latency_ms:g} ms per DNS answer and "
        f"{args.http_latency_ms:g} ms per HTTP response; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}; "
        f"load average {os.getloadavg()[0]:.2f} (other work on this machine slows every figure)"
    )
    with SandboxProcess(
        domains,
        latency=args.http_latency_ms / 1000,
        dns_latency=args.dns_latency_ms / 1000,
        in_process=args.in_process_sandbox,
    ) as sandbox:
        asyncio.run(bench(args, sandbox))


if __name__ == "__main__":
    main()
