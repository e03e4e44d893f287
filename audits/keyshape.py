"""Strings shaped like secret keys, and how to show one without revealing it.

`key_shaped()` is the one question the rest of the product asks ("does this text hold something that
looks like a live credential?"). It recognises the common providers' documented key formats; the
repository and bundle scanners may later answer it with their fuller detector, behind this same name.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# (provider, pattern). Formats as the providers document them; publishable and test keys are left out
# on purpose: they are meant to be seen.
PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("AWS access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("Stripe secret key", re.compile(r"\b(?:sk|rk)_live_[0-9A-Za-z]{20,99}\b")),
    ("Anthropic API key", re.compile(r"\bsk-ant-(?:api|admin)\d{2}-[0-9A-Za-z_\-]{20,120}")),
    ("OpenAI API key", re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[0-9A-Za-z_\-]{20,}T3BlbkFJ[0-9A-Za-z_\-]{20,}")),
    ("OpenAI API key", re.compile(r"\bsk-proj-[0-9A-Za-z_\-]{40,200}")),
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[0-9A-Za-z]{36}|github_pat_[0-9A-Za-z_]{50,100})\b")),
    ("GitLab token", re.compile(r"\bglpat-[0-9A-Za-z_\-]{20}\b")),
    ("Slack token", re.compile(r"\bxox[baprs]-[0-9A-Za-z\-]{10,100}")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("SendGrid API key", re.compile(r"\bSG\.[0-9A-Za-z_\-]{22}\.[0-9A-Za-z_\-]{43}\b")),
    ("Twilio API key", re.compile(r"\bSK[0-9a-f]{32}\b")),
    ("Mailgun API key", re.compile(r"\bkey-[0-9a-f]{32}\b")),
    ("Private key", re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----")),
    (
        "Database URL with password",
        re.compile(r"\b(?:postgres(?:ql)?|mysql|mongodb(?:\+srv)?|redis)://[^\s:/@]+:[^\s@/]+@[^\s/]+"),
    ),
]


@dataclass(frozen=True)
class KeyMatch:
    provider: str
    value: str

    @property
    def redacted(self) -> str:
        return redact(self.value)


def key_shaped(text: str) -> list[KeyMatch]:
    """Every distinct key-shaped string in the text, in order of appearance."""
    found: dict[str, KeyMatch] = {}
    for provider, pattern in PATTERNS:
        for match in pattern.finditer(text):
            found.setdefault(match.group(0), KeyMatch(provider, match.group(0)))
    return sorted(found.values(), key=lambda m: text.find(m.value))


def fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:12]


def redact(value: str) -> str:
    """A prefix that says what it is and a fingerprint that tells two keys apart; never the key itself."""
    shown = min(8, max(3, len(value) // 5))
    return f"{value[:shown]}*** (sha256 {fingerprint(value)})"
