"""The deploy API under abuse, served as in production (gunicorn, production settings): a 5 MB body,
declared or sent chunked, is a JSON 413 with one WARNING line and no traceback, and no token reaches
the server's log."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import override_settings

from monitoring.api import MAX_BODY_BYTES
from monitoring.deploys import token_create
from tests.conftest import Tenant, make_tenant, wait_until
from tests.integration.test_own_audit import ADDRESS, APEX, _free_port, _gunicorn, _listening, _production_env

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FIVE_MB = 5 * 1024 * 1024


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    secret_key: str

    def log(self) -> str:
        """Everything the server wrote, once it has stopped."""
        self.process.terminate()
        _, err = self.process.communicate(timeout=15)
        return err.decode(errors="replace")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    env = _production_env(tmp_path)
    port = _free_port()
    process = _gunicorn(env, port, None)
    try:
        assert wait_until(lambda: _listening(port), timeout=30), "gunicorn did not start"
        yield Server(port, process, env["SECRET_KEY"])
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def _request(port: int, head: str, body: Iterator[bytes]) -> tuple[int, dict[str, object], int]:
    """Sends the head, then the body piece by piece until the server answers; the status, the JSON answer
    and how many body bytes went out before the answer came."""
    sent = 0
    with socket.create_connection((ADDRESS, port), timeout=20) as sock:
        sock.sendall(head.encode())
        answer = b""
        for piece in body:
            sock.settimeout(0.05)
            with contextlib.suppress(TimeoutError):
                answer = sock.recv(65536)
            if answer:
                break
            sock.settimeout(20)
            try:
                sock.sendall(piece)
            except OSError:  # the server closed the connection on a refused body
                break
            sent += len(piece)
        sock.settimeout(20)
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(65536)
        head_part, _, payload = answer.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head_part.lower().split(b"\r\n")
            if line.startswith(b"content-length:")
        )
        while len(payload) < length:
            payload += sock.recv(65536)
    return int(head_part.split(b" ", 2)[1]), json.loads(payload[:length]), sent


def _pieces(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, total, size):
        yield b"A" * min(size, total - start)


def _chunked(total: int) -> Iterator[bytes]:
    for piece in _pieces(total):
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"


def _head(token: str, extra: str) -> str:
    return (
        f"POST /api/v1/deploys HTTP/1.1\r\nHost: {APEX}\r\nX-Forwarded-Proto: https\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n{extra}\r\n"
    )


@pytest.fixture
def tenant_token(server: Server) -> tuple[Tenant, str]:
    tenant = make_tenant()
    with override_settings(SECRET_KEY=server.secret_key):  # the server checks tokens with its own key
        _, value = token_create(client=tenant.client, name="CI", user=tenant.owner)
    return tenant, value


def test_a_declared_5_mb_body_is_a_json_413_before_it_is_sent(server: Server, tenant_token: tuple[Tenant, str]) -> None:
    _, value = tenant_token
    status, answer, sent = _request(server.port, _head(value, f"Content-Length: {FIVE_MB}\r\n"), _pieces(FIVE_MB))
    assert status == 413 and answer == {"error": f"the body must be at most {MAX_BODY_BYTES} bytes"}
    assert sent < FIVE_MB
    log = server.log()
    assert log.count("deploy API 413") == 1, log[-3000:]
    assert "Traceback" not in log and '"level": "ERROR"' not in log and "AAAA" not in log
    assert value not in log and value.split("_", 2)[2] not in log


def test_a_chunked_5_mb_body_is_cut_off_past_the_cap(server: Server, tenant_token: tuple[Tenant, str]) -> None:
    tenant, value = tenant_token
    status, answer, sent = _request(server.port, _head(value, "Transfer-Encoding: chunked\r\n"), _chunked(FIVE_MB))
    assert status == 413 and answer == {"error": f"the body must be at most {MAX_BODY_BYTES} bytes"}
    assert sent < FIVE_MB
    log = server.log()
    assert log.count("deploy API 413") == 1 and f"more than {MAX_BODY_BYTES} bytes sent" in log, log[-3000:]
    assert "Traceback" not in log and '"level": "ERROR"' not in log
    assert value.split("_", 2)[2] not in log
    assert not tenant.client.deploys.exists()


def test_a_small_chunked_body_is_recorded(server: Server, tenant_token: tuple[Tenant, str]) -> None:
    tenant, value = tenant_token
    body = json.dumps({"version": "v3.1.0"}).encode()
    chunked = iter([f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"])
    status, answer, _ = _request(server.port, _head(value, "Transfer-Encoding: chunked\r\n"), chunked)
    assert status == 201 and answer["client"] == tenant.client.name
    assert tenant.client.deploys.get().version == "v3.1.0"
    assert value.split("_", 2)[2] not in server.log()
