"""The repository scan of a folder on this machine (a CI checkout, a developer's working copy) or of a few files
(the ones a commit stages), for `manage.py scan_repo` and the pre-commit hook.

Files are read as they are, within the upload's limits on count, size and time. Links are never followed and
`.git` folders are never read as files. In a git working copy the files git ignores are left out (they are not
committed), and the history is read from its `.git` with dulwich, as an upload's is: the `git` program is never
run."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from dulwich.ignore import IgnoreFilterManager
from dulwich.repo import Repo

from audits.secrets.archive import ArchiveError, Budget, Limits
from audits.secrets.history import history_blobs, history_readable
from audits.secrets.repo import Collector, RepoReport


def _repo(root: Path) -> Repo | None:
    """The git repository whose working copy `root` is (its `.git` a folder or a worktree's pointer file)."""
    if not (root / ".git").exists():
        return None
    try:
        return Repo(str(root))
    except Exception as exc:  # dulwich's errors for a broken .git
        raise ArchiveError("The folder's .git is incomplete or malformed; it could not be read.") from exc


def _read(path: Path, budget: Budget) -> bytes | None:
    """A regular file's bytes; None for a link, a device, or a file over the per-file limit (counted)."""
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
        budget.skipped_links += 1
        return None
    budget.count_file()
    if info.st_size > budget.limits.file_bytes:
        budget.skipped_large += 1
        return None
    data = path.read_bytes()
    budget.spend(len(data))
    return data


def _fail(error: OSError) -> None:
    raise error  # a folder that cannot be listed fails the scan rather than being left out unseen


def _tracked(repo: Repo | None) -> set[str]:
    """The paths git tracks (its index): .gitignore only applies to the files git does not track."""
    if repo is None:
        return set()
    try:
        return {path.decode("utf-8", "replace") for path in repo.open_index()}
    except Exception:  # no index yet (nothing staged), or one dulwich cannot read: nothing is known tracked
        return set()


def _walk(
    root: Path, ignore: IgnoreFilterManager | None, limits: Limits, tracked: frozenset[str] = frozenset()
) -> Iterator[str]:
    """The paths (relative, with /) of the files under `root`, without .git folders or what git ignores (a
    tracked file is never ignored, nor a folder that holds one)."""
    folders = {path.rsplit("/", 1)[0] + "/" for path in tracked if "/" in path}
    holding = {folder[: i + 1] for folder in folders for i, c in enumerate(folder) if c == "/"}

    def ignored(path: str) -> bool:
        if ignore is None or path in tracked or path in holding:
            return False
        return bool(ignore.is_ignored(path))

    for folder, dirs, files in os.walk(root, onerror=_fail, followlinks=False):
        relative = Path(folder).relative_to(root).as_posix()
        prefix = "" if relative == "." else f"{relative}/"
        if prefix.count("/") >= limits.depth:
            raise ArchiveError(f"The folder nests folders more than {limits.depth} deep.")
        dirs[:] = sorted(d for d in dirs if d != ".git" and not ignored(f"{prefix}{d}/"))
        for name in sorted(files):
            if name == ".git":  # a submodule's or worktree's pointer to its git data
                continue
            if ignored(f"{prefix}{name}"):
                continue
            yield f"{prefix}{name}"


def scan_directory(root: Path, limits: Limits | None = None, *, history: bool = True) -> RepoReport:
    """Scan a folder: its files and, when it is a git working copy and `history` is on, every blob of every
    commit its refs reach. Raises ArchiveError when it cannot be scanned."""
    limits = limits or Limits()
    # A folder is not compressed: the unpacking ratio that stops a zip bomb has nothing to measure here.
    budget = Budget(limits, upload_size=limits.total_bytes)
    collector = Collector(budget=budget)
    repo = _repo(root)
    try:
        ignore = IgnoreFilterManager.from_repo(repo) if repo is not None else None
        present: set[str] = set()
        for path in _walk(root, ignore, limits, frozenset(_tracked(repo))):
            data = _read(root / path, budget)
            if data is not None:
                collector.tree_file(path, data)
                present.add(path)
        if history and repo is not None:
            if history_readable(repo):
                for blob in history_blobs(repo, budget):
                    collector.history_blob(blob, deleted=blob.path not in present)
                collector.stats["commits_with_history"] = 1
            else:
                collector.stats["history_unreadable"] = 1
        collector.stats |= {"skipped_links": budget.skipped_links, "skipped_large": budget.skipped_large}
        return collector.report()
    except OSError as exc:
        raise ArchiveError(
            f"A file in the folder could not be read ({(exc.strerror or 'an error reading it').lower()})."
        ) from exc
    finally:
        collector.close()
        if repo is not None:
            repo.close()


def scan_files(paths: Iterable[str], limits: Limits | None = None) -> RepoReport:
    """Scan the files named (a commit's staged files, as pre-commit passes them): keys, .env files and debug
    settings; the checks that need the whole repository are left out. A name that is not a file is skipped."""
    limits = limits or Limits()
    budget = Budget(limits, upload_size=limits.total_bytes)
    collector = Collector(environment=False, budget=budget)
    try:
        for name in dict.fromkeys(paths):
            path = Path(name)
            shown = path.as_posix().removeprefix("./")
            try:
                data = _read(path, budget)
            except FileNotFoundError:
                continue  # a deletion is staged: nothing of it is added
            except OSError as exc:
                raise ArchiveError(
                    f"{shown} could not be read ({(exc.strerror or 'an error reading it').lower()})."
                ) from exc
            if data is not None:
                collector.tree_file(shown, data)
        collector.stats |= {"skipped_links": budget.skipped_links, "skipped_large": budget.skipped_large}
        return collector.report()
    finally:
        collector.close()
