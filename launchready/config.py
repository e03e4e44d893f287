"""Reads and validates the environment: embedded defaults for development, strict rules in production."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LAUNCHREADY_VAR_DIR", BASE_DIR / "var"))

# A key that is only ever used on a developer's machine; production refuses it.
# Development only: production refuses to start with it (see _secret_key).
DEV_SECRET_KEY = "dev-only-insecure-key-launchready-never-use-in-production-0123456789"  # nosec B105
DEV_ENCRYPTION_KEY = "ZGV2LW9ubHktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM="


class ConfigError(Exception):
    """A required setting is missing or malformed; the message names it and says what is wrong."""


DEV_MAIL_DOMAIN = "mail.launchready.test"
_HOST_NAME = re.compile(r"(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]")


@dataclass(frozen=True)
class MailReceiver:
    """The product's own SMTP receiver (real-send tests and DMARC reports); off when `domain` is empty."""

    domain: str = ""  # the mail domain its addresses live under (test-<token>@domain, dmarc-<token>@domain)
    host: str = "127.0.0.1"  # the address it listens on
    port: int = 2525
    tls_cert: str = ""  # PEM chain for STARTTLS; empty in development: the sandbox CA issues one
    tls_key: str = ""
    retention_days: int = 7  # received messages are wiped after this many days (their verdicts stay)

    @property
    def enabled(self) -> bool:
        return bool(self.domain)


# The blocklists a real send is checked against. In production: Spamhaus ZEN for the sending address, the Spamhaus
# DBL and URIBL for the domains the email links to. Elsewhere: the sandbox's own zones (launchready/sandbox/
# blocklists.py), so that development and tests never ask the real lists.
PRODUCTION_DNSBL_ZONES = ("zen.spamhaus.org",)
PRODUCTION_URIBL_ZONES = ("dbl.spamhaus.org", "multi.uribl.com")
SANDBOX_DNSBL_ZONES = ("dnsbl.blocklists.test",)
SANDBOX_URIBL_ZONES = ("uribl.blocklists.test",)


@dataclass(frozen=True)
class Blocklists:
    """DNS blocklist zones: `dnsbl` for the sending address, `uribl` for the domains linked in the body."""

    dnsbl: tuple[str, ...] = ()
    uribl: tuple[str, ...] = ()
    max_link_domains: int = 20  # the linked domains checked, in the order the email first links to them


@dataclass
class Config:
    production: bool
    debug: bool
    secret_key: str
    allowed_hosts: list[str]
    database: dict[str, Any]
    redis_url: str | None
    encryption_keys: list[str]
    email: dict[str, Any]
    default_from_email: str
    csrf_trusted_origins: list[str] = field(default_factory=list)
    site_url: str = "http://127.0.0.1:8000"
    mail_receiver: MailReceiver = field(default_factory=MailReceiver)
    blocklists: Blocklists = field(default_factory=Blocklists)


def _require(env: environ.Env, name: str) -> str:
    value = env.str(name, default="").strip()
    if not value:
        raise ConfigError(f"{name} is not set")
    return value


def _secret_key(env: environ.Env, production: bool) -> str:
    if not production:
        return env.str("SECRET_KEY", default=DEV_SECRET_KEY)
    value = _require(env, "SECRET_KEY")
    if value == DEV_SECRET_KEY or value.startswith("django-insecure"):
        raise ConfigError("SECRET_KEY is the development key; generate a new random one")
    if len(value) < 50 or len(set(value)) < 5:
        raise ConfigError("SECRET_KEY is too short or too simple (use 50+ random characters)")
    return value


def _allowed_hosts(env: environ.Env, production: bool) -> list[str]:
    raw = env.str("ALLOWED_HOSTS", default="")
    hosts = [h.strip() for h in raw.split(",") if h.strip()]
    if not production:
        return hosts or ["127.0.0.1", "localhost", "[::1]", "testserver"]
    if not hosts:
        raise ConfigError("ALLOWED_HOSTS is not set (comma-separated host names)")
    for host in hosts:
        if host == "*":
            raise ConfigError("ALLOWED_HOSTS must not be '*' in production")
        if not re.fullmatch(r"\.?[A-Za-z0-9.\-\[\]:]+", host):
            raise ConfigError(f"ALLOWED_HOSTS has a malformed host name: {host!r}")
    return hosts


# The embedded database is written by the web server, the worker, the scheduler and the sandbox at once:
# write-ahead logging lets readers go on while one writes, and taking the write lock when a transaction
# begins (rather than when it first writes) makes a busy writer wait its turn instead of failing with
# "database is locked".
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}


def _database(env: environ.Env, production: bool) -> dict[str, Any]:
    url = env.str("DATABASE_URL", default="").strip()
    if not url:
        if production:
            raise ConfigError("DATABASE_URL is not set (postgres://user:password@host:5432/name)")
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(VAR_DIR / "db.sqlite3"), "OPTIONS": SQLITE_OPTIONS}
    scheme = urlsplit(url).scheme
    if production and scheme not in ("postgres", "postgresql", "pgsql"):
        raise ConfigError(f"DATABASE_URL must be a postgres:// URL, not {scheme or 'no scheme'}")
    try:
        db = environ.Env.db_url_config(url)
    except Exception as exc:  # django-environ raises several kinds here
        raise ConfigError(f"DATABASE_URL is malformed: {type(exc).__name__}") from None
    if not db.get("ENGINE") or not db.get("NAME"):
        raise ConfigError("DATABASE_URL is malformed: it needs a scheme and a database name")
    db.setdefault("CONN_MAX_AGE", 60)
    db["CONN_HEALTH_CHECKS"] = True
    if db["ENGINE"].endswith("postgresql"):
        # JIT compilation makes the scheduler's wide bulk updates orders of magnitude slower (bench/monitor_scale).
        db.setdefault("OPTIONS", {})["options"] = "-c jit=off"
    return db


def _redis_url(env: environ.Env, production: bool) -> str | None:
    url = env.str("REDIS_URL", default="").strip()
    if not url:
        if production:
            raise ConfigError("REDIS_URL is not set (redis://host:6379/0)")
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ConfigError("REDIS_URL is malformed: it must look like redis://host:6379/0")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError("REDIS_URL is malformed: the port is not a number") from None
    return url


def _encryption_keys(env: environ.Env, production: bool) -> list[str]:
    raw = env.str("LAUNCHREADY_ENCRYPTION_KEYS", default="").strip()
    if not raw:
        if production:
            raise ConfigError("LAUNCHREADY_ENCRYPTION_KEYS is not set (comma-separated Fernet keys, newest first)")
        return [DEV_ENCRYPTION_KEY]
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ConfigError(
                f"LAUNCHREADY_ENCRYPTION_KEYS key #{position} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes)"
            ) from None
    if production and DEV_ENCRYPTION_KEY in keys:
        raise ConfigError("LAUNCHREADY_ENCRYPTION_KEYS contains the development key")
    return keys


def _email(env: environ.Env, production: bool) -> tuple[dict[str, Any], str]:
    url = env.str("EMAIL_URL", default="").strip()
    if not url:
        if production:
            raise ConfigError("EMAIL_URL is not set (smtp+tls://user:password@host:587)")
        email = {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    else:
        if urlsplit(url).scheme not in ("smtp", "smtps", "smtp+tls", "smtp+ssl", "consolemail"):
            raise ConfigError("EMAIL_URL is malformed: use smtp://, smtp+tls:// or smtps://")
        try:
            email = environ.Env.email_url_config(url)
        except Exception as exc:
            raise ConfigError(f"EMAIL_URL is malformed: {type(exc).__name__}") from None
        if email.get("EMAIL_BACKEND", "").endswith("smtp.EmailBackend") and not email.get("EMAIL_HOST"):
            raise ConfigError("EMAIL_URL is malformed: it has no host")
    sender = env.str("DEFAULT_FROM_EMAIL", default="").strip()
    if not sender:
        if production:
            raise ConfigError("DEFAULT_FROM_EMAIL is not set (e.g. Launch Ready <hello@example.com>)")
        sender = "Launch Ready <hello@launchready.test>"
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    try:
        validate_email(address)
    except ValidationError:
        raise ConfigError("DEFAULT_FROM_EMAIL is not a valid email address") from None
    return email, sender


def _whole_number(env: environ.Env, name: str, default: int, low: int, high: int) -> int:
    raw = env.str(name, default="").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, not {raw!r}")
    return int(raw)


def _readable(env: environ.Env, name: str) -> str:
    path = env.str(name, default="").strip()
    if path and not os.path.isfile(path):
        raise ConfigError(f"{name} is not a readable file: {path}")
    return path


def _mail_receiver(env: environ.Env, production: bool) -> MailReceiver:
    """LAUNCHREADY_MAIL_DOMAIN turns the receiver on (in development it is on by default, under a sandbox name);
    in production it then needs the certificate and key it offers with STARTTLS."""
    raw = env.str("LAUNCHREADY_MAIL_DOMAIN", default="").strip().lower().rstrip(".")
    domain = raw or ("" if production else DEV_MAIL_DOMAIN)
    if domain and not _HOST_NAME.fullmatch(domain):
        raise ConfigError(f"LAUNCHREADY_MAIL_DOMAIN is not a host name: {raw!r}")
    # In production the receiver listens on every interface of its container; on a developer's machine, on loopback.
    every_interface = "0.0.0.0"  # noqa: S104 - the container's published port is the only way in  # nosec B104
    host = env.str("LAUNCHREADY_SMTP_HOST", default="").strip() or (every_interface if production else "127.0.0.1")
    port = _whole_number(env, "LAUNCHREADY_SMTP_PORT", 2525, 1, 65535)
    cert, key = _readable(env, "LAUNCHREADY_SMTP_TLS_CERT"), _readable(env, "LAUNCHREADY_SMTP_TLS_KEY")
    if bool(cert) != bool(key):
        raise ConfigError("LAUNCHREADY_SMTP_TLS_CERT and LAUNCHREADY_SMTP_TLS_KEY are set together or not at all")
    if production and domain and not cert:
        raise ConfigError("LAUNCHREADY_SMTP_TLS_CERT is not set (the receiver offers STARTTLS with it)")
    retention = _whole_number(env, "LAUNCHREADY_MAIL_RETENTION_DAYS", 7, 1, 90)
    return MailReceiver(domain, host, port, cert, key, retention)


def _zones(env: environ.Env, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated list of zones; unset means the default, set but empty means none (that check is off)."""
    raw = env.ENVIRON.get(name)  # read directly: django-environ hands back the default for an empty value
    if raw is None:
        return default
    zones = []
    for item in raw.split(","):
        zone = item.strip().lower().rstrip(".")
        if not zone:
            continue
        if not _HOST_NAME.fullmatch(zone):
            raise ConfigError(f"{name} has an entry that is not a DNS zone name: {zone[:100]!r}")
        zones.append(zone)
    return tuple(dict.fromkeys(zones))


def _blocklists(env: environ.Env, production: bool) -> Blocklists:
    dnsbl = _zones(env, "LAUNCHREADY_DNSBL_ZONES", PRODUCTION_DNSBL_ZONES if production else SANDBOX_DNSBL_ZONES)
    uribl = _zones(env, "LAUNCHREADY_URIBL_ZONES", PRODUCTION_URIBL_ZONES if production else SANDBOX_URIBL_ZONES)
    return Blocklists(dnsbl, uribl, _whole_number(env, "LAUNCHREADY_URIBL_MAX_DOMAINS", 20, 0, 100))


def load(environ_map: dict[str, str] | None = None) -> Config:
    """Build the configuration from the environment; raise ConfigError naming the first bad variable."""
    env = environ.Env()
    if environ_map is not None:
        env.ENVIRON = environ_map
    mode = env.str("DJANGO_ENV", default="development").strip().lower()
    if mode not in ("development", "production", "test"):
        raise ConfigError(f"DJANGO_ENV must be development, test or production, not {mode!r}")
    production = mode == "production"
    try:
        debug = env.bool("DEBUG", default=not production)
    except ValueError:
        raise ConfigError("DEBUG must be true or false") from None
    if production and debug:
        raise ConfigError("DEBUG must be off in production")
    secret_key = _secret_key(env, production)
    hosts = _allowed_hosts(env, production)
    database = _database(env, production)
    redis_url = _redis_url(env, production)
    encryption_keys = _encryption_keys(env, production)
    email, sender = _email(env, production)
    mail_receiver = _mail_receiver(env, production)
    blocklists = _blocklists(env, production)
    site_url = env.str("SITE_URL", default="").strip().rstrip("/")
    if production and not site_url.startswith("https://"):
        raise ConfigError("SITE_URL must be the https:// address the product is served at")
    return Config(
        production=production,
        debug=debug,
        secret_key=secret_key,
        allowed_hosts=hosts,
        database=database,
        redis_url=redis_url,
        encryption_keys=encryption_keys,
        email=email,
        default_from_email=sender,
        csrf_trusted_origins=[site_url] if site_url else [],
        site_url=site_url or "http://127.0.0.1:8000",
        mail_receiver=mail_receiver,
        blocklists=blocklists,
    )
