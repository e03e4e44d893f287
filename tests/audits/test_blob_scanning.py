"""Blobs scanned beside the reading: each distinct blob once, its keys handed back to every place that gave it,
in the order given, whether on threads or not."""

from __future__ import annotations

import threading

import pytest

from audits.secrets import scanning
from audits.secrets.detector import Hit, scan_bytes
from audits.secrets.repo import Collector, git_blob_id
from audits.secrets.scanning import BlobScanner

KEY = "ghp_" + "R8kVw2Lq9Xz4Tn7Mb3Hc6Jd1Fs5Gy0Pa2Ei9"


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The threads each blob was scanned on."""
    calls: list[str] = []

    def counting(data: bytes) -> list[Hit]:
        calls.append(threading.current_thread().name)
        return scan_bytes(data)

    monkeypatch.setattr(scanning, "scan_bytes", counting)
    return calls


@pytest.mark.parametrize("threads", [0, 2])
def test_a_blob_given_twice_is_scanned_once_and_its_keys_go_to_both(counted: list[str], threads: int) -> None:
    scanner = BlobScanner(threads)
    got: list[tuple[str, list[str]]] = []
    data = f"TOKEN={KEY}\n".encode()
    files = [("a.yml", data), ("clean.py", b"x = 1\n"), ("b.yml", data)] + [
        (f"f{n}.py", b"y = %d\n" % n) for n in range(40)
    ]
    for name, content in files:
        scanner.scan(
            git_blob_id(content), content, lambda hits, name=name: got.append((name, [h.provider for h in hits]))
        )
    scanner.settle()
    scanner.close()
    # Each blob's keys in the order the blobs were first given (a repeat's with its first's).
    assert [name for name, _ in got if name != "b.yml"] == [name for name, _ in files if name != "b.yml"]
    found = dict(got)
    assert found["a.yml"] == found["b.yml"] == ["github"] and found["clean.py"] == []
    assert len(counted) == 2 + 40  # the repeated blob once
    assert all(name.startswith("secret-scan") for name in counted) == bool(threads)


def test_few_blobs_wait_at_once(counted: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scanning, "WAITING", 3)
    scanner = BlobScanner(1)
    for n in range(10):
        content = b"z = %d\n" % n
        scanner.scan(git_blob_id(content), content, lambda hits: None)
        assert len(scanner._waiting) <= 3
    scanner.close()


def test_a_collector_reports_a_working_tree_file_and_the_same_bytes_elsewhere_at_both_places() -> None:
    collector = Collector()
    try:
        data = f"TOKEN={KEY}\n".encode()
        collector.tree_file("deploy/ci.yml", data)
        collector.tree_file("deploy/ci-copy.yml", data)
        [finding] = [f for f in collector.findings() if f.check_id == "secrets.repo.key"]
    finally:
        collector.close()
    assert finding.evidence["found in"] == "deploy/ci.yml line 1; deploy/ci-copy.yml line 1"
    assert collector.stats["files"] == 2
