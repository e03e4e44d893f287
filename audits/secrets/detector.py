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
from dataclasses import dataclass
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

from audits.secrets.catalog import Match, catalog_matches, rule_family
from audits.secrets.providers import PUBLIC_LABELS, catalog_slug, provider_for


class Kind(StrEnum):
    SECRET = "secret"  # a blocker wherever it is found  # nosec B105
    PUBLISHABLE = "publishable"  # meant to be public (a Stripe pk_live_): worth knowing, nothing more


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
    def label(self) -> str:
        if self.kind == Kind.PUBLISHABLE:
            return PUBLIC_LABELS.get(self.provider, provider_for(self.provider).label)
        return provider_for(self.provider).label

    @property
    def rotation(self) -> str:
        return provider_for(self.provider).rotation


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
        re.compile(rf"^(?:export\s+)?{_names}=([^\s\"'#]{{16,200}})\s*$", re.IGNORECASE | re.MULTILINE),
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
# A Firebase web config (its apiKey is public by design); a Maps or bare key is one to restrict instead.
FIREBASE_WORDS = re.compile(r"firebase|authDomain|messagingSenderId", re.IGNORECASE)


def _google_provider(around: str) -> str:
    if GOOGLE_AI_WORDS.search(around):
        return "google_ai"
    if FIREBASE_WORDS.search(around):
        return "firebase"  # a Firebase web config's apiKey is public by design
    return "gcp_api_key"


def _google(secret: str, around: str) -> Kind | None:
    return Kind.PUBLISHABLE if _google_provider(around) == "firebase" else Kind.SECRET


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
class Rule:
    plugin: RegexBasedDetector
    provider: str | Callable[[str], str]  # a slug, or a function of the surrounding text
    shown: int | Callable[[str], int]  # characters of the key that may be shown
    classify: Classify = _secret
    needles: tuple[str, ...] = ()  # skip the rule when none of these is in the text (it saves regex time)
    group: int = 0  # which group holds the key when the plugin's own pattern matches more than the key
    min_entropy: float = 3.0


def _public_prefix(*prefixes: str) -> Callable[[str], int]:
    """Show a key's provider prefix (AKIA, SK) and nothing of a key that has none."""
    return lambda secret: next((len(p) for p in prefixes if secret.startswith(p)), 0)


def _upto(sep: str, extra: int = 0) -> Callable[[str], int]:
    return lambda secret: (secret.find(sep) + len(sep) + extra) if sep in secret else 4


_aws = AWSKeyDetector()
RULES: list[Rule] = [
    Rule(
        _aws,
        "aws",
        _public_prefix("A3T", "ABIA", "ACCA", "AKIA", "ASIA"),
        needles=("A3T", "ABIA", "ACCA", "AKIA", "ASIA", "aws", "AWS", "Aws"),
    ),
    Rule(AwsSecretEnvDetector(), "aws", 0, needles=("aws", "AWS", "Aws"), min_entropy=3.5),
    Rule(GcpServiceAccountDetector(), "gcp_service_account", 0, needles=("private_key_id",)),
    Rule(GoogleApiKeyDetector(), _google_provider, 4, _google, needles=("AIza",)),
    Rule(AzureAccountKeyDetector(), "azure_storage", 0, needles=("AccountKey=",)),
    Rule(StripeKeyDetector(), "stripe", 8, _stripe, needles=("k_live_", "k_test_")),
    Rule(OpenAIDetector(), "openai", 3, _not_anthropic, needles=("T3BlbkFJ",)),
    Rule(OpenAIProjectKeyDetector(), "openai", _upto("-", 0), _not_anthropic, needles=("sk-",)),
    Rule(AnthropicKeyDetector(), "anthropic", 13, needles=("sk-ant-",)),
    Rule(HuggingFaceDetector(), "huggingface", 3, needles=("hf_",)),
    Rule(TwilioDetector(), "twilio", _public_prefix("SK"), needles=("SK", "twilio", "TWILIO", "Twilio")),
    Rule(SendGridDetector(), "sendgrid", 3, needles=("SG.",)),
    Rule(MailgunDetector(), "mailgun", _public_prefix("key-"), needles=("key-", "mailgun", "MAILGUN", "Mailgun")),
    Rule(MailchimpDetector(), "mailchimp", 0, needles=("-us",)),
    Rule(SlackTokenDetector(), "slack", _upto("-"), needles=("xox",), group=-1),
    Rule(SlackWebhookDetector(), "slack_webhook", len("https://hooks.slack.com/services/"), needles=("hooks.slack",)),
    Rule(GitHubTokenDetector(), "github", 4, needles=("gh",), group=-1),
    Rule(GitHubPatDetector(), "github", 11, needles=("github_pat_",)),
    Rule(GitLabTokenDetector(), "gitlab", _upto("-"), needles=("gl", "GR1348941"), group=-1),
    Rule(NpmTokenDetector(), "npm", 4, needles=("npm_",)),
    # detect-secrets' .npmrc pattern, for the older UUID-style tokens (npm_ tokens are matched exactly above).
    Rule(
        NpmDetector(),
        "npm",
        0,
        lambda secret, around: None if secret.startswith("npm_") else Kind.SECRET,
        needles=("_authToken",),
    ),
    Rule(ShopifyDetector(), "shopify", 6, needles=("shp",)),
    Rule(SupabaseJwtDetector(), "supabase", 0, _supabase_jwt, needles=("eyJ",)),
    Rule(SupabaseKeyDetector(), "supabase", _upto("_", 0), _supabase_key, needles=("sb_",)),
    Rule(FirebaseServerKeyDetector(), "firebase", 4, needles=(":APA91b",)),
    Rule(DiscordBotTokenDetector(), "discord", 4, needles=(".",)),
    Rule(DiscordWebhookDetector(), "discord", len("https://discord.com/api/webhooks/"), needles=("/api/webhooks/",)),
    Rule(TelegramDetector(), "telegram", _upto(":"), needles=(":AA",)),
    Rule(PemPrivateKeyDetector(), "private_key", 0, needles=("PRIVATE KEY",), group=2),
    Rule(DatabaseUrlDetector(), "database_url", 0, _database_url, needles=("://",), group=3, min_entropy=0.0),
    Rule(SigningSecretDetector(), "signing_secret", 0, _signing, needles=("ecret", "ECRET", "jwt", "JWT")),
]

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


def _scan(text: str, data: bytes) -> list[Hit]:
    hits: dict[tuple[str, str], Hit] = {}
    for rule in RULES:
        if rule.needles and not any(n in text for n in rule.needles):
            continue
        for hit in _rule_hits(rule, text):
            hits.setdefault((hit.provider, hit.fingerprint), hit)
    seen = {fp for _, fp in hits}
    for hit in _catalog_hits(data):
        if hit.fingerprint not in seen:
            seen.add(hit.fingerprint)
            hits[(hit.provider, hit.fingerprint)] = hit
    return sorted(hits.values(), key=lambda h: (h.line, h.provider))


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


def _catalog_hits(data: bytes) -> Iterator[Hit]:
    for match in catalog_matches(data):
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


def _rule_hits(rule: Rule, text: str) -> Iterator[Hit]:
    for regex in rule.plugin.denylist:
        for match in regex.finditer(text):
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
            provider = rule.provider(around) if callable(rule.provider) else rule.provider
            shown = _shown(rule, secret, provider, match.group(0))
            if provider == "private_key":
                secret = re.sub(r"\\[nr]|[^A-Za-z0-9+/=]", "", secret)
            line = text.count("\n", 0, match.start()) + 1
            yield Hit(provider, kind, shown, fingerprint(secret), line)


def scan_bytes(data: bytes) -> list[Hit]:
    """As scan_text, for a file's bytes: binary files (a NUL byte near the start) are skipped."""
    if b"\x00" in data[:8000]:
        return []
    return _scan(data.decode("utf-8", "replace"), data)
