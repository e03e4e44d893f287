"""Celery tasks of the handover app: thin; `pack_mail` does the work."""

from __future__ import annotations

from celery import shared_task

from handover.pack_mail import notify_founders


@shared_task(bind=True, soft_time_limit=60, time_limit=90, max_retries=5, acks_late=True)
def notify_pack_published(self, version_id: int) -> str:  # type: ignore[no-untyped-def]
    """Thin: the claim inside `notify_founders` makes a redelivered or duplicated task harmless."""
    outcome = notify_founders(version_id)
    if outcome == "retry":
        raise self.retry(countdown=60 * (self.request.retries + 1))
    return outcome
