"""The consultant's digest: every client's last week at a glance, with its report's state, worst first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from handover.report import build_reports
from handover.report_models import WeeklyReport
from handover.report_schedule import next_send
from launchready.models import Client


@dataclass
class DigestRow:
    client: Client
    data: dict[str, Any]
    last_report: WeeklyReport | None
    next_send: datetime | None

    @property
    def slower(self) -> int:
        return sum(1 for r in self.data["routes"] if r["trend"] == "slower")

    @property
    def attention(self) -> int:
        """Higher needs the consultant sooner: a blocker, then outages, then uptime under 99.9%."""
        s = self.data["summary"]
        uptime = s["uptime_value"]
        return (
            (1000 if s["go"] is False else 0)
            + 100 * s["incidents"]
            + (10 if uptime is not None and uptime < 99.9 else 0)
            + self.slower
            + (5 if self.last_report and self.last_report.state == WeeklyReport.State.FAILED else 0)
        )


def digest_rows(clients: list[Client]) -> list[DigestRow]:
    """One row per client, from a fixed number of queries whatever the number of clients or their history."""
    reports = build_reports(clients)
    last: dict[int, WeeklyReport] = {}
    for report in (
        WeeklyReport.objects.filter(client__in=clients).defer("html", "text", "data").order_by("client_id", "-week")
    ):
        last.setdefault(report.client_id, report)
    rows = [DigestRow(c, reports[c.id], last.get(c.id), next_send(c)) for c in clients]
    rows.sort(key=lambda r: (-r.attention, r.client.name))
    return rows
