"""Reading an uploaded repository (zip, tar.gz or git bundle) without trusting it.

Nothing is extracted: members are read into memory one at a time, within limits on size, count, depth and
decompression ratio that are counted on the bytes actually produced (never on the sizes the archive declares).
An archive among the files (a zip in the zip, a tar.gz committed to the repository) is read the same way, from
memory, a few archives deep at most, its bytes counted against the same limits as the upload's.
Links, devices and names that leave the archive's folder are never followed, and nothing of an upload is
written to disk: a `.git` folder's objects and refs are read from memory too (audits/secrets/gitdata.py).
"""

from __future__ import annotations

import gzip
import io
import posixpath
import tarfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO


class ArchiveError(Exception):
    """The upload cannot be scanned; the message says why in words a consultant understands."""


class UnsafeArchive(ArchiveError):
    """The archive holds a name that is absolute, leaves its folder or nests too deep."""


@dataclass(frozen=True)
class Limits:
    upload_bytes: int = 50 * 1024 * 1024  # the file as uploaded
    total_bytes: int = 600 * 1024 * 1024  # everything it unpacks to
    files: int = 60_000
    depth: int = 40  # folders within folders
    file_bytes: int = 5 * 1024 * 1024  # a larger working-tree file is skipped (minified bundles fit)
    ratio: int = 200  # unpacked bytes per uploaded byte, past the first 20 MB: a zip bomb
    seconds: float = 600.0
    nesting: int = 3  # archives inside archives among the files (a zip in a zip in a zip) opened, at most


Cap = Callable[[str, "Budget"], int]  # the bytes a member at this path may unpack to


@dataclass
class Member:
    path: str
    data: bytes


MAX_UNCHECKED = 60  # archives not read that are named


@dataclass
class Budget:
    """What reading the upload has used so far, checked at every step."""

    limits: Limits
    upload_size: int
    started: float = field(default_factory=time.monotonic)
    total: int = 0
    files: int = 0
    skipped_links: int = 0
    skipped_large: int = 0
    unchecked: list[tuple[str, str]] = field(default_factory=list)  # (archive, why) of the first archives not read
    unchecked_count: int = 0  # archives among the files not read (or not read to the end)

    def spend(self, size: int) -> None:
        self.total += size
        if self.total > self.limits.total_bytes:
            raise ArchiveError(f"The archive unpacks to more than {self.limits.total_bytes // 2**20} MB.")
        if self.total > 20 * 2**20 and self.total > self.limits.ratio * max(self.upload_size, 1):
            raise ArchiveError(
                "The archive unpacks to more than "
                f"{self.limits.ratio} times its own size: it looks like a zip bomb and was not scanned."
            )
        self.check_time()

    def not_checked(self, path: str, why: str) -> None:
        """An archive among the files was not read, or not to its end: counted, and the first ones named."""
        self.unchecked_count += 1
        if len(self.unchecked) < MAX_UNCHECKED:
            self.unchecked.append((path, why))

    def count_file(self) -> None:
        self.files += 1
        if self.files > self.limits.files:
            raise ArchiveError(f"The archive holds more than {self.limits.files:,} files.")

    def check_time(self) -> None:
        if time.monotonic() - self.started > self.limits.seconds:
            raise ArchiveError(f"The scan took longer than {int(self.limits.seconds // 60)} minutes and was stopped.")


def sniff(head: bytes) -> str | None:
    """The upload's format from its first bytes: "zip", "tar.gz", "tar", "bundle", or None."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(b"\x1f\x8b"):
        return "tar.gz"
    if head.startswith((b"# v2 git bundle\n", b"# v3 git bundle\n")):
        return "bundle"
    if len(head) > 262 and head[257:262] == b"ustar":
        return "tar"
    return None


def safe_path(name: str, limits: Limits) -> str:
    """The member's path, normalised; an absolute path or one that climbs out of the archive fails the scan."""
    cleaned = name.replace("\\", "/")
    if cleaned.startswith("/") or (len(cleaned) > 1 and cleaned[1] == ":"):
        raise UnsafeArchive(f"The archive contains an absolute path ({_short(name)}); it was not scanned.")
    normal = posixpath.normpath(cleaned)
    if normal == ".." or normal.startswith("../") or "\x00" in normal:
        raise UnsafeArchive(f"The archive contains a path that leaves its folder ({_short(name)}); it was not scanned.")
    if normal.count("/") >= limits.depth:
        raise UnsafeArchive(f"The archive nests folders more than {limits.depth} deep.")
    return "" if normal == "." else normal


def _short(name: str) -> str:
    return name[:80].encode("ascii", "replace").decode()


def _read(stream: IO[bytes] | gzip.GzipFile, budget: Budget, cap: int) -> bytes | None:
    """Read a member, counting real bytes; None when it is larger than `cap` (the rest is not read)."""
    chunks, size = [], 0
    while True:
        chunk = stream.read(1024 * 1024)
        if not chunk:
            break
        size += len(chunk)
        budget.spend(len(chunk))
        if size > cap:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def members(path: Path, kind: str, budget: Budget) -> Iterator[Member]:
    """The regular files of a zip or tar archive, with safe paths. Git data (.git/) may be large: it is read
    up to the total limit; other files over the per-file limit are skipped and counted."""
    try:
        if kind == "zip":
            yield from _zip_members(path, budget)
        else:
            yield from _tar_members(path, budget, kind == "tar.gz")
    except ArchiveError:
        raise
    except (zipfile.BadZipFile, tarfile.TarError, zlib.error, EOFError, OSError, ValueError, LookupError) as exc:
        raise ArchiveError("The archive is damaged or incomplete; it could not be read.") from exc
    except NotImplementedError as exc:  # a compression method zipfile does not know
        raise ArchiveError("The archive uses a compression method that cannot be read; use zip or tar.gz.") from exc
    except RuntimeError as exc:  # an encrypted zip member
        raise ArchiveError("The archive is password-protected; upload it without a password.") from exc


def _cap(path: str, budget: Budget) -> int:
    return budget.limits.total_bytes if is_git_path(path) else budget.limits.file_bytes


def _file_cap(path: str, budget: Budget) -> int:
    return budget.limits.file_bytes


def _zip_members(path: Path | IO[bytes], budget: Budget, cap: Cap = _cap) -> Iterator[Member]:
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = safe_path(info.filename, budget.limits)
            if info.is_dir() or not name:
                continue
            budget.count_file()
            mode = (info.external_attr >> 16) & 0o170000
            if mode and mode != 0o100000:  # a symlink (0o120000) or anything else that is not a plain file
                budget.skipped_links += 1
                continue
            with archive.open(info) as stream:
                data = _read(stream, budget, cap(name, budget))
            if data is None:
                budget.skipped_large += 1
                continue
            yield Member(name, data)


def _open_tar(path: Path | IO[bytes], gzipped: bool) -> tarfile.TarFile:
    source, fileobj = (path, None) if isinstance(path, Path) else (None, path)
    return tarfile.open(source, "r:gz", fileobj) if gzipped else tarfile.open(source, "r:", fileobj)


def _tar_members(path: Path | IO[bytes], budget: Budget, gzipped: bool, cap: Cap = _cap) -> Iterator[Member]:
    with _open_tar(path, gzipped) as archive:  # members are read, never extracted
        for info in archive:
            name = safe_path(info.name, budget.limits)
            if info.isdir() or not name:
                continue
            budget.count_file()
            if not info.isfile():  # symlinks, hard links, devices, fifos: never followed
                budget.skipped_links += 1
                continue
            stream = archive.extractfile(info)
            if stream is None:
                continue
            data = _read(stream, budget, cap(name, budget))
            if data is None:
                budget.skipped_large += 1
                continue
            yield Member(name, data)


# --- Archives among the files ---------------------------------------------------------------------------------

NESTED_FLOOR = 1 << 20  # what an archive among the files may unpack to before its ratio is looked at
_CONTENT_ERRORS = (
    zipfile.BadZipFile, tarfile.TarError, zlib.error, EOFError, OSError, ValueError, LookupError, NotImplementedError,
    RuntimeError, UnsafeArchive,
)  # fmt: skip


def is_archive(data: bytes) -> bool:
    """Whether a file's bytes are a zip, tar or gzip archive (a .jar or .docx is a zip too)."""
    return sniff(data[:512]) in ("zip", "tar", "tar.gz")


def nested_members(path: str, data: bytes, budget: Budget, level: int = 1) -> Iterator[Member]:
    """The files inside an archive that is itself one of the files (`path`), as `path/inner/name`, read from memory
    with the upload's limits on the total; an archive inside it is opened in turn, `Limits.nesting` archives deep at
    most. One deeper, damaged, encrypted, with an unsafe name or unpacking to over `Limits.ratio` times its size is
    noted in `budget.unchecked` (what was read of it before is still given)."""
    if level > budget.limits.nesting:
        budget.not_checked(path, f"an archive inside {level - 1} others, deeper than the scan opens")
        return
    # Every byte unpacked from it counts, those of its own archives and of members too large to keep among them.
    start, most = budget.total, max(NESTED_FLOOR, budget.limits.ratio * len(data))
    try:
        for member in _archive_members(data, budget):
            inner = f"{path}/{member.path}" if member.path else path  # a .gz file's content stands for it
            if budget.total - start > most:
                budget.not_checked(path, f"it unpacks to more than {budget.limits.ratio} times its size")
                return
            if is_archive(member.data):
                yield from nested_members(inner, member.data, budget, level + 1)
            else:
                yield Member(inner, member.data)
    except _CONTENT_ERRORS as exc:
        budget.not_checked(path, _why(exc))


def _archive_members(data: bytes, budget: Budget) -> Iterator[Member]:
    kind = sniff(data[:512])
    if kind == "zip":
        yield from _zip_members(io.BytesIO(data), budget, _file_cap)
    elif kind == "tar":
        yield from _tar_members(io.BytesIO(data), budget, False, _file_cap)
    elif _is_tar(data):
        yield from _tar_members(io.BytesIO(data), budget, True, _file_cap)
    else:  # one gzipped file (data.sql.gz): its content, which stands for the file
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            content = _read(stream, budget, budget.limits.file_bytes)
        if content is None:
            budget.skipped_large += 1
            return
        yield Member("", content)


def _is_tar(gzipped: bytes) -> bool:
    with gzip.GzipFile(fileobj=io.BytesIO(gzipped)) as stream:
        head = stream.read(512)
    return len(head) > 262 and head[257:262] == b"ustar"


def _why(exc: BaseException) -> str:
    if isinstance(exc, UnsafeArchive):
        return "it holds a path that is absolute, leaves its folder or nests too deep"
    if isinstance(exc, RuntimeError):
        return "it is password-protected"
    if isinstance(exc, NotImplementedError):
        return "it uses a compression method that cannot be read"
    return f"it is damaged or incomplete ({type(exc).__name__})"


def is_git_path(path: str) -> bool:
    return path.startswith(".git/") or "/.git/" in path


def git_dir_of(path: str) -> str | None:
    """The folder that holds a repository's git data ('' for the archive's root, 'project' for project/.git/)."""
    if path.startswith(".git/"):
        return ""
    if "/.git/" in path:
        return path.split("/.git/", 1)[0]
    return None
