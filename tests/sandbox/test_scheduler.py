"""The scheduler that runs lifecycle stages and postback retries when they fall due."""

from __future__ import annotations

import threading
import time

import pytest

from sandbox.scheduler import Scheduler


@pytest.fixture
def scheduler():
    scheduler = Scheduler()
    scheduler.start()
    yield scheduler
    scheduler.stop()


def test_callbacks_run_in_due_order_not_scheduling_order(scheduler: Scheduler) -> None:
    ran: list[str] = []
    done = threading.Event()

    scheduler.call_later(0.06, lambda: (ran.append("late"), done.set()))
    scheduler.call_later(0.02, lambda: ran.append("early"))
    scheduler.call_later(0.0, lambda: ran.append("now"))

    assert done.wait(2)
    assert ran == ["now", "early", "late"]


def test_callbacks_due_together_keep_their_order(scheduler: Scheduler) -> None:
    ran: list[int] = []
    done = threading.Event()

    with scheduler.paused():
        for n in range(50):
            scheduler.call_later(0, lambda n=n: ran.append(n))
        scheduler.call_later(0, done.set)

    assert done.wait(2)
    assert ran == list(range(50))


def test_a_failing_callback_does_not_stop_the_others(scheduler: Scheduler) -> None:
    done = threading.Event()

    scheduler.call_later(0, lambda: 1 / 0)
    scheduler.call_later(0.01, done.set)

    assert done.wait(2)


def test_clear_drops_what_is_pending(scheduler: Scheduler) -> None:
    ran: list[str] = []
    scheduler.call_later(0.05, lambda: ran.append("dropped"))

    scheduler.clear()
    time.sleep(0.1)

    assert ran == []
    assert scheduler.pending() == 0
