"""Every status row and every monitor's tallies computed afresh from what is stored: once after upgrading to a
version that keeps them (data recorded before was never counted), or after restoring a backup. The pages read
them as they are; the audits and the monitoring keep them true from then on."""

from __future__ import annotations

from datetime import datetime

from audits import client_status as audit_status
from launchready import status
from launchready.models import Client
from monitoring import client_status as monitor_status
from monitoring import tallies

BATCH = 200


def refresh_all(now: datetime | None = None, client_ids: list[int] | None = None) -> tuple[int, int]:
    """Refresh the status rows of these clients (all, by default) and recount their monitors' tallies.
    Returns (clients, monitors)."""
    ids = list(Client.objects.order_by("id").values_list("id", flat=True)) if client_ids is None else client_ids
    for i in range(0, len(ids), BATCH):
        status.refresh_sprints(ids[i : i + BATCH])
        audit_status.refresh(ids[i : i + BATCH])
        monitor_status.refresh_all_parts(ids[i : i + BATCH])  # monitors, heartbeats and journeys
    monitors = tallies.recount(None if client_ids is None else tallies.monitor_ids(ids), now)
    return len(ids), monitors
