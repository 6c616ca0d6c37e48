"""rows_update: many rows' columns written in one statement, as bulk_update would."""

from datetime import UTC, datetime

import pytest

from iliveit_portal.bulk import rows_update
from messaging.models import MessageState
from postbacks.models import InboxKind, InboxState, PostbackInbox
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
