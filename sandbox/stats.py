"""Counters for GET /_sandbox/stats, so a benchmark can see what the sandbox saw."""

from __future__ import annotations

import threading
from collections import Counter

STAT_NAMES = (
    "requests",
    "http_429",
    "http_4xx",
    "http_5xx",
    "postbacks_delivered",
    "postback_attempts",
    "injected_errors",
    "injected_slow",
    "injected_throttles",
)


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def count_api_answer(self, status: int) -> None:
        with self._lock:
            self._counts["requests"] += 1
            if status == 429:
                self._counts["http_429"] += 1
            # 429 is a 4xx too: http_4xx is every client error, http_429 the rate-limited share.
            if 400 <= status < 500:
                self._counts["http_4xx"] += 1
            elif status >= 500:
                self._counts["http_5xx"] += 1

    def count_postback_attempt(self, *, delivered: bool) -> None:
        with self._lock:
            self._counts["postback_attempts"] += 1
            if delivered:
                self._counts["postbacks_delivered"] += 1

    def count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {name: self._counts[name] for name in STAT_NAMES}

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
