""" "Who sends as you": the client's stored DMARC aggregate reports summed per source address over the last 30
days, with SPF, DKIM and DMARC pass rates, the provider each address belongs to, what to fix for the ones that
fail, and how many clean days in a row the domain has had before its policy's next step (p=none to p=quarantine,
then p=quarantine to p=reject), with the exact record to publish once it is time."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, F, IntegerField, Max, Min, Sum
from django.db.models.functions import Cast
from django.utils.timezone import now

from audits.email import dmarc
from audits.inbound.addresses import address_text, dmarc_address_for
from audits.models import DmarcReport, DmarcSource, MailAddress
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
            failed = f"{self.messages - self.dmarc_pass} of its {self.messages} messages failed DMARC"
            if self.dkim_pass:
                return (
                    f"{failed}: on those, DKIM did not pass for your domain (and SPF did not cover them). Check that "
                    f"every kind of mail {who} sends for you is DKIM-signed with the key your DNS publishes: a key "
                    "that was changed or removed, or a stream left unsigned, fails this way. Mail forwarded by "
                    "mailing lists and forwarding rules breaks SPF too; only a DKIM signature survives forwarding."
                )
            return (
                f"{failed}: SPF covered the rest, and nothing was DKIM-signed for your domain. Forwarded mail "
                "(mailing lists, forwarding rules) breaks SPF; make sure every message is DKIM-signed for your "
                "domain, as a DKIM signature survives forwarding."
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
            "sending as you: p=quarantine sends their mail to spam, p=reject has it refused."
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
    policy: str = ""  # the p= of the latest report
    pct: int | None = None  # its pct=, when the published record has one
    subdomain_policy: str = ""  # its sp=
    # The exact records to publish for the policy's next step, once it is time: (domain, TXT value at _dmarc.<domain>)
    next_records: list[tuple[str, str]] = field(default_factory=list)

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
    def partial(self) -> bool:
        """The published policy applies to only part of the failing mail (pct= under 100)."""
        return self.pct is not None and self.pct < 100

    @property
    def next_policy(self) -> str:
        """The p= to publish next, once every sender that passes as the client has passed for CLEAN_DAYS_NEEDED
        days in a row: quarantine after none, then quarantine for all the mail (pct= dropped), then reject."""
        if self.clean_days < CLEAN_DAYS_NEEDED or self.policy not in ("none", "quarantine"):
            return ""
        return "quarantine" if self.policy == "none" or self.partial else "reject"

    @property
    def ready_for_quarantine(self) -> bool:
        return self.policy == "none" and self.next_policy == "quarantine"

    @property
    def ready_for_reject(self) -> bool:
        return self.next_policy == "reject"

    @property
    def policy_advice(self) -> str:
        """The next step for the policy, true whatever the day: how many clean days so far."""
        if self.policy not in ("none", "quarantine"):
            return f"The reporters saw p={self.policy} published." if self.policy else ""
        days = f"{self.clean_days} clean day{'s' if self.clean_days != 1 else ''} in a row"
        clean_day = "A clean day is one on which every sender that has passed as you at least once passed DMARC."
        if self.policy == "none":
            if self.next_policy:
                return (
                    f"{days}: every sender that passes as you has passed DMARC for {CLEAN_DAYS_NEEDED} days. "
                    "Move from p=none to p=quarantine, so that mail pretending to be you goes to spam."
                )
            wait = f"of the {CLEAN_DAYS_NEEDED} to wait before moving from p=none to p=quarantine"
            return f"{days} so far, {wait}. {clean_day}"
        share = (
            f" The record has pct={self.pct}, so receivers that still read it quarantine only {self.pct}% of the mail "
            "that fails (pct= is no longer part of DMARC)."
            if self.partial
            else ""
        )
        if self.next_policy == "quarantine":
            return (
                f"{days} at p=quarantine: every sender that passes as you has passed DMARC for {CLEAN_DAYS_NEEDED} "
                f"days.{share} Publish p=quarantine without pct=, for all of the mail, before moving to p=reject."
            )
        if self.next_policy == "reject":
            return (
                f"{days} at p=quarantine: every sender that passes as you has passed DMARC for {CLEAN_DAYS_NEEDED} "
                "days. Move from p=quarantine to p=reject, so that mail pretending to be you is refused outright "
                "instead of going to spam."
            )
        return (
            f"{days} so far at p=quarantine, of the {CLEAN_DAYS_NEEDED} to wait before moving to p=reject.{share} "
            f"{clean_day}"
        )


def _sender(g: dict[str, Any]) -> Sender:
    return Sender(
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


def _streaks(ids: list[int], last: date) -> dict[int, tuple[int, int]]:
    """Per client: (clean report days in a row up to the latest before `last`, report days in the window)."""
    rows = DmarcSource.objects.filter(
        client_id__in=ids, day__gte=last - timedelta(days=STREAK_WINDOW_DAYS), day__lt=last
    )
    passing = set(
        rows.values("client_id", "source_ip")
        .annotate(p=Sum("dmarc_pass"))
        .filter(p__gt=0)
        .values_list("client_id", "source_ip")
    )
    days: dict[int, set[date]] = defaultdict(set)
    for client_id, day in rows.values_list("client_id", "day").distinct():
        days[client_id].add(day)
    bad: dict[int, set[date]] = defaultdict(set)
    failing = rows.filter(dmarc_pass__lt=F("messages")).values_list("client_id", "source_ip", "day").distinct()
    for client_id, source_ip, day in failing:
        if (client_id, source_ip) in passing:  # a sender that never passed is not counted against a day
            bad[client_id].add(day)
    out: dict[int, tuple[int, int]] = {}
    for client_id, seen in days.items():
        streak = 0
        for day in sorted(seen, reverse=True):
            if day in bad[client_id]:
                break
            streak += 1
        out[client_id] = (streak, len(seen))
    return out


def senders_of(ids: list[int], first: date, last: date) -> dict[int, Senders]:
    """The senders of each of these clients with reports for days from `first` up to (not including) `last`;
    clients without any are left out. A fixed number of queries whatever the number of clients."""
    rows = DmarcSource.objects.filter(client_id__in=ids, day__gte=first, day__lt=last)
    grouped = (
        rows.values("client_id", "source_ip")
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
        .order_by("client_id", "-m", "source_ip")
    )
    out: dict[int, Senders] = {}
    for g in grouped:
        shown = out.setdefault(g["client_id"], Senders())
        sender = _sender(g)
        shown.messages += sender.messages
        shown.dmarc_pass += sender.dmarc_pass
        shown.source_count += 1
        if len(shown.sources) < SHOWN:
            shown.sources.append(sender)
    if not out:
        return out
    reports = DmarcReport.objects.filter(client_id__in=list(out), begin__date__gte=first, begin__date__lt=last)
    spans = reports.values("client_id").annotate(
        n=Count("id"), orgs=Count("org_name", distinct=True), a=Min("begin"), b=Max("begin")
    )
    for span in spans:
        shown = out[span["client_id"]]
        shown.reports, shown.reporters = span["n"], span["orgs"]
        shown.first_day, shown.last_day = span["a"].date(), span["b"].date()
    latest = reports.order_by("client_id", "begin", "id").values_list(
        "client_id", "domain", "policy", "subdomain_policy", "pct"
    )
    policies: dict[int, dict[str, tuple[str, str]]] = defaultdict(dict)  # per client and domain: (p=, sp=)
    for client_id, domain, policy, subdomain_policy, pct in latest:
        shown = out[client_id]  # the latest report's wins
        shown.policy, shown.subdomain_policy, shown.pct = policy, subdomain_policy, pct
        policies[client_id][domain] = (policy, subdomain_policy)
    for client_id, (streak, report_days) in _streaks(list(out), last).items():
        out[client_id].clean_days, out[client_id].report_days = streak, report_days
    _next_records(out, policies)
    return out


def _next_records(out: dict[int, Senders], policies: dict[int, dict[str, tuple[str, str]]]) -> None:
    """The exact DMARC record of each domain reported at the client's current policy, at its next step, naming
    the client's report mailbox (one query for every client)."""
    config = settings.LAUNCHREADY_MAIL_RECEIVER
    ready = [client_id for client_id, shown in out.items() if shown.next_policy]
    if not ready or not config.enabled:
        return
    mailboxes: dict[int, MailAddress] = {}
    for address in MailAddress.objects.filter(client_id__in=ready, kind=MailAddress.Kind.DMARC_REPORTS).order_by("-id"):
        mailboxes[address.client_id] = address  # the first made wins, as dmarc_address_for has it
    for client_id in ready:
        shown, mailbox = out[client_id], mailboxes.get(client_id)
        if mailbox is None:
            continue
        rua = f"mailto:{address_text(mailbox, config.domain)}"
        for domain, (policy, subdomain_policy) in sorted(policies[client_id].items()):
            if policy != shown.policy:
                continue
            # An sp= other than p= is kept as it is; one equal to p= follows it, as it did before.
            sp = subdomain_policy if subdomain_policy in dmarc.POLICIES and subdomain_policy != policy else None
            record = dmarc.suggested_record(domain, shown.next_policy, rua=rua, subdomain_policy=sp)
            shown.next_records.append((domain, record))


def senders_for(client: Client) -> Senders:
    """The client's senders over the last WINDOW_DAYS days of reports, today's included."""
    today = now().date()
    return senders_of([client.id], today - timedelta(days=WINDOW_DAYS - 1), today + timedelta(days=1)).get(
        client.id, Senders()
    )


def report_address_for(client: Client) -> ReportAddress | None:
    """The client's rua= address and the records that name it; None when this installation takes no mail."""
    config = settings.LAUNCHREADY_MAIL_RECEIVER
    if not config.enabled:
        return None
    mailbox = address_text(dmarc_address_for(client), config.domain)
    names = list(client.domains.values_list("name", flat=True))
    # The policy each domain's reports last saw published is kept: adding the address never weakens it.
    seen = dict(
        DmarcReport.objects.filter(client=client, domain__in=names, policy__in=dmarc.POLICIES)
        .order_by("begin", "id")
        .values_list("domain", "policy")
    )
    return ReportAddress(
        address=mailbox,
        records=[
            (name, dmarc.suggested_record(name, seen.get(name, "none"), rua=f"mailto:{mailbox}")) for name in names
        ],
        authorisations=[
            dmarc.authorisation_record(name, f"mailto:{mailbox}")
            for name in names
            if dmarc.needs_authorisation(name, f"mailto:{mailbox}")
        ],
    )
