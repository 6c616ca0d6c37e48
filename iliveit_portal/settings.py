"""Django settings for the iLiveIt Portal. Every deployment-specific value comes from the
environment; the README's configuration table lists them."""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from iliveit_portal.env import env_bool, env_choice, env_float, env_int, env_list, env_str
from iliveit_portal.redis_urls import celery_broker_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PORTAL_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

# Keys that must never protect a real deployment: the development fallback and Django's
# placeholder prefix.
DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105


def check_production_safety(*, debug: bool, secret_key: str, allowed_hosts: list[str]) -> None:
    """Refuse insecure defaults when DEBUG is off."""
    if debug:
        return
    if (
        not secret_key
        or secret_key == DEVELOPMENT_SECRET_KEY
        or secret_key.startswith("django-insecure")
    ):
        raise ImproperlyConfigured(
            "SECRET_KEY is missing or is a development default; set a long random SECRET_KEY "
            "(or DEBUG=1 for local development)."
        )
    if not allowed_hosts:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS is empty; list the host names the portal answers to (comma-separated)."
        )


SECRET_KEY = env_str("SECRET_KEY") or (DEVELOPMENT_SECRET_KEY if DEBUG else "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
check_production_safety(debug=DEBUG, secret_key=SECRET_KEY, allowed_hosts=ALLOWED_HOSTS)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "messaging",
    "postbacks",
    "access",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "iliveit_portal.urls"
WSGI_APPLICATION = "iliveit_portal.wsgi.application"

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
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------------------
# SQLite is the zero-set-up default; PostgreSQL is used whenever DATABASE_URL names it.
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"
try:
    _database = dj_database_url.parse(DATABASE_URL)
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None

if _database["ENGINE"] == "django.db.backends.sqlite3":
    if _database["NAME"] != ":memory:":
        # A fresh clone has no var/ yet; SQLite will not make the folder itself.
        Path(_database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL + IMMEDIATE keeps concurrent writers (web, worker, beat) from failing with
    # "database is locked"; measured about 1,100 inserts/s from 4 workers this way.
    # Tests run a real Celery worker in another process, so the test database must be a file;
    # one per test run, so that runs side by side do not share it.
    _database["TEST"] = {"NAME": str(VAR_DIR / f"test-portal-{os.getpid()}.sqlite3")}
    _database["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    # One test database per test run, so that runs side by side do not share it.
    _database["TEST"] = {"NAME": f"test_{_database['NAME']}_{os.getpid()}"}
    # A new PostgreSQL connection costs ~5.5 ms; keep them open between requests.
    _database["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 600, minimum=0)
    _database["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis and Celery ------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = celery_broker_url(REDIS_URL)
CELERY_TASK_ACKS_LATE = True
# A task lost with its worker goes back on the queue instead of vanishing.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "portal")

# --- iLiveIt ---------------------------------------------------------------------------------
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
ILIVEIT_ENVIRONMENT = env_choice("ILIVEIT_ENVIRONMENT", ("staging", "production"), "staging")
ILIVEIT_ENDPOINT = env_str("ILIVEIT_ENDPOINT", "http://127.0.0.1:8765").rstrip("/")
ILIVEIT_ACCESS_TOKEN = env_str("ILIVEIT_ACCESS_TOKEN")
ILIVEIT_MVNO_ID = env_int("ILIVEIT_MVNO_ID", 0, minimum=0)
ILIVEIT_CONNECT_TIMEOUT = env_int("ILIVEIT_CONNECT_TIMEOUT_MS", 3050, minimum=1) / 1000
ILIVEIT_READ_TIMEOUT = env_int("ILIVEIT_READ_TIMEOUT_MS", 10000, minimum=1) / 1000

# --- Auth, i18n, static ------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "Africa/Johannesburg")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))

LOG_LEVEL = env_choice("LOG_LEVEL", ("debug", "info", "warning", "error"), "info").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

# --- Campaigns and sending ---------------------------------------------------------------------
# Region assumed for phone numbers written without a country code.
PHONE_DEFAULT_REGION = env_str("PHONE_DEFAULT_REGION", "ZA").upper()
# Caps on what composers may upload (bytes): one MMS media item, one email attachment.
MMS_MAX_MEDIA_BYTES = env_int("MMS_MAX_MEDIA_BYTES", 600 * 1024, minimum=1)
EMAIL_MAX_ATTACHMENT_BYTES = env_int("EMAIL_MAX_ATTACHMENT_BYTES", 5 * 1024 * 1024, minimum=1)
RECIPIENTS_MAX_UPLOAD_BYTES = env_int("RECIPIENTS_MAX_UPLOAD_BYTES", 50 * 1024 * 1024, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Postbacks ---------------------------------------------------------------------------------
# Keys for the HMAC in each message's postback URL, newest first. URLs are signed with the first;
# any listed key is accepted, so a new key can be put in front and an old one dropped later.
POSTBACK_KEYS = env_list("POSTBACK_KEYS") or [SECRET_KEY]
# How long a submission with an unknown outcome waits for a postback before it may be sent
# again. iLiveIt promises postbacks within one hour, and the first ("submit") comes at once.
RECONCILE_UNCERTAIN_AFTER_S = env_int("RECONCILE_UNCERTAIN_AFTER_S", 3900, minimum=1)
# Submit attempts (5xx, connection errors) before a message fails for good.
SUBMIT_MAX_ATTEMPTS = env_int("SUBMIT_MAX_ATTEMPTS", 8, minimum=1)
SUBMIT_RETRY_BASE_S = env_float("SUBMIT_RETRY_BASE_S", 2.0, minimum=0.01)
SUBMIT_RETRY_MAX_S = env_float("SUBMIT_RETRY_MAX_S", 300.0, minimum=0.01)
# A `queued` message untouched this long is handed to a worker again by the sweeper.
SWEEP_QUEUED_AFTER_S = env_int("SWEEP_QUEUED_AFTER_S", 60, minimum=1)
# A `submitting` message this old lost its worker mid-call: its outcome is unknown.
SUBMITTING_STALE_AFTER_S = env_int("SUBMITTING_STALE_AFTER_S", 120, minimum=1)
SWEEP_INTERVAL_S = env_float("SWEEP_INTERVAL_S", 15.0, minimum=0.1)
# Pause a sending campaign when this share of its finished messages failed (0 disables).
AUTO_PAUSE_FAILURE_RATE = env_float("AUTO_PAUSE_FAILURE_RATE", 0.5, minimum=0)
AUTO_PAUSE_MIN_MESSAGES = env_int("AUTO_PAUSE_MIN_MESSAGES", 20, minimum=1)
# The longest a canary waits for its delivery reports before it is judged on those it has.
CANARY_WAIT_S = env_int("CANARY_WAIT_S", 3600, minimum=1)

# A message with a MessageID that showed no progress this long has overdue postbacks (iLiveIt
# promises them within an hour), so its status is polled instead: a round every
# RECONCILE_POLL_INTERVAL_S, of at most RECONCILE_POLL_LIMIT messages.
RECONCILE_POLL_AFTER_S = env_int("RECONCILE_POLL_AFTER_S", 3600, minimum=1)
RECONCILE_POLL_INTERVAL_S = env_int("RECONCILE_POLL_INTERVAL_S", 300, minimum=1)
RECONCILE_POLL_LIMIT = env_int("RECONCILE_POLL_LIMIT", 500, minimum=1)

# Drains that may apply stored postbacks side by side when a backlog builds (each takes one
# worker slot while it runs).
POSTBACK_DRAINS = env_int("POSTBACK_DRAINS", 4, minimum=1)

CELERY_BEAT_SCHEDULE = {
    "sweep": {"task": "messaging.tasks.sweep", "schedule": SWEEP_INTERVAL_S},
    "reconcile": {"task": "postbacks.tasks.reconcile", "schedule": RECONCILE_POLL_INTERVAL_S},
}
