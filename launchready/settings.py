"""Django settings, driven by the environment through launchready.config."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import django_stubs_ext

from launchready import config as _config

django_stubs_ext.monkeypatch()


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit():
        raise SystemExit(f"launchready: configuration error: {name} must be a whole number, not {value!r}")
    return int(value)


try:
    CONFIG = _config.load()
except _config.ConfigError as exc:
    # One clear line, whatever started the process (manage.py, gunicorn, celery).
    raise SystemExit(f"launchready: configuration error: {exc}") from None

BASE_DIR = _config.BASE_DIR
VAR_DIR = _config.VAR_DIR
PRODUCTION = CONFIG.production
DEBUG = CONFIG.debug
SECRET_KEY = CONFIG.secret_key
ALLOWED_HOSTS = CONFIG.allowed_hosts
CSRF_TRUSTED_ORIGINS = CONFIG.csrf_trusted_origins
SITE_URL = CONFIG.site_url
LAUNCHREADY_ENCRYPTION_KEYS = CONFIG.encryption_keys
LAUNCHREADY_MAIL_RECEIVER = CONFIG.mail_receiver
LAUNCHREADY_BLOCKLISTS = CONFIG.blocklists

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "csp",
    "accounts",
    "launchready",
    "audits",
    "monitoring",
    "handover",
    "reports",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "launchready.logs.RequestIdMiddleware",
    "launchready.bidi.BidiControlMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.WorkspaceMiddleware",
]

ROOT_URLCONF = "launchready.urls"
# Messages live in the session, not in a cookie: a new token or signing secret is shown once through them.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
WSGI_APPLICATION = "launchready.wsgi.application"
ASGI_APPLICATION = "launchready.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.workspace",
            ],
            "builtins": ["launchready.templatetags.wording"],
        },
    },
    {  # the row-heavy partials (launchready/jinja.py); autoescaping on, as Django's backend sets it
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "jinja"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "launchready.jinja.environment"},
    },
]

DATABASES = {"default": CONFIG.database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
if "pytest" in sys.modules:
    # Hashing cost is not what the tests measure.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- allauth: email login, verification, rate limits, MFA -----------------------------------
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Launch Ready] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if PRODUCTION else "http"
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_RATE_LIMITS = {  # rates, not passwords (bandit B105 reads the key names)  # nosec B105
    "login": "30/m/ip",
    # Failed sign-ins: per address, and per account from every address (much higher, so that nobody
    # can lock a consultant out); per account from one address in login_failed_here (accounts/adapter.py).
    "login_failed": "10/m/ip,50/15m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
    # Ours, counted by the same limiter (accounts/ratelimits.py).
    "invite": "20/h/user,40/h/ip",
    "api_deploys": "60/m/key,120/m/ip",
    # A repository sent from CI to be scanned (up to 50 MB each): per token and per address.
    "api_scans": "30/h/key,60/h/ip",
    "login_failed_here": "5/5m/key",
    # The deploy API's failed token checks: per address, and per token prefix after a wrong secret.
    "api_deploys_failed": "10/m/ip",
    "api_deploys_wrong_secret": "30/m/key",
    # Heartbeat pings: per heartbeat (a job and its /start make two a run; a worker pings once a minute), and the
    # pings to URLs no heartbeat has, per address (someone guessing, or a job left pinging a deleted heartbeat).
    "heartbeat_pings": "60/m/key",
    "heartbeat_unknown": "30/m/ip",
}
# The rate limits count client addresses. Behind proxies that append to X-Forwarded-For (a load balancer
# that terminates TLS: 1), the address is the one the nearest trusted proxy saw, not the proxy's own.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("LAUNCHREADY_TRUSTED_PROXY_COUNT", 0)
# Sudo: sensitive actions need a sign-in, password or code within the last ten minutes (accounts/sudo.py).
ACCOUNT_REAUTHENTICATION_TIMEOUT = 600
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Launch Ready"

# --- Celery ------------------------------------------------------------------------------------
REDIS_URL = CONFIG.redis_url
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
else:
    # Embedded default: a broker that is a folder, so `make run` needs no server.
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
MONITORING_RAW_RETENTION_HOURS = env_int("MONITORING_RAW_RETENTION_HOURS", 48)
# DMARC aggregate reports and the sources summed from them: a year of "who sends as you", and a month to spare.
DMARC_REPORT_RETENTION_DAYS = env_int("DMARC_REPORT_RETENTION_DAYS", 400)
MONITORING_LEASE_SECONDS = env_int("MONITORING_LEASE_SECONDS", 40)
# The scheduler's beat: each tick claims what falls due before the next one and probes it on its due second.
MONITORING_TICK_SECONDS = 3.0
JOURNEYS_TICK_SECONDS = 15.0  # a round may take a journey's whole deadline, so it comes less often
# How often the heartbeats are looked at: a failure or a late job is alerted within this of happening.
HEARTBEAT_SWEEP_SECONDS = 15.0
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "expire-invitations": {"task": "accounts.tasks.expire_invitations", "schedule": 3600.0},
    "prune-activity": {"task": "accounts.tasks.prune_activity", "schedule": 86400.0},
    "daily-audits": {"task": "audits.tasks.schedule_daily_audits", "schedule": 900.0},
    "reap-stale-audit-runs": {"task": "audits.tasks.reap_stale_audit_runs", "schedule": 120.0},
    "wipe-received-mail": {"task": "audits.tasks.wipe_received_mail", "schedule": 3600.0},
    "prune-dmarc-reports": {"task": "audits.tasks.prune_dmarc_reports", "schedule": 86400.0},
    "monitoring-tick": {
        "task": "monitoring.tasks.monitoring_tick",
        "schedule": MONITORING_TICK_SECONDS,
        "options": {"expires": MONITORING_TICK_SECONDS},
    },
    "journeys-tick": {
        "task": "monitoring.tasks.journeys_tick",
        "schedule": JOURNEYS_TICK_SECONDS,
        "options": {"expires": JOURNEYS_TICK_SECONDS},
    },
    "monitoring-rollup": {"task": "monitoring.tasks.monitoring_rollup", "schedule": 300.0},
    "monitoring-prune": {"task": "monitoring.tasks.monitoring_prune", "schedule": 3600.0},
    "monitoring-reminders": {"task": "monitoring.tasks.monitoring_reminders", "schedule": 300.0},
    "monitoring-watches": {"task": "monitoring.tasks.monitoring_watches", "schedule": 3600.0},
    "monitoring-requeue-alerts": {"task": "monitoring.tasks.monitoring_requeue_alerts", "schedule": 60.0},
    # Heartbeats late or failing alerted, recoveries told, deploys' job checks settled (claimed: once each).
    "monitoring-heartbeats": {
        "task": "monitoring.tasks.monitoring_heartbeats",
        "schedule": HEARTBEAT_SWEEP_SECONDS,
        "options": {"expires": HEARTBEAT_SWEEP_SECONDS},
    },
    # Each client's weekly report goes out within two minutes of its hour (claimed: once, whatever the beats).
    "weekly-reports": {"task": "handover.tasks.weekly_reports_due", "schedule": 120.0},
}


# --- Cache (allauth's rate limits live here, so it must be shared between processes) ----------
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "lr",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Email ---------------------------------------------------------------------------------------
for _key, _value in CONFIG.email.items():
    globals()[_key] = _value
DEFAULT_FROM_EMAIL = CONFIG.default_from_email
SERVER_EMAIL = CONFIG.default_from_email
EMAIL_TIMEOUT = 15

# --- Internationalisation ------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Where this product's repository is published, and the tag or commit of it teams pin their pre-commit hook to
# (the repository scans page prints the lines for their .pre-commit-config.yaml); empty when not published.
PRE_COMMIT_REPO = os.environ.get("LAUNCHREADY_HOOK_REPO", "").strip()
PRE_COMMIT_REV = os.environ.get("LAUNCHREADY_HOOK_REV", "").strip()

# --- Static files --------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION or os.environ.get("LAUNCHREADY_STATIC_MANIFEST")
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- The product's own launch bar: headers and cookies --------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
if PRODUCTION:
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = 63072000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Logging: structured, scrubbed ----------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "scrub": {"()": "launchready.logs.ScrubFilter"},
        "request_id": {"()": "launchready.logs.RequestIdFilter"},
        "refused": {"()": "launchready.logs.RefusedRequestFilter"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "plain": {"format": "%(asctime)s %(levelname)-7s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if PRODUCTION else "plain",
            "filters": ["request_id", "refused", "scrub"],
        }
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # runserver's request lines (make run): through the scrubbed handler, not Django's own, which prints
        # a heartbeat's ping URL with its secret
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.request": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},  # one line per request is noise; net.py records what matters
        "mail.log": {"level": "WARNING"},  # aiosmtpd: a line per connection, with the sender's address
    },
}

ADMINS: list[tuple[str, str]] = []
