"""An uploaded repository's git data read from memory: its objects (pack files and loose objects) and its refs.

Nothing is written to disk and nothing but these is read: a `.git` folder's alternates, hooks or configuration
that points elsewhere are never followed. Every compressed object is inflated once, into memory and within the
scan's budget (counted on the bytes inflation really produces, never on the sizes the data declares), so a
pack built to inflate into gigabytes is refused before it fills the worker's memory. Delta chains are then
resolved once each: commits, trees and tags first (the history walk reads them), blobs afterwards, handed out
one at a time as they are resolved so that the history of a large file is never held whole.
"""

from __future__ import annotations

import io
import zlib
from collections import defaultdict
from collections.abc import Container, Iterator

from dulwich.config import ConfigFile
from dulwich.errors import ApplyDeltaError
from dulwich.object_format import SHA1, SHA256, ObjectFormat
from dulwich.objects import ObjectID, ShaFile
from dulwich.pack import apply_delta

from audits.secrets.archive import ArchiveError, Budget

BLOB, OFS_DELTA, REF_DELTA = 3, 6, 7
TYPE_NAMES = {1: b"commit", 2: b"tree", 3: b"blob", 4: b"tag"}
NUMBERS = {name: number for number, name in TYPE_NAMES.items()}
_COPY = 1 << 20  # inflate at most this much at a time
KEEP = 256 << 20  # whole blobs kept inflated, at most; past it they are inflated again when read


def _inflate(data: bytes, start: int, declared: int, budget: Budget, *, keep: bool = True) -> tuple[bytes, int]:
    """Inflate the zlib stream that starts at `start`, spending what it produces; return it (or b"" when it is
    not to be kept) and where the stream ends."""
    view = memoryview(data)
    inflater = zlib.decompressobj()
    out: list[bytes] = []
    position = start
    step = min(65536, declared + 64)  # most objects are small: read little past their end
    while not inflater.eof:
        if position >= len(view):
            raise ArchiveError("The git data holds a truncated pack file; it could not be read.")
        chunk = view[position : position + step]
        piece = inflater.decompress(chunk, _COPY)
        budget.spend(len(piece))
        if keep:
            out.append(piece)
        while inflater.unconsumed_tail and not inflater.eof:
            piece = inflater.decompress(inflater.unconsumed_tail, _COPY)
            budget.spend(len(piece))
            if keep:
                out.append(piece)
        position += len(chunk) - len(inflater.unused_data)
        step = 65536
    return b"".join(out), position


def _delta_size(delta: bytes) -> int:
    """The size a delta says its result has (the second number of its header)."""
    position = 0
    for _ in range(2):
        size, shift = 0, 0
        while True:
            byte = delta[position]
            position += 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
    return size


class GitObjects:
    """The objects of one repository, from its packs and loose objects. `get` gives commits, trees and tags;
    `blobs` resolves the blobs and hands out those asked for."""

    def __init__(self, budget: Budget, object_format: ObjectFormat = SHA1) -> None:
        self.budget = budget
        self.format = object_format
        self._kinds: list[int] = []  # per entry: its type (1 to 4), or OFS_DELTA / REF_DELTA
        self._data: list[bytes | None] = []  # per entry: inflated (a whole object, or a delta's instructions)
        # Whole blobs past KEEP are only counted when they are inflated, and inflated again when they are read,
        # so that what stays in memory of a large upload is mostly its compressed bytes: entry -> (its zlib
        # stream's bytes, start, end, whether a loose object).
        self._later: dict[int, tuple[bytes, int, int, bool]] = {}
        self._kept = 0
        self._whole: list[int] = []  # entries that are whole objects
        self._after: dict[int, list[int]] = defaultdict(list)  # entry -> the deltas on it (by offset)
        self._after_id: dict[bytes, list[int]] = defaultdict(list)  # binary id -> the deltas on it
        self._objects: dict[bytes, ShaFile] = {}  # hex id -> commit, tree or tag
        self._resolved = False

    # --- Reading --------------------------------------------------------------------------------------------

    def add_pack(self, data: bytes) -> None:
        """Read a pack file's objects (inflating each within the budget)."""
        if len(data) < 12 or data[:4] != b"PACK":
            raise ArchiveError("The git data holds a damaged pack file; it could not be read.")
        count = int.from_bytes(data[8:12], "big")
        at_offset: dict[int, int] = {}
        position = 12
        try:
            for _ in range(count):
                start = position
                byte = data[position]
                kind = (byte >> 4) & 7
                size, shift = byte & 15, 4
                position += 1
                while byte & 0x80:
                    byte = data[position]
                    size |= (byte & 0x7F) << shift
                    shift += 7
                    position += 1
                if size > self.budget.limits.total_bytes:
                    raise ArchiveError("The git data declares an object larger than the scan allows.")
                if kind not in TYPE_NAMES and kind not in (OFS_DELTA, REF_DELTA):
                    raise ArchiveError("The git data holds a damaged pack file; it could not be read.")
                base: int | bytes | None = None
                if kind == OFS_DELTA:  # the base is this far back in the same pack
                    byte = data[position]
                    position += 1
                    back = byte & 0x7F
                    while byte & 0x80:
                        byte = data[position]
                        position += 1
                        back = ((back + 1) << 7) | (byte & 0x7F)
                    if start - back not in at_offset:
                        raise ArchiveError("The git data holds a damaged pack file; it could not be read.")
                    base = at_offset[start - back]
                elif kind == REF_DELTA:  # the base is named by its id
                    base = bytes(data[position : position + self.format.oid_length])
                    position += self.format.oid_length
                later = kind == BLOB and self._kept + size > KEEP
                self._kept += size if kind == BLOB and not later else 0
                content, end = _inflate(data, position, size, self.budget, keep=not later)
                at_offset[start] = entry = self._add(kind, content, base)
                if later:
                    self._later[entry] = (data, position, end, False)
                position = end
                self.budget.check_time()
        except IndexError as exc:
            raise ArchiveError("The git data holds a truncated pack file; it could not be read.") from exc
        except zlib.error as exc:
            raise ArchiveError("The git data holds a corrupt pack file; it could not be read.") from exc

    def add_loose(self, data: bytes) -> None:
        """Read a loose object (one zlib stream: its type, size and content)."""
        try:
            raw, end = _inflate(data, 0, len(data) * 4, self.budget)
        except zlib.error as exc:
            raise ArchiveError("The git data holds a corrupt object; it could not be read.") from exc
        header, _, content = raw.partition(b"\x00")
        kind = NUMBERS.get(header.split(b" ", 1)[0])
        if kind is None:
            raise ArchiveError("The git data holds a damaged object; it could not be read.")
        if kind == BLOB and self._kept + len(content) > KEEP:
            self._later[self._add(kind, b"", None)] = (data, 0, end, True)
        else:
            self._kept += len(content) if kind == BLOB else 0
            self._add(kind, content, None)

    def _content(self, entry: int) -> bytes | None:
        """A whole object's content, inflated again if it was only counted; None once it has been read."""
        content = self._data[entry]
        self._data[entry] = None
        later = self._later.pop(entry, None)
        if later is None:
            return content
        data, start, end, loose = later
        raw = zlib.decompress(memoryview(data)[start:end])  # the stream counted once already
        return raw.partition(b"\x00")[2] if loose else raw

    def _add(self, kind: int, content: bytes, base: int | bytes | None) -> int:
        entry = len(self._kinds)
        self._kinds.append(kind)
        self._data.append(content)
        if isinstance(base, int):
            self._after[base].append(entry)
        elif base is not None:
            self._after_id[base].append(entry)
        else:
            self._whole.append(entry)
        return entry

    # --- Resolving ------------------------------------------------------------------------------------------

    def _id(self, kind: int, content: bytes) -> bytes:
        digest = self.format.hash_func()
        digest.update(b"%s %d\x00" % (TYPE_NAMES[kind], len(content)))
        digest.update(content)
        return digest.digest()

    def _chains(self, blobs: bool) -> Iterator[tuple[int, bytes, bytes]]:
        """Every object whose chain starts at a whole object of that sort (blobs or the rest): (type, binary
        id, content), each resolved once; a delta takes its base's type. A delta whose base is not in the
        upload (an incremental bundle can leave it out) stays unresolved."""
        for root in self._whole:
            kind = self._kinds[root]
            if (kind == BLOB) != blobs:
                continue
            content = self._content(root)
            if content is None:
                continue
            todo = [(root, content)]
            while todo:
                entry, content = todo.pop()
                self.budget.check_time()
                oid = self._id(kind, content)
                yield kind, oid, content
                for delta_entry in self._after.pop(entry, []) + self._after_id.pop(oid, []):
                    delta = self._data[delta_entry]
                    self._data[delta_entry] = None
                    if delta is None:
                        continue
                    try:
                        if _delta_size(delta) > self.budget.limits.total_bytes:
                            raise ArchiveError("The git data declares an object larger than the scan allows.")
                        todo.append((delta_entry, b"".join(apply_delta(content, delta))))
                    except (ApplyDeltaError, IndexError) as exc:
                        raise ArchiveError("The git data holds a damaged delta; it could not be read.") from exc

    def resolve(self) -> None:
        """Resolve the commits, trees and tags (what the history walk reads)."""
        if self._resolved:
            return
        self._resolved = True
        for kind, oid, content in self._chains(blobs=False):
            sha = ObjectID(oid.hex().encode())
            try:
                self._objects[sha] = ShaFile.from_raw_string(kind, content, sha, object_format=self.format)
            except Exception as exc:  # dulwich's errors for a malformed commit, tree or tag
                raise ArchiveError(
                    "The git history is damaged (a commit, tree or tag is malformed); it could not be read."
                ) from exc

    def __getitem__(self, sha: bytes) -> ShaFile:
        """A commit, tree or tag by its hex id; KeyError for a blob or an object the upload does not hold."""
        self.resolve()
        return self._objects[sha]

    def __contains__(self, sha: object) -> bool:
        self.resolve()
        return sha in self._objects

    def blobs(self, wanted: Container[bytes]) -> Iterator[tuple[bytes, bytes]]:
        """The blobs whose hex ids are `wanted`, (id, content), as their chains are resolved; a blob over the
        per-file limit is counted as skipped instead. Call once: the data is released as it is read. A delta
        left unresolved at the end fails the scan: what the upload's commits hold could not all be read."""
        self.resolve()
        for _, oid, content in self._chains(blobs=True):
            sha = oid.hex().encode()
            if sha not in wanted:
                continue
            if len(content) > self.budget.limits.file_bytes:
                self.budget.skipped_large += 1
                continue
            yield sha, content
        if self._after or self._after_id:
            raise ArchiveError(
                "The git data is incomplete: some of its objects are stored as changes to objects it does not hold "
                "(an incremental bundle). Bundle the whole repository instead: git bundle create repo.bundle --all"
            )


# --- Refs ---------------------------------------------------------------------------------------------------


def _hex(value: bytes, object_format: ObjectFormat) -> bytes | None:
    value = value.strip()
    if len(value) == object_format.hex_length and all(c in b"0123456789abcdef" for c in value.lower()):
        return value.lower()
    return None


def read_refs(files: dict[str, bytes], object_format: ObjectFormat = SHA1) -> tuple[dict[bytes, bytes], bytes]:
    """The refs of a `.git` folder from its files (path inside `.git` -> bytes): every ref under refs/ (loose
    refs over packed ones) as a hex id, symbolic refs followed, and what HEAD points at ('' when nothing)."""
    values: dict[bytes, bytes] = {}
    for line in files.get("packed-refs", b"").splitlines():
        if not line or line.startswith((b"#", b"^")):
            continue  # the header, and the peeled id of the tag above (the walk peels tags itself)
        sha, _, name = line.partition(b" ")
        if name.startswith(b"refs/"):
            values[name.strip()] = sha
    for path, data in files.items():
        if path.startswith("refs/"):
            values[path.encode()] = data.strip()
    values[b"HEAD"] = files.get("HEAD", b"").strip()

    def follow(name: bytes) -> bytes | None:
        for _ in range(5):  # a symbolic ref names another ref; a loop of them ends here
            value = values.get(name, b"")
            if not value.startswith(b"ref:"):
                return _hex(value, object_format)
            name = value[4:].strip()
        return None

    refs: dict[bytes, bytes] = {}
    for name in values:
        target = follow(name) if name != b"HEAD" else None
        if target:
            refs[name] = target
    return refs, follow(b"HEAD") or b""


def object_format_of(config: bytes) -> ObjectFormat:
    """The object format a `.git/config` declares (SHA-1 unless it names SHA-256)."""
    try:
        parsed = ConfigFile.from_file(io.BytesIO(config))
        name = parsed.get((b"extensions",), b"objectformat")
    except (KeyError, ValueError, UnicodeDecodeError):
        return SHA1
    return SHA256 if name.strip().lower() == b"sha256" else SHA1
