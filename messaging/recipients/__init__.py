"""Recipient import: pasted text or an uploaded CSV becomes DRAFT messages of a campaign.

Three steps, each usable alone:
- `parse_recipients` (parsing.py) / `read_recipient_file` (files.py) turn text or a file into a
  `ParsedRecipients`: normalised, de-duplicated recipients plus every rejected line with its
  reason. No database.
- `campaign_add_recipients` (importing.py) writes the accepted ones as DRAFT `Message` rows,
  skipping those the campaign already has.
- `normalise_recipient` (normalise.py) checks one value; single sends and the test-send form
  use it too.
- fields.py holds the rules for a recipient's fields (the values of the content's
  placeholders): how a CSV header names them, how many, how long.
"""

from messaging.recipients.fields import (
    MAX_FIELDS,
    MAX_VALUE_CHARS,
    FieldsInvalid,
    RecipientItem,
    field_name,
)
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
    parse_numbered,
    parse_recipients,
)

__all__ = [
    "MAX_FIELDS",
    "MAX_LISTED_REJECTS",
    "MAX_VALUE_CHARS",
    "CampaignNotEditable",
    "FieldsInvalid",
    "ImportResult",
    "InvalidRecipient",
    "ParsedRecipients",
    "RecipientFileError",
    "RecipientItem",
    "RejectedRow",
    "campaign_add_recipients",
    "field_name",
    "normalise_recipient",
    "parse_numbered",
    "parse_recipients",
    "read_recipient_file",
]
