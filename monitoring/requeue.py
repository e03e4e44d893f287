"""Requeueing: alerts whose task was lost (a broker restarted without keeping its queue) are queued again."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from monitoring.alert_tasks import send_alert_task
from monitoring.models import Alert

LOST_AFTER = timedelta(minutes=2)


def requeue_lost_alerts(now: datetime | None = None) -> int:
    """Queue again the alerts still pending after a while. The claim in `alert_send` keeps a late duplicate
    task from sending twice."""
    now = now or timezone.now()
    ids = list(
        Alert.objects.filter(state=Alert.State.PENDING, created__lt=now - LOST_AFTER).values_list("id", flat=True)
    )
    for alert_id in ids:
        send_alert_task.delay(alert_id)
    return len(ids)
