"""postbacks' data migrations, run on rows shaped the way older code left them."""

import importlib

import pytest
from django.apps import apps

from postbacks.models import Reply, ReplyKind

pytestmark = pytest.mark.django_db

reply_campaign_migration = importlib.import_module("postbacks.migrations.0005_reply_campaign")


def test_replies_stored_before_get_their_messages_campaign_and_application(
    make_campaign, application
):
    campaign = make_campaign()
    message = campaign.messages.create(recipient="27820000001")
    reply = Reply.objects.create(
        message=message, kind=ReplyKind.SMS, sender="27820000001", text="yes", content_hash="1"
    )
    Reply.objects.filter(pk=reply.pk).update(campaign=None, application=None)  # as before

    reply_campaign_migration.copy_campaigns(apps, None)

    reply.refresh_from_db()
    assert (reply.campaign, reply.application) == (campaign, application)
