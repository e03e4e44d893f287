"""SPF (RFC 7208): check_host() for a sending IP, and a static analysis of a domain's record for the audit."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote

from launchready.net import DnsAnswer, Net

Result = Literal["pass", "fail", "softfail", "neutral", "none", "permerror", "temperror"]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_LOOKUPS = 10  # RFC 7208 4.6.4: include, a, mx, ptr, exists and redirect, across the whole check
MAX_VOID_LOOKUPS = 2  # 4.6.4: answers with no records (NXDOMAIN or NODATA)
MAX_MX = 10  # 4.6.4: address lookups per mx mechanism
MAX_PTR = 10  # 4.6.4: PTR names looked at; the rest are ignored
MAX_RECURSION = 20  # a backstop only: the lookup limit ends include and redirect chains long before this
MAX_NODES = 100  # analyse(): records fetched at most, so a fan-out of includes cannot explode
MAX_DEPTH = 12  # analyse(): include/redirect nesting followed at most

QUALIFIERS: dict[str, Result] = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}
MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})
LOOKUP_MECHANISMS = frozenset({"include", "a", "mx", "ptr", "exists"})

# The mail providers a founder can declare, and the include domains that authorise each of them.
# A provider counts as authorised when the record (recursively) includes one of these domains or a subdomain
# of one (per-account includes such as HubSpot's live under the provider's domain).
PROVIDER_INCLUDES: dict[str, list[str]] = {
    "google": ["_spf.google.com"],
    "microsoft": ["spf.protection.outlook.com"],
    "sendgrid": ["sendgrid.net"],
    "mailgun": ["mailgun.org"],  # EU accounts: eu.mailgun.org, a subdomain
    "postmark": ["spf.mtasv.net"],
    "ses": ["amazonses.com"],
    # Resend sends through Amazon SES; its documented record is include:amazonses.com on the send. subdomain.
    "resend": ["amazonses.com"],
    # servers.mcsv.net for Mailchimp itself, spf.mandrillapp.com for Mailchimp Transactional (Mandrill).
    "mailchimp": ["servers.mcsv.net", "spf.mandrillapp.com"],
    "brevo": ["spf.brevo.com", "spf.sendinblue.com"],  # the second from before the Sendinblue rename
    # One include per Zoho data centre (US, EU, India, Australia, Japan).
    "zoho": ["zoho.com", "zohomail.com", "zoho.eu", "zohomail.eu", "zoho.in", "zoho.com.au", "zoho.jp"],
    "fastmail": ["spf.messagingengine.com"],
    # HubSpot documents no single include: accounts with a dedicated IP get a per-account include under
    # hubspotemail.net (e.g. 1234567.spf03.hubspotemail.net); shared-IP mail uses HubSpot's own return path.
    # Best-known value, matched as a suffix; confirm against the account's settings when it matters.
    "hubspot": ["hubspotemail.net"],
}


# --- Results ---------------------------------------------------------------------------------------


@dataclass
class SpfResult:
    """The outcome of check_host() for one sending IP."""

    result: Result
    explanation: str | None = None  # only for fail, and only when the record's exp= gave one
    mechanism: str | None = None  # the term that matched, as written in the record that decided
    dns_lookups: int = 0
    void_lookups: int = 0
    problem: str = ""  # why, in plain English, for permerror, temperror and none
    domain: str = ""
    record: str | None = None  # the SPF record of `domain`, when one was found


@dataclass(frozen=True)
class SpfSyntaxError:
    domain: str
    term: str
    reason: str


@dataclass(frozen=True)
class SpfDnsFailure:
    """A question the DNS did not answer (SERVFAIL, timeout, budget): never the same as 'no record'."""

    name: str
    rdtype: str
    status: str
    detail: str = ""


@dataclass
class SpfNode:
    """One record in the include/redirect tree that analyse() walked."""

    domain: str
    via: str  # "root", "include" or "redirect"
    status: str  # ok, missing, multiple, syntax_error, dns_error, invalid, loop, skipped
    records: list[str] = field(default_factory=list)
    void: bool = False  # the TXT question had no answer at all (NXDOMAIN or NODATA)
    lookups: int = 0  # DNS-querying terms in this record alone
    all_qualifier: str | None = None
    redirect: str | None = None
    unresolved: list[str] = field(default_factory=list)  # include/redirect terms whose target needs macros
    syntax_errors: list[SpfSyntaxError] = field(default_factory=list)
    dns_failure: SpfDnsFailure | None = None
    children: list[SpfNode] = field(default_factory=list)

    @property
    def record(self) -> str | None:
        return self.records[0] if len(self.records) == 1 else None

    def walk(self) -> Iterator[SpfNode]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class SpfAnalysis:
    """What a receiver would meet in a domain's SPF record, found without a sending IP.

    `status` is about the domain's own record: ok, missing, multiple, syntax_error or dns_error.
    Problems further down (an include without a record, a syntax error in an included record, a DNS
    failure) are in the lists, each naming its domain, and in `problems`.
    """

    domain: str
    status: str
    records: list[str] = field(default_factory=list)
    syntax_errors: list[SpfSyntaxError] = field(default_factory=list)
    dns_lookups: int = 0  # DNS-querying terms counted through include and redirect: a receiver's worst case
    void_lookups: int = 0  # include/redirect targets that do not exist or have no TXT record
    loops: list[str] = field(default_factory=list)
    all_qualifier: str | None = None  # of the effective record (redirect followed); None: no all
    includes: list[str] = field(default_factory=list)
    redirects: list[str] = field(default_factory=list)
    dns_failures: list[SpfDnsFailure] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    tree: SpfNode | None = None

    @property
    def record(self) -> str | None:
        return self.records[0] if len(self.records) == 1 else None

    @property
    def over_lookup_limit(self) -> bool:
        return self.dns_lookups > MAX_LOOKUPS or bool(self.loops)

    @property
    def over_void_limit(self) -> bool:
        return self.void_lookups > MAX_VOID_LOOKUPS


def is_spf_record(text: str) -> bool:
    """A v=spf1 record: the version, case-insensitive, then a space or the end (4.5)."""
    return text[:6].lower() == "v=spf1" and (len(text) == 6 or text[6] == " ")


# --- Parsing -----------------------------------------------------------------------------------------


class _SyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class _Macro:
    letter: str  # lower case; "%", "_" and "-" stand for %%, %_ and %-
    digits: int | None = None
    reverse: bool = False
    delimiters: str = "."
    escape: bool = False  # an upper-case letter: URL-escape the expansion (7.3)


_Token = str | _Macro
_FIXED = {"%": "%", "_": " ", "-": "%20"}
_DOMAIN_LETTERS = "slodipvh"
_EXP_LETTERS = _DOMAIN_LETTERS + "crt"  # c, r and t are for explanation text only (7.2)
_MACRO_BODY = re.compile(r"\{([A-Za-z])(\d*)([rR]?)([.\-+,/_=]*)\}")
_TOPLABEL = r"(?:[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9])"
_DOMAIN_END = re.compile(r"\." + _TOPLABEL + r"\.?\Z")
_MODIFIER = re.compile(r"([A-Za-z][A-Za-z0-9_.\-]*)=(.*)", re.S)
_MECHANISM = re.compile(r"([+\-~?]?)([A-Za-z][A-Za-z0-9_.\-]*)(.*)", re.S)
_DUAL_CIDR = re.compile(r"(.*?)(?:/(\d+))?(?://(\d+))?", re.S)
_IP4_ARG = re.compile(r":([0-9.]+)(?:/(\d+))?")
_IP6_ARG = re.compile(r":([0-9A-Fa-f:.]+)(?:/(\d+))?")


@dataclass(frozen=True)
class _Spec:
    """A domain-spec (or explanation) as written, and its tokens."""

    text: str
    tokens: tuple[_Token, ...]


@dataclass
class _Mechanism:
    text: str
    qualifier: str
    kind: str
    spec: _Spec | None = None  # None: the current domain
    cidr4: int = 32
    cidr6: int = 128
    network: IPNetwork | None = None


@dataclass
class _Record:
    text: str
    mechanisms: list[_Mechanism] = field(default_factory=list)
    redirect: _Spec | None = None
    exp: _Spec | None = None


def _macro_tokens(text: str, *, explanation: bool = False) -> tuple[_Token, ...]:
    """Split a macro-string into literal runs and macros (7.1); raise _SyntaxError where it is malformed."""
    letters = _EXP_LETTERS if explanation else _DOMAIN_LETTERS
    tokens: list[_Token] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "%":
            if not (0x21 <= ord(char) <= 0x7E or (explanation and char == " ")):
                raise _SyntaxError(f"{char!r} is not allowed in a macro string")
            literal.append(char)
            i += 1
            continue
        if literal:
            tokens.append("".join(literal))
            literal = []
        following = text[i + 1 : i + 2]
        if following in _FIXED:
            tokens.append(_Macro(following))
            i += 2
            continue
        match = _MACRO_BODY.match(text, i + 1) if following == "{" else None
        if match is None:
            raise _SyntaxError("a '%' must start %{...}, %%, %_ or %-")
        letter, digits, reverse, delimiters = match.groups()
        if letter.lower() not in letters:
            raise _SyntaxError(f"%{{{letter}}} is not a macro here")
        if digits and int(digits) == 0:
            raise _SyntaxError("a macro's digit transformer must not be zero")
        tokens.append(
            _Macro(letter.lower(), int(digits) if digits else None, bool(reverse), delimiters or ".", letter.isupper())
        )
        i = match.end()
    if literal:
        tokens.append("".join(literal))
    return tuple(tokens)


def _domain_spec(text: str) -> _Spec:
    """A domain-spec must end in a macro or in '.' and a valid top label (7.1), before any expansion."""
    if not text:
        raise _SyntaxError("the domain is empty")
    tokens = _macro_tokens(text)
    last = tokens[-1]
    if isinstance(last, str) and not _DOMAIN_END.search(last):
        raise _SyntaxError("the domain does not end in a valid top-level label")
    return _Spec(text, tokens)


def _cidr(digits: str | None, maximum: int) -> int:
    if digits is None:
        return maximum
    # Leading zeros are refused as in ip4-network, as the RFC 7208 test suite reads the grammar.
    if (digits.startswith("0") and digits != "0") or int(digits) > maximum:
        raise _SyntaxError(f"/{digits} is not a valid prefix length (0 to {maximum})")
    return int(digits)


def _mechanism(qualifier: str, kind: str, rest: str, text: str) -> _Mechanism:
    mechanism = _Mechanism(text, qualifier, kind)
    if kind == "all":
        if rest:
            raise _SyntaxError("all takes no argument")
    elif kind in ("include", "exists"):
        if not rest.startswith(":"):
            raise _SyntaxError(f"{kind} needs a domain: {kind}:<domain>")
        mechanism.spec = _domain_spec(rest[1:])
    elif kind == "ptr":
        if rest:
            if not rest.startswith(":"):
                raise _SyntaxError("ptr takes only ':' and a domain")
            mechanism.spec = _domain_spec(rest[1:])
    elif kind in ("a", "mx"):
        match = _DUAL_CIDR.fullmatch(rest)
        if match is None:  # cannot happen: every group is optional; this keeps the type checker informed
            raise _SyntaxError(f"{kind} has a malformed argument")
        domain, cidr4, cidr6 = match.groups()
        mechanism.cidr4, mechanism.cidr6 = _cidr(cidr4, 32), _cidr(cidr6, 128)
        if domain:
            if not domain.startswith(":"):
                raise _SyntaxError(f"{kind} takes ':' and a domain, then optional /prefix lengths")
            mechanism.spec = _domain_spec(domain[1:])
    else:
        mechanism.network = _ip_network(kind, rest)
    return mechanism


def _ip_network(kind: str, rest: str) -> IPNetwork:
    match = (_IP4_ARG if kind == "ip4" else _IP6_ARG).fullmatch(rest)
    if match is None:
        raise _SyntaxError(f"{kind} needs an address: {kind}:<address>[/<prefix length>]")
    try:
        address: IPAddress = ipaddress.IPv4Address(match[1]) if kind == "ip4" else ipaddress.IPv6Address(match[1])
    except ValueError:
        raise _SyntaxError(f"{match[1]!r} is not an {'IPv4' if kind == 'ip4' else 'IPv6'} address") from None
    prefix = _cidr(match[2], 32 if kind == "ip4" else 128)
    return ipaddress.ip_network(f"{address}/{prefix}", strict=False)


def _parse_term(term: str, record: _Record) -> None:
    for char in term:
        if not 0x21 <= ord(char) <= 0x7E:
            raise _SyntaxError("a non-ASCII or control character (SPF records are 7-bit ASCII)")
    modifier = _MODIFIER.fullmatch(term)
    if modifier is not None:
        name, value = modifier[1].lower(), modifier[2]
        if name in ("redirect", "exp"):
            if getattr(record, name) is not None:
                raise _SyntaxError(f"{name}= may appear only once")
            setattr(record, name, _domain_spec(value))
        else:
            _macro_tokens(value, explanation=True)  # unknown modifiers are ignored, but must still parse
        return
    mechanism = _MECHANISM.fullmatch(term)
    if mechanism is None:
        raise _SyntaxError("neither a mechanism nor a modifier")
    qualifier, name, rest = mechanism[1] or "+", mechanism[2].lower(), mechanism[3]
    if name not in MECHANISMS:
        raise _SyntaxError(f"unknown mechanism {name!r}")
    record.mechanisms.append(_mechanism(qualifier, name, rest, term))


def _parse(text: str) -> tuple[_Record, list[tuple[str, str]]]:
    """Parse every term, so that an error anywhere is found (4.6); returns the record and (term, reason) pairs."""
    record = _Record(text)
    errors: list[tuple[str, str]] = []
    for term in text.split(" ")[1:]:
        if not term:
            continue  # terms are separated by one or more spaces, and trailing spaces are allowed
        try:
            _parse_term(term, record)
        except _SyntaxError as exc:
            errors.append((term, str(exc)))
    return record, errors


# --- check_host() ----------------------------------------------------------------------------------


class _Abort(Exception):
    """Ends the whole evaluation with permerror or temperror."""

    def __init__(self, result: Result, problem: str) -> None:
        super().__init__(problem)
        self.result = result
        self.problem = problem


@dataclass
class _Outcome:
    result: Result
    mechanism: str | None = None
    explanation: str | None = None
    problem: str = ""


@dataclass
class _Context:
    net: Net
    ip: IPAddress
    sender: str
    local: str
    sender_domain: str
    helo: str
    lookups: int = 0
    voids: int = 0
    record: str | None = None


def client_address(ip: str) -> IPAddress:
    """The client as check_host() sees it: an IPv4-mapped IPv6 address is IPv4 (5/9)."""
    address = ipaddress.ip_address(ip.strip())
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


async def check_host(net: Net, ip: str, domain: str, sender: str, helo: str = "") -> SpfResult:
    """RFC 7208 check_host(): may `ip` send mail for `domain`? An empty `sender` means postmaster@helo.

    Raises ValueError when `ip` is not an IP address.
    """
    address = client_address(ip)
    if not sender:
        sender = f"postmaster@{helo}"
    local, at, sender_domain = sender.rpartition("@")
    if not at:
        sender_domain = sender
    local = local or "postmaster"  # 4.3: a sender without a local part is postmaster
    context = _Context(net, address, f"{local}@{sender_domain}", local, sender_domain, helo)
    try:
        outcome = await _check(context, domain, depth=0, in_include=False)
    except _Abort as abort:
        outcome = _Outcome(abort.result, problem=abort.problem)
    return SpfResult(
        result=outcome.result,
        explanation=outcome.explanation,
        mechanism=outcome.mechanism,
        dns_lookups=context.lookups,
        void_lookups=context.voids,
        problem=outcome.problem,
        domain=domain,
        record=context.record,
    )


async def _check(context: _Context, domain: str, *, depth: int, in_include: bool) -> _Outcome:
    domain = domain.rstrip(".")
    if depth > MAX_RECURSION:
        raise _Abort("permerror", "include and redirect are nested too deeply")
    if not _is_valid_domain(domain):
        return _Outcome("none", problem=f"{domain!r} is not a valid domain name")
    text = await _find_record(context.net, domain)
    if text is None:
        return _Outcome("none", problem=f"{domain} publishes no SPF record")
    if depth == 0:
        context.record = text
    record, errors = _parse(text)
    if errors:
        term, reason = errors[0]
        raise _Abort("permerror", f"the SPF record of {domain} has a syntax error in {term!r}: {reason}")
    for mechanism in record.mechanisms:
        if await _matches(context, mechanism, domain, depth):
            result = QUALIFIERS[mechanism.qualifier]
            explanation = None
            # 6.2: only the record that gave the final fail explains it; an included record never does.
            if result == "fail" and record.exp is not None and not in_include:
                explanation = await _explain(context, record.exp, domain)
            return _Outcome(result, mechanism=mechanism.text, explanation=explanation)
    if record.redirect is None:
        return _Outcome("neutral")
    _count_lookup(context, f"redirect={record.redirect.text}")
    target = await _expand_domain(context, record.redirect, domain)
    outcome = await _check(context, target, depth=depth + 1, in_include=in_include)
    if outcome.result == "none":
        raise _Abort("permerror", f"redirect={target} points at a domain without an SPF record")
    return outcome


async def _find_record(net: Net, domain: str) -> str | None:
    """The one v=spf1 TXT record of a domain (4.4, 4.5); SPF type 99 records are not consulted (3.1)."""
    answer = await net.dns(domain, "TXT")
    if answer.is_failure:
        raise _Abort("temperror", _dns_problem(answer))
    records = [value for value in answer.values if is_spf_record(value)] if answer.ok else []
    if len(records) > 1:
        raise _Abort("permerror", f"{domain} publishes {len(records)} SPF records; RFC 7208 allows exactly one")
    return records[0] if records else None


def _dns_problem(answer: DnsAnswer) -> str:
    detail = f": {answer.error}" if answer.error else ""
    return f"the DNS lookup of {answer.name} {answer.rdtype} failed ({answer.status.value}{detail})"


def _count_lookup(context: _Context, term: str) -> None:
    context.lookups += 1
    if context.lookups > MAX_LOOKUPS:
        raise _Abort(
            "permerror",
            f"more than {MAX_LOOKUPS} DNS-querying terms (include, a, mx, ptr, exists, redirect); "
            f"the limit was passed at {term!r}",
        )


def _count_void(context: _Context, name: str) -> None:
    context.voids += 1
    if context.voids > MAX_VOID_LOOKUPS:
        raise _Abort("permerror", f"more than {MAX_VOID_LOOKUPS} DNS lookups found nothing; the last was for {name}")


async def _ask(context: _Context, name: str, rdtype: str, *, void_counts: bool = True) -> list[str]:
    """The values of one question a mechanism asks: a DNS failure is temperror, no answer may be a void lookup."""
    answer = await context.net.dns(name, rdtype) if _is_queryable(name) else None
    if answer is not None and answer.is_failure:
        raise _Abort("temperror", _dns_problem(answer))
    if answer is None or not answer.records:
        # A name that cannot be asked (an empty or over-long label, often from a macro) is taken as
        # non-existent, by analogy with 4.3; RFC 7208 leaves it open and the suite accepts both readings.
        if void_counts:
            _count_void(context, name)
        return []
    return answer.values


async def _matches(context: _Context, mechanism: _Mechanism, domain: str, depth: int) -> bool:
    kind = mechanism.kind
    if kind == "all":
        return True
    if kind in ("ip4", "ip6"):
        network = mechanism.network
        return network is not None and network.version == context.ip.version and context.ip in network
    _count_lookup(context, mechanism.text)
    target = domain if mechanism.spec is None else await _expand_domain(context, mechanism.spec, domain)
    if kind == "include":
        return await _include(context, target, depth)
    if kind == "exists":
        return bool(await _ask(context, target, "A"))  # always A, whatever the client's address family (5.7)
    if kind == "a":
        return _any_in(context, await _ask(context, target, _address_type(context)), mechanism)
    if kind == "mx":
        return await _mx_matches(context, target, mechanism)
    return await _ptr_matches(context, target)


async def _include(context: _Context, target: str, depth: int) -> bool:
    outcome = await _check(context, target, depth=depth + 1, in_include=True)
    if outcome.result == "none":
        raise _Abort("permerror", f"include:{target} points at a domain without an SPF record")
    return outcome.result == "pass"  # fail, softfail and neutral do not match (5.2); errors were raised


def _address_type(context: _Context) -> str:
    return "A" if context.ip.version == 4 else "AAAA"


def _any_in(context: _Context, addresses: list[str], mechanism: _Mechanism) -> bool:
    prefix = mechanism.cidr4 if context.ip.version == 4 else mechanism.cidr6
    for value in addresses:
        try:
            network = ipaddress.ip_network(f"{value}/{prefix}", strict=False)
        except ValueError:
            continue
        if network.version == context.ip.version and context.ip in network:
            return True
    return False


async def _mx_matches(context: _Context, target: str, mechanism: _Mechanism) -> bool:
    hosts = [_mx_host(value) for value in await _ask(context, target, "MX")]
    if len(hosts) > MAX_MX:
        raise _Abort("permerror", f"{target} has {len(hosts)} MX records; an mx mechanism may use at most {MAX_MX}")
    for host in hosts:
        if not host:
            continue  # a null MX ("0 .") names no host
        addresses = await _ask(context, host, _address_type(context), void_counts=False)
        if _any_in(context, addresses, mechanism):
            return True
    return False


def _mx_host(value: str) -> str:
    parts = value.split(None, 1)
    return parts[1].strip().rstrip(".") if len(parts) == 2 else ""


async def _ptr_names(context: _Context, *, void_counts: bool) -> list[str]:
    """The first 10 PTR names of the client; a DNS error means no names (5.5)."""
    answer = await context.net.dns(_reverse_name(context.ip), "PTR")
    if not answer.records:
        if answer.is_void and void_counts:
            _count_void(context, answer.name)
        return []
    return answer.values[:MAX_PTR]


async def _validates(context: _Context, name: str) -> bool:
    """Does the name resolve back to the client? A DNS error skips the name (5.5)."""
    if not _is_queryable(name):
        return False
    answer = await context.net.dns(name, _address_type(context))
    for value in answer.values if answer.ok else []:
        try:
            if ipaddress.ip_address(value) == context.ip:
                return True
        except ValueError:
            continue
    return False


def _within(name: str, domain: str) -> bool:
    name, domain = name.lower().rstrip("."), domain.lower().rstrip(".")
    return name == domain or name.endswith("." + domain)


async def _ptr_matches(context: _Context, target: str) -> bool:
    for name in await _ptr_names(context, void_counts=True):
        if _within(name, target) and await _validates(context, name):
            return True
    return False


async def _validated_name(context: _Context, domain: str) -> str:
    """The %{p} macro: a validated name of the client, one within `domain` if any (7.3)."""
    validated = [name for name in await _ptr_names(context, void_counts=False) if await _validates(context, name)]
    for name in validated:
        if _within(name, domain):
            return name
    return validated[0] if validated else "unknown"


def _reverse_name(ip: IPAddress) -> str:
    return ip.reverse_pointer


# --- Macros and explanations ------------------------------------------------------------------------


async def _macro_value(context: _Context, letter: str, domain: str) -> str:
    ip = context.ip
    if letter == "i":
        # Dotted nibbles for IPv6, upper-case as the RFC 7208 test suite expects them in explanations;
        # DNS names are case-insensitive, so the queries are the same either way.
        return str(ip) if ip.version == 4 else ".".join(ip.exploded.replace(":", "").upper())
    if letter == "p":
        return await _validated_name(context, domain)
    values = {
        "s": context.sender,
        "l": context.local,
        "o": context.sender_domain,
        "d": domain,
        "v": "in-addr" if ip.version == 4 else "ip6",
        "h": context.helo,
        "c": str(ip),
        "r": "unknown",  # the receiving host's name: we are not one
        "t": str(int(time.time())),
    }
    return values[letter]


async def _expand(context: _Context, tokens: tuple[_Token, ...], domain: str) -> str:
    out: list[str] = []
    for token in tokens:
        if isinstance(token, str):
            out.append(token)
            continue
        if token.letter in _FIXED:
            out.append(_FIXED[token.letter])
            continue
        value = await _macro_value(context, token.letter, domain)
        parts = re.split("[" + re.escape(token.delimiters) + "]", value)
        if token.reverse:
            parts.reverse()
        if token.digits is not None:
            parts = parts[-token.digits :]
        text = ".".join(parts)
        out.append(quote(text, safe="") if token.escape else text)
    return "".join(out)


async def _expand_domain(context: _Context, spec: _Spec, domain: str) -> str:
    """Expand a domain-spec; a trailing dot is dropped and names over 253 lose labels on the left (7.3)."""
    name = (await _expand(context, spec.tokens, domain)).rstrip(".")
    while len(name) > 253 and "." in name:
        name = name.split(".", 1)[1]
    return name


async def _explain(context: _Context, spec: _Spec, domain: str) -> str | None:
    """The exp= text; any trouble (DNS, several records, bad macros, non-ASCII) means no explanation (6.2)."""
    target = await _expand_domain(context, spec, domain)
    if not _is_queryable(target):
        return None
    answer = await context.net.dns(target, "TXT")  # not counted: exp= is outside the lookup limits
    if not answer.ok or len(answer.records) != 1:
        return None
    text = answer.values[0]
    try:
        tokens = _macro_tokens(text, explanation=True)
    except _SyntaxError:
        return None
    return await _expand(context, tokens, domain)


def _is_queryable(name: str) -> bool:
    labels = name.split(".")
    return 0 < len(name) <= 253 and all(0 < len(label.encode()) <= 63 for label in labels)


def _is_valid_domain(domain: str) -> bool:
    """4.3: a multi-label name with no empty or over-long label, ending in a real top label."""
    labels = domain.split(".")
    return len(labels) > 1 and _is_queryable(domain) and re.fullmatch(_TOPLABEL, labels[-1]) is not None


# --- Static analysis -----------------------------------------------------------------------------------


class _Walker:
    """Follows include and redirect from a domain's record, bounded in depth, breadth and loops."""

    def __init__(self, net: Net) -> None:
        self.net = net
        self.nodes = 0
        self.loops: list[str] = []

    async def visit(self, domain: str, via: str, path: tuple[str, ...]) -> SpfNode:
        domain = domain.lower().rstrip(".")
        node = SpfNode(domain, via, status="ok")
        if domain in path:
            node.status = "loop"
            self.loops.append(" → ".join((*path, domain)))
            return node
        if self.nodes >= MAX_NODES or len(path) >= MAX_DEPTH:
            node.status = "skipped"
            return node
        self.nodes += 1
        if not _is_valid_domain(domain):
            node.status = "invalid"
            return node
        answer = await self.net.dns(domain, "TXT")
        if answer.is_failure:
            node.status = "dns_error"
            node.dns_failure = SpfDnsFailure(domain, "TXT", answer.status.value, answer.error)
            return node
        node.void = answer.is_void or (answer.ok and not answer.records)
        node.records = [value for value in answer.values if is_spf_record(value)] if answer.ok else []
        if len(node.records) != 1:
            node.status = "missing" if not node.records else "multiple"
            return node
        targets = self._read(node)
        node.children = list(
            await asyncio.gather(*(self.visit(target, kind, (*path, domain)) for target, kind in targets))
        )
        return node

    def _read(self, node: SpfNode) -> list[tuple[str, str]]:
        """Count the node's lookups and list what to follow; terms after all are never evaluated (5.1)."""
        record, errors = _parse(node.records[0])
        node.syntax_errors = [SpfSyntaxError(node.domain, term, reason) for term, reason in errors]
        if errors:
            node.status = "syntax_error"
        targets: list[tuple[str, str]] = []
        for mechanism in record.mechanisms:
            if mechanism.kind in LOOKUP_MECHANISMS:
                node.lookups += 1
            if mechanism.kind == "include" and mechanism.spec is not None:
                self._follow(node, mechanism.spec, mechanism.text, "include", targets)
            if mechanism.kind == "all":
                node.all_qualifier = mechanism.qualifier
                break
        if record.redirect is not None and node.all_qualifier is None:
            node.lookups += 1
            node.redirect = self._follow(node, record.redirect, f"redirect={record.redirect.text}", "redirect", targets)
        return targets

    @staticmethod
    def _follow(node: SpfNode, spec: _Spec, term: str, kind: str, targets: list[tuple[str, str]]) -> str | None:
        if not all(isinstance(token, str) for token in spec.tokens):
            node.unresolved.append(term)  # the target depends on the sender, so only a real check can tell
            return None
        target = "".join(str(token) for token in spec.tokens).lower().rstrip(".")
        targets.append((target, kind))
        return target


async def analyse(net: Net, domain: str) -> SpfAnalysis:
    """Read a domain's SPF record and everything it includes, without a sending IP."""
    walker = _Walker(net)
    tree = await walker.visit(domain, "root", ())
    nodes = list(tree.walk())
    analysis = SpfAnalysis(
        domain=tree.domain,
        status=_root_status(tree),
        records=tree.records,
        syntax_errors=[error for node in nodes for error in node.syntax_errors],
        dns_lookups=sum(node.lookups for node in nodes),
        void_lookups=sum(1 for node in nodes if node.via != "root" and node.void),
        loops=walker.loops,
        all_qualifier=_effective_all(tree),
        includes=list(dict.fromkeys(node.domain for node in nodes if node.via == "include")),
        redirects=list(dict.fromkeys(node.domain for node in nodes if node.via == "redirect")),
        dns_failures=[node.dns_failure for node in nodes if node.dns_failure is not None],
        unresolved=[term for node in nodes for term in node.unresolved],
        tree=tree,
    )
    analysis.problems = _problems(analysis, nodes)
    return analysis


def _root_status(tree: SpfNode) -> str:
    if tree.status in ("ok", "syntax_error", "dns_error", "missing", "multiple"):
        return tree.status
    return "missing"  # an invalid name cannot hold a record


def _effective_all(tree: SpfNode) -> str | None:
    node: SpfNode | None = tree
    while node is not None:
        if node.all_qualifier is not None:
            return node.all_qualifier
        node = next((child for child in node.children if child.via == "redirect"), None)
    return None


def _problems(analysis: SpfAnalysis, nodes: list[SpfNode]) -> list[str]:
    """Technical findings in plain English, for the audit's evidence."""
    problems: list[str] = []
    for node in nodes:
        where = node.domain if node.via == "root" else f"{node.via}:{node.domain}"
        if node.dns_failure is not None:
            problems.append(
                f"The DNS lookup of {where} failed ({node.dns_failure.status}); receivers return temperror. "
                "This is a DNS failure, not a missing record."
            )
        elif node.status == "missing":
            consequence = "" if node.via == "root" else "; receivers return permerror when they reach it"
            problems.append(f"{where} has no SPF record{consequence}.")
        elif node.status == "multiple":
            problems.append(f"{where} publishes {len(node.records)} SPF records; receivers return permerror.")
        elif node.status == "invalid":
            problems.append(f"{where} is not a valid domain name.")
        for error in node.syntax_errors:
            problems.append(f"Syntax error in {error.term!r} in the record of {error.domain}: {error.reason}.")
    problems.extend(f"Include loop: {loop}; receivers return permerror." for loop in analysis.loops)
    if analysis.dns_lookups > MAX_LOOKUPS:
        problems.append(
            f"The record needs {analysis.dns_lookups} DNS lookups; receivers stop at {MAX_LOOKUPS} "
            "and return permerror."
        )
    if analysis.void_lookups > MAX_VOID_LOOKUPS:
        problems.append(
            f"{analysis.void_lookups} included domains do not exist or have no TXT record; receivers return "
            f"permerror after {MAX_VOID_LOOKUPS}."
        )
    if analysis.all_qualifier == "+":
        problems.append("+all lets every server on the internet send mail as this domain.")
    return problems


def unauthorised_providers(analysis: SpfAnalysis, providers: list[str]) -> list[str]:
    """The providers (PROVIDER_INCLUDES keys) the record does not include; unknown keys are not judged."""
    authorised = [name.lower().rstrip(".") for name in (*analysis.includes, *analysis.redirects)]

    def covered(include: str) -> bool:
        return any(name == include or name.endswith("." + include) for name in authorised)

    return [
        provider
        for provider in providers
        if provider in PROVIDER_INCLUDES and not any(covered(include) for include in PROVIDER_INCLUDES[provider])
    ]
