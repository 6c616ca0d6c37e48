"""What every service of the package shares: the refusal it raises, and the campaign lock."""

from messaging.models import Campaign


class CampaignError(ValueError):
    """A campaign operation was refused; the text says why, for the person who asked."""


def lock_campaign(campaign: Campaign) -> Campaign:
    """The campaign's row, locked until the transaction ends: controls run one at a time."""
    return Campaign.objects.select_for_update().get(pk=campaign.pk)
