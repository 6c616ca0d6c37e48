"""Campaign controls (messaging/services/campaigns.py), called inline against the sandbox over
HTTP: launching, and what cannot launch; pause and resume, cancel, Retry failed and test sends."""

import pytest
from django.db import connection

from messaging.models import (
    CampaignState,
    Channel,
    Message,
    MessageState,
    OptOutSource,
)
from messaging.services import (
    NOT_CLAIMED,
    CampaignError,
    campaign_cancel,
    campaign_launch,
    campaign_pause,
    campaign_resume,
    campaign_retry_failed,
    campaign_test_send,
    message_submit,
    messages_statistics_refresh,
)
from tests.messaging.services.helpers import campaign_with, opt_out

pytestmark = pytest.mark.django_db


def test_launch_queues_every_recipient_at_once(application):
    campaign = campaign_with(application, ["27821000001", "27821000002", "27821000003"])
    campaign_launch(campaign=campaign, user=None)
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.SENDING
    assert set(campaign.messages.values_list("state", flat=True)) == {MessageState.QUEUED}


def test_launch_refuses_a_campaign_without_recipients(application):
    campaign = campaign_with(application, [])
    with pytest.raises(CampaignError, match="no recipients"):
        campaign_launch(campaign=campaign, user=None)


def test_launch_refuses_content_iliveit_would_refuse(application):
    campaign = campaign_with(application, ["a@example.com"], channel=Channel.EMAIL, subject="")
    with pytest.raises(CampaignError, match="subject: required"):
        campaign_launch(campaign=campaign, user=None)
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DRAFT
    assert campaign.messages.get().state == MessageState.DRAFT


def test_launch_refuses_recipients_missing_a_field_and_queues_nothing(application):
    campaign = campaign_with(
        application, [], body_text='Hi {{ first_name }}, R{{ amount }} {{ city|default:"" }}'
    )
    rows = [
        ("27821000001", {"first_name": "A", "amount": "1"}),
        ("27821000002", {"amount": "2"}),
        ("27821000003", None),
    ]
    Message.objects.bulk_create(Message(campaign=campaign, recipient=r, fields=f) for r, f in rows)

    with pytest.raises(CampaignError) as refused:
        campaign_launch(campaign=campaign, user=None)

    assert str(refused.value) == (
        "Some recipients have no value for a placeholder: {{ amount }} has no fallback and 1 "
        "recipient has no amount: 27821000003; {{ first_name }} has no fallback and 2 "
        "recipients have no first_name: 27821000002, 27821000003. Give the placeholder a "
        'fallback, as in {{ amount|default:"…" }}, or give those recipients the field.'
    )
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DRAFT
    assert set(campaign.messages.values_list("state", flat=True)) == {MessageState.DRAFT}


def test_launch_refuses_placeholders_that_do_not_compile_naming_the_field_and_line(application):
    # Saved past the compose form's check (the admin, an old campaign).
    campaign = campaign_with(application, ["27821000001"], body_text="Hi\n{{ name.upper }}")
    with pytest.raises(CampaignError, match=r"not ready to send: Text: Line 2: \{\{ name.upper"):
        campaign_launch(campaign=campaign, user=None)
    assert campaign.messages.get().state == MessageState.DRAFT


def test_content_that_is_only_a_placeholder_launches(application):
    campaign = campaign_with(application, [], body_text="{{ note }}")
    Message.objects.create(campaign=campaign, recipient="27821000001", fields={"note": "Hi"})
    campaign_launch(campaign=campaign, user=None)
    assert campaign.messages.get().state == MessageState.QUEUED


def test_a_launched_campaign_cannot_launch_again(application):
    campaign = campaign_with(application, ["27821000001"])
    campaign_launch(campaign=campaign, user=None)
    with pytest.raises(CampaignError, match="sending campaign cannot launch"):
        campaign_launch(campaign=campaign, user=None)


def test_pause_stops_claims_and_resume_allows_them(application):
    campaign = campaign_with(application, ["27821000001"])
    campaign_launch(campaign=campaign, user=None)
    message = campaign.messages.get()
    campaign_pause(campaign=campaign, user=None)
    assert message_submit(message_id=message.pk) == NOT_CLAIMED
    campaign_resume(campaign=campaign, user=None)
    assert message_submit(message_id=message.pk).state == MessageState.SUBMITTED


def test_cancel_cancels_what_was_not_submitted(application):
    campaign = campaign_with(application, ["27821000001", "27821000002"])
    campaign_launch(campaign=campaign, user=None)
    first = campaign.messages.order_by("id").first()
    message_submit(message_id=first.pk)
    campaign_cancel(campaign=campaign, user=None)
    states = dict(campaign.messages.values_list("recipient", "state"))
    assert states == {"27821000001": MessageState.SUBMITTED, "27821000002": MessageState.CANCELLED}
    with pytest.raises(CampaignError, match="already cancelled"):
        campaign_cancel(campaign=campaign, user=None)


def test_retry_failed_requeues_only_temporary_failures(application):
    campaign = campaign_with(application, ["27821000001", "27821000002", "27821000003"])
    campaign_launch(campaign=campaign, user=None)
    first, second, third = campaign.messages.order_by("id")
    Message.objects.filter(pk=first.pk).update(state=MessageState.FAILED, error_retryable=True)
    Message.objects.filter(pk=second.pk).update(state=MessageState.FAILED, error_retryable=False)
    Message.objects.filter(pk=third.pk).update(
        state=MessageState.FAILED, error_retryable=True, iliveit_id="accepted-then-failed"
    )
    assert campaign_retry_failed(campaign=campaign, user=None) == 1
    assert Message.objects.get(pk=first.pk).state == MessageState.QUEUED
    assert Message.objects.get(pk=second.pk).state == MessageState.FAILED


def test_a_test_send_goes_out_before_launch_and_stays_out_of_the_counts(application, sandbox):
    campaign = campaign_with(application, ["27821000001"])
    test = campaign_test_send(campaign=campaign, recipient="27829999999", user=None)
    assert message_submit(message_id=test.pk).state == MessageState.SUBMITTED
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DRAFT
    assert campaign.messages.filter(is_test=False).get().state == MessageState.DRAFT


def test_a_test_send_is_rendered_with_the_fields_it_is_given(application, sandbox):
    campaign = campaign_with(application, ["27821000001"], body_text="Hi {{ first_name }}")

    test = campaign_test_send(
        campaign=campaign, recipient="27829999999", user=None, fields={"first_name": "Sam"}
    )
    message_submit(message_id=test.pk)
    test.refresh_from_db()

    assert sandbox.message(test.iliveit_id)["request"]["Data"]["text"] == "Hi Sam"
    assert test.fields == {"first_name": "Sam"}


def test_a_test_send_without_a_value_for_a_field_is_refused(application):
    campaign = campaign_with(
        application, ["27821000001"], body_text='{{ greeting|default:"Hi" }} {{ first_name }}'
    )

    with pytest.raises(CampaignError, match=r"\{\{ first_name \}\} has no value and no fallback"):
        campaign_test_send(campaign=campaign, recipient="27829999999", user=None)

    assert not campaign.messages.filter(is_test=True).exists()


# --- the opt-out list ------------------------------------------------------------------------


def test_a_test_send_to_an_opted_out_recipient_is_refused_with_the_reason(application):
    campaign = campaign_with(application, ["27821000001"])
    opt_out(application, "27829999999", OptOutSource.MANUAL)

    with pytest.raises(CampaignError, match=r"27829999999 opted out on .+ \(Added by staff\)"):
        campaign_test_send(campaign=campaign, recipient="27829999999", user=None)

    assert not campaign.messages.filter(is_test=True).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner statistics")
def test_the_planner_learns_of_a_launched_campaigns_queued_messages(application):
    # Until it does, it takes queued messages for rare and answers each claim by scanning them all.
    campaign = campaign_with(application, [f"278210{n:05d}" for n in range(50)])
    campaign_launch(campaign=campaign, user=None)
    messages_statistics_refresh()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT most_common_vals::text FROM pg_stats "
            "WHERE tablename = 'messaging_message' AND attname = 'state'"
        )
        (common,) = cursor.fetchone()
    assert "queued" in common
