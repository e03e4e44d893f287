"""The sandbox served by a child process: for load that must not share the auditor's interpreter.

A sandbox in the auditor's own process answers from a thread that competes with the audits for the
interpreter lock, so under many audits at once its answers come late and a healthy domain looks slow
for a reason that is not the server's. A child process has a core of its own.

    with SandboxProcess([("peer-000.test", None), ("peer-001.test", "route.slow_p95")]) as sandbox:
        config = sandbox.config()

Each domain is served as the healthy scenario, or as the tripping scenario named by its check id (see
scenarios.TRIPS). The child builds the world, prints where it is as one JSON line, answers `stats`
until `stop`; run it as `python -m launchready.sandbox.process SPEC`.
"""

from __future__ import annotations

import json
import socket
import subprocess  # only to start our own child process  # nosec B404
import sys
import time
from pathlib import Path
from typing import Any

from launchready.net import NetConfig
from launchready.sandbox.runner import Sandbox
from launchready.sandbox.scenarios import TRIPS, Knobs, World, build_saas_app, build_world
from launchready.sandbox.web import WebSandbox

ROOT = Path(__file__).resolve().parent.parent.parent


def knobs_for(trip: str | None) -> Knobs:
    return Knobs() if trip is None else TRIPS[trip][1]


def world_for(spec: dict[str, Any]) -> World:
    world = build_world(
        {apex: knobs_for(trip) for apex, trip in spec["domains"]},
        latency=spec.get("latency", 0.0),
        dns_latency=spec.get("dns_latency", 0.0),
    )
    for apex in spec.get("saas_apps", ()):  # the fake SaaS app (sign-in, dashboard, API), healthy
        build_saas_app(world, apex)
    return world


def serve(spec: dict[str, Any]) -> None:
    """Child-process mode: build the world, serve it, print where it is, answer `stats` until `stop`."""
    world = world_for(spec)
    sandbox = Sandbox(world.zone, web=WebSandbox(world.sites)).start()
    if spec.get("dns_rcvbuf"):
        grow_receive_buffer(sandbox, spec["dns_rcvbuf"])
    print(json.dumps(describe(sandbox, world)), flush=True)
    for line in sys.stdin:
        if line.strip() == "stats":
            print(json.dumps(stats(sandbox)), flush=True)
        elif line.strip() == "stop":
            break
    sandbox.stop()


def dns_sockets(sandbox: Sandbox) -> list[socket.socket]:
    udp = sandbox.dns._udp  # one transport, or one per address the server listens on
    return [t.get_extra_info("socket") for t in (udp if isinstance(udp, list) else [udp])]


def grow_receive_buffer(sandbox: Sandbox, size: int) -> None:
    """Give the sandbox's DNS sockets a larger receive buffer, as a busy resolver would be set up."""
    for sock in dns_sockets(sandbox):
        try:  # FORCE passes net.core.rmem_max (as root)
            sock.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", socket.SO_RCVBUF), size)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)


def describe(sandbox: Sandbox, world: World) -> dict[str, Any]:
    return {
        "env": sandbox.env(),
        "dns": [sandbox.dns.host, sandbox.dns.port],
        "dns_rcvbuf": dns_sockets(sandbox)[0].getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF),
        "http_port": sandbox.web.http_port,
        "https_port": sandbox.web.https_port,
        "ca": str(sandbox.web.ca.bundle_path),
        "sites": [{"ip": s.ip, "hosts": s.hosts, "https": s.https, "tls_garbage": s.tls_garbage} for s in world.sites],
    }


def stats(sandbox: Sandbox) -> dict[str, float]:
    # cpu_seconds: the serving process's CPU time (this whole process when the sandbox runs in it).
    return {
        "dns_queries": sandbox.dns.queries,
        "http_requests": sandbox.web.requests,
        "http_connections": sandbox.web.connections,
        "cpu_seconds": time.process_time(),
    }


class SandboxProcess:
    """The sandbox served by a child process (or, with in_process, by a thread of this one): `info`
    says where, `config()` gives the settings that reach it, `stats()` counts what it answered."""

    def __init__(
        self,
        domains: list[tuple[str, str | None]],
        *,
        latency: float = 0.0,
        dns_latency: float = 0.0,
        in_process: bool = False,
        dns_rcvbuf: int = 0,
        saas_apps: list[str] | None = None,
    ) -> None:
        spec = {
            "domains": domains,
            "latency": latency,
            "dns_latency": dns_latency,
            "dns_rcvbuf": dns_rcvbuf,
            "saas_apps": saas_apps or [],
        }
        self._sandbox: Sandbox | None = None
        self._proc: subprocess.Popen[str] | None = None
        if in_process:
            world = world_for(spec)
            self._sandbox = Sandbox(world.zone, web=WebSandbox(world.sites)).start()
            if dns_rcvbuf:
                grow_receive_buffer(self._sandbox, dns_rcvbuf)
            self.info = describe(self._sandbox, world)
            return
        # Our own interpreter and module, with a spec this code wrote.
        self._proc = subprocess.Popen(  # noqa: S603  # nosec B603
            [sys.executable, "-m", "launchready.sandbox.process", json.dumps(spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        line = self._proc.stdout.readline() if self._proc.stdout is not None else ""
        if not line:
            self.close()
            raise RuntimeError("the sandbox process did not start")
        self.info = json.loads(line)

    @property
    def pid(self) -> int:
        return self._proc.pid if self._proc is not None else 0

    def config(self) -> NetConfig:
        return NetConfig.from_env(self.info["env"])

    def stats(self) -> dict[str, float]:
        if self._sandbox is not None:
            return stats(self._sandbox)
        if self._proc is None or self._proc.stdin is None or self._proc.stdout is None:
            raise RuntimeError("the sandbox process is not running")
        self._proc.stdin.write("stats\n")
        self._proc.stdin.flush()
        return dict(json.loads(self._proc.stdout.readline()))

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.stop()
            self._sandbox = None
        if self._proc is not None:
            try:
                if self._proc.stdin is not None:
                    self._proc.stdin.write("stop\n")
                    self._proc.stdin.close()
                self._proc.wait(15)
            except (OSError, subprocess.TimeoutExpired):
                self._proc.terminate()  # our own child, by its Popen handle
                self._proc.wait(5)
            self._proc = None

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":
    serve(json.loads(sys.argv[1]))
