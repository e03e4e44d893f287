"""`manage.py send_sandbox_mail`: while `make run` is up, the sandbox's mail sender delivers to the product's own
receiver what a client's app or a mailbox provider would: a real-send test's email in one of its variants, or a
DMARC aggregate report (gzip, zip or plain XML) for the client's rua= mailbox.

    manage.py send_sandbox_mail --to test-<token>@mail.launchready.test --variant spf_fail
    manage.py send_sandbox_mail --to test-<token>@mail.launchready.test --variant all
    manage.py send_sandbox_mail --to dmarc-<token>@mail.launchready.test --report gzip
    manage.py send_sandbox_mail --to dmarc-<token>@mail.launchready.test --report zip --policy quarantine --days 30
"""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from audits.inbound.addresses import address_accepting, parse_recipient
from audits.inbound.limits import ReceiverLimits
from audits.models import MailAddress
from launchready.sandbox.dmarc_reports import Source, aggregate_xml, gzipped, report_email, zipped
from launchready.sandbox.mail_sender import GOOD_IP, UNLISTED_IP, VARIANTS, deliver, send, sender_keys

MAX_DAYS = 40  # a report email each: the receiver takes 60 an hour from one sender
REPORT_FORMATS = {
    "gzip": ("report.xml.gz", "application/gzip"),
    "zip": ("report.zip", "application/zip"),
    "xml": ("report.xml", "text/xml"),
}


def report_sources() -> list[Source]:
    """What the sandbox's report says it saw: the sandbox sender's own server passing, and an address SPF does
    not list that signs nothing, failing."""
    return [Source(GOOD_IP, 25), Source(UNLISTED_IP, 3, dkim="fail", spf="fail")]


class Command(BaseCommand):
    help = "Deliver the sandbox sender's test emails or a DMARC aggregate report to the mail receiver."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", required=True, help="a test-… or dmarc-… address from a client's page")
        what = parser.add_mutually_exclusive_group()
        what.add_argument(
            "--variant",
            action="append",
            choices=[*VARIANTS, "all"],
            help="the email's variant (repeat for several; all: every one); aligned when not given",
        )
        what.add_argument("--report", choices=list(REPORT_FORMATS), help="send a DMARC aggregate report instead")
        parser.add_argument("--domain", help="the domain a report is for (the mailbox's client's first domain)")
        parser.add_argument(
            "--policy", choices=["none", "quarantine", "reject"], default="none", help="the p= the report saw published"
        )
        parser.add_argument("--pct", type=int, choices=range(101), metavar="0-100", help="the pct= it saw, if any")
        parser.add_argument(
            "--days",
            type=int,
            default=1,
            choices=range(1, MAX_DAYS + 1),
            metavar=f"1-{MAX_DAYS}",
            help="one report a day for this many days up to yesterday (each an email of its own)",
        )
        parser.add_argument("--host", help="the receiver's address (LAUNCHREADY_SMTP_HOST)")
        parser.add_argument("--port", type=int, help="the receiver's port (LAUNCHREADY_SMTP_PORT)")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("The sandbox sender is for development machines only.")
        config = settings.LAUNCHREADY_MAIL_RECEIVER
        if not config.enabled:
            raise CommandError("The mail receiver is off: set LAUNCHREADY_MAIL_DOMAIN to turn it on")
        listening_everywhere = config.host in ("0.0.0.0", "::", "")  # noqa: S104  # nosec B104
        host = options["host"] or ("127.0.0.1" if listening_everywhere else config.host)
        port = options["port"] or config.port
        to: str = options["to"]
        try:
            if options["report"]:
                domain = options["domain"] or self._client_domain(to)
                for days_ago in range(options["days"], 0, -1):
                    self._send_report(
                        to, options["report"], domain, options["policy"], options["pct"], days_ago, host=host, port=port
                    )
            else:
                chosen = options["variant"] or ["aligned"]
                variants = list(VARIANTS) if "all" in chosen else list(dict.fromkeys(chosen))
                keys = sender_keys(settings.VAR_DIR / "sandbox")  # the keys the sandbox's DNS publishes
                for variant in variants:
                    reply = send(variant, to, host=host, port=port, keys=keys)
                    self.stdout.write(f"{variant}: {reply}")
        except smtplib.SMTPRecipientsRefused as exc:
            code, refusal = next(iter(exc.recipients.values()))
            per_hour = ReceiverLimits().messages_per_address_per_hour[MailAddress.Kind.SEND_TEST]
            hint = f" (a test address takes {per_hour} emails an hour: get a new one on the page)"
            hint = hint if code == 450 else ""
            raise CommandError(f"The receiver refused {to}: {code} {refusal.decode(errors='replace')}{hint}") from None
        except smtplib.SMTPException as exc:
            raise CommandError(f"The receiver refused the message: {exc}") from None
        except OSError as exc:
            raise CommandError(
                f"Cannot reach the mail receiver on {host}:{port} ({exc.strerror or exc}): is `make run` up?"
            ) from None

    def _send_report(
        self, to: str, form: str, domain: str, policy: str, pct: int | None, days_ago: int, *, host: str, port: int
    ) -> None:
        day = (timezone.now() - timedelta(days=days_ago)).astimezone(UTC)
        begin = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
        report_id = f"sandbox-{timezone.now().strftime('%Y%m%d%H%M%S%f')}"
        xml = aggregate_xml(
            domain,
            report_sources(),
            org="Sandbox Mail Provider",
            report_id=report_id,
            begin=begin,
            policy=policy,
            pct=pct,
        )
        name, content_type = REPORT_FORMATS[form]
        attachment = gzipped(xml) if form == "gzip" else zipped(xml) if form == "zip" else xml
        raw = report_email(to, domain, attachment, name=name, content_type=content_type)
        reply = deliver(raw, to, host=host, port=port)
        self.stdout.write(
            f"DMARC report for {domain} on {day.date()} ({form}, {len(report_sources())} sources, p={policy}): {reply}"
        )

    @staticmethod
    def _client_domain(to: str) -> str:
        recipient = parse_recipient(to, settings.LAUNCHREADY_MAIL_RECEIVER.domain)
        address = address_accepting(recipient) if recipient is not None else None
        if address is None or address.kind != MailAddress.Kind.DMARC_REPORTS:
            raise CommandError(f"{to} is not a client's DMARC report mailbox: give the report's --domain")
        domain = address.client.domains.order_by("id").values_list("name", flat=True).first()
        if domain is None:
            raise CommandError(f"{address.client.name} has no domain: give the report's --domain")
        return domain
