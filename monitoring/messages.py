"""What an alert says: the facts every transport words in its own way, with the subject rendered from the
template of the alert's kind (templates/monitoring/alert-<kind>-subject.txt)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from launchready.models import Client
from launchready.plaintext import render_subject
from monitoring.models import Alert, AlertChannel

TEST_DETAIL = "This is a test: alerts for this channel work."
# Long enough for the longest URL a monitor may have after its prefix: a subject is folded, never cut.
SUBJECT_LIMIT = 1000


@dataclass(frozen=True)
class Message:
    event: str
    subject: str
    client: str  # whose event it is, as a reader knows them: the client, or the workspace
    url: str | None
    cause: str | None
    detail: str
    started_at: str | None
    ended_at: str | None
    incident: str | None
    link: str
    about: Client | None = None  # the client the alert is about, if any (an email's founders)

    def facts(self) -> dict[str, Any]:
        """What the body templates and the webhook's JSON carry (the client as a name, not a row)."""
        return {
            "event": self.event,
            "subject": self.subject,
            "client": self.client,
            "url": self.url,
            "cause": self.cause,
            "detail": self.detail,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "incident": self.incident,
            "link": self.link,
        }


def alert_subject(kind: str, context: dict[str, Any]) -> str:
    return render_subject(f"monitoring/alert-{kind}-subject.txt", context, limit=SUBJECT_LIMIT)


def _who(client: Client | None, channel: AlertChannel) -> str:
    return client.name if client else str(channel.workspace)


def _link(client: Client | None) -> str:
    return f"{settings.SITE_URL}/clients/{client.code}/monitoring/" if client else f"{settings.SITE_URL}/monitoring/"


def alert_message(alert: Alert) -> Message:
    """An alert's message; a workspace default channel speaks for the client the alert is about."""
    incident = alert.incident
    monitor = incident.monitor if incident else None
    client = alert.client or alert.channel.client
    who = _who(client, alert.channel)
    url = monitor.url if monitor else None
    return Message(
        event=alert.kind,
        subject=alert_subject(alert.kind, {"url": url or "", "client": who, "payload": alert.payload}),
        client=who,
        url=url,
        # An alert about no incident (a heartbeat's) carries its cause and times in its payload.
        cause=incident.get_cause_display() if incident else alert.payload.get("cause"),
        detail=alert.payload.get("detail") or (incident.detail if incident else ""),
        started_at=incident.started_at.isoformat() if incident else alert.payload.get("since"),
        ended_at=(incident.ended_at.isoformat() if incident.ended_at else None)
        if incident
        else alert.payload.get("until"),
        incident=str(incident.code) if incident else None,
        link=_link(client),
        about=client,
    )


def channel_test_message(channel: AlertChannel) -> Message:
    """The "send test alert" button's message: about the channel's client, or its workspace."""
    client = channel.client
    who = _who(client, channel)
    return Message(
        event=Alert.Kind.TEST,
        subject=alert_subject(Alert.Kind.TEST, {"url": "", "client": who, "payload": {}}),
        client=who,
        url=None,
        cause=None,
        detail=TEST_DETAIL,
        started_at=None,
        ended_at=None,
        incident=None,
        link=_link(client),
        about=client,
    )
