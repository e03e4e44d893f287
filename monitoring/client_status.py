"""The monitoring's part of each client's status row (launchready/status.py): how many monitors it has, how
many are down (paused ones apart, and with them), paused, and its incidents still open. Refreshed whenever
one of those changes: a monitor is added, edited, removed, paused or resumed, or changes state in a probe
round, an incident opens or closes (monitoring/apps.py connects the signals; the scheduler and the pause
view call `refresh` where they update rows without saving them)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Q

from launchready import status
from monitoring.models import Incident, Monitor

FIELDS = ("monitors", "down", "active_down", "paused", "open_incidents")


def _compute(client_ids: list[int]) -> dict[int, dict[str, Any]]:
    down = Q(state=Monitor.State.DOWN)
    out: dict[int, dict[str, Any]] = {
        row.pop("client_id"): row
        for row in Monitor.objects.filter(client_id__in=client_ids)
        .order_by()
        .values("client_id")
        .annotate(
            monitors=Count("id"),
            down=Count("id", filter=down),
            active_down=Count("id", filter=down & Q(paused=False)),
            paused=Count("id", filter=Q(paused=True)),
        )
    }
    for client_id, n in (
        Incident.objects.filter(monitor__client_id__in=client_ids, ended_at__isnull=True)
        .order_by()
        .values("monitor__client_id")
        .annotate(n=Count("id"))
        .values_list("monitor__client_id", "n")
    ):
        out.setdefault(client_id, {})["open_incidents"] = n
    return out


def refresh(client_ids: Iterable[int]) -> None:
    """Recompute the monitoring's part of these clients' status rows from their monitors and incidents."""
    status.refresh(client_ids, FIELDS, _compute)
