"""A throw-away certificate authority for the sandbox: a root, an intermediate and leaf certificates
in every state an audit must recognise (valid, expired, not yet valid, wrong name, self-signed,
missing intermediate, weak key, issued by the root itself with or without an Authority Key Identifier,
issued by a private root that no one trusts)."""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


class CertKind(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRING_SOON = "expiring_soon"  # 10 days left
    EXPIRING_VERY_SOON = "expiring_very_soon"  # 2 days left
    WRONG_NAME = "wrong_name"
    SELF_SIGNED = "self_signed"
    MISSING_INTERMEDIATE = "missing_intermediate"
    WEAK_KEY = "weak_key"  # RSA 1024
    LONG_LIVED = "long_lived"  # a 398-day certificate from a paid CA rather than a 90-day ACME one
    ROOT_ISSUED = "root_issued"  # signed by the trusted root itself: nothing missing from the chain
    ROOT_ISSUED_NO_AKI = "root_issued_no_aki"  # the same without an Authority Key Identifier: browsers accept it
    PRIVATE_CA = "private_ca"  # signed by a private root, sent along with it, that no trust store holds
    CLIENT_ONLY = "client_only"  # a chain browsers trust, for a certificate meant for clients, not servers


@dataclass
class IssuedCert:
    cert_path: Path  # the chain the server presents, leaf first
    key_path: Path
    leaf: x509.Certificate


def _name(common_name: str, org: str = "Launch Ready Sandbox") -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org), x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _purpose(kind: CertKind) -> x509.ObjectIdentifier:
    return ExtendedKeyUsageOID.CLIENT_AUTH if kind == CertKind.CLIENT_ONLY else ExtendedKeyUsageOID.SERVER_AUTH


class SandboxCA:
    """Root and intermediate live for the life of the object; leaves are issued on demand into a temp dir."""

    def __init__(self, directory: Path | None = None) -> None:
        """A new CA in a temp dir; or, given a directory, the CA kept there (made on first use), so that
        processes started before a sandbox restart keep trusting it."""
        self.dir = directory or Path(tempfile.mkdtemp(prefix="launchready-ca-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.bundle_path = self.dir / "sandbox-root.pem"
        if directory is not None and self._load():
            return
        now = dt.datetime.now(dt.UTC)
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.root = self._ca_cert(_name("Launch Ready Sandbox Root CA"), self.root_key, None, now, path_length=1)
        self.inter_key = ec.generate_private_key(ec.SECP256R1())
        self.inter = self._ca_cert(
            _name("Launch Ready Sandbox Issuing CA"), self.inter_key, self.root, now, path_length=0
        )
        (self.dir / "ca-state.pem").write_bytes(
            _pem(self.root) + _key_pem(self.root_key) + _pem(self.inter) + _key_pem(self.inter_key)
        )
        self.bundle_path.write_bytes(_pem(self.root))

    def _load(self) -> bool:
        state = self.dir / "ca-state.pem"
        if not state.exists() or not self.bundle_path.exists():
            return False
        data = state.read_bytes()
        certs = x509.load_pem_x509_certificates(data)
        keys = [
            serialization.load_pem_private_key(b"-----BEGIN PRIVATE KEY-----" + block, None)
            for block in data.split(b"-----BEGIN PRIVATE KEY-----")[1:]
        ]
        self.root, self.inter = certs[0], certs[1]
        self.root_key, self.inter_key = keys[0], keys[1]  # type: ignore[assignment]
        return True

    def _ca_cert(
        self,
        subject: x509.Name,
        key: ec.EllipticCurvePrivateKey,
        issuer: x509.Certificate | None,
        now: dt.datetime,
        path_length: int,
    ) -> x509.Certificate:
        signer = self.root_key if issuer is not None else key
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer.subject if issuer is not None else subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=365))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )
        if issuer is not None:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.root_key.public_key()), critical=False
            )
        return builder.sign(signer, hashes.SHA256())

    def _signer(self, kind: CertKind) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        """Who signs a leaf of this kind: the intermediate, the root itself, or a private root of its own."""
        if kind in (CertKind.ROOT_ISSUED, CertKind.ROOT_ISSUED_NO_AKI):
            return self.root, self.root_key
        if kind == CertKind.PRIVATE_CA:
            key = ec.generate_private_key(ec.SECP256R1())
            now = dt.datetime.now(dt.UTC)
            private = _name("Acme Corp Internal Root CA", org="Acme Corp")
            return self._self_signed_ca(private, key, now), key
        return self.inter, self.inter_key

    def _self_signed_ca(
        self, subject: x509.Name, key: ec.EllipticCurvePrivateKey, now: dt.datetime
    ) -> x509.Certificate:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=365))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )

    def issue(self, names: list[str], kind: CertKind = CertKind.VALID, org: str = "") -> IssuedCert:
        """A leaf for these host names, in the state `kind` asks for, with the chain a server would send;
        `org` names the organisation in its subject (and, self-signed, in its issuer)."""
        now = dt.datetime.now(dt.UTC)
        key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
        key = (
            rsa.generate_private_key(65537, 1024)  # noqa: S505 - the weak-key scenario  # nosec B505
            if kind == CertKind.WEAK_KEY
            else ec.generate_private_key(ec.SECP256R1())
        )
        start, end = now - dt.timedelta(days=30), now + dt.timedelta(days=60)  # a 90-day ACME-style lifetime
        if kind == CertKind.EXPIRED:
            start, end = now - dt.timedelta(days=120), now - dt.timedelta(days=30)
        elif kind == CertKind.NOT_YET_VALID:
            start, end = now + dt.timedelta(days=2), now + dt.timedelta(days=92)
        elif kind == CertKind.EXPIRING_SOON:
            start, end = now - dt.timedelta(days=80), now + dt.timedelta(days=10)
        elif kind == CertKind.EXPIRING_VERY_SOON:
            start, end = now - dt.timedelta(days=88), now + dt.timedelta(days=2)
        elif kind == CertKind.LONG_LIVED:
            start, end = now - dt.timedelta(days=30), now + dt.timedelta(days=368)
        san_names = ["unrelated.invalid"] if kind == CertKind.WRONG_NAME else names
        self_signed = kind == CertKind.SELF_SIGNED
        signer_cert, signer_key = self._signer(kind)
        subject = _name(san_names[0], org) if org else _name(san_names[0])
        issuer_name = subject if self_signed else signer_cert.subject
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in san_names]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([_purpose(kind)]), critical=False)
            .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True)
        )
        if not self_signed and kind != CertKind.ROOT_ISSUED_NO_AKI:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()), critical=False
            )
        leaf = builder.sign(key if self_signed else signer_key, hashes.SHA256())
        chain = [leaf]
        sends_issuer = kind == CertKind.PRIVATE_CA or (
            signer_cert is self.inter and kind != CertKind.MISSING_INTERMEDIATE
        )
        if sends_issuer and not self_signed:
            chain.append(signer_cert)
        stem = f"{names[0].replace('*', 'wildcard')}-{kind}"
        cert_path, key_path = self.dir / f"{stem}.pem", self.dir / f"{stem}.key"
        cert_path.write_bytes(b"".join(_pem(c) for c in chain))
        key_path.write_bytes(_key_pem(key))
        return IssuedCert(cert_path, key_path, leaf)
