"""Keeping each client's ClientStatus row true. The apps that change what it says (an audit finishing, a
monitor going down, an incident closing, a domain deleted…) call `refresh` with the clients concerned and the
function that computes their part of the row from what is stored; `refresh` locks the rows first, so two
refreshes of one client run one after the other and the later one computes from what the earlier committed.

`status_of` is what pages read: the client's row, or the defaults of a client never audited and unmonitored."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import transaction

from launchready.models import Client, ClientStatus, Sprint

Compute = Callable[[list[int]], dict[int, dict[str, Any]]]


Pending = dict[tuple[tuple[str, ...], Compute], set[int]]
_pending: ContextVar[Pending | None] = ContextVar("status_pending", default=None)


@contextmanager
def batched() -> Iterator[None]:
    """Within this block, refreshes are gathered and run once per client at its end: for code that changes many
    rows of one client one by one (a run per domain), each of which would refresh it."""
    if _pending.get() is not None:  # already gathering: the outermost block runs them
        yield
        return
    token = _pending.set({})
    try:
        yield
        pending = _pending.get() or {}
    finally:
        _pending.reset(token)
    for (fields, compute), ids in pending.items():
        refresh(ids, fields, compute)


def refresh(client_ids: Iterable[int], fields: Sequence[str], compute: Compute) -> None:
    """Set `fields` of these clients' rows to what `compute` says for them (the fields' defaults for a client it
    leaves out); clients that no longer exist are skipped."""
    ids = sorted(set(client_ids))
    if not ids:
        return
    pending = _pending.get()
    if pending is not None:
        pending.setdefault((tuple(fields), compute), set()).update(ids)
        return
    blank = ClientStatus()
    defaults = {name: getattr(blank, name) for name in fields}
    with transaction.atomic():
        rows = _locked(ids)
        missing = set(ids) - {row.client_id for row in rows}
        if missing:  # made once per client (for those that still exist), then locked like the others
            existing = Client.objects.filter(id__in=missing).values_list("id", flat=True)
            ClientStatus.objects.bulk_create([ClientStatus(client_id=cid) for cid in existing], ignore_conflicts=True)
            rows = _locked(ids)
        values = compute([row.client_id for row in rows])
        changed = []
        for row in rows:
            wanted = defaults | values.get(row.client_id, {})
            if any(getattr(row, name) != wanted[name] for name in fields):
                for name in fields:
                    setattr(row, name, wanted[name])
                changed.append(row)
        if changed:
            ClientStatus.objects.bulk_update(changed, list(fields))


def _locked(ids: list[int]) -> list[ClientStatus]:
    """These clients' rows, locked until the transaction ends (in the order of their ids: no deadlock)."""
    return list(ClientStatus.objects.select_for_update().filter(client_id__in=ids).order_by("client_id"))


def status_of(client: Client) -> ClientStatus:
    """The client's row (read with select_related("status") to save a query), or the defaults when it has none."""
    try:
        return client.status
    except ClientStatus.DoesNotExist:
        return ClientStatus(client=client)


SPRINT_FIELDS = ("sprint_deadline",)


def _sprint_deadlines(client_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The deadline of each client's first open sprint (by start), as the dashboard orders clients by it."""
    out: dict[int, dict[str, Any]] = {}
    for client_id, deadline in (
        Sprint.objects.current()
        .filter(client_id__in=client_ids)
        .order_by("client_id", "started_at", "id")
        .values_list("client_id", "deadline")
    ):
        out.setdefault(client_id, {"sprint_deadline": deadline})
    return out


def refresh_sprints(client_ids: Iterable[int]) -> None:
    """Recompute the core's part of these clients' rows (their open sprint's deadline) from their sprints."""
    refresh(client_ids, SPRINT_FIELDS, _sprint_deadlines)
