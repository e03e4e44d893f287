"""Redis stopped and restarted under a running worker and its beat: probing resumes on its own, the
outage that began before the stop is alerted once, its recovery after the restart once, and no probe
or alert is lost. The Redis here is a real redis-server of its own, so stopping it disturbs nothing else."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone

from launchready.models import Route
from launchready.sandbox.runner import Sandbox
from launchready.sandbox.smtp import SmtpSink
from monitoring.models import Alert, AlertChannel, Incident, Monitor, Probe
from tests.conftest import make_tenant, start_worker, stop_worker, wait_until
from tests.factories import DomainFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

HEALTHY = "https://app.launch-ready.test/login"
FAILING = "https://app.login-500.test/login"


class RedisServer:
    """One redis-server on a free loopback port, keeping nothing on disk (as the machine's own)."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed: `make test` installs it (Debian package redis-server)")
        self.binary, self.workdir = binary, workdir
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def test_probes_resume_after_redis_restarts_and_nothing_is_alerted_twice(
    sandbox_env: Sandbox, smtp_sink: SmtpSink, redis_server: RedisServer, tmp_path: Path
) -> None:
    tenant = make_tenant()
    tenant.domain.delete()  # only the two monitors below
    AlertChannel.objects.create(client=tenant.client, kind="email", name="Founders", recipients=["amelia@example.com"])
    domain = DomainFactory(client=tenant.client, name="launch-ready.test")
    steady, outage = (
        Monitor.objects.create(
            client=tenant.client,
            route=Route.objects.create(
                domain=domain, host="app", path=path, kind=Route.Kind.LOGIN, expected_statuses=[200]
            ),
            url=url,
            expected_statuses=[200],
            interval=2,  # below the product's 30 s floor, so that the test sees many rounds in a few seconds
        )
        for path, url in (("/login", HEALTHY), ("/signin", FAILING))
    )
    # The worker runs its own beat (-B): every 3 s a tick, as in production.
    worker = start_worker(
        smtp_sink,
        env={"REDIS_URL": redis_server.url},
        args=("-B", "--schedule", str(tmp_path / "beat-schedule")),
        ping=False,
    )
    try:
        assert wait_until(lambda: smtp_sink.messages, timeout=60), "the outage is alerted before Redis stops"
        outage.refresh_from_db()
        assert outage.state == Monitor.State.DOWN

        redis_server.stop()
        stopped = timezone.now()
        time.sleep(5)  # the worker and its beat lose the broker and the cache
        redis_server.start()  # back, empty: no queue, no cache
        restarted = timezone.now()

        assert wait_until(lambda: Probe.objects.filter(monitor=steady, at__gt=restarted).count() >= 2, timeout=60), (
            "probing resumes after Redis comes back"
        )
        Monitor.objects.filter(pk=outage.pk).update(url=HEALTHY)  # the founder's fix lands
        assert wait_until(lambda: len(smtp_sink.messages) >= 2, timeout=60), "the recovery is alerted"
        time.sleep(4)  # a few more rounds: nothing more is sent
    finally:
        stop_worker(worker)

    subjects = sorted(m["Subject"].split(":")[0] for m in smtp_sink.messages)
    assert subjects == ["[Launch Ready] DOWN", "[Launch Ready] Recovered"]
    assert sorted(Alert.objects.values_list("kind", "state")) == [("down", "sent"), ("up", "sent")]
    incident = Incident.objects.get()
    assert incident.ended_at is not None and incident.ended_at > restarted
    # Nothing lost: the steady route was probed before the stop and after the restart, every probe recorded
    # once.
    steady_probes = list(Probe.objects.filter(monitor=steady).values_list("at", flat=True))
    assert any(at < stopped for at in steady_probes) and any(at > restarted for at in steady_probes)
    assert len(steady_probes) == len(set(steady_probes))
    assert all(p.ok for p in Probe.objects.filter(monitor=steady))
