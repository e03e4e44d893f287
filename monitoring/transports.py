"""Alert transports: one class per kind of channel, each wording a message its own way and delivering it.

`send` returns when the channel took the message and raises TransportError when it did not: permanent
when trying again cannot help (the channel is then switched off), transient otherwise (it is retried).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from dataclasses import replace

from django.core.mail import EmailMultiAlternatives

from accounts.models import STAFF_ROLES, Membership, Role
from launchready.net import FetchError, FetchResult, Net, current_config
from launchready.plaintext import render_email_html, render_text
from monitoring.messages import Message, channel_test_message
from monitoring.models import AlertChannel

POST_DEADLINE = 10.0  # seconds: a channel that hangs must not hold the worker; past them it has failed
GONE_STATUSES = (401, 403, 404, 410)  # an endpoint answering these will not take the next message either


class TransportError(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Transport:
    def __init__(self, channel: AlertChannel) -> None:
        self.channel = channel

    def send(self, message: Message) -> None:
        raise NotImplementedError

    def send_test(self) -> None:
        """The "send test alert" button: a message saying so, through the same `send` as any alert."""
        self.send(channel_test_message(self.channel))


class EmailTransport(Transport):
    def send(self, message: Message) -> None:
        to = self.channel.recipients or self.people(message)
        if not to:
            raise TransportError("nobody to email: add recipients or a founder", permanent=True)
        facts = message.facts()
        text = render_text("monitoring/email/alert-body-text.txt", facts)
        html = render_email_html("monitoring/email/alert-body-html.html", facts)
        mail = EmailMultiAlternatives(f"[Launch Ready] {message.subject}", text, to=to)
        mail.attach_alternative(html, "text/html")
        try:
            mail.send()
        except OSError as exc:
            raise TransportError(f"the mail server did not take it: {type(exc).__name__}") from None

    def people(self, message: Message) -> list[str]:
        """A channel without recipients: the consultants, and the founders of the client the message is
        about (a workspace default channel speaks for whichever client it is)."""
        client = message.about
        members = Membership.objects.filter(workspace_id=self.channel.owner_workspace_id).select_related("user")
        return sorted(
            {
                m.user.email
                for m in members
                if m.role in STAFF_ROLES or (client is not None and m.role == Role.FOUNDER and m.client_id == client.id)
            }
        )


class HttpTransport(Transport):
    """A channel that takes a JSON POST through net.py: refused addresses and gone endpoints are permanent."""

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        result = asyncio.run(self._post(url, body, headers))
        status = result.final.status
        if result.error is not None:
            raise TransportError(f"{result.error}: {result.final.detail}", permanent=result.error == FetchError.REFUSED)
        if status is None or not 200 <= status < 300:
            raise TransportError(f"the endpoint answered {status}", permanent=status in GONE_STATUSES)

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> FetchResult:
        async with Net(replace(current_config(), request_deadline=POST_DEADLINE)) as net:
            return await net.fetch(
                url,
                method="POST",
                content=body,
                follow_redirects=False,
                headers={"Content-Type": "application/json", **headers},
                max_bytes=65536,
            )


class SlackTransport(HttpTransport):
    def send(self, message: Message) -> None:
        text = f"*{message.subject}*\n{message.client}: {message.detail}\n<{message.link}|Open monitoring>"
        self.post(self.channel.config["url"], json.dumps({"text": text}).encode(), {})


class WebhookTransport(HttpTransport):
    """The message's facts as signed JSON: an HMAC-SHA256 of the body with the channel's signing secret."""

    def send(self, message: Message) -> None:
        config = self.channel.config
        body = json.dumps(message.facts(), sort_keys=True).encode()
        signature = hmac.new(config["signing_secret"].encode(), body, hashlib.sha256).hexdigest()
        headers = {"X-LaunchReady-Event": message.event, "X-LaunchReady-Signature": f"sha256={signature}"}
        self.post(config["url"], body, headers)


TRANSPORTS: dict[str, type[Transport]] = {
    AlertChannel.Kind.EMAIL: EmailTransport,
    AlertChannel.Kind.SLACK: SlackTransport,
    AlertChannel.Kind.WEBHOOK: WebhookTransport,
}


def transport_for(channel: AlertChannel) -> Transport:
    return TRANSPORTS[channel.kind](channel)
