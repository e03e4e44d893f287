"""`manage.py receive_mail`: the product's SMTP receiver, a process of its own (real-send tests, DMARC reports).

It listens on LAUNCHREADY_SMTP_HOST:LAUNCHREADY_SMTP_PORT for the addresses it issued under
LAUNCHREADY_MAIL_DOMAIN and offers STARTTLS with LAUNCHREADY_SMTP_TLS_CERT / _KEY; on a developer's machine,
with no certificate configured, the sandbox CA issues one for the mail domain. Each message kept is handed to
the verdict task. SIGINT or SIGTERM stops it.
"""

from __future__ import annotations

import asyncio
import signal
import ssl
from dataclasses import replace
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audits.inbound.receiver import Receiver, tls_context
from audits.tasks import verify_received_message_task
from launchready.config import MailReceiver
from launchready.sandbox.ca import SandboxCA


def _tls(config: MailReceiver) -> ssl.SSLContext:
    if config.tls_cert:
        return tls_context(config.tls_cert, config.tls_key)
    if settings.PRODUCTION:
        raise CommandError("LAUNCHREADY_SMTP_TLS_CERT is not set")
    issued = SandboxCA(settings.VAR_DIR / "sandbox").issue([config.domain])
    return tls_context(str(issued.cert_path), str(issued.key_path))


def _enqueue(message_id: int) -> None:
    verify_received_message_task.delay(message_id)


class Command(BaseCommand):
    help = "Run the SMTP receiver for real-send tests and DMARC reports (its own process)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, help="listen on this port instead of LAUNCHREADY_SMTP_PORT")

    def handle(self, *args: Any, **options: Any) -> None:
        config: MailReceiver = settings.LAUNCHREADY_MAIL_RECEIVER
        if not config.enabled:
            self.stdout.write("The mail receiver is off: set LAUNCHREADY_MAIL_DOMAIN to turn it on")
            return
        if options["port"]:
            config = replace(config, port=options["port"])
        try:
            context = _tls(config)
        except (OSError, ssl.SSLError) as exc:
            raise CommandError(f"The STARTTLS certificate or key cannot be read ({type(exc).__name__})") from None
        asyncio.run(self._serve(config, context))

    async def _serve(self, config: MailReceiver, context: ssl.SSLContext) -> None:
        receiver = Receiver(config, tls=context, on_stored=_enqueue)
        try:
            await receiver.start()
        except OSError as exc:
            raise CommandError(f"Cannot listen on {config.host}:{config.port} ({exc.strerror})") from None
        self.stdout.write(f"Mail receiver for @{config.domain} on {config.host}:{receiver.port} (STARTTLS offered)")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await receiver.stop()
