"""Every blob of every commit in a repository: the refs' commits walked, each distinct blob once with a path it
had, without a `git` binary.

The `git` program is never run on a repository: its `.git/config` could name hooks, an fsmonitor or a pager
that git would execute. An upload's objects are read from memory (audits/secrets/gitdata.py); a working copy on
this machine (the command line's scan) is read with dulwich. Both only parse objects and refs.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from dulwich.object_format import SHA1, SHA256
from dulwich.objects import Blob, Commit, ObjectID, ShaFile, Tag, Tree
from dulwich.repo import Repo

from audits.secrets.archive import ArchiveError, Budget
from audits.secrets.gitdata import GitObjects

BUNDLE_HEADS = (b"# v2 git bundle\n", b"# v3 git bundle\n")


class Objects(Protocol):
    def __getitem__(self, sha: ObjectID) -> ShaFile: ...


@dataclass
class HistoryBlob:
    path: str
    commit: str  # the newest commit (short id) whose tree holds this blob
    data: bytes
    sha: bytes = b""
    order: int = 0  # where the walk came to it: places are told in this order, whenever the blob is read


@dataclass
class Repository:
    """What the walk reads: objects, the commits the refs point at, and HEAD's."""

    objects: Objects
    tips: list[ObjectID] = field(default_factory=list)
    head: ObjectID | None = None


# --- Uploads -------------------------------------------------------------------------------------------------


def read_bundle(bundle: bytes, budget: Budget) -> tuple[GitObjects, Repository]:
    """A git bundle's objects and refs, read from memory."""
    if not bundle.startswith(BUNDLE_HEADS):
        raise ArchiveError("This is not a git bundle.")
    end = bundle.find(b"\n\n")
    if end < 0:
        raise ArchiveError("The git bundle is damaged: its header never ends.")
    refs: dict[bytes, bytes] = {}
    head = b""
    object_format = SHA1
    for line in bundle[: end + 1].split(b"\n")[1:]:
        if line.startswith(b"@object-format=") and line.endswith(b"sha256"):
            object_format = SHA256
        if not line or line.startswith((b"@", b"-")):
            continue  # capabilities; prerequisites (commits an incremental bundle leaves out) are not walked
        sha, _, ref = line.partition(b" ")
        if len(sha) != object_format.hex_length:
            continue
        if ref == b"HEAD":
            head = sha
        elif ref.startswith(b"refs/"):
            refs[ref] = sha
    # HEAD is what a clone would check out: the bundle's own HEAD, else its main branch, else any branch.
    head = head or refs.get(b"refs/heads/main") or refs.get(b"refs/heads/master") or next(iter(refs.values()), b"")
    objects = GitObjects(budget, object_format)
    objects.add_pack(bundle[end + 2 :])
    return objects, repository(objects, refs, head, budget)


def repository(objects: GitObjects, refs: dict[bytes, bytes], head: bytes, budget: Budget) -> Repository:
    """The walk's view of an upload's objects and refs. Refs that all name commits the upload does not hold
    mean its git data is incomplete: that fails the scan rather than leaving the history out unseen."""
    objects.resolve()
    named = [ObjectID(sha) for sha in (head, *(refs[name] for name in sorted(refs))) if sha]
    tips = _tips(objects, named)
    if named and not tips:
        raise ArchiveError("The repository's .git folder is incomplete (its refs name commits it does not hold).")
    return Repository(objects, tips, ObjectID(head) if head else None)


# --- A working copy on this machine ------------------------------------------------------------------------


def local_repository(repo: Repo) -> Repository:
    """The walk's view of a repository dulwich opened: HEAD, then every ref (branches, tags, remotes, the stash)
    by name."""
    refs = repo.refs.as_dict()
    try:
        current: ObjectID | None = repo.head()
    except KeyError:
        current = None
    named = [sha for sha in (current, *(refs[ref] for ref in sorted(refs) if ref != b"HEAD")) if sha]
    return Repository(repo.object_store, _tips(repo.object_store, named), current)


def history_readable(repo: Repo) -> bool:
    """Whether the repository's history can be walked: False when its refs name commits its objects do not hold
    (an empty or unreadable .git/objects, as in a partial copy). A repository with no commit yet is readable."""
    try:
        refs = repo.refs.as_dict()
        named = [sha for sha in refs.values() if sha]
        return not named or bool(_tips(repo.object_store, named))
    except Exception:  # dulwich's errors for refs or objects it cannot read
        return False


def history_blobs(repo: Repo, budget: Budget) -> Iterator[HistoryBlob]:
    """Each distinct blob of every commit reachable from any ref of a repository dulwich opened, once, with a
    path it had, in the walk's order."""
    try:
        view = local_repository(repo)
        for order, (path, short, sha) in enumerate(walk(view, budget)):
            blob = _get(view.objects, sha)
            budget.check_time()
            if not isinstance(blob, Blob):
                continue
            if blob.raw_length() > budget.limits.file_bytes:
                budget.skipped_large += 1
                continue
            yield HistoryBlob(path, short, blob.as_raw_string(), sha, order)
    except ArchiveError:
        raise
    except Exception as exc:  # dulwich's errors for missing or malformed objects
        raise ArchiveError(
            "The git history is damaged (an object is missing or malformed); it could not be read in full."
        ) from exc


# --- The walk ------------------------------------------------------------------------------------------------


def _get(objects: Objects, sha: ObjectID) -> ShaFile | None:
    """An object, or None when the repository does not hold it (an incremental bundle leaves out what the
    receiver already has; an upload's blobs are read apart from the walk)."""
    try:
        return objects[sha]
    except KeyError:
        return None


def _tips(objects: Objects, named: list[ObjectID]) -> list[ObjectID]:
    """The commits that the named objects finally point at (annotated tags peeled), once each, in that order:
    the walk attributes a blob to the first tip's history that holds it."""
    tips: list[ObjectID] = []
    for sha in named:
        obj = _get(objects, sha)
        while isinstance(obj, Tag):
            obj = _get(objects, obj.object[1])
        if isinstance(obj, Commit):
            tips.append(obj.id)
    return list(dict.fromkeys(tips))


def head_files(repo: Repository) -> dict[str, tuple[ObjectID, int]]:
    """What the tree HEAD points at holds (what a checkout would): path -> (blob id, mode), links and
    submodules included."""
    commit = _get(repo.objects, repo.head) if repo.head else None
    if not isinstance(commit, Commit):
        return {}
    return dict(_paths(repo.objects, commit.tree))


def _paths(objects: Objects, tree_id: ObjectID | None) -> Iterator[tuple[str, tuple[ObjectID, int]]]:
    stack: list[tuple[ObjectID | None, str]] = [(tree_id, "")]
    while stack:
        current, prefix = stack.pop()
        tree = _get(objects, current) if current else None
        if not isinstance(tree, Tree) or prefix.count("/") > 64:
            continue
        for item in tree.iteritems():
            path = prefix + item.path.decode("utf-8", "replace")
            if stat.S_ISDIR(item.mode):
                stack.append((item.sha, path + "/"))
            else:
                yield path, (item.sha, item.mode)


def commits(repo: Repository) -> Iterator[Commit]:
    """Every commit reachable from the tips, tips first. A parent that is not there (left out of an incremental
    bundle or a shallow clone) ends that line of history instead of failing the scan."""
    seen: set[bytes] = set()
    stack = list(reversed(repo.tips))
    while stack:
        sha = stack.pop()
        if sha in seen:
            continue
        seen.add(sha)
        commit = _get(repo.objects, sha)
        if isinstance(commit, Commit):
            yield commit
            stack.extend(reversed(commit.parents))


def walk(repo: Repository, budget: Budget) -> Iterator[tuple[str, str, ObjectID]]:
    """Each distinct blob of every commit, once, as (a path it had, the newest commit's short id, its id): the
    walk reads commits and trees only."""
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
            tree = _get(repo.objects, tree_id)
            budget.check_time()
            if not isinstance(tree, Tree):
                continue
            for item in tree.iteritems():
                path = prefix + item.path.decode("utf-8", "replace")
                if stat.S_ISDIR(item.mode):
                    stack.append((item.sha, path + "/"))
                elif stat.S_ISREG(item.mode) and item.sha not in seen_blobs:
                    seen_blobs.add(item.sha)
                    yield path, short, item.sha


def upload_blobs(objects: GitObjects, repo: Repository, budget: Budget) -> Iterator[HistoryBlob]:
    """Each distinct blob of every commit of an upload, once, with a path it had: read as their delta chains
    resolve (not in the walk's order; `order` says where the walk came to each)."""
    try:
        planned = {sha: (order, path, short) for order, (path, short, sha) in enumerate(walk(repo, budget))}
        for sha, data in objects.blobs(planned):
            order, path, short = planned[ObjectID(sha)]
            yield HistoryBlob(path, short, data, sha, order)
    except ArchiveError:
        raise
    except Exception as exc:  # dulwich's errors for malformed objects
        raise ArchiveError(
            "The git history is damaged (an object is missing or malformed); it could not be read in full."
        ) from exc
