"""The /metrics page: the standard Django figures and the portal's own (iliveit_portal/metrics.py
records them), for a scraper that may see them. It sits at the top, beside the URLs, because it
reads the counters of messaging and postbacks."""

import ipaddress
import logging
import os

from django.conf import settings
from django.db.models import Count, Sum
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
from iliveit_portal.metrics import SEND_LATENCY_BUCKETS, SETTLED_STATES, metrics_key, portal_redis
from messaging.models import CampaignCount, MessageState
from postbacks.models import InboxState, PostbackInbox

logger = logging.getLogger(__name__)


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
            raw = portal_redis().hgetall(metrics_key())
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
