"""Reading the certificates a TLS handshake presented: the leaf's dates, names, key and issuer, and its chain."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtensionOID, NameOID

from launchready.net import TlsInfo


@dataclass
class CertFacts:
    host: str
    issuer: str
    subject: str
    names: list[str]
    not_before: dt.datetime
    not_after: dt.datetime
    key_type: str
    key_bits: int
    chain_length: int

    @property
    def lifetime_days(self) -> int:
        return (self.not_after - self.not_before).days

    def as_evidence(self) -> dict[str, object]:
        return {
            "issuer": self.issuer,
            "subject": self.subject,
            "names": self.names,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "key": f"{self.key_type} {self.key_bits} bits",
            "chain_length": self.chain_length,
        }


def name_attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    """The first value of one attribute of a certificate's subject or issuer ("" when it has none)."""
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def certificate_facts(info: TlsInfo) -> tuple[CertFacts, x509.Certificate, list[x509.Certificate]]:
    """The leaf's facts, the leaf, and the intermediates sent with it; ValueError for an unreadable one."""
    chain = [x509.load_der_x509_certificate(der) for der in info.chain_der]
    leaf = chain[0]
    try:
        san = leaf.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
        names = san.get_values_for_type(x509.DNSName)  # type: ignore[attr-defined]
    except x509.ExtensionNotFound:
        names = [name_attribute(leaf.subject, NameOID.COMMON_NAME)]
    key = leaf.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        key_type, bits = "RSA", key.key_size
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key_type, bits = f"ECDSA {key.curve.name}", key.curve.key_size
    elif isinstance(key, ed25519.Ed25519PublicKey):
        key_type, bits = "Ed25519", 256
    else:
        key_type, bits = type(key).__name__, 0
    issuer = name_attribute(leaf.issuer, NameOID.ORGANIZATION_NAME) or name_attribute(leaf.issuer, NameOID.COMMON_NAME)
    return (
        CertFacts(
            info.host,
            issuer,
            name_attribute(leaf.subject, NameOID.COMMON_NAME),
            list(names),
            leaf.not_valid_before_utc,
            leaf.not_valid_after_utc,
            key_type,
            bits,
            len(chain),
        ),
        leaf,
        chain[1:],
    )
