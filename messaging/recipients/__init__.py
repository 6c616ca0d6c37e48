"""Recipient import: pasted text or an uploaded CSV becomes DRAFT messages of a campaign.

Three steps, each usable alone:
- `parse_recipients` (parsing.py) / `read_recipient_file` (files.py) turn text or a file into a
  `ParsedRecipients`: normalised, de-duplicated recipients plus every rejected line with its
  reason. No database.
- `campaign_add_recipients` (importing.py) writes the accepted ones as DRAFT `Message` rows,
  skipping those the campaign already has.
- `normalise_recipient` (normalise.py) checks one value; single sends and the test-send form
  use it too.
"""

from messaging.recipients.files import RecipientFileError, read_recipient_file
from messaging.recipients.importing import (
    CampaignNotEditable,
    ImportResult,
    campaign_add_recipients,
)
from messaging.recipients.normalise import InvalidRecipient, normalise_recipient
from messaging.recipients.parsing import (
    MAX_LISTED_REJECTS,
    ParsedRecipients,
    RejectedRow,
    parse_recipients,
)

__all__ = [
    "MAX_LISTED_REJECTS",
    "CampaignNotEditable",
    "ImportResult",
    "InvalidRecipient",
    "ParsedRecipients",
    "RecipientFileError",
    "RejectedRow",
    "campaign_add_recipients",
    "normalise_recipient",
    "parse_recipients",
    "read_recipient_file",
]
