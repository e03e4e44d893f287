"""Blobs scanned for keys beside the reading of the upload: each distinct blob once, on threads of their own.

The catalog's engine lets go of the interpreter while it reads bytes (as zlib and the file reads do), so while
one thread scans a file the scan's own thread goes on reading and inflating the next ones. At most a few blobs
wait at a time, so the bytes held for scanning stay small; what is found is handed back on the scan's own
thread, in the order the blobs were first given (the collector orders places itself).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from audits.secrets.detector import Hit, scan_bytes, warm_up

THREADS = min(2, os.cpu_count() or 1)
WAITING = 16  # blobs given and not yet scanned, at most

Record = Callable[[list[Hit]], None]


class BlobScanner:
    def __init__(self, threads: int = THREADS) -> None:
        self.threads = threads
        self.scanned: dict[bytes, list[Hit]] = {}  # blob id -> its keys
        self._waiting: dict[bytes, tuple[Future[list[Hit]], list[Record]]] = {}
        self._pool: ThreadPoolExecutor | None = None

    def scan(self, blob_id: bytes, data: bytes, record: Record) -> None:
        """Scan these bytes (once for a blob id, however often it is given) and call `record` with the keys."""
        if blob_id in self.scanned:
            record(self.scanned[blob_id])
            return
        if blob_id in self._waiting:
            self._waiting[blob_id][1].append(record)
            return
        if self.threads < 1:
            record(self.scanned.setdefault(blob_id, scan_bytes(data)))
            return
        if self._pool is None:
            warm_up()  # the engine and its rules are loaded once, here, not by two threads at once
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="secret-scan")
        self._waiting[blob_id] = (self._pool.submit(scan_bytes, data), [record])
        while len(self._waiting) > WAITING:
            self._settle_first()

    def _settle_first(self) -> None:
        blob_id = next(iter(self._waiting))
        future, records = self._waiting[blob_id]
        hits = self.scanned[blob_id] = future.result()
        del self._waiting[blob_id]
        for record in records:
            record(hits)

    def settle(self) -> None:
        """Wait for every blob given so far and hand its keys to its records."""
        while self._waiting:
            self._settle_first()

    def close(self) -> None:
        """Stop the threads (blobs still waiting are dropped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._waiting.clear()
