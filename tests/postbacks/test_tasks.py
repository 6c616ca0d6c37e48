"""The reconcile task: a thin wrapper that beat runs every RECONCILE_POLL_INTERVAL_S."""

import pytest
from django.conf import settings

from postbacks import tasks

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
