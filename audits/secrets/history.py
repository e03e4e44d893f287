"""Every blob of every commit in an uploaded repository, read with dulwich (pure Python).

The `git` program is never run on an uploaded repository: its `.git/config` could name hooks, an fsmonitor or
a pager that git would execute. dulwich only parses objects and refs. Before dulwich inflates anything, every
compressed object is inflated once here into nothing but a byte count, so a pack built to inflate into
gigabytes is refused within the scan's budget instead of exhausting the worker's memory.
"""

from __future__ import annotations

import io
import stat
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dulwich.objects import Blob, Commit, ObjectID, ShaFile, Tag, Tree
from dulwich.refs import Ref
from dulwich.repo import Repo

from audits.secrets.archive import ArchiveError, Budget

BUNDLE_HEADS = (b"# v2 git bundle\n", b"# v3 git bundle\n")
_COPY = 1 << 20


@dataclass
class HistoryBlob:
    path: str
    commit: str  # the newest commit (short id) whose tree holds this blob
    data: bytes
    sha: bytes = b""


def inflated_size(data: bytes, start: int, budget: Budget) -> int:
    """Inflate one zlib stream from `start` into a byte count; return where the stream ends."""
    inflater = zlib.decompressobj()
    position = start
    while not inflater.eof:
        if position >= len(data):
            raise ArchiveError("The git data is truncated; it could not be read.")
        chunk = data[position : position + 65536]
        out = inflater.decompress(chunk, _COPY)
        budget.spend(len(out))
        while inflater.unconsumed_tail and not inflater.eof:
            out = inflater.decompress(inflater.unconsumed_tail, _COPY)
            budget.spend(len(out))
        position += len(chunk) - len(inflater.unused_data)
    return position


def check_pack(data: bytes, budget: Budget) -> None:
    """Walk a pack's objects, inflating each into a count: refuse a pack that would inflate past the budget."""
    if len(data) < 12 or data[:4] != b"PACK":
        raise ArchiveError("The git data holds a damaged pack file; it could not be read.")
    count = int.from_bytes(data[8:12], "big")
    position = 12
    try:
        for _ in range(count):
            byte = data[position]
            kind = (byte >> 4) & 7
            size, shift = byte & 15, 4
            position += 1
            while byte & 0x80:
                byte = data[position]
                size |= (byte & 0x7F) << shift
                shift += 7
                position += 1
            if size > budget.limits.total_bytes:
                raise ArchiveError("The git data declares an object larger than the scan allows.")
            if kind == 6:  # offset delta: a variable-length offset follows
                while data[position] & 0x80:
                    position += 1
                position += 1
            elif kind == 7:  # reference delta: the base object's id follows
                position += 20
            position = inflated_size(data, position, budget)
    except IndexError as exc:
        raise ArchiveError("The git data holds a truncated pack file; it could not be read.") from exc
    except zlib.error as exc:
        raise ArchiveError("The git data holds a corrupt pack file; it could not be read.") from exc


def check_git_file(relative: str, data: bytes, budget: Budget) -> None:
    """Count what a .git file inflates to: packs object by object, loose objects as one stream."""
    try:
        if relative.endswith(".pack"):
            check_pack(data, budget)
        elif "/objects/" in f"/{relative}" and "/pack/" not in relative and "/info/" not in relative:
            inflated_size(data, 0, budget)
    except zlib.error as exc:
        raise ArchiveError("The git data holds a corrupt object; it could not be read.") from exc


def bundle_repo(bundle: bytes, root: Path, budget: Budget) -> Repo:
    """A bare repository in `root` holding a git bundle's objects and refs."""
    if not bundle.startswith(BUNDLE_HEADS):
        raise ArchiveError("This is not a git bundle.")
    end = bundle.find(b"\n\n")
    if end < 0:
        raise ArchiveError("The git bundle is damaged: its header never ends.")
    refs: dict[bytes, bytes] = {}
    head = b""
    for line in bundle[: end + 1].split(b"\n")[1:]:
        if not line or line.startswith((b"@", b"-")):
            continue  # capabilities; prerequisites (commits an incremental bundle leaves out) are not walked
        sha, _, ref = line.partition(b" ")
        if len(sha) != 40:
            continue
        if ref == b"HEAD":
            head = sha
        elif ref.startswith(b"refs/"):
            refs[ref] = sha
    # HEAD is what a clone would check out: the bundle's own HEAD, else its main branch, else any branch.
    head = head or refs.get(b"refs/heads/main") or refs.get(b"refs/heads/master") or next(iter(refs.values()), b"")
    pack = bundle[end + 2 :]
    check_pack(pack, budget)
    root.mkdir()
    repo = Repo.init_bare(str(root))
    try:
        repo.object_store.add_thin_pack(io.BytesIO(pack).read, None, max_input_size=budget.limits.total_bytes)
        for ref, sha in refs.items():
            repo.refs[Ref(ref)] = ObjectID(sha)
        if head:
            repo.refs.remove_if_equals(Ref(b"HEAD"), None)
            repo.refs[Ref(b"HEAD")] = ObjectID(head)
    except ArchiveError:
        repo.close()
        raise
    except Exception as exc:  # dulwich raises many kinds of error on bad data; each means the same here
        repo.close()
        raise ArchiveError(f"The git bundle is damaged ({type(exc).__name__}); it could not be read.") from exc
    return repo


def open_repo(path: Path) -> Repo:
    try:
        return Repo(str(path))
    except Exception as exc:
        raise ArchiveError(f"The repository's .git folder is incomplete ({type(exc).__name__}).") from exc


def _tips(repo: Repo) -> list[ObjectID]:
    """The commits that every ref (branches, tags, remotes, the stash) finally points at."""
    tips: list[ObjectID] = []
    for ref, sha in repo.refs.as_dict().items():
        if ref == b"HEAD":
            continue
        try:
            obj = repo.object_store[sha]
            while isinstance(obj, Tag):
                obj = repo.object_store[obj.object[1]]
        except KeyError:
            continue
        if isinstance(obj, Commit):
            tips.append(obj.id)
    head = repo.refs.read_ref(Ref(b"HEAD"))
    if head and not head.startswith(b"ref:") and ObjectID(head) in repo.object_store:
        tips.append(ObjectID(head))  # a detached HEAD
    return list(dict.fromkeys(tips))


def head_files(repo: Repo) -> dict[str, bytes]:
    """The files in the tree HEAD points at (what a checkout would hold): path -> blob id."""
    try:
        commit = repo[repo.head()]
    except Exception:
        return {}
    return dict(_paths(repo, commit.tree if isinstance(commit, Commit) else None))


def head_blobs(repo: Repo, files: dict[str, bytes], budget: Budget) -> Iterator[tuple[str, bytes]]:
    """The contents of the files at HEAD (`files` from head_files), within the budget; no other commit is read."""
    try:
        for path, sha in sorted(files.items()):
            blob = _get(repo, ObjectID(sha))
            budget.check_time()
            if not isinstance(blob, Blob):
                continue
            if blob.raw_length() > budget.limits.file_bytes:
                budget.skipped_large += 1
                continue
            yield path, blob.as_raw_string()
    except ArchiveError:
        raise
    except Exception as exc:  # dulwich's errors for missing or malformed objects
        raise ArchiveError(f"The git data is damaged ({type(exc).__name__}); it could not be read in full.") from exc


def _paths(repo: Repo, tree_id: ObjectID | None) -> Iterator[tuple[str, bytes]]:
    stack: list[tuple[ObjectID | None, str]] = [(tree_id, "")]
    while stack:
        current, prefix = stack.pop()
        tree = _get(repo, current) if current else None
        if not isinstance(tree, Tree) or prefix.count("/") > 64:
            continue
        for item in tree.iteritems():
            path = prefix + item.path.decode("utf-8", "replace")
            if stat.S_ISDIR(item.mode):
                stack.append((item.sha, path + "/"))
            else:
                yield path, item.sha


def history_blobs(repo: Repo, budget: Budget) -> Iterator[HistoryBlob]:
    """Each distinct blob of every commit reachable from any ref, once, with a path it had."""
    try:
        yield from _walk(repo, budget)
    except ArchiveError:
        raise
    except Exception as exc:  # dulwich's errors for missing or malformed objects
        raise ArchiveError(f"The git history is damaged ({type(exc).__name__}); it could not be read in full.") from exc


def commits(repo: Repo) -> Iterator[Commit]:
    """Every commit reachable from a ref, tips first. A parent that is not there (left out of an incremental
    bundle or a shallow clone) ends that line of history instead of failing the scan."""
    seen: set[bytes] = set()
    stack = list(reversed(_tips(repo)))
    while stack:
        sha = stack.pop()
        if sha in seen:
            continue
        seen.add(sha)
        try:
            commit = repo.object_store[sha]
        except KeyError:
            continue
        if isinstance(commit, Commit):
            yield commit
            stack.extend(reversed(commit.parents))


def _get(repo: Repo, sha: ObjectID) -> ShaFile | None:
    """An object, or None when the upload does not hold it (an incremental bundle leaves out what the
    receiver already has)."""
    try:
        return repo.object_store[sha]
    except KeyError:
        return None


def _walk(repo: Repo, budget: Budget) -> Iterator[HistoryBlob]:
    seen_trees: set[bytes] = set()
    seen_blobs: set[bytes] = set()
    for commit in commits(repo):
        short = commit.id.decode()[:7]
        stack: list[tuple[ObjectID, str]] = [(commit.tree, "")]
        while stack:
            tree_id, prefix = stack.pop()
            if tree_id in seen_trees or prefix.count("/") > budget.limits.depth:
                continue
            seen_trees.add(tree_id)
            tree = _get(repo, tree_id)
            if not isinstance(tree, Tree):
                continue
            for item in tree.iteritems():
                path = prefix + item.path.decode("utf-8", "replace")
                if stat.S_ISDIR(item.mode):
                    stack.append((item.sha, path + "/"))
                elif stat.S_ISREG(item.mode) and item.sha not in seen_blobs:
                    seen_blobs.add(item.sha)
                    blob = _get(repo, item.sha)
                    budget.check_time()
                    if not isinstance(blob, Blob):
                        continue
                    if blob.raw_length() > budget.limits.file_bytes:
                        budget.skipped_large += 1
                        continue
                    yield HistoryBlob(path, short, blob.as_raw_string(), item.sha)
