"""Log output: one JSON object per line with the ids a record carries, and no secret in it."""

import io
import json
import logging

import pytest

from iliveit_portal import logs
from iliveit_portal.logs import (
    ContextFilter,
    JsonFormatter,
    PlainFormatter,
    RedactFilter,
    log_context,
)
from messaging.models import Application
from messaging.tasks import dispatch_campaign, submit_message
from tests.support.settings_process import load_settings


@pytest.fixture
def output():
    """A logger whose one handler is set up as settings.LOGGING sets the console's."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield logger, lines
    logger.removeHandler(handler)


def test_a_record_with_ids_is_one_json_line_with_those_fields(output):
    logger, lines = output

    logger.info("message %s submitted", 42, extra={"message_id": 42, "campaign_id": 7})

    (line,) = lines()
    assert line["message"] == "message 42 submitted"
    assert line["level"] == "INFO"
    assert line["logger"] == "tests.logs"
    assert line["message_id"] == 42
    assert line["campaign_id"] == 7
    assert line["time"].endswith("+00:00")


def test_ids_come_from_the_log_context_unless_the_record_has_its_own(output):
    logger, lines = output

    with log_context(message_id=5, campaign_id=9):
        logger.warning("inside")
        logger.warning("own id", extra={"message_id": 6})
    logger.warning("outside")

    inside, own, outside = lines()
    assert (inside["message_id"], inside["campaign_id"]) == (5, 9)
    assert (own["message_id"], own["campaign_id"]) == (6, 9)
    assert "message_id" not in outside and "campaign_id" not in outside


def test_a_celery_task_logs_with_the_ids_it_was_called_with(output):
    logger, lines = output

    logs._task_started(task=submit_message, args=(42,), kwargs={})
    logger.info("submitting")
    logs._task_finished()
    logs._task_started(task=dispatch_campaign, args=(), kwargs={"campaign_id": 3})
    logger.info("dispatching")
    logs._task_finished()
    logger.info("idle")

    submitting, dispatching, idle = lines()
    assert submitting["message_id"] == 42
    assert submitting["task"] == "messaging.tasks.submit_message"
    assert dispatching["campaign_id"] == 3
    assert "task" not in idle and "message_id" not in idle


def test_a_bearer_token_is_redacted_from_the_message_and_its_arguments(output):
    logger, lines = output

    logger.info("calling with Authorization: Bearer %s", "abc.DEF-123_xyz")
    logger.info("headers %s", {"Authorization": "Token s3cr3t-value"})
    logger.info("url https://api.example/send?token=qwerty123&x=1")

    bearer, headers, url = (line["message"] for line in lines())
    assert "abc.DEF-123_xyz" not in bearer and "Bearer [REDACTED]" in bearer
    assert "s3cr3t-value" not in headers and "[REDACTED]" in headers
    assert "qwerty123" not in url and "token=[REDACTED]&x=1" in url


def test_the_applications_token_is_redacted_wherever_it_appears(output, db, settings):
    logger, lines = output
    settings.ILIVEIT_ACCESS_TOKEN = "settings-token-0123456789"
    application = Application.objects.create(
        name="Logs", endpoint="https://iliveit.invalid", token="db-app-token-abcdef123", mvno_id=1
    )

    logger.error("sent as %s and %s", settings.ILIVEIT_ACCESS_TOKEN, application.token)
    Application.objects.get(pk=application.pk)  # loaded fresh in another process, say
    logger.error("plain mention: db-app-token-abcdef123.")

    first, second = (line["message"] for line in lines())
    assert "settings-token-0123456789" not in first
    assert "db-app-token-abcdef123" not in first
    assert first == "sent as [REDACTED] and [REDACTED]"
    assert second == "plain mention: [REDACTED]."


def test_loading_applications_without_their_token_fetches_no_token(db, django_assert_num_queries):
    Application.objects.create(
        name="Names only", endpoint="https://iliveit.invalid", token="t-0123456789", mvno_id=1
    )
    # A page that lists names (the replies inbox) loads rows without the token: one query,
    # not one more per row to learn a token it never reads.
    with django_assert_num_queries(1):
        [application.name for application in Application.objects.only("id", "name")]


def test_secret_settings_and_url_credentials_are_redacted(output, settings):
    logger, lines = output
    settings.POSTBACK_KEYS = ["postback-key-new-2025", "postback-key-old-2024"]

    logger.info("keys %s", settings.POSTBACK_KEYS)
    logger.info("secret %s", settings.SECRET_KEY)
    logger.info("db postgres://portal:hunter2pass@db:5432/portal")
    logger.info("Not Found: /postbacks/status/abcREF/0123456789abcdef0123456789abcdef/")

    keys, secret, database, path = (line["message"] for line in lines())
    assert "postback-key" not in keys
    assert settings.SECRET_KEY not in secret
    assert "hunter2pass" not in database and "postgres://portal:[REDACTED]@db" in database
    assert path == "Not Found: /postbacks/status/abcREF/[REDACTED]/"


def test_an_exception_traceback_is_one_field_on_one_line_and_redacted(output):
    logger, lines = output

    try:
        raise RuntimeError("refused Bearer leaked-token-999")
    except RuntimeError:
        logger.exception("the call failed")

    (line,) = lines()
    assert line["message"] == "the call failed"
    assert "Traceback (most recent call last)" in line["exception"]
    assert "RuntimeError: refused Bearer [REDACTED]" in line["exception"]
    assert "leaked-token-999" not in json.dumps(line)


def test_the_plain_format_keeps_the_ids_readable():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("you",), None)
    record.message_id = 3

    line = PlainFormatter("%(levelname)s %(name)s %(message)s").format(record)

    assert line == "INFO x hello you [message_id=3]"


def test_every_handler_of_the_root_logger_redacts():
    configured = [
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, RedactFilter) for f in handler.filters)
    ]
    assert configured, "settings.LOGGING's console handler lost its redaction filter"


PRINT_LOGGING = (
    "from django.conf import settings as s; "
    "print(s.LOGGING['handlers']['console']['formatter'], s.CELERY_WORKER_HIJACK_ROOT_LOGGER)"
)


def test_logs_are_json_in_production_and_plain_in_development():
    production = load_settings(
        PRINT_LOGGING, SECRET_KEY="x" * 50, ALLOWED_HOSTS="portal.example.com", LOG_FORMAT=""
    )
    development = load_settings(PRINT_LOGGING, DEBUG="1", LOG_FORMAT="")
    chosen = load_settings(PRINT_LOGGING, DEBUG="1", LOG_FORMAT="json")

    assert production.stdout.split() == ["json", "False"], production.stderr
    assert development.stdout.split()[0] == "plain", development.stderr
    assert chosen.stdout.split()[0] == "json", chosen.stderr
