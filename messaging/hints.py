"""Hints to the workers: tasks sent once the transaction that queued the work has committed.

The database is the outbox and a hint only spares the sweeper its wait. So a task queue that
cannot be reached must not turn a committed launch into an error page, nor into a 5xx that an
API client would retry (sending twice): the hint is dropped and logged, and the sweeper hands
the queued rows to the workers once they reach the broker again. A caller that wants to tell
its user so watches the hints it sends (`hints_watched`).
"""

import contextvars
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import redis
from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


@dataclass
class HintsWatch:
    missed: int = 0


_watch: contextvars.ContextVar[HintsWatch | None] = contextvars.ContextVar(
    "hints_watch", default=None
)


@contextmanager
def hints_watched() -> Iterator[HintsWatch]:
    """Count the hints sent inside the block that did not reach the task queue."""
    watch = HintsWatch()
    token = _watch.set(watch)
    try:
        yield watch
    finally:
        _watch.reset(token)


def hint_on_commit(task, *args, countdown: float | None = None) -> None:
    """Send `task(*args)` to the workers after the current transaction commits."""
    watch = _watch.get()
    transaction.on_commit(lambda: _send(task, args, countdown, watch))


def _send(task, args: tuple, countdown: float | None, watch: HintsWatch | None) -> None:
    try:
        task.apply_async(args, countdown=countdown or None)
    except (OperationalError, redis.RedisError, OSError) as error:
        logger.warning(
            "task queue unreachable, %s%r left to the sweeper: %s: %s",
            task.name,
            args,
            type(error).__name__,
            error,
        )
        if watch is not None:
            watch.missed += 1


def hint_dispatch_campaign(campaign_id: int) -> None:
    """Hint that a campaign has queued messages to hand out in chunks."""
    # Imported here: the tasks module imports the services that send these hints.
    from messaging.tasks import dispatch_campaign

    hint_on_commit(dispatch_campaign, campaign_id)


def hint_submit_message(message_id: int, countdown: float = 0) -> None:
    """Hint that one queued message is ready to submit."""
    from messaging.tasks import submit_message

    hint_on_commit(submit_message, message_id, countdown=countdown)


def hint_scrub_campaign(campaign_id: int) -> None:
    """Hint that a campaign's handsets are to be checked (messaging/services/scrub.py)."""
    from messaging.tasks import scrub_campaign

    hint_on_commit(scrub_campaign, campaign_id)
