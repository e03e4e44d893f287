"""Runs the sandbox (DNS, web servers, SMTP sink) on its own event loop in a background thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable
from concurrent.futures import Future
from typing import Any, TypeVar

from launchready.net import NetConfig
from launchready.sandbox.dns_server import DnsServer, ZoneData

T = TypeVar("T")


class LoopThread:
    """An asyncio loop in a daemon thread; `run(coro)` executes a coroutine there and waits for it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name="sandbox", daemon=True)
        self._thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Awaitable[T], timeout: float = 60) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)  # type: ignore[arg-type]
        return future.result(timeout)

    def stop(self) -> None:
        async def cancel_the_rest() -> None:
            # Handlers still serving a hanging or dripping page are cancelled, not left pending.
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(cancel_the_rest(), timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


class Sandbox:
    """The loopback fake internet. Use as a context manager; `env()` gives the LAUNCHREADY_* settings."""

    def __init__(self, zone: ZoneData | None = None, *, web: Any = None, dns_port: int = 0) -> None:
        self.zone = zone or ZoneData()
        self.dns = DnsServer(self.zone, port=dns_port)
        self.web = web  # a sandbox.web.WebSandbox, when sites are served
        self._loop: LoopThread | None = None

    def start(self) -> Sandbox:
        self._loop = LoopThread()
        self._loop.run(self.dns.start())
        if self.web is not None:
            self._loop.run(self.web.start())
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        if self.web is not None:
            self._loop.run(self.web.stop())
        self._loop.run(self.dns.stop())
        self._loop.stop()
        self._loop = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def load(self, zone: ZoneData) -> None:
        """Serve other zone data from now on (the SPF suite swaps zones between scenarios)."""
        self.zone = zone
        self.dns.reload(zone)

    @property
    def resolver(self) -> str:
        return f"127.0.0.1:{self.dns.port}"

    def env(self) -> dict[str, str]:
        env = {"LAUNCHREADY_RESOLVER": self.resolver, "LAUNCHREADY_ALLOW_PRIVATE_TARGETS": "1"}
        env["LAUNCHREADY_PORT_MAP"] = f"53:{self.dns.port}"
        if self.web is not None:
            env["LAUNCHREADY_PORT_MAP"] += f",80:{self.web.http_port},443:{self.web.https_port}"
            env["LAUNCHREADY_CA_BUNDLE"] = str(self.web.ca.bundle_path)
        return env

    def net_config(self, **overrides: Any) -> NetConfig:
        return NetConfig.from_env({**self.env(), **{k: str(v) for k, v in overrides.items()}})
