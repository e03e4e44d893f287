""" "Who sends as you": the client's stored DMARC aggregate reports summed per source address over the last 30
days, with SPF, DKIM and DMARC pass rates, the provider each address belongs to, what to fix for the ones that
fail, and how many clean days in a row the domain has had before moving from p=none to p=quarantine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, F, IntegerField, Max, Min, Sum
from django.db.models.functions import Cast
from django.utils.timezone import now

from audits.email import dmarc
from audits.inbound.addresses import address_text, dmarc_address_for
from audits.models import DmarcReport, DmarcSource
from launchready.models import Client

WINDOW_DAYS = 30  # the sources shown
STREAK_WINDOW_DAYS = 60  # how far back clean days in a row are counted
CLEAN_DAYS_NEEDED = 30
SHOWN = 50


def percent(part: int, whole: int) -> int:
    """Rounded down: 100% means every message, never 99.6%."""
    return (100 * part) // whole if whole else 0


@dataclass
class Sender:
    source_ip: str
    host: str
    host_confirmed: bool
    provider: str
    looked_up: bool
    messages: int
    spf_pass: int
    dkim_pass: int
    dmarc_pass: int
    reporters: int

    @property
    def name(self) -> str:
        if self.provider or self.host:
            return self.provider or self.host
        return "No reverse DNS name" if self.looked_up else "Not looked up yet"

    @property
    def spf_rate(self) -> int:
        return percent(self.spf_pass, self.messages)

    @property
    def dkim_rate(self) -> int:
        return percent(self.dkim_pass, self.messages)

    @property
    def dmarc_rate(self) -> int:
        return percent(self.dmarc_pass, self.messages)

    @property
    def failing(self) -> bool:
        return self.dmarc_pass < self.messages

    @property
    def advice(self) -> str:
        """What to do about this sender, in plain English."""
        who = self.provider or "this service"
        if not self.failing:
            if self.spf_pass < self.messages and self.dkim_pass == self.messages:
                return "Passes through DKIM. SPF does not cover it, which is fine while DKIM keeps signing."
            return ""
        if self.dmarc_pass:
            return (
                f"{self.messages - self.dmarc_pass} of its {self.messages} messages failed. Forwarded mail "
                "(mailing lists, forwarding rules) often breaks SPF; make sure every message is DKIM-signed for "
                "your domain, as a DKIM signature survives forwarding."
            )
        if self.provider:
            return (
                f"{self.provider} sends as you but fails DMARC: turn on DKIM signing for your domain in "
                f"{self.provider}'s settings (publish the DKIM record it gives you), and add {self.provider} to "
                "your SPF record."
            )
        return (
            f"This address never passed DMARC. If it is a service you use (a CRM, a help desk, a newsletter tool), "
            f"set up DKIM and SPF for your domain in {who}'s settings. If you do not recognise it, someone else is "
            "sending as you: p=quarantine sends their mail to spam."
        )


@dataclass
class ReportAddress:
    """Where the client's reports go, the DMARC record that says so, and each domain's authorisation record
    the product's mail domain publishes (RFC 7489 section 7.1) because the address is on another domain."""

    address: str
    records: list[tuple[str, str]]  # (domain, the TXT value to publish at _dmarc.<domain>)
    authorisations: list[str]


@dataclass
class Senders:
    first_day: date | None = None
    last_day: date | None = None
    reports: int = 0
    reporters: int = 0
    messages: int = 0
    dmarc_pass: int = 0
    sources: list[Sender] = field(default_factory=list)
    source_count: int = 0
    clean_days: int = 0
    report_days: int = 0
    policy: str = ""

    @property
    def has_data(self) -> bool:
        return self.messages > 0

    @property
    def dmarc_rate(self) -> int:
        return percent(self.dmarc_pass, self.messages)

    @property
    def failing(self) -> list[Sender]:
        return [s for s in self.sources if s.failing]

    @property
    def more(self) -> int:
        return self.source_count - len(self.sources)

    @property
    def ready_for_quarantine(self) -> bool:
        return self.policy == "none" and self.clean_days >= CLEAN_DAYS_NEEDED

    @property
    def policy_advice(self) -> str:
        """The next step for the policy, true whatever the day: how many clean days so far."""
        if self.policy != "none":
            return f"The reporters saw p={self.policy} published." if self.policy else ""
        days = f"{self.clean_days} clean day{'s' if self.clean_days != 1 else ''} in a row"
        if self.ready_for_quarantine:
            return (
                f"{days}: every sender that passes as you has passed DMARC for {CLEAN_DAYS_NEEDED} days. "
                "Move from p=none to p=quarantine, so that mail pretending to be you goes to spam."
            )
        return (
            f"{days} so far, of the {CLEAN_DAYS_NEEDED} to wait before moving from p=none to p=quarantine. "
            "A clean day is one on which every sender that has passed as you at least once passed DMARC."
        )


def _sources(client: Client, since: date, until: date | None) -> tuple[list[Sender], int]:
    rows = DmarcSource.objects.filter(client=client, day__gte=since)
    if until is not None:
        rows = rows.filter(day__lt=until)
    grouped = (
        rows.values("source_ip")
        .annotate(
            m=Sum("messages"),
            spf=Sum("spf_pass"),
            dkim=Sum("dkim_pass"),
            dmarc=Sum("dmarc_pass"),
            orgs=Count("org_name", distinct=True),
            host_=Max("host"),
            confirmed=Max(Cast("host_confirmed", IntegerField())),
            provider_=Max("provider"),
            looked=Max("looked_up"),
        )
        .order_by("-m", "source_ip")
    )
    count = grouped.count()
    senders = [
        Sender(
            g["source_ip"],
            g["host_"],
            bool(g["confirmed"]),
            g["provider_"],
            g["looked"] is not None,
            g["m"],
            g["spf"],
            g["dkim"],
            g["dmarc"],
            g["orgs"],
        )
        for g in grouped[:SHOWN]
    ]
    return senders, count


def _clean_days(client: Client, today: date) -> tuple[int, int]:
    """(clean report days in a row up to the latest, report days in the window)."""
    rows = DmarcSource.objects.filter(client=client, day__gte=today - timedelta(days=STREAK_WINDOW_DAYS))
    passing = rows.values("source_ip").annotate(p=Sum("dmarc_pass")).filter(p__gt=0).values("source_ip")
    days = sorted(set(rows.values_list("day", flat=True).distinct()), reverse=True)
    bad = set(rows.filter(source_ip__in=passing, dmarc_pass__lt=F("messages")).values_list("day", flat=True).distinct())
    streak = 0
    for day in days:
        if day in bad:
            break
        streak += 1
    return streak, len(days)


def senders_for(client: Client, *, since: datetime | None = None, until: datetime | None = None) -> Senders:
    """The client's senders over the last WINDOW_DAYS (or from `since` to `until`); a fixed number of queries."""
    today = (now()).date()
    first = since.date() if since else today - timedelta(days=WINDOW_DAYS - 1)
    last = until.date() if until else None
    sources, count = _sources(client, first, last)
    if not sources:
        return Senders()
    reports = DmarcReport.objects.filter(client=client, begin__date__gte=first)
    if last is not None:
        reports = reports.filter(begin__date__lt=last)
    span = reports.aggregate(n=Count("id"), orgs=Count("org_name", distinct=True), a=Min("begin"), b=Max("begin"))
    latest = DmarcReport.objects.filter(client=client).order_by("-begin", "-id").values_list("policy", flat=True)
    streak, report_days = _clean_days(client, today)
    return Senders(
        first_day=span["a"].date() if span["a"] else None,
        last_day=span["b"].date() if span["b"] else None,
        reports=span["n"],
        reporters=span["orgs"],
        messages=sum(s.messages for s in sources) if count == len(sources) else _total(client, first, last),
        dmarc_pass=sum(s.dmarc_pass for s in sources) if count == len(sources) else _total(client, first, last, True),
        sources=sources,
        source_count=count,
        clean_days=streak,
        report_days=report_days,
        policy=latest.first() or "",
    )


def _total(client: Client, first: date, last: date | None, passed: bool = False) -> int:
    rows = DmarcSource.objects.filter(client=client, day__gte=first)
    if last is not None:
        rows = rows.filter(day__lt=last)
    return rows.aggregate(n=Sum("dmarc_pass" if passed else "messages"))["n"] or 0


def report_address_for(client: Client) -> ReportAddress | None:
    """The client's rua= address and the records that name it; None when this installation takes no mail."""
    config = settings.LAUNCHREADY_MAIL_RECEIVER
    if not config.enabled:
        return None
    mailbox = address_text(dmarc_address_for(client), config.domain)
    names = list(client.domains.values_list("name", flat=True))
    return ReportAddress(
        address=mailbox,
        records=[(name, dmarc.suggested_record(name, "none", rua=f"mailto:{mailbox}")) for name in names],
        authorisations=[
            dmarc.authorisation_record(name, f"mailto:{mailbox}")
            for name in names
            if dmarc.needs_authorisation(name, f"mailto:{mailbox}")
        ],
    )
