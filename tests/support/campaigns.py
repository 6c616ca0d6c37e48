"""Campaigns made straight in the database, for tests that start past composing."""

from messaging.models import Application, Campaign, Channel, Message
from tests.support.applications import make_application

# What each channel needs before it can be launched.
CONTENT = {
    Channel.EMAIL: {"subject": "Hello", "body_text": "Hi there"},
    Channel.MMS: {"subject": "Hello"},
    Channel.SMS: {"body_text": "Hi there"},
    Channel.VIDEO: {"template_id": 7, "template_data": {"name": "Thandi"}},
}


def make_campaign(
    channel: str = Channel.SMS,
    *,
    application: Application | None = None,
    recipients: int = 0,
    **fields,
) -> Campaign:
    """A draft campaign with its channel's content (any field may be given instead) and
    `recipients` draft messages: to 2782000000N, or readerN@example.com for email. Without an
    application it makes one with make_application()."""
    campaign = Campaign.objects.create(
        name=fields.pop("name", f"A {channel} campaign"),
        channel=channel,
        application=application or make_application(),
        **{**CONTENT[channel], **fields},
    )
    Message.objects.bulk_create(
        Message(campaign=campaign, recipient=_recipient(channel, n)) for n in range(recipients)
    )
    return campaign


def sms_campaign(application, *, recipients: int = 3, **fields) -> Campaign:
    """A draft SMS campaign, "Spring sale", with `recipients` draft messages."""
    fields = {"name": "Spring sale", "body_text": "Hello from the portal", **fields}
    return make_campaign(Channel.SMS, application=application, recipients=recipients, **fields)


def _recipient(channel: str, n: int) -> str:
    return f"reader{n}@example.com" if channel == Channel.EMAIL else f"2782{n:07d}"
