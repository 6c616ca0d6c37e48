"""rows_update: many rows' columns written in one statement, as bulk_update would, and only
where a condition holds; update_returning_pks: an update that says which rows it changed;
row_insert: one new row stored as save() stores it."""

import threading
import time
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from iliveit_portal.bulk import row_insert, rows_update, update_returning_pks
from messaging.models import Message, MessageState
from postbacks.models import InboxKind, InboxState, PostbackInbox
from tests.messaging.services.helpers import in_open_transaction, needs_row_locks
from tests.support.applications import make_application
from tests.support.campaigns import sms_campaign

pytestmark = pytest.mark.django_db

AT = datetime(2026, 12, 6, 10, 0, 5, 123456, tzinfo=UTC)


def test_each_row_gets_its_own_values_and_other_columns_keep_theirs():
    campaign = sms_campaign(make_application(), recipients=3)
    first, second, third = campaign.messages.order_by("pk")
    third_was = (third.state, third.iliveit_id)
    first.state, first.delivered_code, first.delivered_at = MessageState.DELIVERED, 1, AT
    first.delivered_description = "Delivered, 'quoted'"
    second.state, second.iliveit_id = MessageState.FAILED, "MSG-2"
    # A value and a NULL in the same column, and a column NULL in every row.
    updated = rows_update(
        [first, second],
        ["state", "iliveit_id", "delivered_code", "delivered_description", "delivered_at"],
    )
    assert updated == 2
    first.refresh_from_db()
    second.refresh_from_db()
    third.refresh_from_db()
    assert (first.state, first.delivered_code, first.delivered_at) == (
        MessageState.DELIVERED,
        1,
        AT,
    )
    assert first.delivered_description == "Delivered, 'quoted'"
    assert first.iliveit_id is None
    assert (second.state, second.iliveit_id, second.delivered_at) == (
        MessageState.FAILED,
        "MSG-2",
        None,
    )
    assert (third.state, third.iliveit_id) == third_was


def test_a_foreign_key_and_a_column_set_back_to_null():
    campaign = sms_campaign(make_application(), recipients=1)
    message = campaign.messages.get()
    inbox = PostbackInbox.objects.create(
        ref=message.ref, kind=InboxKind.STATUS, body=b"{}", truncated=False, headers={}
    )
    inbox.message_id, inbox.state, inbox.processed_at = message.pk, InboxState.APPLIED, AT
    rows_update([inbox], ["message", "state", "processed_at"])
    inbox.refresh_from_db()
    assert (inbox.message_id, inbox.state, inbox.processed_at) == (
        message.pk,
        InboxState.APPLIED,
        AT,
    )
    inbox.processed_at = None
    rows_update([inbox], ["processed_at"])
    inbox.refresh_from_db()
    assert inbox.processed_at is None


def test_more_rows_than_one_statement_holds_are_all_written():
    campaign = sms_campaign(make_application(), recipients=1200)
    messages = list(campaign.messages.all())
    for n, message in enumerate(messages):
        message.network = f"net-{n}"
    assert rows_update(messages, ["network"]) == 1200
    assert set(campaign.messages.values_list("network", flat=True)) == {
        f"net-{n}" for n in range(1200)
    }


def test_nothing_to_write_writes_nothing():
    assert rows_update([], ["state"]) == 0


def test_a_condition_leaves_the_rows_that_fail_it_as_they_are():
    campaign = sms_campaign(make_application(), recipients=3)
    messages = list(campaign.messages.order_by("pk"))
    campaign.messages.filter(pk=messages[1].pk).update(iliveit_id="ADOPTED")
    for message in messages:
        message.iliveit_id = f"MSG-{message.pk}"
    updated = rows_update(messages, ["iliveit_id"], where=Q(iliveit_id__isnull=True))
    assert updated == 2
    ids = list(campaign.messages.order_by("pk").values_list("iliveit_id", flat=True))
    assert ids == [f"MSG-{messages[0].pk}", "ADOPTED", f"MSG-{messages[2].pk}"]


@pytest.mark.django_db(transaction=True)
@needs_row_locks
def test_rows_are_locked_in_key_order_whatever_order_they_come_in():
    # Writers that lock several messages lock them in id order, so that none waits for a row
    # another holds while holding one that other wants. Here the rows come highest first, and
    # the second row's newest version lies after the third's in the table: an UPDATE alone
    # locks the third before it waits for the second, which another writer holds.
    campaign = sms_campaign(make_application(), recipients=3)
    first, second, third = campaign.messages.order_by("pk")
    Message.objects.filter(pk=second.pk).update(attempts=1)
    writer = in_open_transaction(
        lambda: list(Message.objects.filter(pk=second.pk).locked()), hold_s=2
    )
    for message in (first, second, third):
        message.iliveit_id = f"MSG-{message.pk}"

    def update() -> None:
        rows_update([third, second, first], ["iliveit_id"], lock_in_order=True)
        connection.close()

    updating = threading.Thread(target=update)
    updating.start()
    time.sleep(0.5)
    with transaction.atomic():
        free = set(
            Message.objects.filter(pk__in=[first.pk, third.pk])
            .select_for_update(no_key=True, skip_locked=True)
            .values_list("pk", flat=True)
        )
    writer.join()
    updating.join(timeout=10)

    assert free == {third.pk}, "the update held a row past the one it waited for"
    assert set(campaign.messages.values_list("iliveit_id", flat=True)) == {
        f"MSG-{message.pk}" for message in (first, second, third)
    }


def test_an_update_answers_exactly_the_rows_it_changed():
    campaign = sms_campaign(make_application(), recipients=4)
    first, second, third, fourth = campaign.messages.order_by("pk")
    draft = first.state
    campaign.messages.filter(pk=second.pk).update(state=MessageState.FAILED)
    won = update_returning_pks(
        campaign.messages.filter(pk__in=[first.pk, second.pk, third.pk], state=draft),
        state=MessageState.SUBMITTING,
        attempts=F("attempts") + 1,
    )
    assert sorted(won) == [first.pk, third.pk]
    fourth.refresh_from_db()
    assert fourth.state == draft
    first.refresh_from_db()
    assert (first.state, first.attempts) == (MessageState.SUBMITTING, 1)


def test_an_update_of_no_rows_answers_none():
    assert update_returning_pks(PostbackInbox.objects.filter(pk__in=[]), state="x") == []


def test_an_update_over_a_join_is_refused():
    campaign = sms_campaign(make_application(), recipients=1)
    joined = campaign.messages.filter(campaign__name=campaign.name)
    with pytest.raises(ValueError, match="without joins"):
        update_returning_pks(joined, state=MessageState.SUBMITTING)


def test_an_inserted_row_is_stored_as_save_stores_it():
    campaign = sms_campaign(make_application(), recipients=1)
    message = campaign.messages.get()
    values = {
        "ref": message.ref,
        "message": message,
        "kind": InboxKind.STATUS,
        "body": b'{"message_id": "\xc3\xa9"}\x00',
        "truncated": True,
        "headers": {"Content-Type": "application/json", "User-Agent": "iLiveIt 'quoted'"},
        "source_ip": "2001:db8::7",
    }
    saved = PostbackInbox.objects.create(**values)
    before = timezone.now()

    inserted = PostbackInbox(**values)
    row_insert(inserted)

    assert inserted.pk is not None and inserted.pk != saved.pk
    assert not inserted._state.adding
    stored = PostbackInbox.objects.get(pk=inserted.pk)
    assert stored.received_at >= before
    columns = [
        f.attname
        for f in PostbackInbox._meta.concrete_fields
        if f.attname not in ("id", "received_at")
    ]
    as_saved = PostbackInbox.objects.get(pk=saved.pk)
    assert {name: getattr(stored, name) for name in columns} == {
        name: getattr(as_saved, name) for name in columns
    }
    assert (stored.state, stored.processed_at, bytes(stored.body)) == (
        InboxState.PENDING,
        None,
        values["body"],
    )
