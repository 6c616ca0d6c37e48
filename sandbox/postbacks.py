"""Deliver postbacks (status changes and replies) the way the provider does: POST until the
receiver answers HTTP 200, retrying with exponential back-off, forever.

A fixed pool of sender threads, each with its own kept-alive connections, takes deliveries from
one queue; retries wait on the scheduler, not in a thread. No lock is held during an HTTP call, so
a slow receiver slows only the senders talking to it.
"""

from __future__ import annotations

import http.client
import itertools
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.outgoing import KeepAliveClient
from sandbox.scheduler import Scheduler
from sandbox.stats import Stats

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30.0
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 5.0
REPLY = "reply"


@dataclass
class Delivery:
    job_id: int
    message_id: str
    postback_type: str  # build | submit | archive | sent | delivery, or "reply"
    url: str
    body: dict[str, Any]
    generation: int
    attempts: int = 0
    last_http_status: int | None = None
    delivered: bool = False

    def payload(self) -> bytes:
        if self.postback_type == REPLY:
            # The provider counts its retries inside a reply packet.
            return json.dumps({**self.body, "RetryCount": self.attempts}).encode()
        return json.dumps(self.body).encode()

    def to_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "postback_type": self.postback_type,
            "url": self.url,
            "attempts": self.attempts,
            "last_http_status": self.last_http_status,
            "delivered": self.delivered,
            "body": self.body,
        }


def backoff_seconds(base: float, attempts: int) -> float:
    return min(MAX_BACKOFF_SECONDS, base * 2 ** max(0, attempts - 1))


class PostbackDispatcher:
    def __init__(
        self,
        scheduler: Scheduler,
        stats: Stats,
        *,
        senders: int,
        retry_base: Callable[[], float],
    ) -> None:
        self._scheduler = scheduler
        self._stats = stats
        self._retry_base = retry_base
        self._queue: queue.SimpleQueue[Delivery | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._job_ids = itertools.count(1)
        # A reset bumps the generation; deliveries of an older one are dropped, wherever they are.
        self._generation = 0
        self._deliveries: list[Delivery] = []
        # Every attempt: (message_id, postback_type, HTTP status or None, milliseconds it
        # took), so a benchmark can read the receiver's latency as the sender saw it.
        self._attempts: list[tuple[str, str, int | None, float]] = []
        self._held: dict[str, list[Delivery]] = {}
        self._released_after: dict[int, Delivery] = {}
        self._threads = [
            threading.Thread(target=self._send_loop, name=f"postback-sender-{n}", daemon=True)
            for n in range(senders)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        # Senders are daemon threads: one stuck on a slow receiver must not hold up the exit.
        deadline = time.monotonic() + 1.0
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def post(
        self,
        *,
        message_id: str,
        postback_type: str,
        url: str,
        body: dict[str, Any],
        copies: int = 1,
        hold: bool = False,
    ) -> None:
        """Queue `copies` deliveries of `body`; with `hold`, keep them until `release`."""
        with self._lock:
            deliveries = [
                Delivery(
                    next(self._job_ids), message_id, postback_type, url, body, self._generation
                )
                for _ in range(copies)
            ]
            self._deliveries.extend(deliveries)
            if hold:
                self._held.setdefault(message_id, []).extend(deliveries)
                return
        for delivery in deliveries:
            self._queue.put(delivery)

    def release(self, message_id: str) -> None:
        """Send a message's held postbacks newest first, each after the one before is delivered,
        so the receiver really sees them in reverse order."""
        with self._lock:
            newest_first = list(reversed(self._held.pop(message_id, [])))
            for earlier, later in itertools.pairwise(newest_first):
                self._released_after[earlier.job_id] = later
        if newest_first:
            self._queue.put(newest_first[0])

    def deliveries(self, message_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                delivery.to_json()
                for delivery in self._deliveries
                if message_id is None or delivery.message_id == message_id
            ]

    def attempts(self) -> list[tuple[str, str, int | None, float]]:
        with self._lock:
            return list(self._attempts)

    def reset(self) -> None:
        with self._lock:
            self._generation += 1
            self._deliveries = []
            self._attempts = []
            self._held.clear()
            self._released_after.clear()

    def _send_loop(self) -> None:
        client = KeepAliveClient(connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT)
        while True:
            delivery = self._queue.get()
            if delivery is None:
                client.close()
                return
            if delivery.generation == self._generation:
                self._attempt(client, delivery)

    def _attempt(self, client: KeepAliveClient, delivery: Delivery) -> None:
        status: int | None
        started = time.monotonic()
        try:
            status = client.post(delivery.url, delivery.payload())
        except (OSError, http.client.HTTPException) as error:
            log.debug("postback to %s failed: %s", delivery.url, error)
            status = None
        took_ms = round((time.monotonic() - started) * 1000, 3)
        delivered = status == 200
        with self._lock:
            if delivery.generation != self._generation:
                return  # reset while it was in flight: it no longer exists
            self._stats.count_postback_attempt(delivered=delivered)
            self._attempts.append((delivery.message_id, delivery.postback_type, status, took_ms))
            delivery.attempts += 1
            delivery.last_http_status = status
            delivery.delivered = delivered
            next_in_line = self._released_after.pop(delivery.job_id, None) if delivered else None
        log.debug("postback %s %s -> %s", delivery.postback_type, delivery.url, status)
        if next_in_line is not None:
            self._queue.put(next_in_line)
        elif not delivered:
            delay = backoff_seconds(self._retry_base(), delivery.attempts)
            self._scheduler.call_later(delay, lambda: self._retry(delivery))

    def _retry(self, delivery: Delivery) -> None:
        if delivery.generation == self._generation:
            self._queue.put(delivery)
