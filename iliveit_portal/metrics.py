"""Recording the portal's own Prometheus figures (iliveit_portal/metrics_view.py serves them at
/metrics).

The standard Django figures come from django-prometheus (its middleware), per process; under
gunicorn with PROMETHEUS_MULTIPROC_DIR set they are summed over the processes of one container.

The portal's own figures must be right across many web and worker processes on several machines,
so none of them lives in a process's memory:
- event counts (postbacks received, applied, quarantined...; 429s from iLiveIt) and the send
  latency histogram's buckets are fields of one Redis hash, moved with HINCRBY/HINCRBYFLOAT;
- messages by state and the postback backlog are read from the database when scraped (the
  trigger-kept CampaignCount rows and the inbox's partial index; never a scan of messages).
Every container therefore reports the same portal_* values: aggregate them with max(), not sum().

Recording a figure must never fail the work it counts: a Redis error here is logged (at most once
a minute per process) and forgotten.
"""

import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import redis
from django.conf import settings
from prometheus_client.utils import floatToGoString

logger = logging.getLogger(__name__)

# Upper bounds (seconds) of the send latency buckets: iLiveIt answers in tens of milliseconds
# when well, and the read timeout (10 s by default) caps the slowest.
SEND_LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# Inbox states a postback can settle in, each with its own counter.
SETTLED_STATES = ("applied", "duplicate", "quarantined", "suspicious")

# A hung Redis must not hold a send or a drain for long: these writes are worth less than that.
REDIS_TIMEOUT_S = 0.5
WARN_EVERY_S = 60.0

_clients: dict[str, redis.Redis] = {}
_warned_at = float("-inf")


def metrics_key() -> str:
    # One hash per task queue, like the drain and beat keys: portals (or test runs) sharing a
    # Redis do not share figures.
    return f"portal:metrics:{settings.CELERY_TASK_DEFAULT_QUEUE}"


def portal_redis() -> redis.Redis:
    url = settings.REDIS_URL
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
        )
    return _clients[url]


def _warn(error: Exception) -> None:
    global _warned_at
    now = time.monotonic()
    if now - _warned_at >= WARN_EVERY_S:
        _warned_at = now
        logger.warning("metrics not recorded: %s: %s", type(error).__name__, error)


def _add(increments: dict[str, float]) -> None:
    """Add to the shared counters in one round trip; never raises."""
    increments = {field: amount for field, amount in increments.items() if amount}
    if not increments:
        return
    try:
        key = metrics_key()
        pipe = portal_redis().pipeline(transaction=False)
        for field, amount in increments.items():
            if isinstance(amount, float):
                pipe.hincrbyfloat(key, field, amount)
            else:
                pipe.hincrby(key, field, amount)
        pipe.execute()
    except Exception as error:  # whatever went wrong, the send or postback goes on
        _warn(error)


# --- recording ---------------------------------------------------------------------------------


def postbacks_settled(*, received: int, states: Iterable[str]) -> None:
    """Count a batch of stored postbacks as it is applied: `received` rows taken out of
    `pending` for the first time, and the state each row is in now (`waiting` is not settled).

    "Received" is counted here, when the drain first takes a row, rather than by the webhook:
    a Redis round trip per postback would cost the webhook a good share of its throughput, and
    every stored row is taken out of `pending` exactly once (rows are locked with SKIP LOCKED,
    and counted only after their batch committed). It lags the webhook by the drain's delay;
    portal_postbacks_unapplied shows what is stored and not yet taken.
    """
    counts = Counter(str(state) for state in states)
    _add(
        {
            "postbacks_received": received,
            **{f"postbacks_{state}": counts[state] for state in SETTLED_STATES},
        }
    )


def send_latency_observe(seconds: float) -> None:
    send_latencies_observe([seconds])


def send_latencies_observe(durations: Iterable[float]) -> None:
    """Several send latencies in one Redis round trip: a chunk of submissions records its
    calls' together, since a round trip per call cost the send path a good share of its rate."""
    increments: dict[str, float] = Counter()
    for seconds in durations:
        bound = next((b for b in SEND_LATENCY_BUCKETS if seconds <= b), float("inf"))
        increments[f"send_latency_bucket:{floatToGoString(bound)}"] += 1
        increments["send_latency_sum"] += float(seconds)
    _add(increments)


@contextmanager
def send_timer(observed: list[float] | None = None) -> Iterator[None]:
    """Observe the duration of one iLiveIt submit call, whatever its outcome: at once, or
    into `observed` for the caller to record with the rest of its batch."""
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - started
        if observed is None:
            send_latency_observe(seconds)
        else:
            observed.append(seconds)


def iliveit_rate_limited() -> None:
    _add({"iliveit_429": 1})
