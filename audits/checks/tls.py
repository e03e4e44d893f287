"""TLS checks: reachable on 443, certificate dates, name, chain and key, old protocol versions."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
import warnings
from dataclasses import dataclass
from functools import cache

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtensionOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from audits.checks.declaration import Check
from audits.checks.dns import CAA_IDS, check_caa
from audits.findings import Finding, Severity
from audits.target import AuditTarget
from launchready.net import FetchError, Net, TlsInfo
from launchready.tls import CertFacts, certificate_facts, name_attribute

EXPIRY_HIGH_DAYS = 14
EXPIRY_BLOCKER_DAYS = 3


@cache
def _store(ca_bundle: str | None) -> tuple[Store, list[x509.Certificate]]:
    """The trusted roots, as the strict verifier's store and as certificates to build a path to."""
    import certifi

    paths = [certifi.where()] + ([ca_bundle] if ca_bundle else [])
    roots: list[x509.Certificate] = []
    for path in paths:
        with open(path, "rb") as handle, warnings.catch_warnings():
            # A few public roots carry non-positive serials; cryptography warns but loads them.
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            roots.extend(x509.load_pem_x509_certificates(handle.read()))
    return Store(roots), roots


def name_matches(host: str, names: list[str]) -> bool:
    host = host.lower()
    for name in (n.lower() for n in names):
        if name == host:
            return True
        if name.startswith("*.") and host.count(".") == name.count(".") and host.endswith(name[1:]):
            return True
    return False


# Rules of the strict (CA/Browser Forum) profile that browsers do not enforce: a certificate that breaks
# only these still opens in every browser.
BROWSERS_ACCEPT = {
    ExtensionOID.AUTHORITY_KEY_IDENTIFIER.dotted_string: "Authority Key Identifier",
    ExtensionOID.SUBJECT_KEY_IDENTIFIER.dotted_string: "Subject Key Identifier",
}
MAX_DEPTH = 6
CHAIN_CHECKS = {"incomplete": "tls.chain_incomplete", "strict": "tls.chain_strict"}


@dataclass(frozen=True)
class ChainProblem:
    """Why the chain as presented fails: `incomplete` (an issuer neither sent nor a trusted root),
    `untrusted` (browsers refuse it too), or `strict` (only a strict verifier refuses it; browsers accept)."""

    kind: str
    detail: str


def _issued_by(cert: x509.Certificate, candidates: list[x509.Certificate]) -> x509.Certificate | None:
    for candidate in candidates:
        if candidate.subject != cert.issuer:
            continue
        try:
            cert.verify_directly_issued_by(candidate)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return candidate
    return None


def _path_to_root(
    leaf: x509.Certificate, sent: list[x509.Certificate], roots: list[x509.Certificate]
) -> tuple[x509.Certificate | None, x509.Certificate]:
    """Walk up from the leaf the way a browser builds a path, by names and signatures only: (the trusted
    root reached, or None; the last certificate reached)."""
    current = leaf
    for _ in range(MAX_DEPTH):
        root = _issued_by(current, roots)
        if root is not None:
            return root, current
        if current.issuer == current.subject:
            return None, current  # a root of its own that no trust store holds
        issuer = _issued_by(current, [c for c in sent if c is not current])
        if issuer is None:
            return None, current
        current = issuer
    return None, current


def _strict_reason(message: str) -> str | None:
    """What a browser-accepted rule the strict verifier named, in words; None if it named another."""
    for oid, words in BROWSERS_ACCEPT.items():
        if oid in message:
            return f"it carries no {words} (extension {oid}), which RFC 5280 requires"
    return None


def _chain_problem(
    cert: CertFacts, leaf: x509.Certificate, intermediates: list[x509.Certificate], ca_bundle: str | None
) -> ChainProblem | None:
    """Whether a public (or configured) root vouches for the chain as presented, dates and name aside;
    when not, why, in the terms a browser would use."""
    when = cert.not_before + (cert.not_after - cert.not_before) / 2
    subject_name = next((n for n in cert.names if not n.startswith("*.")), None) or cert.names[0].lstrip("*.")
    store, roots = _store(ca_bundle)
    verifier = PolicyBuilder().store(store).time(when).build_server_verifier(x509.DNSName(subject_name))
    try:
        verifier.verify(leaf, intermediates)
    except VerificationError as exc:
        message = str(exc)
    except ValueError as exc:
        return ChainProblem("untrusted", str(exc)[:200])
    else:
        return None
    if leaf.issuer == leaf.subject:
        return ChainProblem("untrusted", "self-signed")
    root, last = _path_to_root(leaf, intermediates, roots)
    if root is not None:
        strict = _strict_reason(message)
        if strict is not None:
            return ChainProblem("strict", strict)
        return ChainProblem("untrusted", _first_reason(message))
    name, issuer = name_attribute(last.subject, NameOID.COMMON_NAME), name_attribute(last.issuer, NameOID.COMMON_NAME)
    if last.issuer == last.subject:
        return ChainProblem("untrusted", f"issued by {name}, a root no browser trusts")
    if any(c.subject == last.issuer for c in intermediates):  # the issuer was sent; its signature does not match
        return ChainProblem("untrusted", f"{name} was not signed by the {issuer} certificate sent with it")
    return ChainProblem("incomplete", f"its issuer, {issuer}, is neither sent nor a trusted root")


# The verifier's reasons that browsers share, in the words a founder can act on.
REASONS = {
    "required EKU not found": "it is not issued for web servers (its Extended Key Usage lacks server authentication)"
}


def _first_reason(message: str) -> str:
    """The verifier's reason without its wrapping ("validation failed: …", the certificate's repr)."""
    reason = message.removeprefix("validation failed: ").split(" (encountered processing", 1)[0]
    return REASONS.get(reason, reason)[:200]


def evaluate(
    info: TlsInfo, now: dt.datetime | None = None, ca_bundle: str | None = None
) -> tuple[list[Finding], CertFacts | None]:
    """Findings for one host's certificate as presented in the handshake."""
    host = info.host
    if not info.ok:
        return [
            Finding(
                "tls.unreachable",
                host,
                {"error": str(info.error), "detail": info.detail},
                {"host": host, "detail": info.detail or str(info.error)},
                host=host,
            )
        ], None
    try:
        cert, leaf, intermediates = certificate_facts(info)
    except ValueError as exc:
        return [
            Finding(
                "tls.untrusted",
                host,
                {"detail": str(exc)[:200]},
                {"host": host, "detail": "unreadable certificate"},
                host=host,
            )
        ], None
    now = now or dt.datetime.now(dt.UTC)
    evidence = cert.as_evidence() | {"protocol": info.protocol}
    params = {"host": host, "not_after": f"{cert.not_after:%d %B %Y}", "not_before": f"{cert.not_before:%d %B %Y}"}
    findings: list[Finding] = []
    days_left = (cert.not_after - now).total_seconds() / 86400
    if cert.not_after <= now:
        findings.append(Finding("tls.expired", host, evidence, params, host=host))
    elif cert.not_before > now:
        findings.append(Finding("tls.not_yet_valid", host, evidence, params, host=host))
    elif days_left < EXPIRY_BLOCKER_DAYS:
        findings.append(
            Finding("tls.expiring_soon", host, evidence, params | {"days": int(days_left)}, Severity.BLOCKER, host=host)
        )
    elif days_left < EXPIRY_HIGH_DAYS:
        findings.append(Finding("tls.expiring_soon", host, evidence, params | {"days": int(days_left)}, host=host))
    if not name_matches(host, cert.names):
        findings.append(Finding("tls.hostname_mismatch", host, evidence, params | {"names": cert.names}, host=host))
    problem = _chain_problem(cert, leaf, intermediates, ca_bundle)
    if problem is not None:
        check_id = CHAIN_CHECKS.get(problem.kind, "tls.untrusted")
        findings.append(
            Finding(
                check_id, host, evidence | {"problem": problem.detail}, params | {"detail": problem.detail}, host=host
            )
        )
    if cert.key_type == "RSA" and cert.key_bits < 2048:
        findings.append(Finding("tls.weak_key", host, evidence, params | {"bits": cert.key_bits}, host=host))
    acme = cert.lifetime_days <= 100
    days, until = cert.lifetime_days, params["not_after"]
    renewal = (
        f"A {days}-day certificate suggests automatic (ACME) renewal; it expires on {until}."
        if acme
        else f"A {days}-day certificate is usually renewed by hand: put {until} in the calendar."
    )
    findings.append(
        Finding(
            "tls.certificate",
            host,
            evidence,
            {"host": host, "issuer": cert.issuer, "lifetime": cert.lifetime_days, "renewal": renewal},
            host=host,
        )
    )
    return findings, cert


async def check_old_protocols(host: str, net: Net) -> list[Finding]:
    info = await net.tls(host, max_version=ssl.TLSVersion.TLSv1_1)
    if info.error is None and info.protocol in ("TLSv1", "TLSv1.1"):
        return [
            Finding(
                "tls.old_protocol",
                host,
                {"accepted": info.protocol},
                {"host": host, "protocol": info.protocol},
                host=host,
            )
        ]
    return []


async def https_hosts(target: AuditTarget, net: Net) -> list[str]:
    """The hosts that resolve: each is expected to answer HTTPS."""
    lookups = await asyncio.gather(*(net.addresses(host) for host in target.hosts))
    return [host for host, (addresses, _, _) in zip(target.hosts, lookups, strict=True) if addresses]


async def check_tls(target: AuditTarget, net: Net) -> tuple[list[Finding], dict[str, CertFacts]]:
    hosts = await https_hosts(target, net)
    # The old-protocol probes run beside the main handshakes, not after them: one round trip, not two.
    infos, old = await asyncio.gather(
        asyncio.gather(*(net.handshake(host) for host in hosts)),
        asyncio.gather(*(check_old_protocols(host, net) for host in hosts)),
    )
    findings: list[Finding] = [f for group in old for f in group]
    certs: dict[str, CertFacts] = {}
    for info in infos:
        if info.error == FetchError.REFUSED:
            continue  # reported by the DNS checks as a private address
        host_findings, cert = evaluate(info, ca_bundle=net.config.ca_bundle)
        findings.extend(host_findings)
        if cert is not None:
            certs[info.host] = cert
    return findings, certs


async def check_tls_and_caa(target: AuditTarget, net: Net) -> list[Finding]:
    """The TLS checks, then CAA judged against the authority that issued the certificate seen."""
    # The CAA question is asked at once (and shared), so judging it after the handshake costs no round trip.
    caa_prefetch = asyncio.ensure_future(net.dns(target.apex, "CAA"))
    findings, certs = await check_tls(target, net)
    await caa_prefetch
    issuer = next((c.issuer for c in certs.values()), None)
    return findings + await check_caa(target, net, issuer)


TLS_IDS = frozenset(
    {
        "tls.unreachable",
        "tls.untrusted",
        "tls.expired",
        "tls.not_yet_valid",
        "tls.expiring_soon",
        "tls.hostname_mismatch",
        "tls.chain_incomplete",
        "tls.chain_strict",
        "tls.weak_key",
        "tls.certificate",
        "tls.old_protocol",
    }
)
CHECKS = (Check("tls", check_tls_and_caa, TLS_IDS | CAA_IDS),)
