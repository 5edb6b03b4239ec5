"""Settings for HockeyHub Batch: one module, driven by environment variables."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from hockeyhub.logs import configure_structlog, logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

Number = TypeVar("Number", int, float)


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"The environment variable {name} is required.")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}.")


def _env_number(name: str, default: Number, parse: Callable[[str], Number], kind: str) -> Number:
    """Return the variable parsed by `parse`, or `default` when it is unset or empty."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return parse(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be {kind}, got {raw!r}.") from exc


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _env_number(name, default, int, "an integer")
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be >= {minimum}, got {value}.")
    return value


def env_float(name: str, default: float, *, minimum: float = 0.0, maximum: float | None = None) -> float:
    value = _env_number(name, default, float, "a number")
    if value < minimum or (maximum is not None and value > maximum):
        raise ImproperlyConfigured(f"{name} must be between {minimum} and {maximum}, got {value}.")
    return value


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


DEBUG = env_bool("DEBUG", False)


def _local_secret_key() -> str:
    """Return a per-checkout random key kept in var/ (git-ignored) when SECRET_KEY is not set."""
    key_file = BASE_DIR / "var" / "secret_key"
    if not key_file.exists():
        from django.core.management.utils import get_random_secret_key

        key_file.parent.mkdir(exist_ok=True)
        key_file.write_text(get_random_secret_key())
    return key_file.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY") or _local_secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "django_rq",
    "template_partials",
    "csp",
    "axes",
    "ninja",
    "hockeyhub",
    "workouts",
    "medical",
    "batch",
    "api",
    "webhooks",
    "demo",
    "calendars",
    "planner",
    "automations",
    "analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "hockeyhub.middleware.RequestContextMiddleware",
    # Under /api/: any non-JSON error (unknown URL, 405, a refusal below, a crash) becomes problem+json.
    "api.problems.ApiProblemMiddleware",
    "hockeyhub.middleware.RefuseNulBytesMiddleware",
    "hockeyhub.middleware.AdminLookupErrorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "hockeyhub.urls"
WSGI_APPLICATION = "hockeyhub.wsgi.application"

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
                "workouts.context_processors.teams",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hockeyhub")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("HockeyHub Batch runs on PostgreSQL only; DATABASE_URL must be postgres://...")
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
RQ_QUEUE_NAME = env_str("RQ_QUEUE_NAME", "batch")
# Webhook deliveries have their own queue so a long batch never delays them; batch_worker serves both.
WEBHOOK_QUEUE_NAME = env_str("WEBHOOK_QUEUE_NAME", f"{RQ_QUEUE_NAME}-webhooks")
RQ_QUEUES = {
    RQ_QUEUE_NAME: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": env_int("RQ_JOB_TIMEOUT", 3600, minimum=60)},
    WEBHOOK_QUEUE_NAME: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 60},
}
RQ_SHOW_ADMIN_LINK = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "workouts:list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "Europe/Stockholm")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # collectstatic fills it for production; WhiteNoise serves it
WHITENOISE_USE_FINDERS = DEBUG
# Compressed (gzip/brotli) copies at collectstatic time. Not the manifest storage: it needs a fresh
# collectstatic before every test run and would 500 on any file added since.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# HTTPS behind a reverse proxy that terminates TLS and sets X-Forwarded-Proto (docs/operations.md).
# One switch turns on everything `check --deploy` asks for.
HOCKEYHUB_HTTPS = env_bool("HOCKEYHUB_HTTPS", False)
if HOCKEYHUB_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # Monitoring may talk plain HTTP to the app from inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
# Trusted proxies in front of the app: the client address is taken from X-Forwarded-For accordingly
# (logs, login throttling). 0 trusts no header.
HOCKEYHUB_PROXY_COUNT = env_int("HOCKEYHUB_PROXY_COUNT", 1 if HOCKEYHUB_HTTPS else 0, minimum=0)

# Login throttling (django-axes): a username is locked for LOGIN_LOCKOUT_MINUTES from the address that
# failed LOGIN_FAILURE_LIMIT times in a row; other addresses and other users are not affected.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_float("LOGIN_LOCKOUT_MINUTES", 15, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = "hockeyhub.throttle.axes_lockout_parameters"
# ... and an address is locked whatever the username once it failed this often within the lockout time.
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 20, minimum=1)
# Wrong API bearer tokens per client address per minute before the API answers 429.
TOKEN_FAILURES_PER_MINUTE = env_int("TOKEN_FAILURES_PER_MINUTE", 10, minimum=1)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "hockeyhub.middleware.axes_client_ip"
AXES_SENSITIVE_PARAMETERS = ["password"]

# Content-Security-Policy: no inline scripts or styles, no eval. htmx is configured through a
# <meta name="htmx-config"> tag with includeIndicatorStyles=false and allowEval=false.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

# Batch engine knobs (see docs/operations.md).
BATCH_MAX_OPERATIONS = env_int("BATCH_MAX_OPERATIONS", 100_000, minimum=1)
# rollbackOnError runs the whole batch as one transaction: at most this many operations.
BATCH_ATOMIC_MAX_ITEMS = env_int("BATCH_ATOMIC_MAX_ITEMS", 1000, minimum=1)
BATCH_MAX_CONCURRENCY = env_int("BATCH_MAX_CONCURRENCY", 16, minimum=1)
BATCH_MAX_CHUNK_SIZE = env_int("BATCH_MAX_CHUNK_SIZE", 1000, minimum=1)
BATCH_UNDO_WINDOW_HOURS = env_int("BATCH_UNDO_WINDOW_HOURS", 24, minimum=1)
BATCH_RESULT_RETENTION_DAYS = env_int("BATCH_RESULT_RETENTION_DAYS", 30, minimum=1)
BATCH_RETRY_BASE_DELAY_MS = env_int("BATCH_RETRY_BASE_DELAY_MS", 100, minimum=0)
BATCH_RECOVER_ON_WORKER_START = env_bool("BATCH_RECOVER_ON_WORKER_START", True)

# Quotas on new batch work (batch/quotas.py; 0 turns a limit off). Undo and rollback are exempt.
BATCH_QUOTA_ACTIVE_PER_TEAM = env_int("BATCH_QUOTA_ACTIVE_PER_TEAM", 5, minimum=0)
BATCH_QUOTA_ACTIVE_PER_USER = env_int("BATCH_QUOTA_ACTIVE_PER_USER", 3, minimum=0)
BATCH_QUOTA_OPERATIONS_PER_TEAM_PER_DAY = env_int(
    "BATCH_QUOTA_OPERATIONS_PER_TEAM_PER_DAY", 200_000, minimum=0
)
BATCH_QUOTA_SUBMISSIONS_PER_USER_PER_MINUTE = env_int(
    "BATCH_QUOTA_SUBMISSIONS_PER_USER_PER_MINUTE", 10, minimum=0
)

DEFAULT_EXCEPTION_REPORTER_FILTER = "hockeyhub.debug.SettingsFilter"

# Structured JSON logs on stderr (hockeyhub/logs.py); LOG_FORMAT=console for a terminal.
LOGGING = logging_config(
    level=env_str("LOG_LEVEL", "INFO").upper(), batch_level=env_str("BATCH_LOG_LEVEL", "INFO").upper()
)
configure_structlog()

# /metrics (Prometheus text): with METRICS_TOKEN set, scrapers must send `Authorization: Bearer <token>`.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# Without a token /metrics answers 401, unless it is declared public (a scraper inside a closed network).
METRICS_PUBLIC = env_bool("METRICS_PUBLIC", False)
METRICS_REDIS_PREFIX = env_str("METRICS_REDIS_PREFIX", f"hockeyhub:{RQ_QUEUE_NAME}:metrics")
# /healthz answers 503 below this many live RQ workers (0: report them, never fail on them).
HEALTHZ_MIN_WORKERS = env_int("HEALTHZ_MIN_WORKERS", 1, minimum=0)

# Error reporting: only when SENTRY_DSN is set; events are scrubbed of secrets (hockeyhub/sentry.py).
SENTRY_DSN = env_str("SENTRY_DSN", "")
if SENTRY_DSN:
    from hockeyhub.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", "development" if DEBUG else "production"),
        release=env_str("SENTRY_RELEASE", "") or None,
        traces_sample_rate=env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0, maximum=1.0),
    )
BATCH_LOCK_TIMEOUT_MS = env_int("BATCH_LOCK_TIMEOUT_MS", 2000, minimum=1)
BATCH_STALL_SECONDS = env_int("BATCH_STALL_SECONDS", 30, minimum=1)
# A chunk whose runner died this many times (OOM, segfault, kill -9) fails its items as RUNNER_CRASHED.
BATCH_CHUNK_MAX_CRASHES = env_int("BATCH_CHUNK_MAX_CRASHES", 3, minimum=1)
# A runner works this long, then hands its worker to whatever waits in the queue (fair scheduling).
BATCH_TIME_SLICE_MS = env_int("BATCH_TIME_SLICE_MS", 1000, minimum=50)
# Without an explicit chunkSize, a chunk holds about this much work (progress and cancel granularity).
BATCH_CHUNK_TARGET_MS = env_int("BATCH_CHUNK_TARGET_MS", 250, minimum=10)

# JSON API and webhooks (see docs/api.md).
# Hosts that webhooks may reach even when they resolve to private or loopback addresses (SSRF guard).
WEBHOOK_ALLOWED_HOSTS = env_list("WEBHOOK_ALLOWED_HOSTS", "")
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
WEBHOOK_RETRY_HOURS = env_int("WEBHOOK_RETRY_HOURS", 24, minimum=1)
WEBHOOK_RETRY_BASE_SECONDS = float(os.environ.get("WEBHOOK_RETRY_BASE_SECONDS") or 5)

# Calendars in and out (see docs/operations.md): imported busy time and the secret-token feeds.
CALENDAR_IMPORT_MAX_BYTES = env_int("CALENDAR_IMPORT_MAX_BYTES", 2_000_000, minimum=1000)
CALENDAR_IMPORT_MAX_EVENTS = env_int("CALENDAR_IMPORT_MAX_EVENTS", 5000, minimum=1)
CALENDAR_IMPORT_DAYS_BACK = env_int("CALENDAR_IMPORT_DAYS_BACK", 31, minimum=0)
CALENDAR_IMPORT_DAYS_AHEAD = env_int("CALENDAR_IMPORT_DAYS_AHEAD", 400, minimum=1)
CALENDAR_FEED_WEEKS_BACK = env_int("CALENDAR_FEED_WEEKS_BACK", 4, minimum=0)
CALENDAR_FEED_WEEKS_AHEAD = env_int("CALENDAR_FEED_WEEKS_AHEAD", 26, minimum=1)
# The site's address for feed URLs printed outside a request (manage.py calendar_feed_url).
CALENDAR_FEED_BASE_URL = env_str("CALENDAR_FEED_BASE_URL", "http://127.0.0.1:8000")
# Automations (automations/): the user automated batches are started by, and the tick's period (RQ cron).
AUTOMATIONS_ACTOR_USERNAME = env_str("AUTOMATIONS_ACTOR_USERNAME", "automations")
AUTOMATION_TICK_SECONDS = env_int("AUTOMATION_TICK_SECONDS", 60, minimum=10)
# A restriction taking effect re-judges the player's planned sessions (automations/triggers.py).
AUTOMATIONS_RESTRICTION_TRIGGER = env_bool("AUTOMATIONS_RESTRICTION_TRIGGER", True)

# Tests only: a process started by a test reads the clock its test pinned (hockeyhub/testclock.py).
if os.environ.get("TEST_CLOCK_ANCHOR"):
    from hockeyhub.testclock import follow_environment

    follow_environment(TIME_ZONE)
# Subscribed calendar URLs: minutes between syncs and the fetch timeout (manage.py calendar_sync for cron).
CALENDAR_SYNC_MINUTES = env_int("CALENDAR_SYNC_MINUTES", 60, minimum=5)
CALENDAR_SYNC_TIMEOUT_SECONDS = env_int("CALENDAR_SYNC_TIMEOUT_SECONDS", 15, minimum=1)
# Analytics (analytics/; see docs/operations.md): a batch submitted from one of these sources counts as
# automated; a player's planned load is flagged when it rises by more than this share week on week.
ANALYTICS_AUTOMATED_SOURCES = env_list("ANALYTICS_AUTOMATED_SOURCES", "automation,schedule,trigger")
ANALYTICS_LOAD_JUMP = env_float("ANALYTICS_LOAD_JUMP", 0.3, minimum=0.0)
