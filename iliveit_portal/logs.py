"""Log output: JSON lines in production (LOG_FORMAT=json), plain text for people, and never a
secret in either.

settings.LOGGING puts ContextFilter and RedactFilter on every handler, so each record that any
handler writes carries the message and campaign it is about (when known) and has its secrets
scrubbed first. Named logs.py, not logging.py, so that it does not shadow the standard module.
"""

import contextvars
import inspect
import json
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

# Fields a record may carry, by `extra=` or from log_context(); written when present.
CONTEXT_FIELDS = ("message_id", "campaign_id", "task")
REDACTED = "[REDACTED]"
# Shorter values are too likely to occur in ordinary text to be scrubbed wherever they appear.
MIN_SECRET_LENGTH = 8

_context: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "portal_log_context", default=None
)


@contextmanager
def log_context(**fields) -> Iterator[None]:
    """Records logged inside carry these fields (unless a record sets its own)."""
    token = _context.set({**(_context.get() or {}), **fields})
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for field, value in (_context.get() or {}).items():
            if value is not None and not hasattr(record, field):
                setattr(record, field, value)
        return True


# --- redaction ---------------------------------------------------------------------------------

_PATTERNS = (
    # "Authorization: Bearer x", "'Authorization': 'Token x'", "authorization=x"
    re.compile(
        r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:(?:bearer|basic|token)\s+)?)[^\s'\",;}]+"
    ),
    re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    # token=x, access_token: x, "api_key": "x", SECRET_KEY=x, password=x
    re.compile(
        r"(?i)\b([\w-]*(?:token|secret|password|passwd|api[_-]?key)[\w-]*['\"]?\s*[=:]\s*['\"]?)"
        r"[^\s'\"&,;})\]]+"
    ),
    # The portal's own API tokens (api/), wherever one is quoted.
    re.compile(r"\b(ilv_)[A-Za-z0-9_-]{8,}"),
    # Credentials in a URL: scheme://user:password@host
    re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/\s@]*:)[^@\s/]+(?=@)"),
    # The MAC of a postback URL is the URL's credential (django.request logs failing paths).
    re.compile(r"(/postbacks/(?:status|reply)/[^/\s]+/)[0-9a-f]{32}"),
)

# Application tokens seen by this process (each iLiveIt application has its own, kept in the
# database), learned as Application rows are loaded or saved.
_learned: set[str] = set()
_learned_lock = threading.Lock()


def learn_secret(value: str | None) -> None:
    if value and len(value) >= MIN_SECRET_LENGTH:
        with _learned_lock:
            _learned.add(value)


def _settings_secrets() -> list[str]:
    try:
        from django.conf import settings

        if not settings.configured:
            return []
        values = [
            settings.SECRET_KEY,
            getattr(settings, "ILIVEIT_ACCESS_TOKEN", ""),
            getattr(settings, "METRICS_TOKEN", ""),
            *getattr(settings, "POSTBACK_KEYS", ()),
        ]
    except Exception:  # a record logged while the settings themselves load
        return []
    return [value for value in values if value and len(value) >= MIN_SECRET_LENGTH]


def redact(text: str) -> str:
    """The text with every known secret and every credential-shaped value replaced."""
    if not text:
        return text
    # Longest first, so that a secret containing another is replaced whole.
    for secret in sorted({*_settings_secrets(), *_learned}, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
    return text


class RedactFilter(logging.Filter):
    """Scrubs the message (with its arguments merged in), the traceback and the stack. The
    record itself is changed, so every handler after this one sees only the scrubbed text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: keep what there is
            message = f"{record.msg} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._redacted = True
        return True


# --- formatters --------------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context fields present, and
    the traceback (when there is one) in one field."""

    def format(self, record: logging.LogRecord) -> str:
        document = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in CONTEXT_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                document[field] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            document["exception"] = record.exc_text
        if record.stack_info:
            document["stack"] = self.formatStack(record.stack_info)
        # json.dumps escapes newlines, so a traceback stays on its record's one line.
        return json.dumps(document, default=str, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """The classic line, with the context fields present appended as key=value."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        fields = [
            f"{field}={getattr(record, field)}"
            for field in CONTEXT_FIELDS
            if getattr(record, field, None) is not None
        ]
        return f"{line} [{' '.join(fields)}]" if fields else line


# --- hooks ----------------------------------------------------------------------------------------
# Connected when this module loads, which settings.LOGGING makes happen in every process that
# sets Django up (web, worker, beat, commands).


def _learn_application_token(sender, instance, **kwargs) -> None:
    # A row loaded without its token (.only(), for a page that shows names) must not fetch it
    # here, one query per row; the token is learned when a row that holds it loads.
    if "token" in instance.get_deferred_fields():
        return
    learn_secret(getattr(instance, "token", None))


def _connect_model_hooks() -> None:
    from django.db.models.signals import post_init, post_save

    # Lazy "app_label.Model" senders: this runs while the settings load, before the apps do.
    for signal in (post_init, post_save):
        signal.connect(
            _learn_application_token,
            sender="messaging.Application",
            weak=False,
            dispatch_uid="iliveit_portal.logs",
        )


_task_fields: dict[str, tuple[str, ...]] = {}


def _task_context(task, args, kwargs) -> dict:
    """The message and campaign ids a task was called with, by its parameters' names."""
    run = getattr(task, "run", None)
    if run is None:
        return {}
    try:
        if task.name not in _task_fields:
            names = inspect.signature(run).parameters
            _task_fields[task.name] = tuple(f for f in ("message_id", "campaign_id") if f in names)
        if not _task_fields[task.name]:
            return {}
        bound = inspect.signature(run).bind_partial(*(args or ()), **(kwargs or {})).arguments
    except (TypeError, ValueError):
        return {}
    return {field: bound.get(field) for field in _task_fields[task.name]}


def _task_started(sender=None, task=None, args=None, kwargs=None, **extra) -> None:
    if task is not None:
        _context.set({"task": task.name, **_task_context(task, args, kwargs)})


def _task_finished(**extra) -> None:
    _context.set(None)


def _connect_celery_hooks() -> None:
    try:
        from celery import signals
    except ImportError:  # a process that sets Django up without Celery installed
        return
    signals.task_prerun.connect(_task_started, weak=False, dispatch_uid="iliveit_portal.logs")
    signals.task_postrun.connect(_task_finished, weak=False, dispatch_uid="iliveit_portal.logs")


_connect_model_hooks()
_connect_celery_hooks()
