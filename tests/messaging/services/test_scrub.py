"""The handset check of an MMS or video campaign before launch: iLiveIt's scrub, asked of the
sandbox over HTTP for each draft recipient, within the application's shared rate limit. (The
check of a long list by a real worker is in tests/messaging/test_tasks.py.)"""

import time

import pytest

from messaging.models import CampaignScrub, CampaignState, Channel, HandsetCheck
from messaging.ratelimit import limiter_for
from messaging.services import (
    CampaignError,
    campaign_scrub_abandon,
    campaign_scrub_start,
    campaign_scrub_summary,
)
from messaging.services.scrub import INLINE_MAX
from tests.conftest import APP_SLOW
from tests.support.applications import make_sandbox_application
from tests.support.campaigns import make_campaign

pytestmark = pytest.mark.django_db

CAN = "27831234567"
NOT_MMS = "27000000002"
SCRUB_FAILS = "27000000003"
NOT_PROVISIONED = "27000000011"


def _campaign(application, recipients, channel=Channel.MMS):
    campaign = make_campaign(channel, application=application)
    for recipient in recipients:
        campaign.messages.create(recipient=recipient)
    return campaign


@pytest.fixture(autouse=True)
def _fresh_buckets(application):
    limiter = limiter_for(application.pk, application.rate_limit)
    limiter.client.delete(limiter.key, limiter.health_key)


def test_a_short_list_is_checked_at_once_and_counted_by_reason(application, composer, sandbox):
    campaign = _campaign(application, [CAN, NOT_MMS, SCRUB_FAILS, NOT_PROVISIONED, "27821234567"])

    scrub = campaign_scrub_start(campaign=campaign, user=composer)

    assert scrub.state == CampaignScrub.State.DONE
    summary = campaign_scrub_summary(campaign=campaign)
    assert (summary.total, summary.answered, summary.no_mms) == (5, 5, 3)
    assert (summary.not_capable, summary.not_provisioned, summary.unknown) == (1, 1, 1)
    assert summary.not_checked == 0
    check = HandsetCheck.objects.get(message__recipient=CAN)
    assert (check.allow_send, check.network, check.handset) == (True, "mtn", "Sandbox Phone")
    assert sandbox.stats()["requests"] == 5


def test_a_video_campaign_is_checked_too(application, composer, sandbox):
    campaign = _campaign(application, [NOT_MMS], channel=Channel.VIDEO)

    campaign_scrub_start(campaign=campaign, user=composer)

    assert campaign_scrub_summary(campaign=campaign).no_mms == 1


def test_the_check_keeps_to_the_applications_rate_limit(sandbox, composer):
    # The sandbox lets this application 2 a second and answers 429 beyond; the portal is told
    # the same, so its bucket spaces the scrubs out and none is refused.
    slow = make_sandbox_application(sandbox, APP_SLOW, name="Slow", rate_limit=2)
    limiter = limiter_for(slow.pk, slow.rate_limit)
    limiter.client.delete(limiter.key, limiter.health_key)
    campaign = _campaign(slow, [f"2783123450{n}" for n in range(5)])

    started = time.monotonic()
    campaign_scrub_start(campaign=campaign, user=composer)
    took = time.monotonic() - started

    assert campaign_scrub_summary(campaign=campaign).answered == 5
    assert took >= 1.5  # 5 tokens at 2 a second, with a burst of 1
    assert sandbox.stats().get("http_429", 0) == 0


def test_a_number_the_scrub_cannot_answer_for_is_kept_as_not_checked(
    application, composer, sandbox
):
    campaign = _campaign(application, [CAN, "27000000004"])  # the sandbox answers 500

    campaign_scrub_start(campaign=campaign, user=composer)

    summary = campaign_scrub_summary(campaign=campaign)
    assert (summary.answered, summary.no_mms, summary.not_checked) == (2, 0, 1)
    check = HandsetCheck.objects.get(message__recipient="27000000004")
    assert not check.checked and check.error.startswith("Not checked: HTTP 500")


def test_a_refused_token_stops_the_check_and_says_so(application, composer, sandbox):
    application.token = "not-a-sandbox-token"
    application.save()
    campaign = _campaign(application, [CAN, NOT_MMS])

    scrub = campaign_scrub_start(campaign=campaign, user=composer)

    assert scrub.state == CampaignScrub.State.FAILED
    assert scrub.error.startswith("iLiveIt refused the application")
    assert campaign_scrub_summary(campaign=campaign).answered == 0


def test_checking_again_starts_afresh(application, composer, sandbox):
    campaign = _campaign(application, [NOT_MMS, CAN])
    campaign_scrub_start(campaign=campaign, user=composer)
    campaign.messages.filter(recipient=NOT_MMS).delete()

    campaign_scrub_start(campaign=campaign, user=composer)

    summary = campaign_scrub_summary(campaign=campaign)
    assert (summary.total, summary.answered, summary.no_mms) == (1, 1, 0)


@pytest.mark.parametrize(
    ("channel", "launched", "reason"),
    [
        (Channel.SMS, False, "Only MMS and video"),
        (Channel.EMAIL, False, "Only MMS and video"),
        (Channel.MMS, True, "no longer checked"),
    ],
)
def test_the_check_is_refused_where_it_means_nothing(
    application, composer, channel, launched, reason
):
    campaign = make_campaign(channel, application=application, recipients=1)
    if launched:
        campaign.state = CampaignState.SENDING  # an MMS launch needs slides; beside the point
        campaign.save()

    with pytest.raises(CampaignError, match=reason):
        campaign_scrub_start(campaign=campaign, user=composer)
    assert campaign_scrub_summary(campaign=campaign) is None


def test_a_campaign_without_recipients_is_not_checked(application, composer):
    campaign = make_campaign(Channel.MMS, application=application)

    with pytest.raises(CampaignError, match="no recipients"):
        campaign_scrub_start(campaign=campaign, user=composer)


def test_a_long_list_is_left_to_a_worker(application, composer, sandbox):
    campaign = make_campaign(Channel.MMS, application=application, recipients=INLINE_MAX + 1)

    scrub = campaign_scrub_start(campaign=campaign, user=composer)

    # No worker runs here (tests/messaging/test_tasks.py has one): nothing was asked yet.
    assert scrub.state == CampaignScrub.State.RUNNING
    assert campaign_scrub_summary(campaign=campaign).answered == 0
    assert sandbox.stats().get("requests", 0) == 0
    with pytest.raises(CampaignError, match="being checked already"):
        campaign_scrub_start(campaign=campaign, user=composer)


def test_recipients_added_after_a_check_are_counted_as_not_asked(application, composer, sandbox):
    campaign = _campaign(application, [CAN, NOT_MMS])
    campaign_scrub_start(campaign=campaign, user=composer)

    campaign.messages.create(recipient="27000000011")

    summary = campaign_scrub_summary(campaign=campaign)
    assert (summary.answered, summary.unasked, summary.no_mms) == (2, 1, 1)


def test_a_check_whose_task_was_lost_can_be_started_again_at_once(application, composer):
    campaign = make_campaign(Channel.MMS, application=application, recipients=INLINE_MAX + 1)
    campaign_scrub_start(campaign=campaign, user=composer)

    campaign_scrub_abandon(campaign=campaign, reason="the task queue could not be reached")

    summary = campaign_scrub_summary(campaign=campaign)
    assert (summary.state, summary.error) == ("failed", "the task queue could not be reached")
    assert campaign_scrub_start(campaign=campaign, user=composer).state == "running"
