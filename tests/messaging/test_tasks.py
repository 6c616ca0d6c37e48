"""Campaigns sent end to end: a real Celery worker, Redis, the database and the sandbox over
HTTP, with iLiveIt's postbacks coming back to the portal's live server."""

import time

import pytest
from django.conf import settings as django_settings

from iliveit_portal.celery import app as celery_app
from messaging.models import Application, Campaign, CampaignState, Channel, Message, MessageState
from messaging.services import campaign_launch, messages_sweep
from tests.conftest import APP_A
from tests.support.worker import CeleryWorker, database_url_for_workers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def portal_url(live_server, settings):
    settings.PORTAL_BASE_URL = live_server.url
    return live_server.url


@pytest.fixture
def worker_env(portal_url):
    return {"DATABASE_URL": database_url_for_workers(), "PORTAL_BASE_URL": portal_url}


@pytest.fixture
def worker(worker_env):
    celery_app.control.purge()
    started = CeleryWorker(queue=django_settings.CELERY_TASK_DEFAULT_QUEUE, env=worker_env)
    yield started
    started.stop()


@pytest.fixture
def application(sandbox):
    return Application.objects.create(
        name="Sandbox A",
        endpoint=sandbox.url,
        token=APP_A.token,
        mvno_id=APP_A.mvno_id,
        rate_limit=200,
    )


def sms_campaign(application, recipients: int, **fields) -> Campaign:
    campaign = Campaign.objects.create(
        name="Spring sale",
        channel=Channel.SMS,
        application=application,
        body_text="Hello from the portal",
        **fields,
    )
    Message.objects.bulk_create(
        Message(campaign=campaign, recipient=f"2782{n:07d}") for n in range(recipients)
    )
    return campaign


def wait_until(predicate, timeout: float, sweep: bool = False, message: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if sweep:
            messages_sweep()
        time.sleep(0.2)
    raise AssertionError(message or "condition not met in time")


def states(campaign: Campaign) -> dict[str, int]:
    counts: dict[str, int] = {}
    for state in campaign.messages.values_list("state", flat=True):
        counts[state] = counts.get(state, 0) + 1
    return counts


PAST_SUBMIT = (
    MessageState.SUBMITTED,
    MessageState.BUILT,
    MessageState.SENT,
    MessageState.DELIVERED,
)


def all_submitted(campaign: Campaign) -> bool:
    return not campaign.messages.exclude(state__in=PAST_SUBMIT).exists()


def test_a_campaign_of_200_is_submitted_once_each_and_delivered(worker, application, sandbox):
    campaign = sms_campaign(application, 200)
    campaign_launch(campaign=campaign, user=None)

    wait_until(lambda: all_submitted(campaign), 60, message=f"stuck at {states(campaign)}")
    submissions = sandbox.submissions()
    assert submissions["total"] == 200
    assert submissions["duplicates"] == {}
    assert campaign.messages.filter(iliveit_id__isnull=True).count() == 0

    wait_until(
        lambda: campaign.messages.filter(state=MessageState.DELIVERED).count() == 200,
        60,
        message=f"postbacks did not all land: {states(campaign)}",
    )
    messages_sweep()
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DONE
