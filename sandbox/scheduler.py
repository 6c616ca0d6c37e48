"""One thread that runs short callbacks when they fall due.

Lifecycle stages and postback retries are heap entries here rather than sleeping threads, so
ten thousand messages in flight cost ten thousand heap entries, not ten thousand threads.
Callbacks run on the scheduler's thread and must be quick: anything slow (HTTP) is handed on.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        # The sequence number keeps equal due times in the order they were scheduled.
        self._sequence = itertools.count()
        self._wakeup = threading.Condition()
        # Held while a callback runs, so `paused` can wait for the one in flight to finish.
        self._running = threading.Lock()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._wakeup:
            self._stopped = True
            self._wakeup.notify()
        self._thread.join(timeout=5)

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        due = time.monotonic() + max(0.0, delay)
        with self._wakeup:
            heapq.heappush(self._heap, (due, next(self._sequence), callback))
            if self._heap[0][2] is callback:
                self._wakeup.notify()

    def clear(self) -> None:
        with self._wakeup:
            self._heap.clear()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """No callback runs inside this block (used by reset, so no stage lands half-way)."""
        with self._running:
            yield

    def pending(self) -> int:
        with self._wakeup:
            return len(self._heap)

    def _run(self) -> None:
        while True:
            with self._wakeup:
                while not self._stopped:
                    wait = self._heap[0][0] - time.monotonic() if self._heap else None
                    if wait is not None and wait <= 0:
                        break
                    self._wakeup.wait(wait)
                if self._stopped:
                    return
                _, _, callback = heapq.heappop(self._heap)
            with self._running:
                try:
                    callback()
                except Exception:
                    log.exception("scheduled callback failed")
