"""The one secret detector: the maintained rule catalog (audits/secrets/catalog.py, hundreds of providers) and,
on top where they add precision, detect-secrets' plugins, filters and entropy measure with plugins of our own;
then one classification (secret, publishable, or ignored as a test key or placeholder).

A key found is never kept whole: a `Hit` holds the provider, a short prefix and a fingerprint (the first
eight hex digits of its SHA-256), which is enough to recognise the same key elsewhere and nothing more.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from re import Pattern

from detect_secrets.filters.heuristic import is_sequential_string, is_templated_secret
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector

from audits.secrets.catalog import Match, catalog_scan, rule_family
from audits.secrets.providers import PUBLIC_LABELS, catalog_slug, provider_for


class Kind(StrEnum):
    SECRET = "secret"  # a blocker wherever it is found  # nosec B105
    PUBLISHABLE = "publishable"  # meant to be public (a Stripe pk_live_): worth knowing, nothing more
    # Made for a page or an app, so public there, and protected only by its restrictions: a Google API key that
    # may call Maps or Gemini and bill the founder. Not a key to rotate, a key to restrict.
    RESTRICT = "restrict"


@dataclass(frozen=True)
class Hit:
    """One key seen, redacted: what it is, a prefix, a fingerprint, and the line it is on."""

    provider: str
    kind: Kind
    prefix: str
    fingerprint: str
    line: int = 0

    @property
    def redacted(self) -> str:
        return f"{self.prefix}•••• (sha256 {self.fingerprint})"

    @property
    def _described(self) -> str:
        """The provider that describes this key: an AWS key without an access key id's prefix is its secret."""
        return "aws_secret" if self.provider == "aws" and not self.prefix else self.provider

    @property
    def label(self) -> str:
        if self.kind == Kind.PUBLISHABLE:
            return PUBLIC_LABELS.get(self.provider, provider_for(self.provider).label)
        return provider_for(self._described).label

    @property
    def rotation(self) -> str:
        return provider_for(self._described).rotation


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()[:8]


# --- Plugins for what detect-secrets lacks (or matches too loosely for keys of today's length) -----------


def _rx(*patterns: str, flags: int = 0) -> tuple[Pattern[str], ...]:
    return tuple(re.compile(p, flags) for p in patterns)


class StripeKeyDetector(RegexBasedDetector):
    secret_type = "Stripe key"  # nosec B105 - a label
    denylist = _rx(r"(?<![A-Za-z0-9_])([rsp]k_(?:live|test)_[0-9A-Za-z]{24,247})(?![0-9A-Za-z])")


class OpenAIProjectKeyDetector(RegexBasedDetector):
    secret_type = "OpenAI project key"  # nosec B105 - a label
    denylist = _rx(
        r"(?<![A-Za-z0-9_-])(sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,250})(?![A-Za-z0-9_-])",
        r"(?<![A-Za-z0-9_-])(sk-[A-Za-z0-9]{48})(?![A-Za-z0-9_-])",
    )


class AnthropicKeyDetector(RegexBasedDetector):
    secret_type = "Anthropic key"  # nosec B105 - a label
    denylist = _rx(r"(?<![A-Za-z0-9_-])(sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{80,120})(?![A-Za-z0-9_-])")


class GoogleApiKeyDetector(RegexBasedDetector):
    secret_type = "Google API key"  # nosec B105 - a label
    denylist = _rx(r"(?<![A-Za-z0-9_-])(AIza[0-9A-Za-z_-]{35})(?![A-Za-z0-9_-])")


class GcpServiceAccountDetector(RegexBasedDetector):
    secret_type = "GCP service-account key"  # nosec B105 - a label
    denylist = _rx(r'"private_key_id"\s*:\s*"([0-9a-f]{40})"')


class HuggingFaceDetector(RegexBasedDetector):
    secret_type = "Hugging Face token"  # nosec B105 - a label
    denylist = _rx(r"(?<![A-Za-z0-9_])(hf_[A-Za-z]{34})(?![A-Za-z0-9])")


class TwilioDetector(RegexBasedDetector):
    secret_type = "Twilio credential"  # nosec B105 - a label
    denylist = (
        re.compile(r"(?<![A-Za-z0-9])(SK[0-9a-f]{32})(?![A-Za-z0-9])"),
        re.compile(r"twilio\w{0,20}?(?:auth)?_?token\W{1,6}([0-9a-f]{32})(?![0-9a-f])", re.IGNORECASE),
    )


class MailgunDetector(RegexBasedDetector):
    secret_type = "Mailgun key"  # nosec B105 - a label
    denylist = (
        re.compile(r"(?<![A-Za-z0-9_-])(key-[0-9a-zA-Z]{32})(?![A-Za-z0-9])"),
        re.compile(r"mailgun\w{0,20}\W{1,6}([0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8})(?![0-9a-f])", re.IGNORECASE),
    )


class GitHubPatDetector(RegexBasedDetector):
    secret_type = "GitHub fine-grained token"  # nosec B105 - a label
    denylist = _rx(r"(?<![A-Za-z0-9_])(github_pat_[A-Za-z0-9_]{82})(?![A-Za-z0-9_])")


class NpmTokenDetector(RegexBasedDetector):
    secret_type = "npm token"  # nosec B105 - a label
    denylist = _rx(r"(?<![A-Za-z0-9_])(npm_[A-Za-z0-9]{36})(?![A-Za-z0-9])")


class ShopifyDetector(RegexBasedDetector):
    secret_type = "Shopify token"  # nosec B105 - a label
    denylist = _rx(r"(?<![A-Za-z0-9_])(shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32})(?![A-Za-z0-9])")


class SupabaseKeyDetector(RegexBasedDetector):
    secret_type = "Supabase key"  # nosec B105 - a label
    denylist = _rx(r"(?<![A-Za-z0-9_])(sb_(?:secret|publishable)_[A-Za-z0-9_-]{20,80})(?![A-Za-z0-9_-])")


class FirebaseServerKeyDetector(RegexBasedDetector):
    secret_type = "Firebase server key"  # nosec B105 - a label
    denylist = _rx(r"(?<![A-Za-z0-9_-])(AAAA[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{100,200})(?![A-Za-z0-9_-])")


class DiscordWebhookDetector(RegexBasedDetector):
    secret_type = "Discord webhook"  # nosec B105 - a label
    denylist = _rx(r"(https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d{5,20}/[A-Za-z0-9_-]{60,80})")


class TelegramDetector(RegexBasedDetector):
    secret_type = "Telegram bot token"  # nosec B105 - a label
    denylist = _rx(r"(?<![0-9A-Za-z])(\d{8,10}:AA[0-9A-Za-z_-]{33})(?![0-9A-Za-z_-])")


class PemPrivateKeyDetector(RegexBasedDetector):
    secret_type = "Private key"  # nosec B105 - a label
    # The body is what is fingerprinted: two keys of the same kind differ there, not in the BEGIN line. It
    # never holds "-----", so a BEGIN line without its END gives up at the next marker (no quadratic search).
    denylist = _rx(r"-----BEGIN ((?:[A-Z0-9]+ )?PRIVATE KEY(?: BLOCK)?)-----((?:[^-]|-(?!----)){64,12000}?)-----END")


class AzureAccountKeyDetector(RegexBasedDetector):
    secret_type = "Azure storage account key"  # nosec B105 - a label
    # detect-secrets' pattern, with the key itself as the group (the fingerprint is of the key, not the name).
    denylist = (re.compile(AzureStorageKeyDetector.denylist[0].pattern.replace("AccountKey=", "AccountKey=(") + ")"),)


class SupabaseJwtDetector(RegexBasedDetector):
    secret_type = "Supabase JWT key"  # nosec B105 - a label
    # detect-secrets' JWT pattern stops before the signature; a key's fingerprint needs all three parts.
    denylist = _rx(r"(?<![A-Za-z0-9_-])(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,})")


class DiscordTokenDetector(RegexBasedDetector):
    secret_type = "Discord bot token"  # nosec B105 - a label
    # detect-secrets' pattern over ASCII: its \d would take any script's digits, which no token holds.
    denylist = (re.compile(DiscordBotTokenDetector.denylist[0].pattern, re.ASCII),)


class SlackTokenDetector(RegexBasedDetector):
    secret_type = "Slack token"  # nosec B105 - a label
    denylist = (SlackDetector.denylist[0],)


class SlackWebhookDetector(RegexBasedDetector):
    secret_type = "Slack webhook"  # nosec B105 - a label
    denylist = (SlackDetector.denylist[1],)


class AwsSecretEnvDetector(RegexBasedDetector):
    secret_type = "AWS secret access key"  # nosec B105 - a label
    denylist = _rx(
        r"aws_?secret_?(?:access_?)?key\w{0,10}[\"']?\s*[=:]\s*[\"']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])",
        flags=re.IGNORECASE,
    )


class DatabaseUrlDetector(RegexBasedDetector):
    secret_type = "Database URL with password"  # nosec B105 - a label
    denylist = _rx(
        r"\b(postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?)://([A-Za-z0-9._%~-]*):"
        r"([^@\s/'\"`<>{}$]{3,128})@([A-Za-z0-9.\-_]+)"
    )


class SigningSecretDetector(RegexBasedDetector):
    secret_type = "Signing secret"  # nosec B105 - a label
    _names = (
        r"(?:jwt_?secret(?:_?key)?|jwt_?signing_?key|jwt_?private_?key|secret_?key_?base|session_?secret|"
        r"nextauth_?secret|auth_?secret|cookie_?secret|django_?secret_?key|secret_?key)"
    )
    denylist = (
        re.compile(rf"(?<![A-Za-z0-9_]){_names}[\"']?\s*(?:=|:|=>)\s*[\"']([^\"'\s]{{16,200}})[\"']", re.IGNORECASE),
        # `export` and the name on one line: a match starts where its line starts (see the rule's anchors).
        re.compile(rf"^(?:export[ \t]+)?{_names}=([^\s\"'#]{{16,200}})\s*$", re.IGNORECASE | re.MULTILINE),
    )


# --- Rules: a plugin, the provider it speaks for, how much may be shown, how to classify what it finds ---

Classify = Callable[[str, str], Kind | None]  # (secret, the text around it) -> kind, or None to ignore


def _secret(secret: str, around: str) -> Kind | None:
    return Kind.SECRET


def _stripe(secret: str, around: str) -> Kind | None:
    if "_test_" in secret[:8]:
        return None  # a test-mode key moves no money
    if "clerk" in around.lower():
        return None  # Clerk's keys share the prefix; the catalog's Clerk rule reports them
    return Kind.PUBLISHABLE if secret.startswith("pk_") else Kind.SECRET


def _not_anthropic(secret: str, around: str) -> Kind | None:
    return None if secret.startswith("sk-ant-") else Kind.SECRET


def _supabase_key(secret: str, around: str) -> Kind | None:
    return Kind.PUBLISHABLE if secret.startswith("sb_publishable_") else Kind.SECRET


GOOGLE_AI_WORDS = re.compile(r"gemini|generativelanguage|google_?ai|genai|aistudio", re.IGNORECASE)
# A Firebase config's API key: what names the key (a web config's apiKey, FIREBASE_API_KEY in an environment
# file, google-services.json's current_key, GoogleService-Info.plist's API_KEY), then a field of the same config
# around it. A Firebase web config is public by design; any other Google key is one to restrict.
FIREBASE_KEY_NAME = re.compile(
    r"(?:\bapiKey|FIREBASE_API_KEY|\bcurrent_key)[\"']?\s*[:=]\s*[\"'`]?$|<key>API_KEY</key>\s*<string>$"
)
FIREBASE_FIELDS = re.compile(
    r"\b(?:authDomain|projectId|storageBucket|messagingSenderId|appId|measurementId|databaseURL)\b"
    r"|FIREBASE_(?:AUTH_DOMAIN|PROJECT_ID|STORAGE_BUCKET|MESSAGING_SENDER_ID|APP_ID)"
    r"|\b(?:project_info|mobilesdk_app_id|firebase_url)\b|<key>(?:GOOGLE_APP_ID|GCM_SENDER_ID|PROJECT_ID)</key>"
)


def is_firebase_config(secret: str, around: str) -> bool:
    """Whether the key is the API key of a Firebase config (named as one, beside the config's other fields)."""
    at = around.find(secret)
    return (
        at >= 0
        and bool(FIREBASE_KEY_NAME.search(around[max(0, at - 40) : at]))
        and bool(FIREBASE_FIELDS.search(around))
    )


def _google_provider(secret: str, around: str) -> str:
    if is_firebase_config(secret, around):
        return "firebase_web"  # Firebase AI Logic calls Gemini with this very key, guarded by App Check
    if GOOGLE_AI_WORDS.search(around):
        return "google_ai"
    return "gcp_api_key"


def _google(secret: str, around: str) -> Kind | None:
    return Kind.SECRET if _google_provider(secret, around) == "google_ai" else Kind.RESTRICT


def jwt_claims(token: str) -> dict[str, object]:
    try:
        part = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError, binascii.Error, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _supabase_jwt(secret: str, around: str) -> Kind | None:
    """A JWT is only a finding when it is a Supabase key: the service role is secret, the anon role public."""
    if not JwtTokenDetector.is_formally_valid(secret):
        return None
    claims = jwt_claims(secret)
    role = claims.get("role")
    if claims.get("iss") != "supabase" and "supabase" not in around.lower():
        return None
    if role == "service_role":
        return Kind.SECRET
    return Kind.PUBLISHABLE if role == "anon" else None


LOCAL_HOSTS = {"localhost", "127.0.0.1", "0.0.0.0", "::1", "host", "hostname", "example.com", "example.org"}  # noqa: S104  # nosec B104 - names to ignore, not an address to bind
PLACEHOLDER_PASSWORDS = {
    "password", "pass", "passwd", "pwd", "secret", "changeme", "change_me", "postgres", "root", "mysql", "admin",
    "user", "username", "example", "test", "dev", "guest", "redis", "mongo", "db", "app",
}  # fmt: skip


def _database_url(secret: str, around: str) -> Kind | None:
    match = DatabaseUrlDetector.denylist[0].search(around)
    host = (match.group(4) if match else "").lower()
    if host in LOCAL_HOSTS or host.endswith((".local", ".example", ".test", ".invalid")) or "example" in host:
        return None
    return None if secret.lower() in PLACEHOLDER_PASSWORDS else Kind.SECRET


def _signing(secret: str, around: str) -> Kind | None:
    # A value read from the environment or a template is not a secret in the code.
    if re.search(r"env|getenv|process\.|\(|\$\{|%\(|\{\{", secret, re.IGNORECASE):
        return None
    return Kind.SECRET if _entropy(secret) >= 3.3 else None


@dataclass(frozen=True)
class Anchor:
    """Where a rule's matches can start. Every match of the rule's patterns holds one of its anchors, so the
    patterns are tried only at the places the anchors give, instead of at every character of a file.

    `pattern` is found by the catalog's engine (a Rust regular expression over bytes, "(?i)" for a rule that
    ignores case) in the same pass as the catalog's rules. Two matches of one anchor never overlap (the engine
    reports matches that do not overlap, so an anchor like "ABIA", whose end could begin another, would lose
    one). A match starts `back` characters (from, to) before the anchor, or, with `line`, where the anchor's
    line starts; with `search`, the pattern is searched for from there on."""

    pattern: str
    back: tuple[int, int] = (0, 0)
    line: bool = False
    search: bool = False


def _at(pattern: str, back: int | tuple[int, int] = 0) -> Anchor:
    return Anchor(pattern, back if isinstance(back, tuple) else (back, back))


@dataclass(frozen=True)
class Rule:
    plugin: RegexBasedDetector
    provider: str | Callable[[str, str], str]  # a slug, or a function of the key and the text around it
    shown: int | Callable[[str], int]  # characters of the key that may be shown
    classify: Classify = _secret
    anchors: tuple[Anchor, ...] = ()  # where its patterns' matches can start
    group: int = 0  # which group holds the key when the plugin's own pattern matches more than the key
    min_entropy: float = 3.0


def _public_prefix(*prefixes: str) -> Callable[[str], int]:
    """Show a key's provider prefix (AKIA, SK) and nothing of a key that has none."""
    return lambda secret: next((len(p) for p in prefixes if secret.startswith(p)), 0)


def _upto(sep: str, extra: int = 0) -> Callable[[str], int]:
    return lambda secret: (secret.find(sep) + len(sep) + extra) if sep in secret else 4


_AWS = _at("(?i)aws")
_SK = _at("sk-")
# A signing secret's name holds "secret" at most 9 characters in (nextauth_secret) or starts with "jwt"; the
# second pattern's match starts where the name's line starts.
_SECRET_NAMES = (
    _at("(?i)secret", (0, 9)),
    _at("(?i)jwt"),
    Anchor("(?i)secret", line=True),
    Anchor("(?i)jwt", line=True),
)
_aws = AWSKeyDetector()
RULES: list[Rule] = [
    Rule(
        _aws,
        "aws",
        _public_prefix("A3T", "ABIA", "ACCA", "AKIA", "ASIA"),
        anchors=(_at("A(?:3T|BI|CC|KI|SI)"), _AWS),
    ),
    Rule(AwsSecretEnvDetector(), "aws", 0, anchors=(_AWS,), min_entropy=3.5),
    Rule(GcpServiceAccountDetector(), "gcp_service_account", 0, anchors=(_at("private_key_id", 1),)),
    Rule(GoogleApiKeyDetector(), _google_provider, 4, _google, anchors=(_at("AIza"),)),
    Rule(AzureAccountKeyDetector(), "azure_storage", 0, anchors=(_at("AccountKey="),)),
    Rule(StripeKeyDetector(), "stripe", 8, _stripe, anchors=(_at("k_(?:live|test)_", 1),)),
    Rule(OpenAIDetector(), "openai", 3, _not_anthropic, anchors=(_SK,)),
    Rule(OpenAIProjectKeyDetector(), "openai", _upto("-", 0), _not_anthropic, anchors=(_SK,)),
    Rule(AnthropicKeyDetector(), "anthropic", 13, anchors=(_SK,)),
    Rule(HuggingFaceDetector(), "huggingface", 3, anchors=(_at("hf_"),)),
    Rule(TwilioDetector(), "twilio", _public_prefix("SK"), anchors=(_at("SK"), _at("(?i)twilio"))),
    Rule(SendGridDetector(), "sendgrid", 3, anchors=(_at(r"SG\."),)),
    Rule(MailgunDetector(), "mailgun", _public_prefix("key-"), anchors=(_at("key-"), _at("(?i)mailgun"))),
    Rule(MailchimpDetector(), "mailchimp", 0, anchors=(_at("-us", 32),)),
    Rule(SlackTokenDetector(), "slack", _upto("-"), anchors=(_at("(?i)xox[abposr]-"),), group=-1),
    Rule(
        SlackWebhookDetector(),
        "slack_webhook",
        len("https://hooks.slack.com/services/"),
        anchors=(_at(r"(?i)hooks\.slack", len("https://")),),
    ),
    Rule(GitHubTokenDetector(), "github", 4, anchors=(_at("gh[pousr]_"),), group=-1),
    Rule(GitHubPatDetector(), "github", 11, anchors=(_at("github_pat_"),)),
    Rule(
        GitLabTokenDetector(),
        "gitlab",
        _upto("-"),
        anchors=(_at("gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas)-"), _at("GR1348941")),
        group=-1,
    ),
    Rule(NpmTokenDetector(), "npm", 4, anchors=(_at("npm_"),)),
    # detect-secrets' .npmrc pattern, for the older UUID-style tokens (npm_ tokens are matched exactly above).
    Rule(
        NpmDetector(),
        "npm",
        0,
        lambda secret, around: None if secret.startswith("npm_") else Kind.SECRET,
        anchors=(Anchor("/:_authToken=", line=True, search=True),),
    ),
    Rule(ShopifyDetector(), "shopify", 6, anchors=(_at("shp(?:at|ss|ca|pa)_"),)),
    Rule(SupabaseJwtDetector(), "supabase", 0, _supabase_jwt, anchors=(_at("eyJ"),)),
    Rule(SupabaseKeyDetector(), "supabase", _upto("_", 0), _supabase_key, anchors=(_at("sb_(?:secret|publishable)_"),)),
    Rule(FirebaseServerKeyDetector(), "firebase", 4, anchors=(_at(":APA91b", len("AAAA") + 7),)),
    # The token's first dot is 24 to 26 characters in; the anchor is its second and third part.
    Rule(DiscordTokenDetector(), "discord", 4, anchors=(_at(r"\.[a-zA-Z0-9_-]{6}\.[a-zA-Z0-9_-]{27}", (24, 26)),)),
    Rule(
        DiscordWebhookDetector(),
        "discord",
        len("https://discord.com/api/webhooks/"),
        # "webhooks/" comes after https://, an optional ptb. or canary., discord, an optional app, .com/api/
        anchors=(_at("webhooks/", (len("https://discord.com/api/"), len("https://canary.discordapp.com/api/"))),),
    ),
    Rule(TelegramDetector(), "telegram", _upto(":"), anchors=(_at(":AA", (8, 10)),)),
    Rule(PemPrivateKeyDetector(), "private_key", 0, anchors=(_at("-----BEGIN "),), group=2),
    Rule(
        DatabaseUrlDetector(),
        "database_url",
        0,
        _database_url,
        anchors=(_at(r"(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?)://"),),
        group=3,
        min_entropy=0.0,
    ),
    Rule(SigningSecretDetector(), "signing_secret", 0, _signing, anchors=_SECRET_NAMES),
]
# Every anchor pattern once, in a fixed order: the catalog's engine finds them all in its one pass.
ANCHORS: tuple[str, ...] = tuple(dict.fromkeys(a.pattern for rule in RULES for a in rule.anchors))

PLACEHOLDER_WORDS = (
    "example", "xxxx", "your", "placeholder", "changeme", "dummy", "redacted", "sample", "replace", "insert",
    "****", "....", "<", "change", "0000000000", "1234567890", "abcdefghij",
)  # fmt: skip
_ENTROPY = Base64HighEntropyString()


def _entropy(text: str) -> float:
    return float(_ENTROPY.calculate_shannon_entropy(text))


def is_placeholder(secret: str, min_entropy: float = 3.0) -> bool:
    """A documentation example, a template, a run of one character or a sequence: not a key anyone uses."""
    lowered = secret.lower()
    if any(word in lowered for word in PLACEHOLDER_WORDS):
        return True
    if is_templated_secret(secret) or is_sequential_string(secret):
        return True
    body = re.sub(r"^[A-Za-z]{2,6}[_-](?:live_|test_|proj-|ant-api\d\d-)?", "", secret)
    return len(body) >= 16 and _entropy(body) < min_entropy


def _key(match: re.Match[str], group: int) -> str:
    if group > 0:
        return match.group(group) or ""
    if group < 0 or match.re.groups == 0:
        return match.group(0)
    return next((g for g in match.groups() if g), match.group(0))


def _shown(rule: Rule, secret: str, provider: str, around: str) -> str:
    if provider == "database_url":
        scheme = re.match(r"[a-z+]+://[^:/@\s]*:", around)
        return scheme.group(0) if scheme else "database URL "
    if provider == "private_key":
        return "-----BEGIN PRIVATE KEY-----"
    count = rule.shown(secret) if callable(rule.shown) else rule.shown
    return secret[: min(count, len(secret) // 3)]


def scan_text(text: str) -> list[Hit]:
    """Every key in a text (code, config, a minified bundle), one hit per distinct key."""
    return _scan(text, text.encode("utf-8", "replace"))


# Letters outside ASCII that Python's regular expressions take for i, k or s when they ignore case, and the
# catalog's engine does not: in a text that holds one, those patterns are run over the whole text.
CASE_FOLDS = "\u0130\u0131\u017f\u212a"


# The catalog's engine reads bytes that begin with a UTF-16 or UTF-32 byte-order mark, or that hold NUL bytes
# as UTF-16 does, in that encoding: its offsets are then not the text's.
UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")
_ANCHOR_PATTERNS = {pattern: re.compile(pattern) for pattern in ANCHORS}


def _scan(text: str, data: bytes, rules: list[Rule] | None = None) -> list[Hit]:
    scan = catalog_scan(data, ANCHORS)
    anchors = _anchors_in(text, data, scan.anchors)
    # Where the engine did not read the text as it is, or a letter folds to ASCII, the patterns are run over
    # the whole text instead (every pattern, or those that ignore case).
    whole = anchors is None
    folds = whole or (not text.isascii() and any(c in text for c in CASE_FOLDS))
    hits: dict[tuple[str, str], Hit] = {}
    for rule in RULES if rules is None else rules:
        for hit in _rule_hits(rule, text, anchors or {}, folds, whole):
            hits.setdefault((hit.provider, hit.fingerprint), hit)
    seen = {fp for _, fp in hits}
    for hit in _catalog_hits(scan.matches):
        if hit.fingerprint not in seen:
            seen.add(hit.fingerprint)
            hits[(hit.provider, hit.fingerprint)] = hit
    return sorted(hits.values(), key=lambda h: (h.line, h.provider))


def _anchors_in(text: str, data: bytes, found: dict[str, list[int]]) -> dict[str, list[int]] | None:
    """Where each anchor starts in `text`, from the engine's byte offsets in `data` (its encoding); None when the
    engine read the bytes in another encoding. An offset the text does not hold the anchor at is left out:
    the engine also looks inside base64 and gives what it found there the offset of the base64."""
    if data.startswith(UTF16_MARKS) or b"\x00" in data:
        return None
    return {
        pattern: [at for at in offsets if _ANCHOR_PATTERNS[pattern].match(text, at)]
        for pattern, offsets in _char_offsets(text, data, found).items()
    }


def _char_offsets(text: str, data: bytes, found: dict[str, list[int]]) -> dict[str, list[int]]:
    """The byte offsets in `data` as offsets in `text` (its decoding). Where every byte is a character they are
    the same; otherwise each stretch between two offsets is decoded to count its characters. An offset in the
    middle of a character (a continuation byte) starts no anchor and is left out, so no stretch splits one."""
    if len(text) == len(data) or not found:
        return found
    chars: dict[int, int] = {}
    count, previous = 0, 0
    for offset in sorted({o for offsets in found.values() for o in offsets}):
        if offset >= len(data) or 0x80 <= data[offset] < 0xC0:
            continue
        count += len(data[previous:offset].decode("utf-8", "replace"))
        chars[offset], previous = count, offset
    return {pattern: [chars[o] for o in offsets if o in chars] for pattern, offsets in found.items()}


def _starts(rule: Rule, text: str, anchors: dict[str, list[int]]) -> list[tuple[int, bool]]:
    """Where the rule's patterns are tried (in order), and whether to search onwards from there."""
    starts: set[tuple[int, bool]] = set()
    for anchor in rule.anchors:
        for at in anchors.get(anchor.pattern, ()):
            if anchor.line:
                starts.add((text.rfind("\n", 0, at) + 1, anchor.search))
            else:
                starts.update((s, False) for s in range(max(0, at - anchor.back[1]), at - anchor.back[0] + 1))
    return sorted(starts)


def _matches(regex: Pattern[str], text: str, starts: list[tuple[int, bool]]) -> Iterator[re.Match[str]]:
    """What `regex.finditer(text)` gives, tried only at `starts`: every match it could give starts at one of
    them (or, for a start to search from, after it). A match ends the next one's earliest start, as there."""
    end = 0
    for start, search in starts:
        if start < end:
            continue
        match = regex.search(text, start) if search else regex.match(text, start)
        if match is None:
            if search:
                return  # nothing from here to the end
            continue
        yield match
        end = max(match.end(), match.start() + 1)


# --- The catalog's matches, for providers without a hand-written rule ------------------------------------

# Rule families our own rules above cover with a classification the catalog does not make (Stripe's
# publishable and test keys, a Supabase JWT's role, a Google key's context, a database URL's host); the
# catalog's matches of these families are left to them.
OWN_FAMILIES = (
    "aws", "gcp", "google", "firebase", "stripe", "openai", "anthropic", "huggingface", "hugging", "twilio",
    "sendgrid", "mailgun", "mailchimp", "slack", "github", "gitlab", "npm", "shopify", "supabase-project",
    "supabase-service", "supabase-anon", "discord", "telegram", "private-key", "privatekey", "pkcs", "jwt",
    "postgres", "mysql", "mongodb-connection", "redis", "database", "generic", "kimi",
)  # fmt: skip
# Rules whose keys are public by design: worth knowing (info), never a blocker.
PUBLIC_FAMILIES = ("posthog-project-api-key", "flutterwave-public-key")
TEST_MARKERS = ("_test_", "_sandbox_", "_sbx_", "_sdbx_", "-test-", "_dev_")
_CATALOG_PREFIX = re.compile(r"[A-Za-z]+[0-9]?(?:[_.-][A-Za-z]+[0-9]?)*[_.-]")


def _catalog_hits(matches: list[Match]) -> Iterator[Hit]:
    for match in matches:
        hit = _catalog_hit(match)
        if hit is not None:
            yield hit


def _catalog_hit(match: Match) -> Hit | None:
    family = rule_family(match.rule_id)
    if family.startswith(OWN_FAMILIES):
        return None
    secret = match.secret
    if any(marker in secret.lower() for marker in TEST_MARKERS) or is_placeholder(secret):
        return None
    kind = Kind.PUBLISHABLE if family.startswith(PUBLIC_FAMILIES) else Kind.SECRET
    prefix = _CATALOG_PREFIX.match(secret)
    shown = secret[: min(len(prefix.group(0)) if prefix else 0, 16, len(secret) // 3)]
    return Hit(catalog_slug(family), kind, shown, fingerprint(secret), match.line)


def _rule_hits(
    rule: Rule, text: str, anchors: dict[str, list[int]], folds: bool = False, whole: bool = False
) -> Iterator[Hit]:
    """The rule's hits: its patterns tried at its anchors, or over the whole text when `whole` (and, when `folds`,
    its patterns that ignore case)."""
    starts = _starts(rule, text, anchors)
    for regex in rule.plugin.denylist:
        everywhere = whole or (folds and bool(regex.flags & re.IGNORECASE))
        for match in regex.finditer(text) if everywhere else _matches(regex, text, starts):
            secret = _key(match, rule.group)
            if not secret:
                continue
            start = max(0, match.start() - 200)
            around = text[start : match.end() + 200]
            if rule.provider != "private_key" and is_placeholder(secret, rule.min_entropy):
                continue
            kind = rule.classify(secret, around if rule.provider != "database_url" else match.group(0))
            if kind is None:
                continue
            provider = rule.provider(secret, around) if callable(rule.provider) else rule.provider
            shown = _shown(rule, secret, provider, match.group(0))
            if provider == "private_key":
                secret = re.sub(r"\\[nr]|[^A-Za-z0-9+/=]", "", secret)
            line = text.count("\n", 0, match.start()) + 1
            yield Hit(provider, kind, shown, fingerprint(secret), line)


def warm_up() -> None:
    """Load the catalog's engine and its rules now (a third of a second; longer the first time they are
    compiled, once per machine)."""
    catalog_scan(b"\n", ANCHORS)


def scan_bytes(data: bytes) -> list[Hit]:
    """As scan_text, for a file's bytes. In a binary file (a NUL byte near the start: a compiled .pyc, a library,
    a SQLite database) the text it holds is scanned, and its keys have no line (0)."""
    if b"\x00" in data[:8000]:
        return scan_binary(data)
    return _scan(data.decode("utf-8", "replace"), data)


# The text in a binary file: runs of printable ASCII, and of ASCII written as UTF-16 (two bytes, the second NUL).
PRINTABLE_RUN = re.compile(rb"[\x20-\x7e\t]{8,}")
UTF16_RUN = re.compile(rb"(?:[\x20-\x7e]\x00){8,}")
# Anchors a key starts a fixed number of characters before (most start at their prefix: AKIA, ghp_, sk-).
_KEY_STARTS = tuple(
    sorted({(a.pattern, a.back[0]) for rule in RULES for a in rule.anchors if not a.line and a.back[0] == a.back[1]})
)


# A key of a fixed length needs no check of what follows it, and in a binary file the next value's first byte
# often does (a .pyc's type code "N" or "Z"): the rules as they are, without that last check, for binary text.
_FIXED_END = re.compile(r"\{\d+\}\)?\(\?!\[[^\]]*\]\)$")


def _unbounded(rule: Rule) -> Rule:
    denylist = tuple(
        re.compile(r.pattern[: r.pattern.rindex("(?!")], r.flags) if _FIXED_END.search(r.pattern) else r
        for r in rule.plugin.denylist
    )
    if denylist == tuple(rule.plugin.denylist):
        return rule
    plugin = type(type(rule.plugin).__name__, (type(rule.plugin),), {"denylist": denylist})()
    return replace(rule, plugin=plugin)


BINARY_RULES = [_unbounded(rule) for rule in RULES]


def binary_text(data: bytes) -> str:
    """The text a binary file holds, one run to a line."""
    runs = PRINTABLE_RUN.findall(data) + [run.decode("utf-16-le").encode() for run in UTF16_RUN.findall(data)]
    return b"\n".join(runs).decode("ascii")


def scan_binary(data: bytes) -> list[Hit]:
    """The keys in the text of a binary file, found twice: as the text is, and with a line break before each place
    a key may start (its prefix). A binary file puts values side by side with nothing between them (a SQLite row's
    columns, a .pyc string's length byte before it), so what comes before a key says nothing of where it starts."""
    text = binary_text(data)
    if not text:
        return []
    found = catalog_scan(text.encode(), ANCHORS).anchors
    cuts = sorted({at - back for pattern, back in _KEY_STARTS for at in found.get(pattern, ()) if at - back > 0})
    pieces = [text[i:j] for i, j in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    hits = {(hit.provider, hit.fingerprint): hit for hit in scan_text(text)}
    if cuts:
        split = "\n".join(pieces)
        for hit in _scan(split, split.encode(), BINARY_RULES):
            hits.setdefault((hit.provider, hit.fingerprint), hit)
    return sorted((replace(hit, line=0) for hit in hits.values()), key=lambda h: h.provider)
