"""Serves the sandbox (the loopback fake internet) for the demo and for trying `manage.py audit` by hand."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from dataclasses import replace
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, transaction

from audits.inbound.addresses import address_text, dmarc_address_for
from audits.models import AuditRun, DmarcSource
from audits.runs import audit_runs_start
from audits.tasks import look_up_dmarc_sources_task
from launchready.models import Domain
from launchready.sandbox.ca import SandboxCA
from launchready.sandbox.dns_server import DnsServer, ZoneData
from launchready.sandbox.scenarios import DEMO, HEALTHY, TRIPS, World, build_world
from launchready.sandbox.web import WebSandbox
from web.demo import demo_packs_refresh

DNS_PORT, HTTP_PORT, HTTPS_PORT = 15353, 18080, 18443


def demo_report_records(zone: ZoneData) -> list[str]:
    """A demo domain whose client has DMARC reports (Brightpath's, seeded) publishes the DMARC record that sends
    them, naming the client's mailbox, as a domain whose reports arrive does; the names changed."""
    config = settings.LAUNCHREADY_MAIL_RECEIVER
    if not config.enabled:
        return []
    changed = []
    domains = Domain.objects.filter(name__in=list(DEMO), client__dmarc_reports__isnull=False).select_related("client")
    for domain in domains.distinct():
        rua = f"mailto:{address_text(dmarc_address_for(domain.client), config.domain)}"
        for i, record in enumerate(zone.records):
            if record.name == f"_dmarc.{domain.name}" and record.rdtype == "TXT" and "rua=" not in record.value:
                zone.records[i] = replace(record, value=f"{record.value.rstrip('; ')}; rua={rua}")
                changed.append(record.name)
    return changed


class Command(BaseCommand):
    help = "Serve the sandbox domains (demo, healthy and every tripping one) on loopback."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dns-port", type=int, default=DNS_PORT)
        parser.add_argument("--http-port", type=int, default=HTTP_PORT)
        parser.add_argument("--https-port", type=int, default=HTTPS_PORT)
        parser.add_argument("--prepare", action="store_true", help="only make the CA files, then exit")
        parser.add_argument(
            "--audit-demo", action="store_true", help="once serving, audit the demo domains never audited"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            self.stderr.write("The sandbox is for development machines only.")
            return
        ca = SandboxCA(settings.VAR_DIR / "sandbox")
        if options["prepare"]:
            self.stdout.write(f"Sandbox CA ready: {ca.bundle_path}")
            return
        world = build_world(mail_keys=settings.VAR_DIR / "sandbox")
        demo_report_records(world.zone)
        asyncio.run(self._serve(world, ca, options))

    async def _serve(self, world: World, ca: SandboxCA, options: dict[str, Any]) -> None:
        dns = DnsServer(world.zone, port=options["dns_port"])
        web = WebSandbox(world.sites, ca=ca, http_port=options["http_port"], https_port=options["https_port"])
        await dns.start()
        await web.start()
        count = len({HEALTHY, *DEMO, *(apex for apex, _ in TRIPS.values())})
        self.stdout.write(
            f"Sandbox serving {count} domains: DNS 127.0.0.1:{dns.port}, HTTP :{web.http_port}, "
            f"HTTPS :{web.https_port}, CA {ca.bundle_path}"
        )
        stopping = threading.Event()
        publisher = None
        if options["audit_demo"]:
            await asyncio.to_thread(self._audit_demo)
            await asyncio.to_thread(self._name_demo_senders)
            publisher = asyncio.ensure_future(asyncio.to_thread(self._publish_demo_packs, stopping))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        stopping.set()
        if publisher is not None:
            await publisher
        await web.stop()
        await dns.stop()

    def _publish_demo_packs(self, stopping: threading.Event) -> None:
        """Once the demo's first audits are done, publish the handover packs again with their findings."""
        deadline = time.monotonic() + 300
        try:
            while not stopping.wait(3) and time.monotonic() < deadline:
                close_old_connections()
                if AuditRun.objects.active().filter(domain__name__in=list(DEMO)).exists():
                    continue
                if AuditRun.objects.finished().filter(domain__name__in=list(DEMO)).exists():
                    packs = demo_packs_refresh()
                    if packs:
                        self.stdout.write(f"Published the handover pack of {len(packs)} demo clients with their audit.")
                    return
        finally:
            close_old_connections()

    def _name_demo_senders(self) -> None:
        """The demo's DMARC report sources not named yet get their reverse DNS, now that the sandbox answers."""
        clients = set(
            DmarcSource.objects.filter(looked_up__isnull=True, client__domains__name__in=list(DEMO)).values_list(
                "client_id", flat=True
            )
        )
        for client_id in clients:
            look_up_dmarc_sources_task.delay(client_id)

    def _audit_demo(self) -> None:
        with transaction.atomic():
            fresh = list(Domain.objects.filter(name__in=list(DEMO), audit_runs__isnull=True))
            runs = audit_runs_start(domains=fresh)
        if runs:
            self.stdout.write(f"Started the first audit of {len(runs)} demo domains.")
