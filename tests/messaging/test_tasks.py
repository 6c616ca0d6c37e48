"""Campaigns sent end to end: a real Celery worker, Redis, the database and the sandbox over
HTTP, with iLiveIt's postbacks coming back to the portal's live server. Each fault case ends
with every message submitted exactly once, by the sandbox's own count."""

import json
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings as django_settings
from django.utils import timezone

from iliveit_portal.celery import app as celery_app
from messaging.counting import campaign_counts, campaign_recount
from messaging.models import (
    Application,
    Campaign,
    CampaignScrub,
    CampaignState,
    Channel,
    Message,
    MessageState,
)
from messaging.postback_urls import status_url
from messaging.ratelimit import limiter_for
from messaging.services import (
    campaign_launch,
    campaign_pause,
    campaign_resume,
    campaign_scrub_start,
    campaign_scrub_summary,
)
from messaging.states import ACCEPTED
from postbacks.models import InboxState, MessageEvent, PostbackInbox
from postbacks.tasks import sweep
from tests.conftest import APP_A, APP_TIGHT
from tests.support.applications import make_sandbox_application
from tests.support.beat import CeleryBeat
from tests.support.campaigns import make_campaign, sms_campaign
from tests.support.postgres_restart import postgres_down, postgres_restart_unavailable
from tests.support.proxy import TcpProxy
from tests.support.redis_restart import restart_redis
from tests.support.worker import CeleryWorker, database_url_for_workers

# One xdist group: these tests run one after another on one process, so that no two sets of
# Celery workers, sandbox and live server share the two cores at once.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.xdist_group("pipeline"),
]


@pytest.fixture
def portal_url(live_server, settings):
    settings.PORTAL_BASE_URL = live_server.url
    # The sweep runs in this process in these tests; its clocks are shortened to test speed.
    settings.SWEEP_QUEUED_AFTER_S = 1
    settings.SUBMITTING_STALE_AFTER_S = 5
    # iLiveIt's hour, compressed. It must stay longer than the sandbox's postbacks can lag
    # behind an acceptance: a campaign's ~1,000 postbacks queue up for this process's live
    # server, which on a loaded 2-core CI machine answers a few dozen a second. At 10 s, and
    # once at 30 s, a first postback came after the window and a message whose outcome was
    # unknown was sent again.
    settings.RECONCILE_UNCERTAIN_AFTER_S = 60
    return live_server.url


@pytest.fixture
def worker_env(portal_url):
    return {
        "DATABASE_URL": database_url_for_workers(),
        "PORTAL_BASE_URL": portal_url,
        "SUBMIT_RETRY_BASE_S": "0.2",
        "SUBMIT_RETRY_MAX_S": "2",
        "SUBMIT_MAX_ATTEMPTS": "20",
        "ILIVEIT_READ_TIMEOUT_MS": "1000",
    }


@pytest.fixture
def start_worker(worker_env):
    celery_app.control.purge()
    started = []

    def start(name: str = "w1", **env: str) -> CeleryWorker:
        worker = CeleryWorker(
            queue=django_settings.CELERY_TASK_DEFAULT_QUEUE, env={**worker_env, **env}, name=name
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def worker(start_worker):
    return start_worker()


def make_application(sandbox, app=APP_A, rate_limit=200) -> Application:
    # Not sandbox_application: each test picks its rate limit (and some the 429-prone APP_TIGHT).
    return make_sandbox_application(sandbox, app, rate_limit=rate_limit)


def states(campaign: Campaign) -> dict[str, int]:
    counts: dict[str, int] = {}
    for state in campaign.messages.values_list("state", flat=True):
        counts[state] = counts.get(state, 0) + 1
    return counts


def submitted_count(campaign: Campaign) -> int:
    return campaign.messages.filter(state__in=ACCEPTED).count()


def wait_until(predicate, timeout: float, *, describe=lambda: "", sweeping: bool = True):
    """Poll, running the periodic sweep as beat would."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if sweeping:
            sweep()
        time.sleep(0.25)
    raise AssertionError(f"condition not met in {timeout}s: {describe()}")


def wait_submitted(campaign: Campaign, at_least: int, *, sweeping: bool = True) -> None:
    """Until at least this many of the campaign's messages are past submission."""
    wait_until(
        lambda: submitted_count(campaign) >= at_least,
        30,
        describe=lambda: states(campaign),
        sweeping=sweeping,
    )


def duplicates_explained(duplicates: dict[str, int], sandbox) -> str:
    """For a failure: each duplicated message as the portal has it, and how its postbacks
    went. Two causes were found this way: a first postback later than the reconciliation
    window, and two claims that both won (the row's attempts then reads 2)."""
    explained = []
    for url in duplicates:
        ref = url.rstrip("/").split("/")[-2]
        row = (
            Message.objects.filter(ref=ref)
            .values("id", "state", "attempts", "iliveit_id", "last_error", "updated_at")
            .first()
        )
        postbacks = [
            (delivery["postback_type"], delivery["attempts"], delivery["last_http_status"])
            for delivery in sandbox.postbacks()
            if delivery["url"] == url
        ]
        explained.append({"message": row, "postbacks": postbacks})
    # A string, so that pytest prints all of it (it shortens the repr of anything else).
    return json.dumps(explained, default=str, indent=1)


def assert_submitted_exactly_once(
    campaign: Campaign, sandbox, timeout: float = 90, *, sweeping: bool = True
) -> None:
    total = campaign.messages.count()
    wait_until(
        lambda: submitted_count(campaign) == total,
        timeout,
        describe=lambda: states(campaign),
        sweeping=sweeping,
    )
    submissions = sandbox.submissions()
    assert submissions["duplicates"] == {}, duplicates_explained(submissions["duplicates"], sandbox)
    assert submissions["total"] == total
    ids = list(campaign.messages.values_list("iliveit_id", flat=True))
    assert None not in ids
    assert len(set(ids)) == total


def test_a_campaign_of_200_is_submitted_once_each_and_delivered(worker, sandbox):
    campaign = sms_campaign(make_application(sandbox), recipients=200)
    campaign_launch(campaign=campaign, user=None)

    assert_submitted_exactly_once(campaign, sandbox)
    wait_until(
        lambda: campaign.messages.filter(state=MessageState.DELIVERED).count() == 200,
        60,
        describe=lambda: states(campaign),
    )
    sweep()
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DONE


def test_429_bursts_are_retried_until_all_are_in(worker, sandbox):
    # The portal is told 100/s while the sandbox allows this application 10/s; and, so that a
    # slow machine still sees bursts, a share of calls is refused with 429 regardless.
    sandbox.configure(throttle_rate=0.2, seed=3)
    campaign = sms_campaign(make_application(sandbox, APP_TIGHT, rate_limit=100), recipients=200)
    campaign_launch(campaign=campaign, user=None)

    assert_submitted_exactly_once(campaign, sandbox, timeout=120)
    assert sandbox.stats()["http_429"] > 0


def test_5xx_answers_are_retried_with_back_off(worker, sandbox):
    sandbox.configure(error_rate=0.3, seed=7)
    campaign = sms_campaign(make_application(sandbox), recipients=200)
    campaign_launch(campaign=campaign, user=None)

    assert_submitted_exactly_once(campaign, sandbox)
    assert sandbox.stats()["injected_errors"] > 0
    assert campaign.messages.filter(attempts__gt=1).exists()


def test_answers_slower_than_the_client_timeout_are_reconciled_not_resent(worker, sandbox):
    # Stored by the sandbox, answered after the worker gave up: the outcome is unknown.
    sandbox.configure(slow_rate=0.1, slow_seconds=2.0, seed=11)
    campaign = sms_campaign(make_application(sandbox), recipients=200)
    campaign_launch(campaign=campaign, user=None)

    assert_submitted_exactly_once(campaign, sandbox)
    assert sandbox.stats()["injected_slow"] > 0


def test_a_worker_killed_mid_campaign_loses_nothing_and_sends_nothing_twice(start_worker, sandbox):
    first = start_worker("w1")
    campaign = sms_campaign(make_application(sandbox, rate_limit=40), recipients=200)
    campaign_launch(campaign=campaign, user=None)
    wait_submitted(campaign, 50)

    first.kill()
    start_worker("w2")

    # Its calls in flight wait out the reconciliation window before they may go again.
    assert_submitted_exactly_once(campaign, sandbox, timeout=180)


@pytest.mark.serial
def test_a_redis_restart_mid_campaign_loses_nothing_and_sends_nothing_twice(worker, sandbox):
    campaign = sms_campaign(make_application(sandbox, rate_limit=40), recipients=200)
    campaign_launch(campaign=campaign, user=None)
    wait_submitted(campaign, 50)

    # Every queued task is lost with it; the database outbox still has the messages.
    restart_redis(django_settings.REDIS_URL, down_for=2.0)

    assert_submitted_exactly_once(campaign, sandbox, timeout=180)


def test_pause_stops_sending_within_seconds_and_resume_finishes(worker, sandbox):
    campaign = sms_campaign(make_application(sandbox, rate_limit=20), recipients=200)
    campaign_launch(campaign=campaign, user=None)
    # Without sweeping: on a loaded machine one sweep can take long enough for the whole
    # campaign to go out before the pause.
    wait_submitted(campaign, 20, sweeping=False)

    campaign_pause(campaign=campaign, user=None)
    time.sleep(2)  # calls already in flight may land
    paused_at = submitted_count(campaign)
    time.sleep(2)
    assert submitted_count(campaign) == paused_at < 200

    campaign_resume(campaign=campaign, user=None)
    assert_submitted_exactly_once(campaign, sandbox)


def test_sendmessage_wait_prints_the_message_id_once_a_worker_submitted_it(worker, sandbox):
    from io import StringIO

    from django.core.management import call_command

    make_application(sandbox)
    out = StringIO()
    call_command(
        "sendmessage",
        "--channel",
        "sms",
        "--to",
        "0821234567",
        "--text",
        "Hi",
        "--wait",
        stdout=out,
    )
    portal_id, iliveit_id = out.getvalue().split()
    message = Message.objects.get(pk=int(portal_id))
    assert message.iliveit_id == iliveit_id
    assert sandbox.message(iliveit_id)["recipient"] == "27821234567"


# --- the database, beat and the webhook going away -------------------------------------------


def unapplied_postbacks(campaign: Campaign, sandbox) -> int:
    """Postbacks for the campaign the portal has not applied yet: those the sandbox is still
    retrying, and those stored but not yet applied."""
    retrying = sum(not delivery["delivered"] for delivery in sandbox.postbacks())
    stored = PostbackInbox.objects.filter(
        message__campaign=campaign, state__in=(InboxState.PENDING, InboxState.WAITING)
    )
    return retrying + stored.count()


def assert_postbacks_applied(campaign: Campaign, sandbox, timeout: float = 60, **wait) -> None:
    """Every postback the sandbox sent for the campaign reached the portal and was applied:
    each message delivered with all five of its stage reports recorded, and the campaign's
    counters agreeing with its messages."""
    total = campaign.messages.count()
    delivered = campaign.messages.filter(state=MessageState.DELIVERED)
    wait_until(
        lambda: not unapplied_postbacks(campaign, sandbox) and delivered.count() == total,
        timeout,
        describe=lambda: f"{states(campaign)}, {unapplied_postbacks(campaign, sandbox)} unapplied",
        **wait,
    )
    # received, archived, submitted, sent, delivered
    assert MessageEvent.objects.filter(message__campaign=campaign).count() == 5 * total
    inbox = PostbackInbox.objects.filter(message__campaign=campaign)
    assert set(inbox.values_list("state", flat=True)) <= {InboxState.APPLIED, InboxState.DUPLICATE}
    counts = campaign_counts(campaign_id=campaign.pk)
    assert counts == campaign_recount(campaign_id=campaign.pk)
    assert counts[MessageState.DELIVERED] == total


def test_the_webhook_down_for_a_minute_loses_no_postback(start_worker, sandbox, live_server):
    """The portal's webhook is unreachable (its listening port closed, open connections cut)
    for 3 s while postbacks are due, and the sandbox retries from 0.05 s: iLiveIt's minute,
    and a first retry after a second, compressed 20 times. Its back-off doubles, so each
    postback due in the outage is refused several times and lands once the port is back."""
    proxy = TcpProxy(urlsplit(live_server.url).port)
    try:
        start_worker(PORTAL_BASE_URL=proxy.url)
        sandbox.configure(postback_retry_base=0.05, step_seconds=0.2)
        campaign = sms_campaign(make_application(sandbox, rate_limit=10), recipients=30)
        campaign_launch(campaign=campaign, user=None)
        wait_submitted(campaign, 5, sweeping=False)

        proxy.stop()
        down_since = time.monotonic()
        wait_until(
            lambda: any(d["attempts"] >= 3 and not d["delivered"] for d in sandbox.postbacks()),
            20,
            describe=lambda: "no postback was retried",
            sweeping=False,
        )
        time.sleep(max(0.0, 3.0 - (time.monotonic() - down_since)))
        proxy.start()

        assert_submitted_exactly_once(campaign, sandbox, sweeping=False)
        assert_postbacks_applied(campaign, sandbox, sweeping=False)
    finally:
        proxy.stop()
    assert max(d["attempts"] for d in sandbox.postbacks()) >= 3


# Beat's clocks compressed 30 times: a sweep every 0.5 s for every 15 s, a queued message
# swept again after 2 s untouched for 60 s, a call in flight taken as lost after 4 s for 120 s.
# The reconciliation window is not compressed: nothing in this test may wait it out.
BEAT_ENV = {
    "SWEEP_INTERVAL_S": "0.5",
    "SWEEP_QUEUED_AFTER_S": "2",
    "SUBMITTING_STALE_AFTER_S": "4",
    "RECONCILE_UNCERTAIN_AFTER_S": "60",
}
BEAT_DOWN_S = 10  # 5 minutes, compressed 30 times


@pytest.fixture
def start_beat(worker_env, tmp_path):
    started = []

    def start() -> CeleryBeat:
        beat = CeleryBeat(
            queue=django_settings.CELERY_TASK_DEFAULT_QUEUE,
            env={**worker_env, **BEAT_ENV},
            schedule=tmp_path / "celerybeat-schedule",
        )
        started.append(beat)
        return beat

    yield start
    for beat in started:
        beat.stop()


def hold(seconds: float, unchanged) -> None:
    """Wait out `seconds`, checking all along that `unchanged()` stays as it was."""
    before = unchanged()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.25)
        assert unchanged() == before


def test_beat_stopped_for_5_minutes_then_started_again_its_sweeps_catch_up(
    start_worker, start_beat, sandbox
):
    """Beat is down for BEAT_DOWN_S, the 5 minutes compressed 30 times with every clock of
    the sweep (BEAT_ENV): 20 sweep intervals, five times the wait before a queued message
    is handed out again, twice the wait before a call in flight counts as lost. Meanwhile a
    worker dies mid-call, the broker loses every hint it held, and a scheduled campaign's
    launch time passes. Nothing moves until beat is back; then it all goes out, once."""
    beat = start_beat()
    # Calls that hang until the worker is killed leave their messages `submitting`.
    first = start_worker("w1", **BEAT_ENV, ILIVEIT_READ_TIMEOUT_MS="30000")
    sandbox.configure(slow_rate=1.0, slow_seconds=10)
    # At 4 messages a second the rate limiter's bucket holds one token, so the campaign's one
    # chunk claims a message at a time: the one in flight is the one the kill leaves unknown.
    application = make_application(sandbox, rate_limit=4)
    sending = sms_campaign(application, recipients=30)
    campaign_launch(campaign=sending, user=None)
    in_flight = sending.messages.filter(state=MessageState.SUBMITTING)
    wait_until(
        lambda: in_flight.count() == 1,
        30,
        describe=lambda: states(sending),
        sweeping=False,
    )

    beat.stop()
    first.kill()
    celery_app.control.purge()
    sandbox.configure(slow_rate=0)
    scheduled = sms_campaign(application, name="Scheduled", recipients=10)
    campaign_launch(
        campaign=scheduled, user=None, at=timezone.now() + timedelta(seconds=BEAT_DOWN_S / 2)
    )
    start_worker("w2", **BEAT_ENV)
    hold(
        BEAT_DOWN_S,
        lambda: (states(sending), states(scheduled), sandbox.submissions()["total"]),
    )
    scheduled.refresh_from_db()
    assert scheduled.state == CampaignState.SCHEDULED
    assert scheduled.launch_at < timezone.now()

    start_beat()
    # From here on only beat's sweeps, in the worker, move anything.
    campaigns = Campaign.objects.filter(pk__in=(sending.pk, scheduled.pk))
    delivered = Message.objects.filter(campaign__in=campaigns, state=MessageState.DELIVERED)
    wait_until(
        lambda: (
            set(campaigns.values_list("state", flat=True)) == {CampaignState.DONE}
            and delivered.count() == 40
        ),
        60,
        describe=lambda: f"{states(sending)}, {states(scheduled)}",
        sweeping=False,
    )
    submissions = sandbox.submissions()
    assert submissions["duplicates"] == {}, duplicates_explained(submissions["duplicates"], sandbox)
    assert submissions["total"] == 40


@pytest.fixture
def postgres_restarts():
    """Skips the test before its worker starts when this run cannot restart PostgreSQL."""
    unavailable = postgres_restart_unavailable()
    if unavailable:
        pytest.skip(unavailable)


@pytest.mark.serial
def test_a_postgres_restart_mid_campaign_and_mid_postbacks_loses_and_repeats_nothing(
    postgres_restarts, worker, sandbox, caplog
):
    """PostgreSQL is stopped for a few seconds while a campaign is sending and its postbacks
    are coming in, then started again: the webhook answers 503 meanwhile (iLiveIt retries),
    and afterwards every message is submitted once and reaches its final state."""
    # Each lifecycle spread over 2 s, so that postbacks are due all through the outage.
    sandbox.configure(step_seconds=0.5)
    campaign = sms_campaign(make_application(sandbox, rate_limit=20), recipients=60)
    campaign_launch(campaign=campaign, user=None)
    wait_submitted(campaign, 15, sweeping=False)
    probe = campaign.messages.exclude(iliveit_id=None).first()
    probe_body = sandbox.message(probe.iliveit_id)["status"]

    with postgres_down():
        down_since = time.monotonic()
        # iLiveIt is told to try again later: the webhook answers its own postbacks 503 ...
        wait_until(
            lambda: any(d["last_http_status"] == 503 for d in sandbox.postbacks()),
            20,
            describe=lambda: "no postback was answered 503",
            sweeping=False,
        )
        answer = requests.post(status_url(probe.ref), json=probe_body, timeout=10)
        assert answer.status_code == 503
        # ... and the readiness check says why it is not ready, rather than failing.
        ready = requests.get(f"{django_settings.PORTAL_BASE_URL}/readyz", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] == "error: OperationalError"
        # Down for a few seconds in all, so that postbacks are refused again and again.
        time.sleep(max(0.0, 3.0 - (time.monotonic() - down_since)))

    # The refused postbacks come again with the sandbox's back-off, and drains apply them as
    # they land: without sweeping, nothing is left pending (waiting, a message whose call
    # the outage cut off, is the sweeper's).
    pending = PostbackInbox.objects.filter(state=InboxState.PENDING)
    wait_until(
        lambda: all(d["delivered"] for d in sandbox.postbacks()) and not pending.exists(),
        20,
        describe=lambda: f"{pending.count()} postbacks pending",
        sweeping=False,
    )
    # Claims and answers lost with the database wait for the sweep.
    assert_submitted_exactly_once(campaign, sandbox, timeout=120)
    assert_postbacks_applied(campaign, sandbox)
    server_errors = {
        record.status_code
        for record in caplog.records
        if record.name == "django.request" and record.status_code >= 500
    }
    assert server_errors == {503}


def test_a_long_handset_check_runs_on_a_worker_within_the_rate_limit(sandbox, worker, composer):
    # The sandbox lets APP_TIGHT 10 calls a second and answers 429 beyond; the portal is told
    # the same. 40 scrubs through the shared bucket take about 4 s and draw no 429.
    application = make_application(sandbox, APP_TIGHT, rate_limit=10)
    limiter = limiter_for(application.pk, application.rate_limit)
    limiter.client.delete(limiter.key, limiter.health_key)
    campaign = make_campaign(Channel.MMS, application=application)
    magic = ["27000000002", "27000000011", "27000000003"]
    ordinary = [f"278312{n:05d}" for n in range(40 - len(magic))]
    Message.objects.bulk_create(
        Message(campaign=campaign, recipient=recipient) for recipient in [*ordinary, *magic]
    )

    started = time.monotonic()
    scrub = campaign_scrub_start(campaign=campaign, user=composer)
    assert scrub.state == CampaignScrub.State.RUNNING
    wait_until(
        lambda: CampaignScrub.objects.get(pk=scrub.pk).state != CampaignScrub.State.RUNNING,
        60,
        describe=lambda: campaign_scrub_summary(campaign=campaign),
        sweeping=False,
    )
    took = time.monotonic() - started

    summary = campaign_scrub_summary(campaign=campaign)
    assert (summary.state, summary.total, summary.answered) == ("done", 40, 40)
    assert (summary.no_mms, summary.not_capable, summary.not_provisioned, summary.unknown) == (
        3,
        1,
        1,
        1,
    )
    assert summary.not_checked == 0
    assert took >= 3.0
    assert sandbox.stats().get("http_429", 0) == 0
