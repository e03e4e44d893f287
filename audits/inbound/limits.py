"""What the receiver allows: message size, recipients, connections (in all and per sending address), how long
a command or a whole session may take, and how many messages an address or a sender may send in an hour."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

from audits.models import MailAddress


@dataclass(frozen=True)
class ReceiverLimits:
    max_message_bytes: int = 5 * 1024 * 1024  # a sign-up email or a zipped DMARC report is far smaller
    max_recipients: int = 5
    max_connections: int = 100
    max_connections_per_peer: int = 5
    # A client that is silent, or drips one command (or the whole of DATA) slower than this, is cut off.
    command_seconds: float = 30.0
    session_seconds: float = 300.0  # however busy, a session ends after this
    messages_per_peer_per_hour: int = 60
    messages_per_address_per_hour: dict[str, int] = field(
        default_factory=lambda: {MailAddress.Kind.SEND_TEST: 10, MailAddress.Kind.DMARC_REPORTS: 200}
    )


class SlidingWindow:
    """How many times each key was counted in the last `seconds`; keys that fall quiet are forgotten."""

    def __init__(self, seconds: float, *, max_keys: int = 10_000) -> None:
        self.seconds = seconds
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}

    def _trim(self, key: str, moment: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= moment - self.seconds:
            hits.popleft()
        return hits

    def count(self, key: str) -> int:
        return len(self._trim(key, time.monotonic()))

    def hit(self, key: str) -> int:
        """Count one more for `key`; returns the count within the window, this one included."""
        moment = time.monotonic()
        if len(self._hits) >= self.max_keys:
            for stale in [k for k, hits in self._hits.items() if not hits or hits[-1] <= moment - self.seconds]:
                del self._hits[stale]
        hits = self._trim(key, moment)
        hits.append(moment)
        return len(hits)


class ConnectionGate:
    """Connections open now, in all and per sending address; a connection over either limit is turned away."""

    def __init__(self, limits: ReceiverLimits) -> None:
        self.limits = limits
        self.open = 0
        self.by_peer: dict[str, int] = defaultdict(int)

    def admit(self, peer: str) -> str | None:
        """None when the connection may go on (and is now counted); otherwise why not."""
        if self.open >= self.limits.max_connections:
            return "too many connections to this server"
        if self.by_peer[peer] >= self.limits.max_connections_per_peer:
            return "too many connections from your address"
        self.open += 1
        self.by_peer[peer] += 1
        return None

    def release(self, peer: str) -> None:
        self.open = max(0, self.open - 1)
        self.by_peer[peer] -= 1
        if self.by_peer[peer] <= 0:
            del self.by_peer[peer]
