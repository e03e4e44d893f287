"""Computes every client's status row and every monitor's tallies afresh from what is stored (web/status.py)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from launchready.formatting import duration, plural
from web.status import refresh_all


class Command(BaseCommand):
    help = (
        "Compute every client's status row (launch verdict, monitors down, incidents open, jobs late or failed, "
        "journeys failing) and every monitor's counts of today and yesterday afresh from the audits, monitors, "
        "heartbeats, journeys, rollups and probes stored. Run once after upgrading to the version that keeps "
        "them, or after restoring a backup; safe to run at any time."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        clients, monitors = refresh_all()
        self.stdout.write(
            f"Refreshed the status of {plural(clients, 'client')} and the counts of {plural(monitors, 'monitor')} "
            f"in {duration(time.monotonic() - started)}."
        )
