"""DMARC per RFC 9989: record parsing, policy discovery by the DNS tree walk, external report checks, fixes.

RFC 9989 (which obsoletes RFC 7489 and RFC 9091) is read here from its final text as the IETF approved it,
draft-ietf-dmarc-dmarcbis-41; section numbers below are that document's. What it says on the points
this module depends on:

- Record format (section 4.7): tags follow DKIM's tag=value syntax; "v" MUST be first and its value is
  exactly "DMARC1", otherwise the whole record MUST be ignored. Unknown tags MUST be ignored. The tags
  are adkim, aspf, fo, np, p, psd, rua, ruf, sp, t and v. "pct", "rf" and "ri" were removed (appendix
  C.5.2; appendix A.6 explains that "t" replaces pct=0/100), so they are unknown tags to an RFC 9989
  receiver: here they are reported as a "removed tag" warning, never an error, whatever their value.
- Missing or invalid p (sections 4.7 and 4.10.1): p is RECOMMENDED, not required. "If a retrieved DMARC
  Policy Record does not contain a valid p tag, or contains an sp or np tag that is not valid", then if a
  rua tag holds at least one syntactically valid reporting URI the receiver MUST act as if the record
  said p=none; otherwise the receiver applies no DMARC processing at all. So a record without p is
  valid (as p=none) only when it has a usable rua.
- Syntax errors in the other tags are discarded in favour of the defaults (section 4.8); the "!size"
  suffix on report URIs is obsolete syntax that reporters ignore.
- Tree walk (section 4.10): query _dmarc.<name>; drop TXT records that do not start with v=DMARC1; if
  several DMARC records remain at one name they are ALL discarded; stop when a single record carries
  psd=y or psd=n. Then go up: with fewer than 8 labels drop the left-most label, with 8 or more drop
  labels until 7 remain, then one label at a time down to the last label. At most 8 queries.
- Policy discovery (section 4.10.1): the record applied is, by preference, the Author Domain's own, then
  its Organizational Domain's, then its Public Suffix Domain's. The Organizational Domain (section 4.10.2)
  is picked among the records the walk found, longest name first: a psd=n record's name; else one label
  below a psd=y record (not the starting name); else the name with the fewest labels; with no record at
  all, the starting name itself. A subdomain inherits sp (np for a name that does not exist), else p.
- DNS errors are left to the receiver (section 4.10.1); an audit reports them and never calls them
  "no record".
- External report destinations (draft-ietf-dmarc-aggregate-reporting, now RFC 9990, section 3): when the
  rua host's organizational domain differs from the policy's, the destination must publish a TXT record
  starting with v=DMARC1 at <policy domain>._report._dmarc.<destination host>.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from urllib.parse import unquote, urlsplit

import idna

from launchready.net import DnsAnswer, DnsStatus, Net
from launchready.psl import registrable_domain

POLICIES = ("none", "quarantine", "reject")
REMOVED_TAGS = ("pct", "rf", "ri")
KNOWN_TAGS = ("v", "p", "sp", "np", "adkim", "aspf", "fo", "rua", "ruf", "t", "psd")
MAX_WALK_LABELS = 8  # RFC 9989 section 4.10: never more than eight queries, whatever the name's length

_VERSION = re.compile(r"^\s*[vV]\s*=\s*DMARC1\s*(;|$)")  # "v" is case-insensitive ABNF, "DMARC1" is not
_TAG_NAME = re.compile(r"^[A-Za-z]+$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_SIZE = re.compile(r"!(\d+[kmgt]?)$", re.IGNORECASE)
_MAILBOX = re.compile(r"^[^@\s/]+@([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}$")


class Code(StrEnum):
    """Machine-readable problem codes (records and discovery)."""

    # errors
    EMPTY = "empty"  # no text at all
    BAD_VERSION = "bad_version"  # does not start with v=DMARC1: not a DMARC record
    VERSION_NOT_FIRST = "version_not_first"  # v=DMARC1 is there but not first: the record is ignored
    SYNTAX = "syntax"  # a term that is not tag=value
    DUPLICATE_TAG = "duplicate_tag"  # DKIM tag-list rule: the whole record is invalid
    BAD_VALUE = "bad_value"  # a known tag with a value outside its grammar
    BAD_URI = "bad_uri"  # a rua/ruf entry that is not a URI
    NO_POLICY = "no_policy"  # no valid p (or an invalid sp/np) and no valid rua: no DMARC processing at all
    # warnings
    TREATED_AS_NONE = "treated_as_none"  # no valid p (or invalid sp/np), but a rua: receivers act as p=none
    REMOVED_TAG = "removed_tag"  # pct, rf, ri
    UNKNOWN_TAG = "unknown_tag"
    UNSUPPORTED_URI_SCHEME = "unsupported_uri_scheme"  # only mailto: is required of receivers
    BAD_MAILTO = "bad_mailto"  # a mailto: URI without a usable mailbox
    REPORT_SIZE_OBSOLETE = "report_size_obsolete"  # the "!10m" suffix
    POLICY_NONE_NO_REPORTS = "policy_none_no_reports"  # p=none and nobody reads reports: DMARC does nothing
    POLICY_NONE = "policy_none"  # monitoring with reports: the recommended first step
    TESTING = "testing_mode"  # t=y: receivers apply one level below the policy
    # discovery
    SEVERAL_RECORDS = "several_records"
    DNS_FAILURE = "dns_failure"
    MALFORMED_RECORD = "malformed_record"  # a TXT at _dmarc that looks like DMARC but is not v=DMARC1 first


@dataclass(frozen=True)
class Problem:
    code: Code
    message: str
    tag: str = ""


class RecordStatus(StrEnum):
    VALID = "valid"  # no errors (warnings possible)
    INVALID = "invalid"  # a DMARC record with errors
    NOT_DMARC = "not_dmarc"  # empty, or not starting with v=DMARC1: receivers ignore it entirely


@dataclass(frozen=True)
class DmarcUri:
    raw: str
    scheme: str = ""  # lower-case, "" when the text is not a URI
    address: str = ""  # the mailbox for mailto:, else the URI without its size suffix
    host: str = ""  # lower-case host the reports go to ("" when there is none)
    size_limit: str | None = None  # the obsolete "!10m" suffix, when present

    @property
    def valid(self) -> bool:
        """Syntactically a URI (RFC 9989 counts any such URI for the missing-p rule)."""
        return bool(self.scheme)

    @property
    def is_mailbox(self) -> bool:
        """A mailto: URI with a mailbox that reports can actually be sent to."""
        return self.scheme == "mailto" and bool(self.host)


@dataclass
class DmarcRecord:
    text: str
    status: RecordStatus = RecordStatus.VALID
    tags: dict[str, str] = field(default_factory=dict)  # as written (first occurrence), names lower-cased
    p: str | None = None  # only valid values are kept
    sp: str | None = None
    np: str | None = None
    adkim: str = "r"
    aspf: str = "r"
    fo: tuple[str, ...] = ("0",)
    rua: list[DmarcUri] = field(default_factory=list)
    ruf: list[DmarcUri] = field(default_factory=list)
    testing: bool = False  # t=y
    psd: str = "u"
    removed_tags: list[str] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    subpolicy_invalid: bool = False  # sp= or np= present with an invalid value
    ignored: bool = False  # the whole tag list is invalid (a duplicated tag)

    @property
    def is_dmarc(self) -> bool:
        return self.status != RecordStatus.NOT_DMARC

    @property
    def codes(self) -> list[Code]:
        return [p.code for p in (*self.errors, *self.warnings)]

    @property
    def has_valid_rua(self) -> bool:
        return any(uri.valid for uri in self.rua)

    @property
    def reports_requested(self) -> bool:
        """Aggregate reports go to at least one mailbox (the only scheme every receiver must support)."""
        return any(uri.is_mailbox for uri in self.rua)

    def policy_for(self, *, subdomain: bool, exists: bool = True) -> str | None:
        """The policy receivers apply (RFC 9989 4.10.1); None when they apply no DMARC processing."""
        if not self.is_dmarc or self.ignored:
            return None
        p = self.p
        if p is None or self.subpolicy_invalid:
            return "none" if self.has_valid_rua else None
        if not subdomain:
            return p
        if not exists and self.np:
            return self.np
        return self.sp or p

    @property
    def policy(self) -> str | None:
        """The policy for the domain the record is published at."""
        return self.policy_for(subdomain=False)


# --- Parsing ---------------------------------------------------------------------------------------


def is_dmarc_record(text: str) -> bool:
    """Step 2 of the tree walk: does this TXT record start with the v=DMARC1 tag?"""
    return bool(_VERSION.match(text))


def parse_record(text: str) -> DmarcRecord:
    """Parse a DMARC TXT record with RFC 9989 semantics; problems are reported, never raised."""
    record = DmarcRecord(text=text)
    terms = [t.strip() for t in text.split(";")]
    if not text.strip():
        record.status = RecordStatus.NOT_DMARC
        record.errors.append(Problem(Code.EMPTY, "The DMARC record is empty."))
        return record
    if not is_dmarc_record(text):
        record.status = RecordStatus.NOT_DMARC
        record.errors.append(_version_problem(terms))
        return record
    record.tags["v"] = "DMARC1"
    for term in terms[1:]:
        if not term:
            continue
        name, sep, value = term.partition("=")
        name, value = name.strip().lower(), value.strip()
        if not sep or not _TAG_NAME.match(name):
            record.errors.append(
                Problem(Code.SYNTAX, f"“{term}” is not a tag=value pair; receivers ignore it.", name if sep else "")
            )
            continue
        if name in record.tags:
            record.errors.append(
                Problem(
                    Code.DUPLICATE_TAG,
                    f"The {name}= tag appears more than once; the whole record is then invalid "
                    "(DKIM tag-list rule that DMARC follows) and receivers may ignore it.",
                    name,
                )
            )
            record.ignored = True
            continue
        record.tags[name] = value
        _apply_tag(record, name, value)
    _judge_policy(record)
    record.status = RecordStatus.INVALID if record.errors else RecordStatus.VALID
    return record


def _version_problem(terms: list[str]) -> Problem:
    if any(_VERSION.match(term + ";") for term in terms[1:]):
        return Problem(
            Code.VERSION_NOT_FIRST,
            "v=DMARC1 must be the very first tag; as written, receivers ignore the whole record.",
            "v",
        )
    first = terms[0]
    return Problem(
        Code.BAD_VERSION,
        f"A DMARC record must start with v=DMARC1 (exactly, then a semicolon); “{first}” does not, "
        "so receivers ignore the whole record.",
        "v",
    )


def _apply_tag(record: DmarcRecord, name: str, value: str) -> None:
    if name in ("p", "sp", "np"):
        _policy_tag(record, name, value)
    elif name in ("adkim", "aspf"):
        if value.lower() in ("r", "s"):
            setattr(record, name, value.lower())
        else:
            record.errors.append(_bad_value(name, value, "r (relaxed) or s (strict)"))
    elif name == "t":
        if value.lower() in ("y", "n"):
            record.testing = value.lower() == "y"
            if record.testing:
                record.warnings.append(
                    Problem(
                        Code.TESTING,
                        "t=y (testing): receivers apply one level below the published policy "
                        "(reject becomes quarantine, quarantine becomes none).",
                        "t",
                    )
                )
        else:
            record.errors.append(_bad_value(name, value, "y or n"))
    elif name == "psd":
        if value.lower() in ("y", "n", "u"):
            record.psd = value.lower()
        else:
            record.errors.append(_bad_value(name, value, "y, n or u"))
    elif name == "fo":
        _fo_tag(record, value)
    elif name in ("rua", "ruf"):
        _uri_tag(record, name, value)
    elif name in REMOVED_TAGS:
        record.removed_tags.append(name)
        record.warnings.append(
            Problem(
                Code.REMOVED_TAG,
                f"{name}= was removed from DMARC by RFC 9989 and is ignored by receivers that follow it; "
                "delete it" + (" (use t=y instead of pct=0 for testing)." if name == "pct" else "."),
                name,
            )
        )
    else:
        record.warnings.append(Problem(Code.UNKNOWN_TAG, f"{name}= is not a DMARC tag; receivers ignore it.", name))


def _bad_value(name: str, value: str, allowed: str) -> Problem:
    shown = value if value else "(empty)"
    return Problem(Code.BAD_VALUE, f"{name}={shown} is not valid (use {allowed}); receivers ignore it.", name)


def _policy_tag(record: DmarcRecord, name: str, value: str) -> None:
    if value.lower() in POLICIES:
        setattr(record, name, value.lower())
        return
    hint = next((p for p in POLICIES if value and p.startswith(value.lower())), None)
    problem = _bad_value(name, value, "none, quarantine or reject")
    if hint:
        problem = Problem(problem.code, problem.message[:-1] + f"; write {name}={hint} in full.", name)
    record.errors.append(problem)
    if name != "p":
        record.subpolicy_invalid = True


def _fo_tag(record: DmarcRecord, value: str) -> None:
    options = tuple(o.strip().lower() for o in value.split(":"))
    if not options or any(o not in ("0", "1", "d", "s") for o in options) or {"0", "1"} <= set(options):
        record.errors.append(_bad_value("fo", value, "0, 1, d or s, separated by colons"))
        return
    record.fo = options


def _uri_tag(record: DmarcRecord, name: str, value: str) -> None:
    uris: list[DmarcUri] = []
    for raw in (part.strip() for part in value.split(",")):
        uri = parse_uri(raw)
        uris.append(uri)
        if not uri.valid:
            record.errors.append(
                Problem(Code.BAD_URI, f"{name}= entry “{raw}” is not a URI such as mailto:dmarc@example.com.", name)
            )
            continue
        if uri.size_limit:
            record.warnings.append(
                Problem(
                    Code.REPORT_SIZE_OBSOLETE,
                    f"The “!{uri.size_limit}” size limit on {uri.address} is obsolete; receivers ignore it.",
                    name,
                )
            )
        if uri.scheme != "mailto":
            record.warnings.append(
                Problem(
                    Code.UNSUPPORTED_URI_SCHEME,
                    f"{name}= uses {uri.scheme}:, but receivers are only required to send reports by email "
                    "(mailto:); expect no reports there.",
                    name,
                )
            )
        elif not uri.host:
            record.warnings.append(
                Problem(
                    Code.BAD_MAILTO,
                    f"{name}= “{raw}” has no valid mailbox (write mailto:reports@example.com); "
                    "no report can be sent there.",
                    name,
                )
            )
    setattr(record, name, uris)


def parse_uri(raw: str) -> DmarcUri:
    """One reporting URI: mailto:box@host, optionally with the obsolete !size suffix."""
    text = raw.strip()
    size = _SIZE.search(text)
    if size:
        text = text[: size.start()]
    if not text or not _SCHEME.match(text) or any(c.isspace() for c in text):
        return DmarcUri(raw=raw)
    scheme, _, rest = text.partition(":")
    scheme = scheme.lower()
    size_limit = size[1] if size else None
    if scheme == "mailto":
        mailbox = unquote(rest.split("?", 1)[0])
        host = mailbox.rsplit("@", 1)[1].lower() if _MAILBOX.match(mailbox) else ""
        return DmarcUri(raw=raw, scheme=scheme, address=mailbox, host=host, size_limit=size_limit)
    try:
        host = (urlsplit(text).hostname or "").lower()
    except ValueError:
        host = ""
    return DmarcUri(raw=raw, scheme=scheme, address=text, host=host, size_limit=size_limit)


def _judge_policy(record: DmarcRecord) -> None:
    """RFC 9989 4.10.1: what receivers make of a missing or invalid p (or an invalid sp/np)."""
    if record.ignored:
        return
    if record.p is None or record.subpolicy_invalid:
        if "p" not in record.tags:
            reason = "the record has no p= tag"
        elif record.p is None:
            reason = "its p= value is not valid"
        else:
            reason = "its sp= or np= value is not valid"
        if record.has_valid_rua:
            record.warnings.append(
                Problem(
                    Code.TREATED_AS_NONE,
                    f"Receivers treat this record as p=none because {reason} and it has a rua= address "
                    "(RFC 9989 section 4.10.1).",
                    "p",
                )
            )
        else:
            record.errors.append(
                Problem(
                    Code.NO_POLICY,
                    f"Receivers apply no DMARC processing at all: {reason} and there is no valid rua= "
                    "address (RFC 9989 section 4.10.1).",
                    "p",
                )
            )
        return
    if record.p == "none":
        if record.reports_requested:
            record.warnings.append(
                Problem(
                    Code.POLICY_NONE,
                    "p=none is monitoring only: spoofed mail is still delivered. With reports arriving this is "
                    "the right first step; move to p=quarantine once the reports show all your own mail passes.",
                    "p",
                )
            )
        else:
            record.warnings.append(
                Problem(
                    Code.POLICY_NONE_NO_REPORTS,
                    "p=none without a rua= mailbox does nothing: spoofed mail is delivered and nobody receives "
                    "the reports that would show who sends as this domain.",
                    "p",
                )
            )


# --- Discovery: the DNS tree walk ----------------------------------------------------------------------


class DiscoveryStatus(StrEnum):
    FOUND = "found"  # a record applies to the domain (its own, or inherited)
    NOT_FOUND = "not_found"  # DNS answered everywhere: no record applies
    SEVERAL = "several_records"  # no record applies because a name held several DMARC records
    DNS_FAILURE = "dns_failure"  # a server failure or timeout means the answer is unknown


class PolicyRole(StrEnum):
    DOMAIN = "domain"  # the record at the domain itself
    ORGANIZATIONAL = "organizational"  # inherited from the organizational domain
    PUBLIC_SUFFIX = "public_suffix"  # inherited from a psd=y record of the public suffix domain


@dataclass(frozen=True)
class WalkStep:
    """One query of the walk: _dmarc.<domain> and what came back."""

    domain: str
    dns_status: DnsStatus
    records: tuple[str, ...] = ()  # the v=DMARC1 TXT records
    other_txt: tuple[str, ...] = ()  # TXT records there that are not DMARC records
    error: str = ""

    @property
    def query(self) -> str:
        return f"_dmarc.{self.domain}"

    @property
    def failed(self) -> bool:
        return self.dns_status in (DnsStatus.SERVFAIL, DnsStatus.TIMEOUT, DnsStatus.LIMIT)

    @property
    def several(self) -> bool:
        return len(self.records) > 1

    @cached_property
    def record(self) -> DmarcRecord | None:
        """The single DMARC record at this name (several are all discarded, RFC 9989 4.10 step 2)."""
        return parse_record(self.records[0]) if len(self.records) == 1 else None


@dataclass
class DmarcDiscovery:
    domain: str
    status: DiscoveryStatus
    steps: list[WalkStep]
    organizational_domain: str  # per the RFC 9989 tree walk
    psl_organizational_domain: str | None  # per the Public Suffix List (the RFC 7489 method)
    record: DmarcRecord | None = None
    found_at: str | None = None  # the domain whose _dmarc record applies
    role: PolicyRole | None = None
    policy: str | None = None  # what receivers apply to mail from `domain` (None: no DMARC processing)
    psl_policy_domain: str | None = None  # where an RFC 7489 receiver would find the record
    psl_disagrees: bool = False
    disagreement: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def queried(self) -> list[str]:
        return [step.query for step in self.steps]

    @property
    def several_at(self) -> list[str]:
        return [step.query for step in self.steps if step.several]

    @property
    def failures(self) -> list[WalkStep]:
        return [step for step in self.steps if step.failed]

    @property
    def codes(self) -> list[Code]:
        return [p.code for p in self.problems]


def walk_names(domain: str) -> list[str]:
    """The names the tree walk asks for, in order, if nothing stops it (RFC 9989 section 4.10)."""
    labels = domain.split(".")
    names = [domain]
    start = len(labels) - (MAX_WALK_LABELS - 1) if len(labels) >= MAX_WALK_LABELS else 1
    for i in range(start, len(labels)):
        names.append(".".join(labels[i:]))
    return names


def normalise_domain(domain: str) -> str:
    """Lower-case A-labels without the trailing dot (RFC 9989 5.3.1: U-labels are converted first)."""
    name = domain.strip().rstrip(".").lower()
    if name.isascii():
        return name
    try:
        return idna.encode(name, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return name


async def _step(net: Net, domain: str) -> WalkStep:
    answer: DnsAnswer = await net.dns(f"_dmarc.{domain}", "TXT")
    values = answer.values if answer.ok else []
    dmarc = tuple(v for v in values if is_dmarc_record(v))
    other = tuple(v for v in values if not is_dmarc_record(v))
    return WalkStep(domain, answer.status, dmarc, other, answer.error)


async def discover(net: Net, domain: str) -> DmarcDiscovery:
    """Find the DMARC record that applies to a domain, as an RFC 9989 receiver would."""
    domain = normalise_domain(domain)
    steps: list[WalkStep] = []
    for name in walk_names(domain):
        step = await _step(net, name)
        steps.append(step)
        record = step.record
        if record is not None and record.psd in ("y", "n"):
            break  # RFC 9989 4.10 steps 2 and 6: a single record with psd=y or psd=n stops the walk
    org = _organizational_domain(domain, steps)
    by_name = {step.domain: step for step in steps}
    if org not in by_name:  # the 8-label shortcut can skip the organizational domain itself
        by_name[org] = await _step(net, org)
        steps.append(by_name[org])
    result = DmarcDiscovery(
        domain=domain,
        status=DiscoveryStatus.NOT_FOUND,
        steps=steps,
        organizational_domain=org,
        psl_organizational_domain=registrable_domain(domain),
    )
    _choose_policy(result, by_name)
    await _compare_with_psl(net, result, by_name)
    result.problems = _walk_problems(steps) + result.problems
    return result


def _organizational_domain(domain: str, steps: list[WalkStep]) -> str:
    """RFC 9989 4.10.2: among the names with a record, longest first."""
    found = [(step.domain, record) for step in steps if (record := step.record) is not None]
    for name, record in sorted(found, key=lambda item: -_labels(item[0])):
        if record.psd == "n":
            return name
        if record.psd == "y" and name != domain:
            return ".".join(domain.split(".")[-(_labels(name) + 1) :])
    if found:
        return min(found, key=lambda item: _labels(item[0]))[0]
    return domain


def _labels(name: str) -> int:
    return len(name.split("."))


def _choose_policy(result: DmarcDiscovery, by_name: dict[str, WalkStep]) -> None:
    """RFC 9989 4.10.1: the domain's own record, else its organizational domain's, else its PSD's."""
    own = by_name[result.domain]
    candidates: list[tuple[str, PolicyRole]] = [(result.domain, PolicyRole.DOMAIN)]
    if result.organizational_domain != result.domain:
        candidates.append((result.organizational_domain, PolicyRole.ORGANIZATIONAL))
    psd = next((s.domain for s in by_name.values() if s.record is not None and s.record.psd == "y"), None)
    if psd and psd != result.domain:
        candidates.append((psd, PolicyRole.PUBLIC_SUFFIX))
    if own.failed or (own.record is None and any(step.failed for step in by_name.values())):
        # An unanswered name may hold the record that applies: the outcome is unknown, not "no record".
        result.status = DiscoveryStatus.DNS_FAILURE
        return
    for name, role in candidates:
        record = by_name[name].record
        if record is None:
            continue
        result.status, result.record, result.found_at, result.role = DiscoveryStatus.FOUND, record, name, role
        result.policy = record.policy_for(subdomain=name != result.domain)
        return
    if any(by_name[name].several for name, _ in candidates):
        result.status = DiscoveryStatus.SEVERAL


async def _compare_with_psl(net: Net, result: DmarcDiscovery, by_name: dict[str, WalkStep]) -> None:
    """Where an RFC 7489 receiver (Public Suffix List method) would disagree with the tree walk."""
    domain, walk_org, psl_org = result.domain, result.organizational_domain, result.psl_organizational_domain
    own = by_name[domain]
    psl_step = None
    if psl_org and psl_org != domain:
        psl_step = by_name.get(psl_org) or await _step(net, psl_org)
    if own.record is not None:
        result.psl_policy_domain = domain
    elif psl_step is not None and psl_step.record is not None:
        result.psl_policy_domain = psl_org
    if result.status == DiscoveryStatus.DNS_FAILURE:
        return
    any_record = any(step.record is not None for step in by_name.values())
    orgs_differ = any_record and psl_org != walk_org
    # A failed lookup of the PSL's organizational domain leaves the RFC 7489 answer unknown, not "no record".
    policies_differ = result.psl_policy_domain != result.found_at and not (psl_step and psl_step.failed)
    if not orgs_differ and not policies_differ:
        return
    result.psl_disagrees = True
    parts = []
    if orgs_differ:
        psl_text = (
            f"the Public Suffix List method of RFC 7489 makes it {psl_org}"
            if psl_org
            else f"the Public Suffix List treats {domain} as a public suffix with no organizational domain"
        )
        parts.append(
            f"The RFC 9989 tree walk makes {walk_org} the organizational domain of {domain}, but {psl_text}. "
            "That decides which DKIM and SPF domains count as aligned, so the two kinds of receiver can reach "
            "different DMARC results."
        )
    if policies_differ:
        new = f"the record at _dmarc.{result.found_at}" if result.found_at else "no record"
        old = f"the record at _dmarc.{result.psl_policy_domain}" if result.psl_policy_domain else "no record"
        parts.append(f"Receivers that follow RFC 9989 apply {new}; receivers still on RFC 7489 apply {old}.")
    advice = _agreement_advice(result, by_name, psl_step) if orgs_differ else ""
    if not advice and policies_differ:
        advice = f"Publishing a record at _dmarc.{walk_org} makes both agree."
    if advice:
        parts.append(advice)
    result.disagreement = " ".join(parts)


def _agreement_advice(result: DmarcDiscovery, by_name: dict[str, WalkStep], psl_step: WalkStep | None) -> str:
    """How the domain owner can make both methods find the same organizational domain."""
    walk_org, psl_org = result.organizational_domain, result.psl_organizational_domain
    if not psl_org:
        return ""
    if _labels(walk_org) < _labels(psl_org):
        # A record above the registrable domain (a suffix's record without psd=y) is being taken as yours.
        return f"Publishing a record with psd=n at _dmarc.{psl_org} makes both agree."
    walk_record = by_name[walk_org].record
    if walk_record is not None and walk_record.psd == "n":
        return f"That is what psd=n at _dmarc.{walk_org} asks for; receivers still on RFC 7489 do not know the tag."
    psd = next((s.domain for s in by_name.values() if s.record is not None and s.record.psd == "y"), None)
    if psd and _labels(psd) >= _labels(psl_org):
        return f"_dmarc.{psd} declares {psd} a public suffix (psd=y), which the Public Suffix List does not list."
    if psl_step is not None and psl_step.record is None and not psl_step.failed:
        return f"Publishing a record at _dmarc.{psl_org} as well makes both agree (RFC 9989 section 5.1.4)."
    return ""


_FAILURE_REASONS = {
    DnsStatus.SERVFAIL: "the DNS server answered with a failure (SERVFAIL)",
    DnsStatus.TIMEOUT: "no DNS server answered in time",
    DnsStatus.LIMIT: "this audit's DNS query budget was used up",
}


def _walk_problems(steps: list[WalkStep]) -> list[Problem]:
    problems = []
    for step in steps:
        if step.several:
            problems.append(
                Problem(
                    Code.SEVERAL_RECORDS,
                    f"{step.query} has {len(step.records)} DMARC records; receivers must discard them all "
                    "(RFC 9989 section 4.10), as if there were none. Keep exactly one.",
                )
            )
        if step.failed:
            detail = f" ({step.error})" if step.error else ""
            problems.append(
                Problem(
                    Code.DNS_FAILURE,
                    f"The lookup of {step.query} could not be completed: {_FAILURE_REASONS[step.dns_status]}"
                    f"{detail}. This is not the same as having no record.",
                )
            )
        problems.extend(
            Problem(
                Code.MALFORMED_RECORD,
                f"{step.query} has a TXT record that looks like DMARC but does not start with “v=DMARC1;”, "
                f"so receivers ignore it: “{text[:120]}”.",
            )
            for text in step.other_txt
            if text.strip().lower().startswith("v=dmarc")
        )
    return problems


# --- External report destinations ----------------------------------------------------------------------


def needs_authorisation(domain: str, uri: DmarcUri | str) -> bool:
    """True when reports for `domain` go to another organization, which must then authorise them."""
    parsed = parse_uri(uri) if isinstance(uri, str) else uri
    if not parsed.host:
        return False
    own = registrable_domain(normalise_domain(domain)) or normalise_domain(domain)
    return (registrable_domain(parsed.host) or parsed.host) != own


async def external_rua_authorised(net: Net, domain: str, rua_uri: DmarcUri | str) -> bool | None:
    """Has the report destination published <domain>._report._dmarc.<host> starting with v=DMARC1?

    None when DNS could not answer; False when the URI has no host or no such record exists.
    """
    uri = parse_uri(rua_uri) if isinstance(rua_uri, str) else rua_uri
    if not uri.host:
        return False
    answer = await net.dns(f"{normalise_domain(domain)}._report._dmarc.{uri.host}", "TXT")
    if answer.is_failure:
        return None
    return answer.ok and any(is_dmarc_record(value) for value in answer.values)


def authorisation_record(domain: str, rua_uri: DmarcUri | str) -> str:
    """The TXT record the report destination publishes to accept reports for `domain`."""
    uri = parse_uri(rua_uri) if isinstance(rua_uri, str) else rua_uri
    return f'{normalise_domain(domain)}._report._dmarc.{uri.host} TXT "v=DMARC1;"'


# --- Fixes -----------------------------------------------------------------------------------------


def suggested_record(
    domain: str,
    policy: str = "none",
    *,
    rua: str | None = None,
    subdomain_policy: str | None = None,
    testing: bool = False,
) -> str:
    """The exact TXT value to publish at _dmarc.<domain>.

    `policy="none"` is the first step (monitoring with reports); quarantine, then reject, once the reports
    show every legitimate sender passes. Never includes the removed pct/rf/ri tags.
    """
    if policy not in POLICIES or (subdomain_policy is not None and subdomain_policy not in POLICIES):
        raise ValueError(f"policy must be one of {', '.join(POLICIES)}")
    mailbox = rua or f"mailto:dmarc-reports@{normalise_domain(domain)}"
    if not mailbox.startswith("mailto:") and "@" in mailbox:
        mailbox = f"mailto:{mailbox}"
    parts = ["v=DMARC1", f"p={policy}"]
    if subdomain_policy and subdomain_policy != policy:
        parts.append(f"sp={subdomain_policy}")
    parts.append(f"rua={mailbox}")
    if testing and policy != "none":
        parts.append("t=y")
    return "; ".join(parts)


def next_step_record(domain: str, current: DmarcRecord | None) -> str:
    """The record to move to from what is published: fix it, start monitoring, or tighten one step."""
    mailto = next((uri for uri in (current.rua if current else []) if uri.is_mailbox), None)
    rua = f"mailto:{mailto.address}" if mailto else None
    if current is None or not current.is_dmarc or current.policy is None:
        return suggested_record(domain, "none", rua=rua)
    if current.policy == "none":
        return suggested_record(domain, "quarantine", rua=rua)
    return suggested_record(domain, "reject", rua=rua)
