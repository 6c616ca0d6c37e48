"""Campaigns and messages, as plain functions that views, tasks, commands and the API call;
one module per job. The names here are the package's public face."""

from messaging.services.campaigns import (
    RETRYABLE,
    CampaignFailures,
    campaign_cancel,
    campaign_check_content,
    campaign_check_fields,
    campaign_failures,
    campaign_launch,
    campaign_pause,
    campaign_progress,
    campaign_queued_ids,
    campaign_resume,
    campaign_retry_failed,
    campaign_test_send,
    messages_statistics_refresh,
)
from messaging.services.clone import campaign_clone
from messaging.services.errors import CampaignError, RecipientOptedOut
from messaging.services.recipients import (
    campaign_drop_no_mms,
    campaign_recipients_matching,
    campaign_remove_recipient,
)
from messaging.services.resend import message_resend
from messaging.services.scrub import (
    SCRUB_CHANNELS,
    ScrubSummary,
    campaign_scrub_abandon,
    campaign_scrub_run,
    campaign_scrub_start,
    campaign_scrub_summary,
)
from messaging.services.single import (
    SINGLE_SENDS,
    application_default,
    message_send_single,
    single_sends_campaign,
)
from messaging.services.submit import (
    NOT_CLAIMED,
    SubmitOutcome,
    message_submit,
    messages_submit,
    retry_delay,
)
from messaging.services.upkeep import (
    campaign_auto_pause,
    campaign_check_canary,
    campaigns_finish,
    messages_sweep,
)

__all__ = [
    "NOT_CLAIMED",
    "RETRYABLE",
    "SCRUB_CHANNELS",
    "SINGLE_SENDS",
    "CampaignError",
    "CampaignFailures",
    "RecipientOptedOut",
    "ScrubSummary",
    "SubmitOutcome",
    "application_default",
    "campaign_auto_pause",
    "campaign_cancel",
    "campaign_check_canary",
    "campaign_check_content",
    "campaign_check_fields",
    "campaign_clone",
    "campaign_drop_no_mms",
    "campaign_failures",
    "campaign_launch",
    "campaign_pause",
    "campaign_progress",
    "campaign_queued_ids",
    "campaign_recipients_matching",
    "campaign_remove_recipient",
    "campaign_resume",
    "campaign_retry_failed",
    "campaign_scrub_abandon",
    "campaign_scrub_run",
    "campaign_scrub_start",
    "campaign_scrub_summary",
    "campaign_test_send",
    "campaigns_finish",
    "message_resend",
    "message_send_single",
    "message_submit",
    "messages_statistics_refresh",
    "messages_submit",
    "messages_sweep",
    "retry_delay",
    "single_sends_campaign",
]
