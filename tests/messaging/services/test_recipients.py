"""Taking recipients out of a campaign before launch: one, or those that cannot get MMS."""

import pytest

from audit.models import AuditAction, AuditEntry
from messaging.models import Channel, HandsetCheck, Message, MessageState
from messaging.services import (
    CampaignError,
    campaign_drop_no_mms,
    campaign_launch,
    campaign_recipients_matching,
    campaign_remove_recipient,
)
from tests.support.campaigns import make_campaign

pytestmark = pytest.mark.django_db


def test_removing_a_recipient_deletes_its_draft_and_audits_it(application, composer):
    campaign = make_campaign(Channel.SMS, application=application, recipients=3)
    message = campaign.messages.order_by("id")[1]

    removed = campaign_remove_recipient(campaign=campaign, message_id=message.pk, user=composer)

    assert removed.recipient == message.recipient
    assert sorted(campaign.messages.values_list("recipient", flat=True)) == [
        "27820000000",
        "27820000002",
    ]
    entry = AuditEntry.objects.get(action=AuditAction.CAMPAIGN_RECIPIENT_REMOVE)
    assert (entry.actor, entry.target_id) == (composer, str(campaign.pk))
    assert entry.detail == {"message_id": message.pk, "recipient": "27820000001"}


def test_a_launched_campaigns_recipients_are_not_removed(application, composer):
    campaign = make_campaign(Channel.SMS, application=application, recipients=2)
    message = campaign.messages.first()
    campaign_launch(campaign=campaign, user=composer)

    with pytest.raises(CampaignError, match="sending; only while it is a draft"):
        campaign_remove_recipient(campaign=campaign, message_id=message.pk, user=composer)
    assert campaign.messages.count() == 2
    assert not AuditEntry.objects.filter(action=AuditAction.CAMPAIGN_RECIPIENT_REMOVE).exists()


def test_another_campaigns_recipient_is_not_removed(application, composer):
    campaign = make_campaign(Channel.SMS, application=application, recipients=1)
    other = make_campaign(Channel.SMS, application=application, recipients=1)

    with pytest.raises(CampaignError, match="not in this campaign"):
        campaign_remove_recipient(
            campaign=campaign, message_id=other.messages.get().pk, user=composer
        )
    assert Message.objects.count() == 2


def test_a_recipient_is_found_as_typed_or_as_stored(application):
    campaign = make_campaign(Channel.SMS, application=application, recipients=2)

    assert [
        m.recipient for m in campaign_recipients_matching(campaign=campaign, text="0820000001")
    ] == ["27820000001"]
    assert campaign_recipients_matching(campaign=campaign, text=" 27820000000 ").count() == 1
    assert not campaign_recipients_matching(campaign=campaign, text="not a number").exists()


def _checked(message, *, allow_send, checked=True):
    HandsetCheck.objects.create(
        message=message, campaign=message.campaign, checked=checked, allow_send=allow_send
    )


def test_dropping_removes_only_those_checked_and_refused(application, composer):
    campaign = make_campaign(Channel.MMS, application=application, recipients=4)
    ok, refused, unchecked, unknown = campaign.messages.order_by("id")
    _checked(ok, allow_send=True)
    _checked(refused, allow_send=False)
    _checked(unchecked, allow_send=False, checked=False)

    dropped = campaign_drop_no_mms(campaign=campaign, user=composer)

    assert dropped == 1
    assert set(campaign.messages.values_list("pk", flat=True)) == {ok.pk, unchecked.pk, unknown.pk}
    entry = AuditEntry.objects.get(action=AuditAction.CAMPAIGN_DROP_NO_MMS)
    assert (entry.actor, entry.detail) == (composer, {"messages_removed": 1})


def test_dropping_is_refused_once_launched(application, composer):
    campaign = make_campaign(Channel.MMS, application=application, recipients=1)
    _checked(campaign.messages.get(), allow_send=False)
    campaign.state = "sending"
    campaign.save()

    with pytest.raises(CampaignError, match="sending"):
        campaign_drop_no_mms(campaign=campaign, user=composer)
    assert campaign.messages.filter(state=MessageState.DRAFT).count() == 1
