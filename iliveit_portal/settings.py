"""Django settings for the iLiveIt Portal. Every deployment-specific value comes from the
environment; the README's configuration table lists them."""

import ipaddress
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from iliveit_portal.env import env_bool, env_choice, env_float, env_int, env_list, env_str
from iliveit_portal.queues import celery_queues
from iliveit_portal.redis_urls import celery_broker_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PORTAL_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

# Keys that must never protect a real deployment: the development fallback and Django's
# placeholder prefix.
DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105


# Django's own deployment check (security.W009) asks for at least 50 characters.
SECRET_KEY_MIN_LENGTH = 50


def check_production_safety(*, debug: bool, secret_key: str, allowed_hosts: list[str]) -> None:
    """Refuse insecure defaults and weak values when DEBUG is off."""
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
    if len(secret_key) < SECRET_KEY_MIN_LENGTH:
        raise ImproperlyConfigured(
            f"SECRET_KEY is {len(secret_key)} characters long; it must be at least "
            f"{SECRET_KEY_MIN_LENGTH}, since it signs sessions and postback URLs. Make one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'."
        )
    if not allowed_hosts:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS is empty; list the host names the portal answers to (comma-separated)."
        )
    if any("*" in host for host in allowed_hosts):
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS must not contain '*': with any host accepted, a forged Host header "
            "can steer password-reset and other absolute links. List the host names (a leading "
            "dot, .example.com, takes a domain and its subdomains)."
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
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_prometheus",
    "messaging",
    "postbacks",
    "reports",
    "audit",
    "api",
    # Last: after each migrate its roles are given permissions of the apps above, which exist
    # only once those apps' own post-migrate handlers have run.
    "access",
]

MIDDLEWARE = [
    # First and last, so that the request figures time the whole stack in between.
    "iliveit_portal.request_metrics.RequestMetricsBefore",
    "django.middleware.security.SecurityMiddleware",
    # Static files answered before sessions and the rest are looked at.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "iliveit_portal.security.SecurityHeadersMiddleware",
    "iliveit_portal.request_metrics.RequestMetricsAfter",
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
            "libraries": {"portal": "iliveit_portal.templatetags.portal"},
        },
    },
]

# --- Database ------------------------------------------------------------------------------
# SQLite is the zero-set-up default; PostgreSQL is used whenever DATABASE_URL names it.
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"
# One SELECT 1 before a request reuses a kept connection: a database restart then fails no
# request. Switching it off saves that round trip on every request (README, configuration).
DATABASE_CONN_HEALTH_CHECKS = env_bool("DATABASE_CONN_HEALTH_CHECKS", True)
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
    _database["CONN_HEALTH_CHECKS"] = DATABASE_CONN_HEALTH_CHECKS
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
# Celery's Django fix-up would close the database connection before and after every task, so
# each submit chunk and drain paid for a new PostgreSQL backend (5% of a sending worker, py-spy).
# Workers keep it instead, as web processes do: iliveit_portal/celery.py closes it between tasks
# only when it is broken or older than DATABASE_CONN_MAX_AGE. The fix-up still closes it every
# this many tasks.
CELERY_DB_REUSE_MAX = 1000
# Applying postbacks must never wait behind sending: a large campaign queues its submit chunks
# all at once, and a drain queued after them would sit there for minutes while the inbox
# grows. Drains go to a queue of their own, served by a worker of its own (README, "Scale").
CELERY_TASK_DEFAULT_QUEUE, CELERY_POSTBACKS_QUEUE = celery_queues(os.environ)
# Beat's sweep and polls ride with the drains: on sending's queue they waited behind a large
# campaign's submit chunks (minutes apart in bench/pipeline.py), and with them the readiness
# heartbeat, scheduled launches and canary judgements.
CELERY_TASK_ROUTES = {
    name: {"queue": CELERY_POSTBACKS_QUEUE}
    for name in ("postbacks.tasks.drain", "postbacks.tasks.sweep", "postbacks.tasks.reconcile")
}

# Shared by every web process: API throttles and login throttling must count across them.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "portal"),
        "TIMEOUT": 300,
    }
}

# --- iLiveIt ---------------------------------------------------------------------------------
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
ILIVEIT_ENVIRONMENT = env_choice("ILIVEIT_ENVIRONMENT", ("staging", "production"), "staging")
ILIVEIT_ENDPOINT = env_str("ILIVEIT_ENDPOINT", "http://127.0.0.1:8765").rstrip("/")
ILIVEIT_ACCESS_TOKEN = env_str("ILIVEIT_ACCESS_TOKEN")
ILIVEIT_MVNO_ID = env_int("ILIVEIT_MVNO_ID", 0, minimum=0)
ILIVEIT_CONNECT_TIMEOUT = env_int("ILIVEIT_CONNECT_TIMEOUT_MS", 3050, minimum=1) / 1000
ILIVEIT_READ_TIMEOUT = env_int("ILIVEIT_READ_TIMEOUT_MS", 10000, minimum=1) / 1000
# An application's token goes to its endpoint, so an endpoint may only name one of these hosts
# (messaging/endpoints.py), by default iLiveIt's own.
ILIVEIT_ENDPOINT_HOSTS = [
    host.lower()
    for host in env_list("ILIVEIT_ENDPOINT_HOSTS", [urlsplit(ILIVEIT_ENDPOINT).hostname or ""])
]
# Plain http is for the local sandbox only: `make run` (DEBUG) and the test suite, which runs
# with DEBUG off and turns this on in iliveit_portal/testing.py.
ILIVEIT_ALLOW_LOOPBACK_HTTP = env_bool("ILIVEIT_ALLOW_LOOPBACK_HTTP", DEBUG)
# Hosts named here by whoever runs the portal (never by a user in the admin) may be reached
# over plain http too: the Compose sandbox profile's `sandbox` container, on its own network.
ILIVEIT_HTTP_HOSTS = [host.lower() for host in env_list("ILIVEIT_HTTP_HOSTS", [])]

# --- Security --------------------------------------------------------------------------------
# HTTPS is assumed in production; the local stack (DEBUG) and the test servers run plain HTTP.
HTTPS = env_bool("HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
# Probes and the metrics scraper talk to the container directly, over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients):
# without this, every request would look like plain HTTP and be redirected forever.
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = env_bool("USE_X_FORWARDED_HOST", False)
# How many proxies in front append to X-Forwarded-For: the client's address is read that many
# entries from the right (iliveit_portal/client_address.py). Without BEHIND_PROXY the header
# is never read, or any client could pick the address its sign-in failures count against.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1, minimum=0) if BEHIND_PROXY else 0
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Sign-in throttling (iliveit_portal/security.py): failures of one name from one address, and
# of any names from one address, within the lockout window.
LOGIN_FAILURES_ALLOWED = env_int("LOGIN_FAILURES_ALLOWED", 5, minimum=1)
LOGIN_ADDRESS_FAILURES_ALLOWED = env_int("LOGIN_ADDRESS_FAILURES_ALLOWED", 50, minimum=1)
LOGIN_LOCKOUT_S = env_int("LOGIN_LOCKOUT_S", 900, minimum=1)

# --- Auth, i18n, static ------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
# Kept server-side: a new API token's secret is shown once through a message, and must not
# travel in a cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
LOGIN_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
# One date format everywhere, the admin included (iliveit_portal/formats/en/formats.py).
FORMAT_MODULE_PATH = ["iliveit_portal.formats"]
TIME_ZONE = env_str("TIME_ZONE", "Africa/Johannesburg")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# The Docker image runs collectstatic at build time and sets STATICFILES_MANIFEST=1: file names
# then carry a hash of their content, so WhiteNoise lets browsers keep them for good. Off (make
# run, the tests, bench) nothing is collected, and a manifest lookup would fail every page.
STATICFILES_MANIFEST = env_bool("STATICFILES_MANIFEST", False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATICFILES_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Uncollected, STATIC_ROOT does not exist: WhiteNoise then looks files up per request (as it
# does under DEBUG) instead of indexing, and warning about, a missing folder at start.
WHITENOISE_AUTOREFRESH = DEBUG or not STATICFILES_MANIFEST
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))

LOG_LEVEL = env_choice("LOG_LEVEL", ("debug", "info", "warning", "error"), "info").upper()
# JSON lines for log collectors in production; plain lines for people.
LOG_FORMAT = env_choice("LOG_FORMAT", ("json", "plain"), "plain" if DEBUG else "json")
_log_handler = {
    "class": "logging.StreamHandler",
    "formatter": LOG_FORMAT,
    # On every handler: no token or key reaches any log output (iliveit_portal/logs.py).
    "filters": ["context", "redact"],
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "iliveit_portal.logs.ContextFilter"},
        "redact": {"()": "iliveit_portal.logs.RedactFilter"},
    },
    "formatters": {
        "plain": {
            "()": "iliveit_portal.logs.PlainFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        "json": {"()": "iliveit_portal.logs.JsonFormatter"},
    },
    "handlers": {"console": _log_handler},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # runserver's request lines have a handler of their own in Django's defaults; this one
    # redacts (a postback URL's MAC is a credential).
    "loggers": {
        # Django's defaults give these handlers of their own, which would neither redact nor
        # write JSON: django's records go to the root's handler, runserver's to the same one.
        "django": {"handlers": [], "level": "INFO" if LOG_LEVEL == "DEBUG" else LOG_LEVEL},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # A Celery worker gives its pool's logger a plain handler unless it already has one.
        "multiprocessing": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
# Celery would otherwise replace the root logger's handlers with its own plain, unfiltered one.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# /metrics answers without a login to these networks (a scraper that comes straight to the app
# server, never through a proxy), or to a bearer METRICS_TOKEN from anywhere.
METRICS_TOKEN = env_str("METRICS_TOKEN")
_metrics_nets = env_list(
    "METRICS_ALLOWED_NETS",
    ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
)
try:
    METRICS_ALLOWED_NETS = [ipaddress.ip_network(net, strict=False) for net in _metrics_nets]
except ValueError as exc:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_NETS: {exc}") from None

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
# A message that iLiveIt answers nothing but 429 for this long fails (Retry failed can queue it
# again); each 429 before that backs it off like a retry.
SUBMIT_RATE_LIMITED_GIVE_UP_S = env_float("SUBMIT_RATE_LIMITED_GIVE_UP_S", 3600.0, minimum=0)
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
# worker slot while it runs). One fewer than the postbacks worker's 4 processes: beat's sweep
# and polls share its queue, and with every process draining a 20,000-message campaign's
# backlog the sweep ran 66 s apart (bench/pipeline.py), past /readyz's 60 s.
POSTBACK_DRAINS = env_int("POSTBACK_DRAINS", 3, minimum=1)

# Raw postbacks, per-message bodies and replies older than this many days are pruned hourly
# (postbacks/retention.py); 0 keeps them forever. At least 3: a message may still hear from
# iLiveIt for 72 hours (assumed delivered), and its inbox rows prove what was heard.
RETENTION_DAYS = env_int("RETENTION_DAYS", 90, minimum=0)
if 0 < RETENTION_DAYS < 3:
    raise ImproperlyConfigured("RETENTION_DAYS must be 0 (keep forever) or at least 3.")

# An SMS reply that is one of these words (trimmed, in any case) opts its number out of the
# application it replied to; one of OPT_IN_KEYWORDS opts it back in. Comma-separated.
OPT_OUT_KEYWORDS = [
    word.upper()
    for word in env_list(
        "OPT_OUT_KEYWORDS",
        ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPT OUT", "OPTOUT"],
    )
]
OPT_IN_KEYWORDS = [word.upper() for word in env_list("OPT_IN_KEYWORDS", ["START", "UNSTOP", "YES"])]
if set(OPT_OUT_KEYWORDS) & set(OPT_IN_KEYWORDS):
    raise ImproperlyConfigured("OPT_OUT_KEYWORDS and OPT_IN_KEYWORDS must not share a word.")

CELERY_BEAT_SCHEDULE = {
    "sweep": {"task": "postbacks.tasks.sweep", "schedule": SWEEP_INTERVAL_S},
    "reconcile": {"task": "postbacks.tasks.reconcile", "schedule": RECONCILE_POLL_INTERVAL_S},
    "prune": {"task": "api.tasks.prune_old_data", "schedule": 3600.0},
}

# --- REST API ----------------------------------------------------------------------------------
# /api/v1/ (api/): token or session sign-in, one JSON error shape, cursor pages, a rate per token.
API_RATE_LIMIT = env_str("API_RATE_LIMIT", "600/min")
_api_count, _, _api_period = API_RATE_LIMIT.partition("/")
if not (_api_count.isdigit() and int(_api_count) > 0 and _api_period[:1] in ("s", "m", "h", "d")):
    raise ImproperlyConfigured(
        f"API_RATE_LIMIT must look like 600/min (a count per s, min, hour or day); "
        f"got {API_RATE_LIMIT!r}"
    )
REST_FRAMEWORK = {
    # Token first: an unauthenticated request then answers 401 with WWW-Authenticate: Bearer.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ApiRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.IdCursorPagination",
    # DRF's, capped in size (DATA_UPLOAD_MAX_MEMORY_SIZE, 413) and in nesting (400).
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.api_exception_handler",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "iLiveIt Portal API",
    "DESCRIPTION": "Campaigns, messages and single sends through the iLiveIt Messaging API.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs pages: signed-in staff or an API token (api/views/docs.py).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and Redoc come from drf-spectacular-sidecar's static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI would otherwise send the schema to validator.swagger.io for a badge.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "ENUM_NAME_OVERRIDES": {
        "CampaignStateEnum": "messaging.models.CampaignState",
        "MessageStateEnum": "messaging.models.MessageState",
        "ChannelEnum": "messaging.models.Channel",
        "SingleSendChannelEnum": "api.serializers.messages.SINGLE_SEND_CHANNELS",
        "ReplyKindEnum": "postbacks.models.ReplyKind",
    },
}
