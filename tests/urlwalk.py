"""The URLconf walked: every named URL with its converters, so that a matrix test covers a new view without
anyone adding it (the isolation matrix, the hostile-content matrix and the browser's page walk use it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver


def walk(patterns: list[Any] | None = None, namespace: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, {parameter: converter}) of every named URL, namespaced names included."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            for name, converters in walk(pattern.url_patterns, inner):
                yield name, {**pattern.pattern.converters, **converters}
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield namespace + pattern.name, dict(pattern.pattern.converters)
