"""The Jinja2 environment of the row-heavy partials (templates under jinja/): a dashboard page of fifty
clients, the monitoring overview's lines, a client's monitors, findings, a client's domains and routes. Django's
own Jinja2 backend renders them, with autoescaping on as in every Django template; the helpers are those the
Django templates use, worded by launchready/formatting.py."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import get_script_prefix, reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from jinja2 import Environment, StrictUndefined

from launchready import formatting
from launchready.domains import shown_name

PLACEHOLDER = UUID(int=0)


@lru_cache(maxsize=256)
def _around_codes(prefix: str, name: str, arity: int) -> tuple[str, ...] | None:
    """The path of a URL that takes `arity` UUIDs, cut where they go; None when they do not appear as given."""
    parts = reverse(name, args=[PLACEHOLDER] * arity).split(str(PLACEHOLDER))
    return tuple(parts) if len(parts) == arity + 1 else None


def url(name: str, *args: Any) -> str:
    """`{{ url('client_detail', client.code) }}`, as `{% url 'client_detail' client.code %}`. A URL addressed by
    UUIDs (every tenant object's) is reversed once and filled in after: a page of fifty rows links to a hundred."""
    if args and all(isinstance(a, UUID) for a in args):
        parts = _around_codes(get_script_prefix(), name, len(args))
        if parts is not None:
            return parts[0] + "".join(str(code) + part for code, part in zip(args, parts[1:], strict=True))
    return reverse(name, args=args)


def pluralize(n: int, suffix: str = "s") -> str:
    """`{{ n|pluralize }}`: "" for one, "s" otherwise, as Django's filter."""
    return "" if n == 1 else suffix


def ago(then: datetime | None, now: datetime | None = None) -> str:
    return formatting.ago(then, now) if then else ""


def environment(**options: Any) -> Environment:
    # A name a template gets wrong fails its tests rather than printing nothing.
    options["undefined"] = StrictUndefined
    options.setdefault("autoescape", True)  # Django's backend sets it on; the hostile-content guard turns it off
    env = Environment(**options)  # noqa: S701 - autoescape is in the options  # nosec B701
    env.globals.update(url=url, countdown=formatting.countdown)
    env.filters.update(
        pluralize=pluralize,
        ago=ago,
        latency=formatting.latency,
        timeline_moment=formatting.timeline_moment,
        capfirst=capfirst,
        unicode_domain=shown_name,
    )
    return env


def jinja_partial(request: HttpRequest, name: str, context: dict[str, Any]) -> SafeString:
    """A partial under jinja/, rendered to be placed in a Django page as it is (`{{ rows_html }}`) or sent alone
    to htmx."""
    html = render_to_string(name, context, request, using="jinja2")
    # Markup made by a template that escaped every value it printed (autoescaping is on): not to be escaped again.
    return mark_safe(html)  # noqa: S308  # nosec B308 B703
