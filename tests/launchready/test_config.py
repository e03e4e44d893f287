"""Start-up configuration: embedded defaults in development, one clear line for each bad variable in production."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from launchready.config import Blocklists, ConfigError, load

ROOT = Path(__file__).resolve().parents[2]


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": "k3J9-vX2_qLm8#wP4zR7tY1uI6oA5sD0fG3hJ8kL2zX9cV4bN7mQ1wE5rT6yU",
        "ALLOWED_HOSTS": "app.launchready.example",
        "SITE_URL": "https://app.launchready.example",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/launchready"),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9"),
        "LAUNCHREADY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "EMAIL_URL": "smtp+tls://mailer:s3cret-pass@smtp.example.com:587",
        "DEFAULT_FROM_EMAIL": "Launch Ready <hello@launchready.example>",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def test_it_runs_on_embedded_defaults_with_nothing_set() -> None:
    config = load({})
    assert config.database["ENGINE"] == "django.db.backends.sqlite3"
    assert config.redis_url is None
    assert config.debug is True
    assert not config.production


def test_the_embedded_database_lets_concurrent_writers_wait_their_turn(tmp_path: Path, django_db_blocker) -> None:  # type: ignore[no-untyped-def]
    """The web server, the worker and the scheduler write to the embedded database at once: two
    transactions that each read and then write must both commit (one waits for the other) rather than one
    failing with "database is locked", as SQLite's default deferred transactions do."""
    import threading
    import time

    from django.db import connections, transaction

    alias = "embedded_defaults"
    database = load({}).database | {"NAME": str(tmp_path / "db.sqlite3")}
    connections.settings[alias] = connections.configure_settings({"default": database, alias: database})[alias]
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            with transaction.atomic(using=alias), connections[alias].cursor() as cur:
                cur.execute("SELECT n FROM counter")
                n = cur.fetchone()[0]
                time.sleep(0.3)  # the other transaction begins meanwhile
                cur.execute("UPDATE counter SET n = %s", [n + 1])
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections[alias].close()

    try:
        with django_db_blocker.unblock():
            with connections[alias].cursor() as cur:
                cur.execute("CREATE TABLE counter (n INTEGER)")
                cur.execute("INSERT INTO counter VALUES (0)")
                cur.execute("PRAGMA journal_mode")
                assert cur.fetchone()[0] == "wal"
            workers = [threading.Thread(target=bump) for _ in range(2)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            assert errors == []
            with connections[alias].cursor() as cur:
                cur.execute("SELECT n FROM counter")
                assert cur.fetchone()[0] == 2  # neither update was lost
    finally:
        connections[alias].close()
        del connections.settings[alias]


def test_it_switches_to_the_real_services() -> None:
    config = load({"DATABASE_URL": "postgres://u:p@db:5432/lr", "REDIS_URL": "redis://cache:6379/1"})
    assert config.database["ENGINE"] == "django.db.backends.postgresql"
    assert config.database["HOST"] == "db"
    assert config.redis_url == "redis://cache:6379/1"


def test_it_accepts_a_complete_production_environment() -> None:
    config = load(production_env())
    assert config.production and not config.debug
    assert config.allowed_hosts == ["app.launchready.example"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SECRET_KEY", "", "SECRET_KEY is not set"),
        ("SECRET_KEY", "short", "SECRET_KEY is too short"),
        ("SECRET_KEY", "django-insecure-" + "x" * 60, "SECRET_KEY is the development key"),
        ("ALLOWED_HOSTS", "", "ALLOWED_HOSTS is not set"),
        ("ALLOWED_HOSTS", "*", "ALLOWED_HOSTS must not be '*'"),
        ("ALLOWED_HOSTS", "app.example.com,bad host!", "ALLOWED_HOSTS has a malformed host"),
        ("DATABASE_URL", "", "DATABASE_URL is not set"),
        ("DATABASE_URL", "sqlite:///db.sqlite3", "DATABASE_URL must be a postgres:// URL"),
        ("DATABASE_URL", "postgres://", "DATABASE_URL is malformed"),
        ("REDIS_URL", "", "REDIS_URL is not set"),
        ("REDIS_URL", "http://cache:6379", "REDIS_URL is malformed"),
        ("REDIS_URL", "redis://cache:port/0", "REDIS_URL is malformed"),
        ("LAUNCHREADY_ENCRYPTION_KEYS", "", "LAUNCHREADY_ENCRYPTION_KEYS is not set"),
        ("LAUNCHREADY_ENCRYPTION_KEYS", "not-a-key", "key #1 is not a valid Fernet key"),
        ("EMAIL_URL", "", "EMAIL_URL is not set"),
        ("EMAIL_URL", "ftp://mail.example.com", "EMAIL_URL is malformed"),
        ("DEFAULT_FROM_EMAIL", "", "DEFAULT_FROM_EMAIL is not set"),
        ("DEFAULT_FROM_EMAIL", "Launch Ready <not-an-address>", "DEFAULT_FROM_EMAIL is not a valid"),
        ("DEBUG", "true", "DEBUG must be off in production"),
        ("SITE_URL", "http://app.launchready.example", "SITE_URL must be the https://"),
        ("DJANGO_ENV", "staging", "DJANGO_ENV must be"),
    ],
)
def test_it_names_the_bad_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(production_env(**{name: value}))


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in production_env() and k != "STATIC_ROOT"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL", "LAUNCHREADY_ENCRYPTION_KEYS", "EMAIL_URL"]
)
def test_start_up_stops_with_one_clear_line(missing: str) -> None:
    env = production_env()
    del env[missing]
    result = _manage(env, "check")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == [f"launchready: configuration error: {missing} is not set" + lines[0].split("is not set", 1)[1]]
    assert "Traceback" not in result.stderr
    assert "s3cret-pass" not in result.stderr


def test_start_up_names_a_malformed_variable_without_echoing_secrets() -> None:
    result = _manage(production_env(EMAIL_URL="gopher://mailer:s3cret-pass@mail"), "check")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "launchready: configuration error: EMAIL_URL is malformed: use smtp://, smtp+tls:// or smtps://"
    )


def test_production_settings_pass_the_deploy_check() -> None:
    result = _manage(production_env(), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


PROBE = """
import json, django
django.setup()
from django.test import Client
r = Client().get("/accounts/login/", secure=True, headers={"host": "app.launchready.example"})
print(json.dumps({"status": r.status_code, "headers": dict(r.headers),
                  "cookies": {k: dict(v) for k, v in r.cookies.items()}}))
"""


@pytest.mark.django_db
def test_its_own_pages_send_the_launch_headers_in_production(tmp_path: Path) -> None:
    env = {**production_env(), "DJANGO_SETTINGS_MODULE": "launchready.settings", "STATIC_ROOT": str(tmp_path)}
    collected = _manage(env, "collectstatic", "--noinput", "-v0")
    assert collected.returncode == 0, collected.stderr
    clean = {k: v for k, v in os.environ.items() if k not in env}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    page = json.loads(result.stdout.strip().splitlines()[-1])
    headers = page["headers"]
    assert page["status"] == 200
    assert headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains; preload"
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in headers["Content-Security-Policy"], "htmx runs without eval"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    csrf = page["cookies"]["__Host-csrftoken"]
    assert csrf["secure"] is True and csrf["samesite"] == "Lax"


def test_session_cookies_are_secure_and_http_only_in_production() -> None:
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, s.SESSION_COOKIE_NAME)"
    )
    env = {**production_env(), "DJANGO_SETTINGS_MODULE": "launchready.settings"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.split() == ["True", "True", "Lax", "__Host-sessionid"]


def test_the_server_loads_every_view_as_it_starts_not_on_a_first_request() -> None:
    # A worker that imported the views on its first request kept that visitor waiting about a second.
    views = ("web.views", "web.api", "web.onboarding_views")
    script = f"import sys, launchready.wsgi; print(all(m in sys.modules for m in {views!r}))"
    env = {**production_env(), "DJANGO_SETTINGS_MODULE": "launchready.settings"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.split() == ["True"], result.stderr[-2000:]


def test_the_mail_receiver_is_on_in_development_under_a_sandbox_name() -> None:
    receiver = load({}).mail_receiver
    assert receiver.enabled and receiver.domain == "mail.launchready.test"
    assert (receiver.host, receiver.port, receiver.retention_days) == ("127.0.0.1", 2525, 7)


def test_the_mail_receiver_is_off_in_production_until_given_a_domain() -> None:
    assert not load(production_env()).mail_receiver.enabled


def test_the_mail_receiver_in_production_needs_its_certificate(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="LAUNCHREADY_SMTP_TLS_CERT is not set"):
        load(production_env(LAUNCHREADY_MAIL_DOMAIN="mail.launchready.example"))
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("chain"), key.write_text("key")
    receiver = load(
        production_env(
            LAUNCHREADY_MAIL_DOMAIN="Mail.LaunchReady.example.",
            LAUNCHREADY_SMTP_TLS_CERT=str(cert),
            LAUNCHREADY_SMTP_TLS_KEY=str(key),
            LAUNCHREADY_SMTP_PORT="25",
        )
    ).mail_receiver
    assert (receiver.domain, receiver.host, receiver.port) == ("mail.launchready.example", "0.0.0.0", 25)  # noqa: S104


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LAUNCHREADY_MAIL_DOMAIN", "not a domain", "LAUNCHREADY_MAIL_DOMAIN is not a host name"),
        ("LAUNCHREADY_MAIL_DOMAIN", "localhost", "LAUNCHREADY_MAIL_DOMAIN is not a host name"),
        ("LAUNCHREADY_SMTP_PORT", "smtp", "LAUNCHREADY_SMTP_PORT must be a whole number"),
        ("LAUNCHREADY_SMTP_PORT", "70000", "LAUNCHREADY_SMTP_PORT must be a whole number"),
        ("LAUNCHREADY_SMTP_TLS_CERT", "/nonexistent/cert.pem", "LAUNCHREADY_SMTP_TLS_CERT is not a readable file"),
        ("LAUNCHREADY_MAIL_RETENTION_DAYS", "0", "LAUNCHREADY_MAIL_RETENTION_DAYS must be a whole number"),
    ],
)
def test_it_names_a_bad_mail_receiver_setting(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load({name: value})


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("chain")
    with pytest.raises(ConfigError, match="set together"):
        load({"LAUNCHREADY_SMTP_TLS_CERT": str(cert)})


def test_blocklists_are_the_sandbox_zones_off_production_and_the_real_ones_in_it() -> None:
    assert load({}).blocklists == Blocklists(("dnsbl.blocklists.test",), ("uribl.blocklists.test",), 20)
    production = load(production_env()).blocklists
    assert production.dnsbl == ("zen.spamhaus.org",)
    assert production.uribl == ("dbl.spamhaus.org", "multi.uribl.com")


def test_blocklist_zones_are_configurable_and_can_be_turned_off() -> None:
    config = load(
        {
            "LAUNCHREADY_DNSBL_ZONES": " Zen.Spamhaus.org. , bl.spamcop.net,zen.spamhaus.org",
            "LAUNCHREADY_URIBL_ZONES": "",
            "LAUNCHREADY_URIBL_MAX_DOMAINS": "5",
        }
    ).blocklists
    assert config == Blocklists(("zen.spamhaus.org", "bl.spamcop.net"), (), 5)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LAUNCHREADY_DNSBL_ZONES", "zen.spamhaus.org, not a zone", "LAUNCHREADY_DNSBL_ZONES has an entry that is not"),
        ("LAUNCHREADY_URIBL_ZONES", "localhost", "LAUNCHREADY_URIBL_ZONES has an entry that is not"),
        ("LAUNCHREADY_URIBL_MAX_DOMAINS", "1000", "LAUNCHREADY_URIBL_MAX_DOMAINS must be a whole number from 0 to 100"),
    ],
)
def test_a_bad_blocklist_setting_is_named(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load({name: value})
