"""The maintained rule catalog: Kingfisher's built-in rules (its own, Betterleaks' and Veles'), run in process
over bytes. It says which rule matched what; the detector decides what that is and redacts it."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from kingfisher_sdk import Scanner


@dataclass(frozen=True)
class Match:
    """One catalog match. It holds the key only until the detector has fingerprinted it."""

    rule_id: str
    rule_name: str
    secret: str
    line: int


@functools.cache
def _scanner() -> Scanner:
    # Imported on first scan: loading the native engine and its compiled rules costs a third of a second.
    import kingfisher_sdk

    # Its compiled rules are cached under the product's own var/, never in the user's home.
    return kingfisher_sdk.Scanner(kingfisher_sdk.Rules(cache_dir=settings.VAR_DIR / "cache" / "kingfisher"))


def catalog_matches(data: bytes) -> list[Match]:
    """What the catalog's rules find in these bytes (offline: scanning never validates a key)."""
    if not data:
        return []
    return [
        Match(f.rule_id, f.rule_name, f.secret, int(f.location.get("line", 0)))
        for f in _scanner().scan(data)
        if f.visible and f.secret
    ]


def rule_family(rule_id: str) -> str:
    """A rule's id without its catalog's namespace and variant: "betterleaks.paypal-client-secret.1" is
    "paypal-client-secret"."""
    for namespace in ("betterleaks.", "kingfisher.", "veles.secrets/", "custom."):
        if rule_id.startswith(namespace):
            rule_id = rule_id[len(namespace) :]
            break
    head, _, tail = rule_id.rpartition(".")
    return head if head and tail.isdigit() else rule_id
