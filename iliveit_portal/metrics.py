"""Prometheus figures at /metrics.

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

import ipaddress
import logging
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.utils import floatToGoString

from iliveit_portal.client_address import client_address

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


def _redis() -> redis.Redis:
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
        pipe = _redis().pipeline(transaction=False)
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
    bound = next((b for b in SEND_LATENCY_BUCKETS if seconds <= b), float("inf"))
    _add({f"send_latency_bucket:{floatToGoString(bound)}": 1, "send_latency_sum": float(seconds)})


@contextmanager
def send_timer() -> Iterator[None]:
    """Observe the duration of one iLiveIt submit call, whatever its outcome."""
    started = time.perf_counter()
    try:
        yield
    finally:
        send_latency_observe(time.perf_counter() - started)


def iliveit_rate_limited() -> None:
    _add({"iliveit_429": 1})


# --- exposition ----------------------------------------------------------------------------------


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


class PortalCollector:
    """The portal_* figures, read from shared state at each scrape."""

    def collect(self):
        yield from self._from_redis()
        yield from self._from_database()

    def _from_redis(self):
        up = GaugeMetricFamily("portal_metrics_redis_up", "Whether Redis answered the scrape.")
        try:
            raw = _redis().hgetall(metrics_key())
        except Exception as error:  # a scrape without Redis still answers what it can
            logger.warning("metrics: Redis did not answer: %s", error)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        fields = {key.decode(): float(value) for key, value in raw.items()}
        yield _counter(
            "portal_postbacks_received",
            "Stored postbacks (status and reply) taken by a drain for the first time.",
            fields.get("postbacks_received", 0),
        )
        for state in SETTLED_STATES:
            yield _counter(
                f"portal_postbacks_{state}",
                f"Stored postbacks that settled as {state}.",
                fields.get(f"postbacks_{state}", 0),
            )
        yield _counter(
            "portal_iliveit_429",
            "Submit calls that iLiveIt refused with 429 (rate limited).",
            fields.get("iliveit_429", 0),
        )
        buckets, cumulative = [], 0.0
        for bound in (*SEND_LATENCY_BUCKETS, float("inf")):
            name = floatToGoString(bound)
            cumulative += fields.get(f"send_latency_bucket:{name}", 0)
            buckets.append((name, cumulative))
        yield HistogramMetricFamily(
            "portal_send_latency_seconds",
            "Duration of iLiveIt submit calls (send and video build), every outcome.",
            buckets=buckets,
            sum_value=fields.get("send_latency_sum", 0.0),
        )

    def _from_database(self):
        from django.db.models import Count, Sum

        from messaging.models import CampaignCount, MessageState
        from postbacks.models import InboxState, PostbackInbox

        up = GaugeMetricFamily(
            "portal_metrics_database_up", "Whether the database answered the scrape."
        )
        try:
            # The trigger-kept counters, a few rows per campaign; never the messages table.
            by_state = dict(
                CampaignCount.objects.values("state")
                .annotate(n=Sum("n"))
                .order_by()
                .values_list("state", "n")
            )
            # Served by the inbox's partial index on unapplied rows.
            unapplied = dict(
                PostbackInbox.objects.filter(state__in=(InboxState.PENDING, InboxState.WAITING))
                .values("state")
                .annotate(n=Count("id"))
                .order_by()
                .values_list("state", "n")
            )
        except Exception as error:  # answer the Redis figures even so
            logger.warning("metrics: the database did not answer: %s", error)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        messages = GaugeMetricFamily(
            "portal_messages",
            "Campaign messages by state, from the campaign counters (test and single sends are "
            "not counted).",
            labels=["state"],
        )
        for state in MessageState.values:
            messages.add_metric([state], by_state.get(state) or 0)
        yield messages
        backlog = GaugeMetricFamily(
            "portal_postbacks_unapplied",
            "Stored postbacks not applied yet: pending (no drain took them yet) or waiting "
            "(for their message's MessageID).",
            labels=["state"],
        )
        for state in (InboxState.PENDING, InboxState.WAITING):
            backlog.add_metric([str(state)], unapplied.get(state, 0))
        yield backlog


_portal_registry = CollectorRegistry(auto_describe=False)
_portal_registry.register(PortalCollector())


def _standard_figures() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Every gunicorn worker writes its figures to files in that directory; this sums them.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


# --- access ---------------------------------------------------------------------------------------


def _bearer(request: HttpRequest) -> str:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


# Any of these says a proxy passed the request on (nginx's X-Real-IP as much as the others).
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


def metrics_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token and constant_time_compare(_bearer(request), token):
        return True
    # Behind a reverse proxy every request comes from the proxy's (private) address, so an
    # address only vouches for a scraper that came straight to the app server.
    if any(header in request.headers for header in PROXY_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in settings.METRICS_ALLOWED_NETS)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        return HttpResponse("Forbidden", status=403, content_type="text/plain")
    body = _standard_figures() + generate_latest(_portal_registry)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
