"""The staff pages' forms, a module for each job. They only validate: messaging/compose.py saves
what the compose forms accept, and the views act on the rest.

- campaign: the compose page's campaign form, one per channel (CAMPAIGN_FORMS).
- slides: an MMS campaign's slides, the formset beside the campaign form.
- actions: what a campaign's pages do to it: test send, launch, add recipients.
- filters: the campaign list's and a campaign's message list's search and filters.
- errors: every error of a form (and its slides) as one list, for the top of the page.
- fields: the input and field types Django lacks that these forms use.

Every refusal is attached to the field it is about, so the page can show it beside the input
and in the summary at the top (`error_summary`).
"""

from messaging.forms.actions import LaunchForm, RecipientsForm, TestSendForm
from messaging.forms.campaign import (
    CAMPAIGN_FORMS,
    CampaignForm,
    EmailCampaignForm,
    MMSCampaignForm,
    SMSCampaignForm,
    VideoCampaignForm,
)
from messaging.forms.errors import error_summary
from messaging.forms.fields import DateTimeLocalInput, MultipleFileField, MultipleFileInput
from messaging.forms.slides import (
    MAX_SLIDE_SECONDS,
    SLIDES_PREFIX,
    BaseSlideFormSet,
    SlideForm,
    SlideFormSet,
)

__all__ = [
    "CAMPAIGN_FORMS",
    "MAX_SLIDE_SECONDS",
    "SLIDES_PREFIX",
    "BaseSlideFormSet",
    "CampaignForm",
    "DateTimeLocalInput",
    "EmailCampaignForm",
    "LaunchForm",
    "MMSCampaignForm",
    "MultipleFileField",
    "MultipleFileInput",
    "RecipientsForm",
    "SMSCampaignForm",
    "SlideForm",
    "SlideFormSet",
    "TestSendForm",
    "VideoCampaignForm",
    "error_summary",
]
