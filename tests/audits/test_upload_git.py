"""An upload's git data read from memory: repositories made by the real git (branches, annotated tags, packed refs,
loose objects, a stash, SHA-256 object names), each blob scanned once, and what cannot be read refused with a
reason."""

from __future__ import annotations

import hashlib
import zlib
from pathlib import Path

import pytest

from audits.secrets.archive import ArchiveError, Budget, Limits
from audits.secrets.gitdata import GitObjects, read_refs
from audits.secrets.repo import scan_upload
from tests.audits.repos import AWS_SECRET, GITHUB_TOKEN, git, zip_of

STRIPE = "sk_live_" + "51NzQ8rLk2Vb7Xc4Tm9Wq3Ea6Ys1Dh0Fj5Gu8Ip2Ko7Lr4Mt"
DATABASE = "postgres://app:S3cr3tPassw0rd@db.prod.acme.io/app"
GOOGLE = "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"
HUGGING = "hf_" + "QwErTyUiOpAsDfGhJkLzXcVbNmQwErTyUi"


def _commit(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)


def _made_by_git(root: Path, *init: str) -> Path:
    """Keys in each place git keeps them: a deleted file, a branch, a file renamed, loose objects after a gc,
    and a stash; an annotated tag and packed refs."""
    root.mkdir()
    git(root, "init", "-q", "-b", "main", *init)
    (root / ".env").write_text(f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}\n")
    (root / "ci.yml").write_text(f"token: {GITHUB_TOKEN}\n")
    (root / "ci-copy.yml").write_text(f"token: {GITHUB_TOKEN}\n")  # the same bytes at two paths
    _commit(root, "one")
    git(root, "rm", "-q", ".env")
    (root / "pay.js").write_text(f'const s = "{STRIPE}";\n')
    _commit(root, "two")
    git(root, "tag", "-a", "v1", "-m", "v1")
    git(root, "checkout", "-qb", "feature")
    (root / "models.py").write_text(f'HF_TOKEN = "{HUGGING}"\n')
    _commit(root, "on a branch")
    git(root, "checkout", "-q", "main")
    git(root, "mv", "pay.js", "payments.js")
    _commit(root, "rename")
    git(root, "gc", "-q")  # a pack and packed refs; what follows stays loose
    (root / "db.txt").write_text(f"{DATABASE}\n")
    _commit(root, "loose")
    (root / "wip.txt").write_text(f"MAPS={GOOGLE}\n")
    git(root, "add", "wip.txt")
    git(root, "stash", "-q")
    return root


def _bundle(root: Path, out: Path, *what: str) -> Path:
    git(root, "bundle", "create", "-q", str(out), *(what or ("--all",)))
    return out


def _keys(report) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    return {
        f.subject.split("#")[1].split("-")[0]: f.evidence
        for f in report.findings
        if f.check_id in ("secrets.repo.key", "secrets.repo.publishable", "secrets.repo.google_key")
    }


@pytest.mark.parametrize("init", [(), ("--object-format=sha256",)], ids=["sha1", "sha256"])
def test_a_repository_made_by_git_is_read_in_full_from_a_zip_and_from_a_bundle(tmp_path: Path, init) -> None:  # type: ignore[no-untyped-def]
    root = _made_by_git(tmp_path / "acme", *init)
    for upload in (zip_of(root, tmp_path / "acme.zip"), _bundle(root, tmp_path / "acme.bundle")):
        report = scan_upload(upload)
        keys = _keys(report)
        assert set(keys) == {"aws", "github", "stripe", "huggingface", "database_url", "gcp_api_key"}, upload
        assert keys["aws"]["seen in"] == "git history only" and "(file since deleted)" in keys["aws"]["found in"]
        assert keys["huggingface"]["found in"].startswith("git history: models.py in commit")  # the branch
        assert keys["gcp_api_key"]["found in"].startswith("git history: wip.txt")  # the stash
        assert keys["stripe"]["found in"] == "payments.js line 1"  # its old name holds the same bytes
        # The same bytes at two paths: scanned once, reported at both.
        assert keys["github"]["found in"] == "ci-copy.yml line 1; ci.yml line 1"
        assert report.stats["files"] == 4 and report.stats["commits_with_history"] == 1


def test_the_newest_commit_that_holds_a_key_is_named_first(tmp_path: Path) -> None:
    root = tmp_path / "acme"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    commits = []
    for n in range(3):  # the key stays, the file around it changes: a blob per commit, deltas in the pack
        (root / "settings.py").write_text(f"# version {n}\n" + "x = 1\n" * 200 + f'STRIPE = "{STRIPE}"\n')
        _commit(root, f"v{n}")
        commits.append(git(root, "rev-parse", "--short=7", "HEAD").strip())
    (root / "settings.py").write_text("STRIPE = None\n")
    _commit(root, "removed")
    git(root, "gc", "-q", "--aggressive")
    for upload in (zip_of(root, tmp_path / "acme.zip"), _bundle(root, tmp_path / "acme.bundle")):
        where = _keys(scan_upload(upload))["stripe"]["found in"]
        assert [part.split(" in commit ")[1][:7] for part in where.split("; ")] == commits[::-1], upload


def test_a_bundle_of_some_commits_only_is_refused_with_what_to_do(tmp_path: Path) -> None:
    root = _made_by_git(tmp_path / "acme")
    for n in range(2):
        (root / "big.py").write_text("x = 1\n" * 500 + f"y = {n}\n")  # a delta on the commit before
        _commit(root, f"big {n}")
    upload = _bundle(root, tmp_path / "part.bundle", "main~1..main")
    with pytest.raises(ArchiveError) as caught:
        scan_upload(upload)
    assert "git bundle create repo.bundle --all" in str(caught.value)


# --- Limits, counted on what inflation and deltas really produce --------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def _entry(kind: int, size: int, body: bytes, extra: bytes = b"") -> bytes:
    header = bytearray([(kind << 4) | (size & 15) | (0x80 if size > 15 else 0)])
    size >>= 4
    while size:
        header.append((size & 0x7F) | (0x80 if size > 0x7F else 0))
        size >>= 7
    return bytes(header) + extra + zlib.compress(body)


def _pack(*entries: bytes) -> bytes:
    return b"PACK" + (2).to_bytes(4, "big") + len(entries).to_bytes(4, "big") + b"".join(entries) + b"\x00" * 20


def _budget(limits: Limits | None = None) -> Budget:
    return Budget(limits or Limits(total_bytes=4 << 20, file_bytes=1 << 20), upload_size=1 << 20)


def test_a_delta_that_would_unpack_past_the_limit_is_refused_before_it_is_applied() -> None:
    base = b"x" * 100
    delta = _varint(len(base)) + _varint(8 << 30) + bytes([0x90, 100])  # copy the base, claiming 8 GB
    base_id = hashlib.sha1(b"blob 100\x00" + base, usedforsecurity=False).digest()
    objects = GitObjects(_budget())
    objects.add_pack(_pack(_entry(3, len(base), base), _entry(7, len(delta), delta, base_id)))
    with pytest.raises(ArchiveError, match="larger than the scan allows"):
        list(objects.blobs(set()))


def test_inflation_is_counted_as_it_happens_and_a_truncated_pack_is_refused() -> None:
    zeros = b"\x00" * (5 << 20)
    with pytest.raises(ArchiveError, match="unpacks to more than 4 MB"):
        GitObjects(_budget()).add_pack(_pack(_entry(3, 10, zeros)))  # it says 10 bytes
    whole = _pack(_entry(3, 2000, b"y" * 2000))
    with pytest.raises(ArchiveError, match="truncated"):
        GitObjects(_budget()).add_pack(whole[:20])
    with pytest.raises(ArchiveError, match="damaged"):
        GitObjects(_budget()).add_pack(b"PACK" + b"\x00\x00\x00\x02\x00\x00\x00\x01" + bytes([0x60, 0x05]) + b"z")


def _back(n: int) -> bytes:
    """How far back an offset delta's base starts, as git writes it."""
    out = [n & 0x7F]
    n >>= 7
    while n:
        n -= 1
        out.insert(0, 0x80 | (n & 0x7F))
        n >>= 7
    return bytes(out)


def _blob_id(data: bytes) -> bytes:
    return hashlib.sha1(b"blob %d\x00" % len(data) + data, usedforsecurity=False).hexdigest().encode()


def test_a_blob_over_the_file_limit_is_counted_as_skipped_and_its_deltas_still_resolve() -> None:
    base = b"a" * 200_000
    small = b"b" * 10
    delta = _varint(len(base)) + _varint(len(small)) + bytes([len(small)]) + small  # insert 10 new bytes
    first = _entry(3, len(base), base)
    budget = _budget(Limits(total_bytes=4 << 20, file_bytes=100_000))
    objects = GitObjects(budget)
    objects.add_pack(_pack(first, _entry(6, len(delta), delta, _back(len(first)))))
    assert list(objects.blobs({_blob_id(base), _blob_id(small)})) == [(_blob_id(small), small)]
    assert budget.skipped_large == 1


def test_refs_are_read_loose_over_packed_with_symbolic_refs_followed_and_bad_ones_left_out() -> None:
    a, b, c = "a" * 40, "b" * 40, "c" * 40
    files = {
        "HEAD": b"ref: refs/heads/main\n",
        "packed-refs": f"# pack-refs with: peeled\n{a} refs/heads/main\n{b} refs/tags/v1\n^{c}\n".encode(),
        "refs/heads/main": f"{c}\n".encode(),  # a loose ref is newer than the packed one
        "refs/remotes/origin/HEAD": b"ref: refs/remotes/origin/main\n",
        "refs/remotes/origin/main": f"{b}\n".encode(),
        "refs/heads/loop": b"ref: refs/heads/loop\n",
        "refs/heads/junk": b"not an id\n",
    }
    refs, head = read_refs(files)
    assert head == c.encode()
    assert refs == {
        b"refs/heads/main": c.encode(),
        b"refs/tags/v1": b.encode(),
        b"refs/remotes/origin/HEAD": b.encode(),
        b"refs/remotes/origin/main": b.encode(),
    }


def test_blobs_past_what_is_kept_inflated_are_inflated_again_and_read_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audits.secrets import gitdata

    root = _made_by_git(tmp_path / "acme")
    uploads = (zip_of(root, tmp_path / "acme.zip"), _bundle(root, tmp_path / "acme.bundle"))
    kept = [scan_upload(upload) for upload in uploads]
    monkeypatch.setattr(gitdata, "KEEP", 0)
    again = [scan_upload(upload) for upload in uploads]
    for before, after in zip(kept, again, strict=True):
        assert [(f.subject, f.evidence) for f in after.findings] == [(f.subject, f.evidence) for f in before.findings]
        assert after.stats == before.stats
