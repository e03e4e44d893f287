"""Requests timed in a process of their own, so that what is measured is the server and not the auditor.

An audit shares its process's event loop with every other audit in flight: a response that has
arrived waits behind their work before the coroutine that asked for it runs again, and a timer around
the request counts that wait as the server's. Two or three audits at once are enough to make a healthy
route look slow, and a thread would not help: it waits for the interpreter lock instead.

So the samples that judge a route's speed are taken by a small child process (`python -m
launchready.timing`), started on first use and shared by every audit of its parent. It does nothing
but time requests, through Net like every request of an audit (same settings, same guard), each run
of samples one after another on one kept-alive connection. The operating system wakes a process that
mostly sleeps promptly even when its parent keeps a core busy, so its timers see the network. Its own
lateness is measured as well (LagMeter): each sample carries how late the loop was when the answer
came in (FetchResult.lag_ms), which whoever judges the timing subtracts, and a sample over a budget by
no more than that is taken again.

Parent and child speak JSON lines over the child's standard input and output. If the child cannot be
started or dies, timed() logs one line and returns no samples: the route is then judged without them.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import dataclasses
import itertools
import json
import logging
import os
import queue
import subprocess  # only to start our own child process  # nosec B404
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from launchready.net import FetchError, FetchResult, Hop, Net, NetConfig

log = logging.getLogger(__name__)

LAG_LIMIT_MS = 50.0  # the timing loop late by more than this lately: fewer sample runs at once
RETAKES = 2  # at most this many more requests for one sample
TICK = 0.005  # seconds between the lag meter's ticks
# Sample runs in flight in the child: the limit grows by one each time a run ends with the loop keeping
# up lately (late by less than KEEPING_UP), and halves when it was late by more than LAG_LIMIT_MS (the
# child then does more than its core can time well); runs beyond the limit wait, untimed.
RUNS_AT_FIRST, RUNS_AT_MOST = 16, 256
KEEPING_UP = 0.020
LATELY = 0.25  # seconds
START_TIMEOUT = 20.0  # seconds the child may take to say it is ready
RETRY_AFTER = 60.0  # seconds before starting a child again after one would not start
ROOT = Path(__file__).resolve().parent.parent


async def timed(
    net: Net,
    url: str,
    *,
    count: int,
    follow_redirects: bool = True,
    max_bytes: int | None = None,
    budgets_ms: tuple[float, ...] = (),
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    content: bytes | None = None,
    slow: tuple[float, int] | None = None,
) -> list[FetchResult]:
    """`count` requests of one URL (GETs unless told: a webhook's POST, with its headers and body), one after
    another on one new connection, timed in the timing process (bodies are not kept). A sample over one of the
    budgets (total or first byte) by no more than the timer was late is taken again (no budgets: each request
    is sent once). The run stops at the first request that fails; [] when there is no timer.

    `slow` = (ms, needed): the samples judge whether `needed` of the `count` took longer than `ms`, and the run
    stops as soon as the requests left could not bring it there even if each of them were slow (a sample
    counts as slow by its time before the timer's lateness is taken off, so the stop is never early)."""
    remaining = None if net.deadline is None else max(0.05, net.deadline - time.monotonic())
    request = {
        "config": _config_to_json(net.config),
        "url": url,
        "count": count,
        "follow_redirects": follow_redirects,
        "max_bytes": max_bytes,
        "budgets_ms": list(budgets_ms),
        "deadline": remaining,
        "send": _send_to_json(method, headers, content),
        "slow": list(slow) if slow is not None else None,
    }
    # The run's own bound: its requests' deadlines one after another, retakes included, within the audit's.
    bound = count * (1 + RETAKES) * net.config.request_deadline + START_TIMEOUT
    try:
        async with asyncio.timeout(min(bound, remaining + 1.0) if remaining is not None else bound):
            # Starting the child waits for it: off this loop, which other audits share.
            timer = TimingProcess.running()
            if timer is None:
                timer = await asyncio.to_thread(TimingProcess.current)
            answer = await asyncio.wrap_future(timer.ask(request))
    except (TimingUnavailable, TimeoutError) as exc:
        TimingProcess.report_trouble(exc)
        return []
    TimingProcess.report_trouble(None)
    net.dns_queries += int(answer.get("dns_queries", 0))
    return [_result_from_json(item) for item in answer["results"]]


# --- The parent's side -----------------------------------------------------------------------------


class TimingUnavailable(RuntimeError):
    """The timing process could not be started, or ended before it answered."""


class TimingProcess:
    """The child that times requests, and a thread that hands its answers to whoever asked."""

    _instance: TimingProcess | None = None
    _lock = threading.Lock()
    _failed_at = -RETRY_AFTER  # when a child last would not start (monotonic seconds)
    _troubled = False  # a trouble was logged and no answer has come since

    def __init__(self) -> None:
        self.pid = os.getpid()
        self._ids = itertools.count(1)
        self._waiting: dict[int, concurrent.futures.Future[dict[str, Any]]] = {}
        # Requests go to the child through a thread of their own, so that a child that stops reading
        # (stopped, stuck) never blocks whoever asks; their futures are bounded by the caller.
        self._outbox: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        # Our own interpreter and module; requests are JSON lines this code writes.
        self._proc = subprocess.Popen(  # nosec B603
            [sys.executable, "-m", "launchready.timing"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            bufsize=1,
        )
        self._reader = threading.Thread(target=self._read, name="timing-answers", daemon=True)
        self._writer = threading.Thread(target=self._write, name="timing-requests", daemon=True)
        self._ready = threading.Event()
        self._handover = threading.Lock()  # between askers and the reader that ends
        self._ended = False
        self._said_ready = False  # the child's own "ready", not the reader giving up on a child that ended
        self._reader.start()
        self._writer.start()
        # A child that ended can close its output before it can be reaped, so poll() alone may not see it yet.
        if not self._ready.wait(START_TIMEOUT) or not self._said_ready or self._proc.poll() is not None:
            self.close()
            raise TimingUnavailable("the timing process did not start")

    @classmethod
    def current(cls) -> TimingProcess:
        """This process's timer, started on first use, again after it died, and anew after a fork; a
        child that would not start is not tried again for RETRY_AFTER seconds. Blocks while it starts."""
        with cls._lock:
            timer = cls._instance
            if timer is None or timer.pid != os.getpid() or not timer.alive:
                cls._instance = None
                if time.monotonic() - cls._failed_at < RETRY_AFTER:
                    raise TimingUnavailable("the timing process would not start a moment ago")
                try:
                    timer = cls._instance = TimingProcess()
                except (TimingUnavailable, OSError) as exc:
                    cls._failed_at = time.monotonic()
                    raise TimingUnavailable(str(exc) or type(exc).__name__) from None
            return timer

    @classmethod
    def report_trouble(cls, trouble: BaseException | None) -> None:
        """One log line when timing stops working (not one per route), one when it works again."""
        if trouble is None:
            if cls._troubled:
                cls._troubled = False
                log.info("route timing works again")
            return
        if not cls._troubled:
            cls._troubled = True
            reason = "no answer in time" if isinstance(trouble, TimeoutError) else str(trouble)
            log.warning(
                "route timing unavailable (%s): routes are judged without speed samples until it works again; "
                "the timing process is started again on a later audit",
                reason,
            )

    @classmethod
    def running(cls) -> TimingProcess | None:
        """This process's timer when it is up, without waiting for anything."""
        timer = cls._instance
        return timer if timer is not None and timer.pid == os.getpid() and timer.alive else None

    @classmethod
    def child_pid(cls) -> int | None:
        """The process id of this process's timer, if one is running (for benchmarks that count its CPU)."""
        timer = cls.running()
        return timer._proc.pid if timer is not None else None

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None and self._reader.is_alive()

    def ask(self, request: dict[str, Any]) -> concurrent.futures.Future[dict[str, Any]]:
        future: concurrent.futures.Future[dict[str, Any]] = concurrent.futures.Future()
        number = next(self._ids)
        with self._handover:
            if self._ended:  # no one is left to hand over an answer
                future.set_exception(TimingUnavailable("the timing process ended"))
                return future
            self._waiting[number] = future
        self._outbox.put(json.dumps({"id": number, **request}) + "\n")
        return future

    def _write(self) -> None:
        stdin = self._proc.stdin
        try:
            while (line := self._outbox.get()) is not None and stdin is not None:
                stdin.write(line)
                stdin.flush()
        except (OSError, ValueError):  # a closed pipe: the child is gone, and the reader says so
            pass
        finally:
            with contextlib.suppress(OSError, ValueError):
                if stdin is not None:
                    stdin.close()

    def _read(self) -> None:
        stdout = self._proc.stdout
        try:
            for line in stdout if stdout is not None else ():
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if message.get("ready"):
                    self._said_ready = True
                    self._ready.set()
                    continue
                future = self._waiting.pop(int(message.get("id", 0)), None)
                if future is not None and not future.done():
                    future.set_result(message)
        finally:
            self._ready.set()  # a child that ends before it is ready is not waited for
            with self._handover:
                self._ended = True
                waiting, self._waiting = self._waiting, {}
            for future in waiting.values():
                if not future.done():
                    future.set_exception(TimingUnavailable("the timing process ended"))

    def close(self) -> None:
        self._outbox.put(None)
        try:
            self._proc.wait(5)
        except subprocess.TimeoutExpired:
            self._proc.kill()  # our own child, by its Popen handle
            self._proc.wait(5)


# --- The child's side ------------------------------------------------------------------------------


class LagMeter:
    """How late the loop it runs on wakes up: a tick every TICK seconds while anyone is timing."""

    def __init__(self) -> None:
        self.ticks: deque[tuple[float, float]] = deque(maxlen=16384)  # (woke at, seconds late)
        self._users = 0
        self._task: asyncio.Task[None] | None = None

    def acquire(self) -> None:
        self._users += 1
        if self._task is None:
            self._task = asyncio.ensure_future(self._tick())

    def release(self) -> None:
        self._users -= 1
        if self._users == 0 and self._task is not None:
            self._task.cancel()
            self._task = None

    async def _tick(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(TICK)
            now = time.monotonic()
            self.ticks.append((now, now - before - TICK))

    def recent(self, window: float) -> float:
        """The longest the loop was late in the last `window` seconds (a tick overdue counts too)."""
        now = time.monotonic()
        worst = max(0.0, now - self.ticks[-1][0] - TICK) if self.ticks else 0.0
        for woke, late in reversed(self.ticks):
            if woke < now - window:
                break
            worst = max(worst, late)
        return worst

    def late_around(self, moment: float) -> float:
        """How late the loop was around a moment (the ticks that woke from a tick before it to two after):
        an answer that arrived then waited about that long for its coroutine to run."""
        worst = 0.0
        for woke, late in reversed(self.ticks):
            if woke < moment - TICK:
                break
            if woke <= moment + 2 * TICK:
                worst = max(worst, late)
        return worst


class Gate:
    """Lets sample runs in, as many at once as the timing loop keeps up with (additive increase,
    multiplicative decrease, as TCP finds its window)."""

    def __init__(self) -> None:
        self.limit = RUNS_AT_FIRST
        self.active = 0
        self._waiting: deque[asyncio.Future[None]] = deque()

    async def enter(self) -> None:
        while self.active >= self.limit:
            turn = asyncio.get_running_loop().create_future()
            self._waiting.append(turn)
            try:
                await turn
            except asyncio.CancelledError:
                if turn in self._waiting:
                    self._waiting.remove(turn)
                raise
        self.active += 1

    def leave(self, late: float) -> None:
        """A run ended; `late`: the most the loop was late lately, in seconds."""
        self.active -= 1
        if late * 1000 > LAG_LIMIT_MS:
            self.limit = max(RUNS_AT_FIRST, self.limit // 2)
        elif late < KEEPING_UP:
            self.limit = min(RUNS_AT_MOST, self.limit + 1)
        for _ in range(self.limit - self.active):  # each one woken checks again for room
            if not self._waiting:
                break
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)


class Timer:
    """The child's work: sample runs, as many at once as the Gate lets in, each on a Net of its own."""

    def __init__(self) -> None:
        self.meter = LagMeter()
        self.gate = Gate()

    async def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        await self.gate.enter()
        self.meter.acquire()
        results: list[FetchResult] = []
        try:
            config = _config_from_json(request["config"])
            async with Net(config, deadline=request.get("deadline")) as net:
                results = await self.run(
                    net,
                    request["url"],
                    int(request["count"]),
                    request["follow_redirects"],
                    request["max_bytes"],
                    [float(b) for b in request.get("budgets_ms", [])],
                    _send_from_json(request.get("send") or {}),
                    _slow_from_json(request.get("slow")),
                )
                queries = net.dns_queries
        finally:
            self.gate.leave(self.meter.recent(LATELY))
            self.meter.release()
        return {"id": request["id"], "results": [_result_to_json(r) for r in results], "dns_queries": queries}

    async def run(
        self,
        net: Net,
        url: str,
        count: int,
        follow_redirects: bool,
        max_bytes: int | None,
        budgets: list[float],
        send: dict[str, Any] | None = None,
        slow: tuple[float, int] | None = None,
    ) -> list[FetchResult]:
        samples: list[tuple[FetchResult, float, float]] = []
        over = 0  # samples over the slow time, lateness included
        for taken in range(1, count + 1):
            sample = await self.sample(net, url, follow_redirects, max_bytes, budgets, send or {})
            samples.append(sample)
            if not sample[0].ok or net.expired:
                break
            if slow is not None:
                over += sum(hop.elapsed_ms for hop in sample[0].hops) > slow[0]
                if over + count - taken < slow[1]:  # even all the rest slow would not make it slow
                    break
        await asyncio.sleep(2 * TICK)  # the ticks just after the last answer, which say how late it was read
        return [self._judged(*sample) for sample in samples]

    async def sample(
        self,
        net: Net,
        url: str,
        follow_redirects: bool,
        max_bytes: int | None,
        budgets: list[float],
        send: dict[str, Any] | None = None,
    ) -> tuple[FetchResult, float, float]:
        """One timed request, with when its first byte and its end were read. Lateness only ever adds to
        a timer, so a sample within every budget stands as it is; one over a budget that its lateness
        could explain is taken again (the least late kept)."""
        best = await self._timed_fetch(net, url, follow_redirects, max_bytes, send or {})
        for _ in range(RETAKES):
            if not best[0].ok or net.expired or not budgets or not _over(best[0], min(budgets)):
                break
            await asyncio.sleep(2 * TICK)  # its lateness shows in the ticks that follow
            if not _in_doubt(self._judged(*best), budgets):
                break
            await asyncio.sleep(TICK * 4)  # let the loop catch up first
            again = await self._timed_fetch(net, url, follow_redirects, max_bytes, send or {})
            await asyncio.sleep(2 * TICK)
            if not again[0].ok or self._judged(*again).lag_ms < best[0].lag_ms:
                best = again
        return best

    async def _timed_fetch(
        self, net: Net, url: str, follow_redirects: bool, max_bytes: int | None, send: dict[str, Any]
    ) -> tuple[FetchResult, float, float]:
        started = time.monotonic()
        result = await net.fetch(url, follow_redirects=follow_redirects, max_bytes=max_bytes, **send)
        ended = time.monotonic()
        result.body = b""  # the parent judges time and status; the page itself it fetched on its own
        return result, started + sum(hop.ttfb_ms for hop in result.hops[:1]) / 1000, ended

    def _judged(self, result: FetchResult, first_byte: float, ended: float) -> FetchResult:
        """The sample with its lateness: how late the loop was when its first byte and its end were read."""
        result.lag_ms = max(self.meter.late_around(first_byte), self.meter.late_around(ended)) * 1000
        return result


def _over(result: FetchResult, budget: float) -> bool:
    return max(sum(h.elapsed_ms for h in result.hops), sum(h.ttfb_ms for h in result.hops)) > budget


def _in_doubt(result: FetchResult, budgets: list[float]) -> bool:
    """Whether the sample is over a budget only by as much as the timer was late."""
    elapsed = sum(hop.elapsed_ms for hop in result.hops)
    ttfb = sum(hop.ttfb_ms for hop in result.hops)
    return any(measured > budget >= measured - result.lag_ms for measured in (elapsed, ttfb) for budget in budgets)


async def serve() -> None:
    """The child's main loop: requests from standard input, answers on standard output, until EOF."""
    loop = asyncio.get_running_loop()
    timer = Timer()
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(lines.put_nowait, line)
        loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=read, name="timing-requests", daemon=True).start()
    running: set[asyncio.Task[None]] = set()

    async def handle(line: str) -> None:
        try:
            request = json.loads(line)
            answer = await timer.answer(request)
        except Exception as exc:  # a request this child cannot serve still gets an answer
            answer = {"id": _id_of(line), "results": [], "error": type(exc).__name__}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()

    sys.stdout.write(json.dumps({"ready": True}) + "\n")
    sys.stdout.flush()
    while (line := await lines.get()) is not None:
        task = asyncio.ensure_future(handle(line))
        running.add(task)
        task.add_done_callback(running.discard)
    for task in running:
        task.cancel()


def _id_of(line: str) -> int:
    try:
        return int(json.loads(line).get("id", 0))
    except (ValueError, AttributeError, TypeError, OverflowError):
        return 0


# --- Over the pipe ---------------------------------------------------------------------------------


def _config_to_json(config: NetConfig) -> dict[str, Any]:
    data = dataclasses.asdict(config)
    data["port_map"] = [[k, v] for k, v in config.port_map.items()]
    return data


def _config_from_json(data: dict[str, Any]) -> NetConfig:
    data = dict(data)
    data["resolvers"] = tuple((str(host), int(port)) for host, port in data["resolvers"])
    data["port_map"] = {int(k): int(v) for k, v in data["port_map"]}
    return NetConfig(**data)


def _send_to_json(method: str, headers: Mapping[str, str] | None, content: bytes | None) -> dict[str, Any]:
    """How to send the request, beyond a plain GET: its method, headers and body (base64)."""
    return {
        "method": method,
        "headers": dict(headers or {}),
        "content": base64.b64encode(content).decode("ascii") if content is not None else None,
    }


def _slow_from_json(data: Any) -> tuple[float, int] | None:
    return None if not data else (float(data[0]), int(data[1]))


def _send_from_json(data: dict[str, Any]) -> dict[str, Any]:
    """Net.fetch's keyword arguments for the request's method, headers and body."""
    content = data.get("content")
    return {
        "method": str(data.get("method") or "GET"),
        "headers": {str(k): str(v) for k, v in (data.get("headers") or {}).items()} or None,
        "content": base64.b64decode(content) if content is not None else None,
    }


def _result_to_json(result: FetchResult) -> dict[str, Any]:
    return {
        "hops": [dataclasses.asdict(hop) for hop in result.hops],
        "truncated": result.truncated,
        "lag_ms": result.lag_ms,
    }


def _result_from_json(data: dict[str, Any]) -> FetchResult:
    hops = []
    for item in data["hops"]:
        hop = Hop(**{**item, "headers": [tuple(pair) for pair in item["headers"]]})
        hop.error = FetchError(hop.error) if hop.error else None
        hops.append(hop)
    return FetchResult(hops, truncated=bool(data["truncated"]), lag_ms=float(data["lag_ms"]))


if __name__ == "__main__":
    asyncio.run(serve())
