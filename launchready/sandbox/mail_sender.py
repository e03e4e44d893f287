"""The sandbox's mail sender: delivers test emails to the product's receiver from 127.x addresses, each one a
variant a real app's mail can come out as (correctly signed and aligned, a From domain that is not the signer's,
a body changed after signing, an expired signature, a 1024-bit key, an address SPF does not list, no TLS, passed
on by a forwarder that sealed it with ARC (its seal intact or broken), a link to a blocklisted domain, an address
on a blocklist), with the DNS records that make each one what it is (`add_sender_records`: SPF, DKIM keys, DMARC,
reverse DNS, the forwarder's ARC key and the sandbox blocklists)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid
from functools import cache
from pathlib import Path

import dkim
import dkim.canonicalization
import dkim.crypto
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from launchready.sandbox.blocklists import LISTED_DOMAIN, LISTED_IP, add_blocklist_records
from launchready.sandbox.dns_server import ZoneData

SENDER = "sends-mail.test"  # the domain the sandbox's app sends as
OTHER_BRAND = "other-brand.test"  # a From domain the sender has no right to (DMARC p=quarantine)
SENDER_HOST = f"mta.{SENDER}"
GOOD_IP = "127.0.77.10"  # listed in the sender's SPF, with forward-confirmed reverse DNS
UNLISTED_IP = "127.0.77.99"  # not in the SPF record, no reverse DNS
SELECTOR = "s2048"
SELECTOR_1024 = "s1024"
SIGNED_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id"]
FORWARDER = "forwards-mail.test"  # a forwarding service that seals what it passes on with ARC
FORWARDER_HOST = f"lists.{FORWARDER}"  # its authserv-id in Authentication-Results
ARC_SELECTOR = "arc"

VARIANTS = (
    "aligned",
    "misaligned_from",
    "body_hash",
    "expired",
    "key_1024",
    "spf_fail",
    "no_tls",
    "arc_sealed",
    "arc_broken",
    "listed_link",
    "listed_address",
)


@dataclass(frozen=True)
class SenderKeys:
    """The sender's DKIM private keys (PKCS#1 PEM, what dkimpy signs with) and their DNS records."""

    key_2048: bytes
    key_1024: bytes

    @staticmethod
    def record(private_pem: bytes) -> str:
        key = serialization.load_pem_private_key(private_pem, None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the sandbox sender's keys are RSA keys")
        der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"


def _new_key(bits: int) -> bytes:
    key = rsa.generate_private_key(65537, bits)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )


def sender_keys(directory: Path | None = None) -> SenderKeys:
    """The keys, made once per process; given a directory, kept there so that the sandbox's DNS server and a
    sender in another process publish and sign with the same ones."""
    return _keys(directory)


@cache
def _keys(directory: Path | None) -> SenderKeys:
    path = directory / "mail-sender-keys.pem" if directory is not None else None
    if path is not None and path.exists():
        blocks = path.read_bytes().split(b"\n\n")
        return SenderKeys(blocks[0] + b"\n", blocks[1] + b"\n")
    keys = SenderKeys(_new_key(2048), _new_key(1024))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(keys.key_2048.rstrip(b"\n") + b"\n\n" + keys.key_1024.rstrip(b"\n") + b"\n")
    return keys


def _reverse_name(ip: str) -> str:
    return ".".join(reversed(ip.split("."))) + ".in-addr.arpa"


def add_sender_records(zone: ZoneData, keys: SenderKeys) -> None:
    """The sending domain's SPF (a /28 around GOOD_IP), DKIM keys, DMARC (p=reject) and its server's reverse
    DNS; the other brand's DMARC (p=quarantine), whose name the misaligned variant puts in From."""
    zone.add(SENDER, "TXT", "v=spf1 ip4:127.0.77.0/28 -all")
    zone.add(SENDER, "MX", f"10 {SENDER_HOST}")
    zone.add(SENDER_HOST, "A", GOOD_IP)
    zone.add(_reverse_name(GOOD_IP), "PTR", f"{SENDER_HOST}.")
    zone.add(f"{SELECTOR}._domainkey.{SENDER}", "TXT", SenderKeys.record(keys.key_2048))
    zone.add(f"{SELECTOR_1024}._domainkey.{SENDER}", "TXT", SenderKeys.record(keys.key_1024))
    zone.add(f"_dmarc.{SENDER}", "TXT", f"v=DMARC1; p=reject; rua=mailto:dmarc@{SENDER}")
    zone.add(OTHER_BRAND, "TXT", "v=spf1 -all")
    zone.add(f"_dmarc.{OTHER_BRAND}", "TXT", "v=DMARC1; p=quarantine")
    zone.add(_reverse_name(LISTED_IP), "PTR", f"{SENDER_HOST}.")
    zone.add(SENDER_HOST, "A", LISTED_IP)
    zone.add(f"{ARC_SELECTOR}._domainkey.{FORWARDER}", "TXT", SenderKeys.record(keys.key_2048))
    add_blocklist_records(zone)


def _message(variant: str, to: str) -> EmailMessage:
    message = EmailMessage()
    author = OTHER_BRAND if variant == "misaligned_from" else SENDER
    message["From"] = f"Sends Mail <hello@{author}>"
    message["To"] = to
    message["Subject"] = f"Confirm your email ({variant})"
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    message["Message-ID"] = make_msgid(domain=SENDER)
    body = "Welcome! Confirm your address: https://sends-mail.test/confirm/abc123\n"
    if variant == "listed_link":
        body += f"Our partner's offer: https://offers.{LISTED_DOMAIN}/deal?ref=welcome\n"
    message.set_content(body)
    return message


def _sign_expired(message: bytes, key: bytes) -> bytes:
    """A signature that was made three days ago and expired two days ago (dkimpy's sign() sets no x= tag)."""
    signer = dkim.DKIM(message, signature_algorithm=b"rsa-sha256")
    signer.hasher = dkim.HASH_ALGORITHMS[b"rsa-sha256"]
    policy = dkim.canonicalization.CanonicalizationPolicy.from_c_value(b"relaxed/simple")
    body_hash = base64.b64encode(hashlib.sha256(policy.canonicalize_body(signer.body)).digest())
    signed_at = int(time.time()) - 3 * 86400
    fields = [
        (b"v", b"1"),
        (b"a", b"rsa-sha256"),
        (b"c", b"relaxed/simple"),
        (b"d", SENDER.encode()),
        (b"i", b"@" + SENDER.encode()),
        (b"q", b"dns/txt"),
        (b"s", SELECTOR.encode()),
        (b"t", str(signed_at).encode()),
        (b"x", str(signed_at + 86400).encode()),
        (b"h", b" : ".join(SIGNED_HEADERS)),
        (b"bh", body_hash),
        (b"b", b"0" * 60),
    ]
    header = signer.gen_header(
        fields, tuple(SIGNED_HEADERS), policy, b"DKIM-Signature", dkim.crypto.parse_pem_private_key(key)
    )
    return b"DKIM-Signature: " + header + message


def arc_seal(message: bytes, keys: SenderKeys, *, broken: bool = False) -> bytes:
    """The message as the forwarder passes it on: its Authentication-Results and an ARC set (RFC 8617) sealed
    with the forwarder's key; `broken` changes the sealed results afterwards, so that the seal no longer verifies."""
    results = (
        f"Authentication-Results: {FORWARDER_HOST}; dkim=pass header.d={SENDER}; spf=pass smtp.mailfrom={SENDER}\r\n"
    ).encode()
    received = results + message
    arc_set = dkim.arc_sign(
        received, ARC_SELECTOR.encode(), FORWARDER.encode(), keys.key_2048, FORWARDER_HOST.encode(), SIGNED_HEADERS
    )
    sealed = b"".join(arc_set) + received
    if broken:
        sealed = sealed.replace(b"dkim=pass header.d=", b"dkim=fail header.d=", 1)
    return sealed


def build_message(variant: str, to: str, keys: SenderKeys) -> bytes:
    """The variant's message as it goes on the wire (CRLF line ends, signed where the variant signs)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; one of {', '.join(VARIANTS)}")
    raw = _message(variant, to).as_bytes(policy=SMTP_POLICY)
    if variant == "expired":
        return _sign_expired(raw, keys.key_2048)
    selector, key = (SELECTOR_1024, keys.key_1024) if variant == "key_1024" else (SELECTOR, keys.key_2048)
    signature = dkim.sign(raw, selector.encode(), SENDER.encode(), key, include_headers=SIGNED_HEADERS)
    signed = signature + raw
    if variant == "body_hash":
        # A footer added after signing, as a relay or a link tracker would.
        signed = signed.rstrip(b"\r\n") + b"\r\n--\r\nSent with a footer added after signing\r\n"
    if variant in ("arc_sealed", "arc_broken"):
        signed = arc_seal(signed, keys, broken=variant == "arc_broken")
    return signed


def _source(variant: str) -> str:
    return {"spf_fail": UNLISTED_IP, "listed_address": LISTED_IP}.get(variant, GOOD_IP)


def _opportunistic_tls() -> ssl.SSLContext:
    # Mail servers use STARTTLS without checking the receiver's certificate (RFC 3207 opportunistic TLS);
    # the sandbox sender does the same so that it reaches the receiver at 127.0.0.1 under any name.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # opportunistic STARTTLS, as mail servers send it  # nosec B501
    return context


def send(variant: str, to: str, *, host: str, port: int, keys: SenderKeys, timeout: float = 10.0) -> str:
    """Deliver one variant to the receiver; returns the receiver's reply to the message (e.g. "250 2.0.0 …").
    Raises smtplib.SMTPException when the receiver refuses it."""
    message = build_message(variant, to, keys)
    return deliver(message, to, host=host, port=port, source=_source(variant), tls=variant != "no_tls", timeout=timeout)


def deliver(
    message: bytes,
    to: str,
    *,
    host: str,
    port: int,
    source: str = GOOD_IP,
    tls: bool = True,
    timeout: float = 10.0,
) -> str:
    """Hand a message to the receiver from `source` as the sender's server does (STARTTLS unless `tls` is off);
    returns the receiver's reply to it. Raises smtplib.SMTPException when the receiver refuses it."""
    with smtplib.SMTP(host, port, local_hostname=SENDER_HOST, source_address=(source, 0), timeout=timeout) as smtp:
        smtp.ehlo()
        if tls:
            smtp.starttls(context=_opportunistic_tls())
            smtp.ehlo()
        smtp.mail(f"bounce@{SENDER}")
        code, reply = smtp.rcpt(to)
        if code != 250:
            raise smtplib.SMTPRecipientsRefused({to: (code, reply)})
        code, reply = smtp.data(message)
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
        return f"{code} {reply.decode(errors='replace')}"
