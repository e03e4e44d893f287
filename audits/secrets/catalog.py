"""The maintained rule catalog: Kingfisher's built-in rules (its own, Betterleaks' and Veles'), run in process
over bytes. It says which rule matched what; the detector decides what that is and redacts it.

The same pass also finds the detector's anchors: short patterns that every match of a hand-written rule holds
(a key's prefix, a variable's name), so that those rules' regular expressions are tried only where an anchor
is, never over every byte of a file."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from kingfisher_sdk import Scanner

ANCHOR_ID = "custom.launchready-anchor."


@dataclass(frozen=True)
class Match:
    """One catalog match. It holds the key only until the detector has fingerprinted it."""

    rule_id: str
    rule_name: str
    secret: str
    line: int


@dataclass
class Scan:
    """What one pass over some bytes found: the catalog's matches, and where each anchor starts (byte offsets)."""

    matches: list[Match] = field(default_factory=list)
    anchors: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))


def _cache_dir() -> Path:
    return Path(settings.VAR_DIR) / "cache" / "kingfisher"


def _anchor_file(anchors: tuple[str, ...]) -> Path:
    """The anchors as Kingfisher rules (JSON is YAML), in the product's cache under a name of their content, so
    that the compiled rules cached beside it are compiled again only when an anchor changes."""
    rules = [
        {"name": "Launch Ready anchor", "id": f"{ANCHOR_ID}{n}", "pattern": pattern, "min_entropy": 0.0,
         "confidence": "medium"}
        for n, pattern in enumerate(anchors)
    ]  # fmt: skip
    text = json.dumps({"rules": rules}, indent=1)
    folder = _cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"anchors-{hashlib.sha256(text.encode()).hexdigest()[:16]}.yml"
    if not path.exists():
        descriptor, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(descriptor, "w") as out:
            out.write(text)
        os.replace(temporary, path)  # another worker writing the same file at once writes the same bytes
    return path


_LOADING = threading.Lock()


def _scanner(anchors: tuple[str, ...] = ()) -> Scanner:
    with _LOADING:  # scanning threads ask at once: the rules are loaded once
        return _load(anchors)


@functools.cache
def _load(anchors: tuple[str, ...]) -> Scanner:
    # Imported on first scan: loading the native engine and its compiled rules costs a third of a second.
    import kingfisher_sdk

    # Its compiled rules are cached under the product's own var/, never in the user's home.
    paths = [_anchor_file(anchors)] if anchors else []
    return kingfisher_sdk.Scanner(kingfisher_sdk.Rules(paths, cache_dir=_cache_dir()))


def catalog_scan(data: bytes, anchors: tuple[str, ...] = ()) -> Scan:
    """What the catalog's rules find in these bytes (offline: scanning never validates a key), and where each
    of `anchors` (patterns for the catalog's engine) starts in them."""
    scan = Scan()
    if not data:
        return scan
    for found in _scanner(anchors).scan(data):
        rule_id = found.rule_id
        if rule_id.startswith(ANCHOR_ID):
            scan.anchors[anchors[int(rule_id[len(ANCHOR_ID) :])]].append(int(found.location["start_offset"]))
        elif found.visible and found.secret:
            scan.matches.append(Match(rule_id, found.rule_name, found.secret, int(found.location.get("line", 0))))
    return scan


def catalog_matches(data: bytes) -> list[Match]:
    """What the catalog's rules find in these bytes (offline: scanning never validates a key)."""
    return catalog_scan(data).matches


def rule_family(rule_id: str) -> str:
    """A rule's id without its catalog's namespace and variant: "betterleaks.paypal-client-secret.1" is
    "paypal-client-secret"."""
    for namespace in ("betterleaks.", "kingfisher.", "veles.secrets/", "custom."):
        if rule_id.startswith(namespace):
            rule_id = rule_id[len(namespace) :]
            break
    head, _, tail = rule_id.rpartition(".")
    return head if head and tail.isdigit() else rule_id
