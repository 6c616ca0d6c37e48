"""Random fault injection for chaos tests: the `error_rate`, `throttle_rate` and `slow_rate`
switches. One seeded generator, so a test that sets `seed` sees the same faults on every run."""

from __future__ import annotations

import random
import threading


class Faults:
    def __init__(self, seed: int | None) -> None:
        self._lock = threading.Lock()
        self._random = _generator(seed)

    def reseed(self, seed: int | None) -> None:
        with self._lock:
            self._random = _generator(seed)

    def hit(self, rate: float) -> bool:
        """True for a `rate` share of calls. A zero rate draws nothing, so switching one fault
        on does not shift the others' sequences while it is off."""
        if rate <= 0:
            return False
        with self._lock:
            return self._random.random() < rate


def _generator(seed: int | None) -> random.Random:
    # Chaos, not secrecy: a seedable generator is the point.
    return random.Random(seed)  # noqa: S311
