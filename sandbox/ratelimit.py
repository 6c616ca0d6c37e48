"""Per-application token buckets: the reference applies "rate limiting to all API calls (per
application)", so every authenticated call takes one token."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        # A burst of at least one call, so a rate below 1/s still lets a call through.
        self.capacity = max(1.0, rate)
        self._clock = clock
        self._tokens = self.capacity
        self._updated = clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


class RateLimiter:
    """One bucket per token; `reset` refills them all."""

    def __init__(
        self, rates: dict[str, float], *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rates = dict(rates)
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, TokenBucket] = {}
        self.reset()

    def allow(self, token: str) -> bool:
        with self._lock:
            return self._buckets[token].take()

    def reset(self) -> None:
        with self._lock:
            self._buckets = {
                token: TokenBucket(rate, clock=self._clock) for token, rate in self._rates.items()
            }
