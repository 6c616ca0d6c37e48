"""The postbacks app's tasks: drains, on a queue of their own, and the reconcile round that
beat runs every RECONCILE_POLL_INTERVAL_S."""

import time

import pytest
from celery import current_app
from django.conf import settings

from iliveit_portal.celery import app as celery_app
from messaging.models import MessageState
from messaging.tasks import submit_messages
from postbacks import tasks
from postbacks.models import InboxState, PostbackInbox
from tests.postbacks.webhook import delivery_body, post_only
from tests.support.worker import CeleryWorker, database_url_for_workers

pytestmark = pytest.mark.django_db


def test_the_task_runs_a_reconcile_round_with_the_configured_limit(monkeypatch, settings):
    settings.RECONCILE_POLL_LIMIT = 7
    calls = []

    def fake(**kwargs):
        calls.append(kwargs)
        return {"polled": 0, "changed": 0, "skipped": 0, "rate_limited": 0}

    monkeypatch.setattr(tasks, "messages_reconcile", fake)

    assert tasks.reconcile.apply().get()["polled"] == 0
    assert calls == [{"limit": 7}]


def test_the_task_with_nothing_overdue_polls_nothing():
    assert tasks.reconcile.apply().get() == {
        "polled": 0,
        "changed": 0,
        "skipped": 0,
        "rate_limited": 0,
    }


def test_beat_runs_the_task_every_interval():
    entry = settings.CELERY_BEAT_SCHEDULE["reconcile"]
    assert entry["task"] == "postbacks.tasks.reconcile"
    assert entry["schedule"] == settings.RECONCILE_POLL_INTERVAL_S
    assert tasks.reconcile.name == "postbacks.tasks.reconcile"


def test_beat_runs_the_sweep_task_every_interval():
    entry = settings.CELERY_BEAT_SCHEDULE["sweep"]
    assert entry["task"] == tasks.sweep.name == "postbacks.tasks.sweep"
    assert entry["schedule"] == settings.SWEEP_INTERVAL_S


@pytest.mark.parametrize("task", [tasks.drain, tasks.sweep, tasks.reconcile])
def test_drains_and_beats_upkeep_have_a_queue_of_their_own(task):
    # Beat's sweep behind a campaign's queued chunks ran minutes apart (bench/pipeline.py).
    route = current_app.amqp.router.route({}, task.name)
    assert (
        route["queue"].name == settings.CELERY_POSTBACKS_QUEUE != settings.CELERY_TASK_DEFAULT_QUEUE
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_postbacks_are_applied_while_sendings_queue_holds_a_campaigns_backlog(
    client, message, request
):
    """A campaign launched at once queues its submit chunks before the first postback comes;
    the drain must not wait behind them. No worker serves sending's queue here, so its backlog
    stays put, and only the postbacks' own worker can apply what the webhook stores."""
    celery_app.control.purge()
    request.addfinalizer(celery_app.control.purge)
    for n in range(2000):
        submit_messages.delay([10_000_000 + n])
    worker = CeleryWorker(
        queue=settings.CELERY_POSTBACKS_QUEUE,
        env={"DATABASE_URL": database_url_for_workers()},
        concurrency=1,
        postbacks=False,
    )
    request.addfinalizer(worker.stop)

    assert post_only(client, message, delivery_body(message)).status_code == 200

    deadline = time.monotonic() + 15
    while PostbackInbox.objects.filter(state=InboxState.PENDING).exists():
        assert time.monotonic() < deadline, "the postback waited behind sending's backlog"
        time.sleep(0.1)
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
