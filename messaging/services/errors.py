"""What every service of the package shares: the refusals it raises, and the campaign lock."""

from messaging.models import Campaign
from messaging.optouts import opt_out_reason, opted_out


class CampaignError(ValueError):
    """A campaign operation was refused; the text says why, for the person who asked."""


class RecipientOptedOut(CampaignError):
    """The recipient is on the application's opt-out list (the API answers 409)."""


def lock_campaign(campaign: Campaign) -> Campaign:
    """The campaign's row, locked until the transaction ends: controls run one at a time."""
    return Campaign.objects.select_for_update().get(pk=campaign.pk)


def refuse_opted_out(*, application_id: int, recipient: str) -> None:
    """RecipientOptedOut, naming when and how, if the recipient opted out of the application.

    Checked before a message is written, to answer the person who asked; the claim checks the
    list again when the message is submitted, which is what makes it race-free.
    """
    entry = opted_out(application_id=application_id, recipients=[recipient]).get(recipient)
    if entry is not None:
        raise RecipientOptedOut(f"{recipient} {opt_out_reason(entry)}.")
