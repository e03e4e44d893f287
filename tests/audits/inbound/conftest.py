"""The product's mail receiver, started in-process on a free port with a certificate from a throw-away CA."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from audits.inbound.addresses import address_text, send_test_address_issue
from audits.inbound.limits import ReceiverLimits
from audits.inbound.receiver import Receiver, tls_context
from audits.models import MailAddress
from launchready.config import MailReceiver
from launchready.models import Client
from launchready.sandbox.ca import SandboxCA
from launchready.sandbox.runner import LoopThread

MAIL_DOMAIN = "mail.launchready.test"


@dataclass
class Running:
    receiver: Receiver
    stored: list[int] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.receiver.port


def start_receiver(limits: ReceiverLimits | None = None) -> tuple[LoopThread, Running]:
    issued = SandboxCA().issue([MAIL_DOMAIN])
    config = MailReceiver(domain=MAIL_DOMAIN, host="127.0.0.1", port=0, retention_days=7)
    running = Running(Receiver(config, tls=tls_context(str(issued.cert_path), str(issued.key_path)), limits=limits))
    running.receiver.on_stored = running.stored.append
    loop = LoopThread()
    loop.run(running.receiver.start())
    return loop, running


def stop_receiver(loop: LoopThread, running: Running) -> None:
    loop.run(running.receiver.stop())
    loop.run(sync_to_async(connections.close_all)())  # the receiver's database connection, before the test's flush
    loop.stop()


@pytest.fixture
def receiver(transactional_db: None) -> Iterator[Running]:
    loop, running = start_receiver(ReceiverLimits(command_seconds=2.0, session_seconds=20.0))
    try:
        yield running
    finally:
        stop_receiver(loop, running)


@pytest.fixture
def issued(transactional_db: None) -> tuple[MailAddress, str]:
    from tests.factories import ClientFactory

    client: Client = ClientFactory()
    address = send_test_address_issue(client=client)
    return address, address_text(address, MAIL_DOMAIN)
