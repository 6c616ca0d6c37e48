"""postbacks' answers to what messaging announces (messaging/signals.py); connected in
PostbacksConfig.ready."""

import logging

from messaging.signals import submissions_answered
from postbacks.services import postbacks_release_waiting

logger = logging.getLogger(__name__)


def release_waiting_postbacks(sender, *, message_ids: list[int], **kwargs) -> None:
    if not postbacks_release_waiting(message_ids=message_ids):
        return
    # Imported here, not when the app is made ready: imported then, `make run` on SQLite
    # failed its first system check ("partially initialized module psycopg.types.datetime",
    # tests/iliveit_portal/test_devstack.py).
    from postbacks.tasks import drain_request

    try:
        drain_request()
    except Exception:
        # Released all the same: the sweeper applies them when no drain does.
        logger.exception(
            "postbacks released for %d messages; no drain could be queued", len(message_ids)
        )


def connect() -> None:
    submissions_answered.connect(
        release_waiting_postbacks, dispatch_uid="postbacks.release_waiting"
    )
