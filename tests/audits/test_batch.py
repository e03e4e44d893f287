"""Many audits in one process: `manage.py audit DOMAIN...`, and timing that measures servers, not the auditor."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from audits.batch import COULD_NOT_RUN, DomainAudit, audit_domain, audit_many, exit_status, read_domains
from audits.findings import LaunchVerdict
from audits.sandbox_targets import sandbox_target
from launchready.net import NetConfig
from launchready.sandbox.process import SandboxProcess
from launchready.sandbox.runner import Sandbox
from launchready.sandbox.scenarios import HEALTHY, TRIPS
from tests.conftest import ROOT

TIMING = {"route.slow_p95", "route.slow_ttfb", "webhook.slow"}
CROWD = 50
SLOW = ("slow-000.test", "slow-001.test")  # the route.slow_p95 scenario, twice, among the healthy ones


@pytest.fixture(scope="module")
def crowd() -> Iterator[SandboxProcess]:
    """Fifty domains served from a child process, so that the server keeps a core of its own while this
    process runs fifty audits: what the audits time is then the server, or nothing at all. Fifty audits
    start with three thousand DNS questions at once: the server's socket gets room for them, as a busy
    resolver's would."""
    domains: list[tuple[str, str | None]] = [(f"crowd-{i:03d}.test", None) for i in range(CROWD - len(SLOW))]
    domains += [(apex, "route.slow_p95") for apex in SLOW]
    # Some network delay, as the internet has, keeps fifty audits in flight at once: with none, audits
    # end about as fast as they start.
    with SandboxProcess(domains, latency=0.1, dns_latency=0.05, dns_rcvbuf=8 * 1024 * 1024) as sandbox:
        yield sandbox


def test_fifty_audits_asked_at_once_report_no_healthy_route_as_slow(crowd: SandboxProcess) -> None:
    apexes = [f"crowd-{i:03d}.test" for i in range(CROWD - len(SLOW))] + list(SLOW)
    targets = [sandbox_target(apex) for apex in apexes]
    in_flight: list[int] = [0]

    def started(_: str) -> None:
        in_flight.append(in_flight[-1] + 1)

    def ended(_: DomainAudit) -> None:
        in_flight.append(in_flight[-1] - 1)

    results = asyncio.run(audit_many(targets, config=crowd.config(), concurrency=0, on_start=started, on_done=ended))
    assert [r.domain for r in results] == apexes
    print(f"at most {max(in_flight)} audits in flight")
    # A crowd indeed (15 to 33 at once seen here, fewer on a busier machine): starts are spaced as the loop
    # keeps up, not queued behind each other.
    assert max(in_flight) >= 10
    timing = {r.domain: sorted({f.check_id for f in r.findings} & TIMING) for r in results}
    assert {apex: found for apex, found in timing.items() if found} == {apex: ["route.slow_p95"] for apex in SLOW}
    # The slow ones are slow on their API health route only, where the sandbox waits 600 ms to answer.
    for result in results[-len(SLOW) :]:
        (slow,) = [f for f in result.findings if f.check_id == "route.slow_p95"]
        assert slow.subject == f"https://api.{result.domain}/health"
        assert len(slow.evidence["samples_ms"]) == 5
    assert all(r.verdict != COULD_NOT_RUN for r in results)
    assert not [r.domain for r in results if r.verdict == LaunchVerdict.UNCHECKED]


# --- The batch's parts ---------------------------------------------------------------------------------


def test_a_file_of_domains_skips_blank_lines_comments_and_repeats() -> None:
    lines = ["# the agency's book\n", "brightpath.test\n", "\n", "  Ghost-Labs.test  # since May\n", "brightpath.test"]
    assert read_domains(lines) == ["brightpath.test", "Ghost-Labs.test"]


def test_one_domain_spelt_several_ways_is_audited_once() -> None:
    lines = ["Example.test", "https://example.test/", "www.example.test.", "shop.example.test", "SHOP.Example.test"]
    assert read_domains([*lines, "not a domain", "Not A Domain"]) == [
        "Example.test",
        "shop.example.test",
        "not a domain",
    ]


def test_an_audit_that_breaks_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the engine fell over")

    monkeypatch.setattr("audits.batch.run_audit", broken)
    with caplog.at_level("INFO", logger="audits.batch"):
        result = asyncio.run(audit_domain(HEALTHY, config=NetConfig()))
    assert result.verdict == COULD_NOT_RUN
    assert result.error == "could not run: RuntimeError: the engine fell over"
    records = [r for r in caplog.records if r.levelname != "DEBUG"]
    assert [(r.levelname, r.getMessage(), r.exc_info) for r in records] == [
        ("ERROR", f"audit of {HEALTHY} could not run: RuntimeError", None)
    ]


@pytest.mark.parametrize(
    ("verdicts", "status"),
    [
        pytest.param([LaunchVerdict.GO, LaunchVerdict.GO], 0, id="all go"),
        pytest.param([LaunchVerdict.GO, LaunchVerdict.UNCHECKED], 2, id="one not checked"),
        pytest.param([LaunchVerdict.GO, COULD_NOT_RUN], 2, id="one not run"),
        pytest.param([COULD_NOT_RUN, LaunchVerdict.NO_GO, LaunchVerdict.UNCHECKED], 1, id="a blocker anywhere"),
    ],
)
def test_the_exit_status_is_the_worst_verdict(verdicts: list[str], status: int) -> None:
    assert exit_status(DomainAudit(f"d{i}.test", verdict=v) for i, v in enumerate(verdicts)) == status


# --- The command ---------------------------------------------------------------------------------------


def _cli(
    sandbox: Sandbox, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "audit", *args],
        cwd=ROOT,
        env={**os.environ, **sandbox.env(), **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
    )


EXPIRED = TRIPS["tls.expired"][0]


def test_several_domains_print_a_table_in_the_order_given_and_exit_with_the_worst(world_sandbox: Sandbox) -> None:
    # A narrow terminal's width does not cut the lines written to a pipe or a file.
    result = _cli(world_sandbox, HEALTHY, EXPIRED, "not a domain", env={"COLUMNS": "80"})
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["DOMAIN", "VERDICT"]
    rows = {line.split()[0]: line for line in lines[1:4]}
    assert list(rows) == [HEALTHY, EXPIRED, "not"]
    assert "  GO  " in rows[HEALTHY] and "NO-GO" in rows[EXPIRED] and "COULD NOT RUN" in rows["not"]
    assert "certificate" in rows[EXPIRED].lower()  # the first thing to fix
    assert "…" not in result.stdout and max(map(len, lines)) > 80
    assert "3 domains: 1 go, 1 no-go, 1 could not run." in result.stdout
    assert "audit: not a domain: A domain name cannot contain spaces." in result.stderr


def test_json_lines_give_one_document_per_domain(world_sandbox: Sandbox, tmp_path: Path) -> None:
    book = tmp_path / "book.txt"
    book.write_text(f"# two clients\n{HEALTHY}\n\n{EXPIRED}\n{HEALTHY}\n", encoding="utf-8")
    result = _cli(world_sandbox, "--file", str(book), "--json", "--concurrency", "2")
    assert result.returncode == 1, result.stderr
    documents = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(d["domain"] for d in documents) == sorted([HEALTHY, EXPIRED])
    by_domain = {d["domain"]: d for d in documents}
    assert by_domain[HEALTHY]["verdict"] == "go" and by_domain[HEALTHY]["go"] is True
    assert by_domain[EXPIRED]["verdict"] == "no_go"
    assert any(f["check_id"] == "tls.expired" for f in by_domain[EXPIRED]["findings"])
    assert result.stderr == ""  # no progress line off a terminal


def test_domains_can_come_from_standard_input(world_sandbox: Sandbox) -> None:
    result = _cli(world_sandbox, "--file", "-", "--json", stdin=f"{HEALTHY}\nnot a domain\n")
    assert result.returncode == 2
    documents = {d["given"] if "given" in d else d["domain"]: d for d in map(json.loads, result.stdout.splitlines())}
    assert documents["not a domain"] == {
        "domain": "not a domain",
        "go": False,
        "verdict": "could_not_run",
        "seconds": 0.0,
        "given": "not a domain",
        "error": "A domain name cannot contain spaces.",
        "findings": [],
    }
    assert documents[HEALTHY]["verdict"] == "go"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param([], "audit: no domain given", id="nothing to audit"),
        pytest.param(["--file", "/nonexistent/book.txt"], "audit: cannot read /nonexistent/book.txt", id="no file"),
        pytest.param(
            ["a.test", "b.test", "--host", "shop.a.test"],
            "audit: with several domains, --host takes a label",
            id="host",
        ),
        pytest.param(["a.test", "--host", "bad_label!"], "audit: --host bad_label!: ", id="bad host label"),
        pytest.param(["a.test", "--deadline", "nan"], "audit: --deadline takes seconds between 1 and 3600", id="nan"),
        pytest.param(["a.test", "--deadline", "0"], "audit: --deadline takes seconds between 1 and 3600", id="zero"),
        pytest.param(["a.test", "--concurrency", "-3"], "audit: --concurrency takes 0", id="negative"),
        pytest.param(["--file", "/dev/zero"], "audit: /dev/zero is larger than 10 MB", id="endless file"),
    ],
)
def test_bad_arguments_get_one_line_and_status_2(world_sandbox: Sandbox, args: list[str], message: str) -> None:
    result = _cli(world_sandbox, *args)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(message) and len(result.stderr.strip().splitlines()) == 1


def test_a_password_in_a_web_address_is_never_echoed(world_sandbox: Sandbox) -> None:
    result = _cli(world_sandbox, f"https://founder:hunter2@{HEALTHY}/", "https://me:pw@not a domain/", "--json")
    assert "hunter2" not in result.stdout + result.stderr and "me:pw" not in result.stdout + result.stderr
    assert json.loads(result.stdout.splitlines()[0])["domain"] in (HEALTHY, "https://not a domain/")


def test_a_long_list_is_read_once_and_a_long_line_does_not_widen_the_table(
    world_sandbox: Sandbox, tmp_path: Path
) -> None:
    book = tmp_path / "book.txt"
    book.write_text("\n".join([HEALTHY] * 200_000 + ["x" * 5_000_000]), encoding="utf-8")
    result = _cli(world_sandbox, "--file", str(book))
    assert result.returncode == 2
    assert max(len(line) for line in result.stdout.splitlines()) < 400
    assert len(result.stderr) < 2_000


def test_control_characters_in_what_was_asked_never_reach_the_terminal(world_sandbox: Sandbox) -> None:
    result = _cli(world_sandbox, "evil\x1b[2J\x1b[31m.test", "bell\x07.test", "moc.elgoog\u202e.test")
    assert result.returncode == 2
    assert not {"\x1b", "\x07", "\u202e"} & set(result.stdout + result.stderr)
    assert "\\u202e" in result.stdout
    assert "evil\\x1b[2J\\x1b[31m.test" in result.stdout and "bell\\x07.test" in result.stderr


def test_ctrl_c_stops_the_batch_with_one_line_and_status_130(world_sandbox: Sandbox) -> None:
    domains = sorted({apex for apex, _knobs in TRIPS.values()})  # one at a time: far more than 4 s of audits
    process = subprocess.Popen(
        [sys.executable, "manage.py", "audit", "--concurrency", "1", *domains],
        cwd=ROOT,
        env={**os.environ, **world_sandbox.env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    asked = world_sandbox.dns.queries
    deadline = time.monotonic() + 60
    while world_sandbox.dns.queries == asked and time.monotonic() < deadline:  # until the audits have begun
        time.sleep(0.1)
    time.sleep(1)  # in the middle of the batch
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert re.fullmatch(rf"audit: interrupted; \d+ of {len(domains)} audited\n", stderr) and stdout == ""
