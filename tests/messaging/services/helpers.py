"""Plain helpers shared by the messaging services' tests (their fixtures are in conftest.py)
and by tests/postbacks/test_sweep.py: campaigns with recipients, submitting them all, cases
with postbacks over a live server, and races between workers."""

import threading
import time

import pytest
from django.db import connection, transaction

from messaging.models import Campaign, Channel, Message, OptOutSource
from messaging.optouts import opt_out_record
from messaging.services import message_submit
from postbacks.drain import postbacks_drain


def campaign_with(application, recipients, channel=Channel.SMS, **fields) -> Campaign:
    defaults = {"body_text": "Hello", "subject": "Hi", "body_html": ""}
    campaign = Campaign.objects.create(
        name="Test", channel=channel, application=application, **{**defaults, **fields}
    )
    Message.objects.bulk_create(Message(campaign=campaign, recipient=r) for r in recipients)
    return campaign


def submit_all(campaign: Campaign) -> None:
    for message_id in campaign.messages.values_list("id", flat=True):
        message_submit(message_id=message_id)


class WithPostbacks:
    """The base of the TestWithPostbacks classes: cases that need iLiveIt's postbacks to reach
    the portal's live server. Mark each class django_db(transaction=True), for live_server."""

    @pytest.fixture(autouse=True)
    def _portal(self, live_server, settings):
        settings.PORTAL_BASE_URL = live_server.url

    def wait_for(self, predicate, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            postbacks_drain()  # what a worker does with the postbacks the webhook stored
            if predicate():
                return
            time.sleep(0.1)
        raise AssertionError("not in time")


# --- races between workers (PostgreSQL: SQLite lets one writer in at a time) ---------------------

needs_row_locks = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent writers need PostgreSQL's row locks; SQLite serialises the database",
)


def in_open_transaction(work, *, hold_s: float = 0.5) -> threading.Thread:
    """Run `work` in a thread inside a transaction that stays open for `hold_s` after it: the
    moment in which another worker's write is made but not yet committed."""
    done = threading.Event()

    def run():
        try:
            with transaction.atomic():
                work()
                done.set()
                time.sleep(hold_s)
        finally:
            done.set()
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    assert done.wait(10)
    return thread


def opt_out(application, recipient, source=OptOutSource.REPLY):
    return opt_out_record(application=application, recipient=recipient, source=source)[0]
