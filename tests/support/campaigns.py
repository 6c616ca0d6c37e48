"""Campaigns made straight in the database, for tests that start past composing."""

from messaging.models import Campaign, Channel, Message


def sms_campaign(application, *, recipients: int = 3, **fields) -> Campaign:
    """A draft SMS campaign with `recipients` draft messages to numbers 2782000000N."""
    campaign = Campaign.objects.create(
        name=fields.pop("name", "Spring sale"),
        channel=Channel.SMS,
        application=application,
        body_text="Hello from the portal",
        **fields,
    )
    Message.objects.bulk_create(
        Message(campaign=campaign, recipient=f"2782{n:07d}") for n in range(recipients)
    )
    return campaign
