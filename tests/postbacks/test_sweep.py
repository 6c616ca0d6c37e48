"""The beat's sweep (postbacks/sweep.py: portal_sweep, messages_requeue_unheard): a message
whose outcome is unknown is queued again only once nothing at all was heard of it within the
window; a timeout after sending, an answer that comes late, a postback stored but not yet
applied or one that settles it during the sweep all keep it from being sent twice."""

import json
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.models import Message, MessageState
from messaging.services import NOT_CLAIMED, campaign_launch, message_submit, messages_sweep
from postbacks.models import InboxKind
from postbacks.services import postback_apply, postback_store
from postbacks.sweep import portal_sweep
from tests.messaging.services.helpers import campaign_with, in_open_transaction, needs_row_locks
from tests.postbacks.bodies import status_body

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_workers(empty_task_queue):
    pass


@pytest.fixture
def application(sandbox_application):
    """The services are called inline, against the sandbox."""
    return sandbox_application


def test_a_timeout_after_sending_is_uncertain_and_never_blindly_resent(
    application, sandbox, settings
):
    settings.ILIVEIT_READ_TIMEOUT = 0.3
    sandbox.configure(slow_seconds=1.0)
    campaign = campaign_with(application, ["27000000005"])  # stored, answered slowly
    campaign_launch(campaign=campaign, user=None)
    message = campaign.messages.get()
    assert message_submit(message_id=message.pk).state == MessageState.UNCERTAIN
    # The sweep does not re-queue it while its postback may still come...
    portal_sweep()
    message.refresh_from_db()
    assert message.state == MessageState.UNCERTAIN
    assert message_submit(message_id=message.pk) == NOT_CLAIMED
    assert sandbox.submissions()["total"] == 1


def test_an_uncertain_message_with_no_postback_in_the_window_is_sent_again(
    application, sandbox, settings
):
    settings.RECONCILE_UNCERTAIN_AFTER_S = 1
    campaign = campaign_with(application, ["27821000001"])
    campaign_launch(campaign=campaign, user=None)
    message = campaign.messages.get()
    Message.objects.filter(pk=message.pk).update(
        state=MessageState.UNCERTAIN, updated_at=timezone.now() - timedelta(seconds=5)
    )
    assert portal_sweep()["uncertain_requeued"] == 1
    assert message_submit(message_id=message.pk).state == MessageState.SUBMITTED


@pytest.mark.django_db(transaction=True)
def test_an_answer_that_comes_after_the_sweep_gave_the_call_up_is_still_recorded(
    application, sandbox, settings
):
    # The call outlives SUBMITTING_STALE_AFTER_S, so the sweep marks the message uncertain
    # while it is in flight; the MessageID that then comes back must not be thrown away, or
    # the reconciliation would later send the message a second time.
    settings.ILIVEIT_READ_TIMEOUT = 5.0
    settings.SUBMITTING_STALE_AFTER_S = 1
    settings.RECONCILE_UNCERTAIN_AFTER_S = 1
    sandbox.configure(slow_seconds=1.5)
    campaign = campaign_with(application, ["27000000005"])  # answered after 1.5 s
    campaign_launch(campaign=campaign, user=None)
    message = campaign.messages.get()
    call = threading.Thread(target=message_submit, kwargs={"message_id": message.pk})
    call.start()
    time.sleep(1.1)
    assert portal_sweep()["stale_submitting"] == 1
    call.join()

    message.refresh_from_db()
    assert message.state == MessageState.SUBMITTED
    assert message.iliveit_id
    time.sleep(1.1)
    assert portal_sweep()["uncertain_requeued"] == 0
    assert sandbox.submissions()["total"] == 1


def uncertain_for_a_while(application) -> Message:
    campaign = campaign_with(application, ["27821000001"])
    campaign_launch(campaign=campaign, user=None)
    message = campaign.messages.get()
    long_ago = timezone.now() - timedelta(hours=2)
    Message.objects.filter(pk=message.pk).update(state=MessageState.UNCERTAIN, updated_at=long_ago)
    return message


def test_an_unknown_outcome_with_nothing_heard_is_queued_again(application):
    message = uncertain_for_a_while(application)

    portal_sweep()

    message.refresh_from_db()
    assert message.state == MessageState.QUEUED


def test_a_postback_stored_but_not_yet_applied_keeps_it_from_being_sent_again(application):
    message = uncertain_for_a_while(application)
    # Stored by the webhook (by its URL's ref alone); no drain has run yet.
    row = postback_store(
        ref=message.ref,
        kind=InboxKind.STATUS,
        body=b"{}",
        truncated=False,
        headers={},
        source_ip=None,
    )

    portal_sweep()

    message.refresh_from_db()
    assert message.state == MessageState.UNCERTAIN
    row.refresh_from_db()
    assert row.message_id == message.pk


@pytest.mark.django_db(transaction=True)
@needs_row_locks
def test_a_postback_that_settles_an_unknown_outcome_during_the_sweep_keeps_it_sent(application):
    message = uncertain_for_a_while(application)
    submitted = (1, "Submitted", timezone.now())
    body = status_body("f" * 32, "submit", stages={"submit": submitted})

    def postback_arrives():
        row = postback_store(
            message=message,
            kind=InboxKind.STATUS,
            body=json.dumps(body).encode(),
            truncated=False,
            headers={},
            source_ip=None,
        )
        postback_apply(inbox_id=row.pk)

    adopting = in_open_transaction(postback_arrives)
    messages_sweep()
    adopting.join()

    message.refresh_from_db()
    assert message.iliveit_id == "f" * 32
    assert message.state == MessageState.SUBMITTED
