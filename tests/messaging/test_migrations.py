"""Data migrations, run on rows shaped the way older code left them."""

import importlib

import pytest
from django.apps import apps
from django.db import connection

from messaging.counting import campaign_counts
from messaging.models import Campaign, CampaignState, Channel, Message
from tests.support.campaigns import sms_campaign

pytestmark = pytest.mark.django_db

single_sends_migration = importlib.import_module("messaging.migrations.0008_campaign_single_sends")


def legacy_single_sends(application, state, name="Single sends", channel=Channel.SMS) -> Campaign:
    """A campaign as single sends made them before they were marked: only single messages."""
    campaign = Campaign.objects.create(
        name=name, channel=channel, application=application, state=state
    )
    Message.objects.create(campaign=campaign, recipient="27821234567", is_single=True)
    return campaign


def test_of_duplicate_single_sends_campaigns_one_is_marked_and_kept_open(application):
    done = [legacy_single_sends(application, CampaignState.DONE) for _ in range(3)]
    sending = [legacy_single_sends(application, CampaignState.SENDING) for _ in range(2)]

    single_sends_migration.mark_single_sends(apps, None)

    marked = Campaign.objects.get(is_single_sends=True)
    assert marked == sending[-1]
    assert marked.state == CampaignState.SENDING
    assert all(
        campaign.is_single_sends is False
        for campaign in Campaign.objects.filter(pk__in=[c.pk for c in done + sending[:-1]])
    )


def test_a_finished_single_sends_campaign_is_reopened_when_it_is_the_only_one(application):
    legacy_single_sends(application, CampaignState.DONE)
    newest = legacy_single_sends(application, CampaignState.DONE)

    single_sends_migration.mark_single_sends(apps, None)

    newest.refresh_from_db()
    assert (newest.is_single_sends, newest.state, newest.finished_at) == (
        True,
        CampaignState.SENDING,
        None,
    )


def test_each_application_name_and_channel_keeps_its_own(application, other_application):
    kept = [
        legacy_single_sends(application, CampaignState.SENDING),
        legacy_single_sends(application, CampaignState.SENDING, channel=Channel.EMAIL),
        legacy_single_sends(application, CampaignState.SENDING, name="Welcome"),
        legacy_single_sends(other_application, CampaignState.SENDING),
    ]

    single_sends_migration.mark_single_sends(apps, None)

    assert set(Campaign.objects.filter(is_single_sends=True)) == set(kept)


def test_ordinary_campaigns_are_never_marked(application):
    listed = sms_campaign(application, name="Single sends", state=CampaignState.SENDING)
    # A resend is a single message, even inside an ordinary campaign.
    Message.objects.create(campaign=listed, recipient="27821234599", is_single=True)
    sms_campaign(application, name="Single sends", recipients=0)

    single_sends_migration.mark_single_sends(apps, None)

    assert not Campaign.objects.filter(is_single_sends=True).exists()


def message_triggers() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'messaging_message'::regclass "
                "AND NOT tgisinternal"
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master "
                "WHERE type = 'trigger' AND tbl_name = 'messaging_message'"
            )
        return {name for (name,) in cursor.fetchall()}


def test_the_counters_triggers_outlive_every_migration_of_the_message_table():
    # SQLite copies a table to add a NOT NULL column, and the copy has no triggers.
    if connection.vendor == "postgresql":
        kinds = ("count", "rollups")  # one PL/pgSQL function each
    else:
        kinds = ("count", "campaignminute", "campaignlatency", "campaignfailure")
    expected = {
        f"messaging_message_{kind}_{operation}"
        for kind in kinds
        for operation in ("insert", "update", "delete")
    }

    assert message_triggers() == expected


def test_a_new_message_is_counted_at_once(application):
    campaign = sms_campaign(application, recipients=3)

    assert campaign_counts(campaign_id=campaign.pk)["draft"] == 3
