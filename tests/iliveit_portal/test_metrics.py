"""/metrics: the exposition, the portal's figures moving with real postbacks and sends, and who
may read it."""

import json

import pytest
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families

from iliveit_portal import metrics
from iliveit_portal.celery import app as celery_app
from messaging.models import Application, Campaign, Channel, Message, MessageState
from messaging.postback_urls import sign
from messaging.services import campaign_launch, message_submit, messages_submit
from postbacks.drain import postbacks_drain

pytestmark = pytest.mark.django_db

URL = reverse("metrics")
TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture(autouse=True)
def fresh_figures():
    metrics.portal_redis().delete(metrics.metrics_key())
    # Launches and the webhook queue hints for workers; none run here.
    celery_app.control.purge()
    yield
    metrics.portal_redis().delete(metrics.metrics_key())
    celery_app.control.purge()


def scrape(client, **extra) -> dict[tuple, float]:
    response = client.get(URL, **extra)
    assert response.status_code == 200, response.content
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def launched(application, recipients) -> list[Message]:
    campaign = Campaign.objects.create(
        name="Metrics", channel=Channel.SMS, application=application, body_text="Hello"
    )
    Message.objects.bulk_create(Message(campaign=campaign, recipient=r) for r in recipients)
    campaign_launch(campaign=campaign, user=None)
    return list(campaign.messages.order_by("id"))


def status_body(message_id: str) -> dict:
    stamp = "2025-03-01T10:00:00Z"
    body = {
        "type": "sms",
        "message_id": message_id,
        "network": "vodacom",
        "postback_type": "submit",
    }
    for stage in ("build", "archive", "submit", "sent", "delivered"):
        reached = stage == "submit"
        body[f"{stage}_status"] = 2 if reached else 0
        body[f"{stage}_status_description"] = "Submitted" if reached else ""
        body[f"{stage}_timestamp"] = stamp if reached else "0001-01-01T00:00:00Z"
    return body


def post_postback(client, message, body) -> int:
    url = reverse("postbacks:status", kwargs={"ref": message.ref, "mac": sign(message.ref)})
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json").status_code


# --- the exposition ----------------------------------------------------------------------------


def test_metrics_answers_the_text_format_with_django_and_portal_figures(client):
    client.get(reverse("healthz"))
    response = client.get(URL)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-cache" in response["Cache-Control"]
    text = response.content.decode()
    for name in (
        "django_http_requests_total_by_method_total",
        "django_http_responses_total_by_status_total",
        "portal_postbacks_received_total",
        "portal_postbacks_applied_total",
        "portal_postbacks_quarantined_total",
        'portal_messages{state="queued"}',
        'portal_send_latency_seconds_bucket{le="+Inf"}',
        "portal_send_latency_seconds_count",
        "portal_iliveit_429_total",
        "portal_metrics_redis_up 1.0",
        "portal_metrics_database_up 1.0",
    ):
        assert name in text, name


def test_the_multiprocess_mode_sums_the_figures_of_a_directory(tmp_path, monkeypatch, client):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    response = client.get(URL)

    assert response.status_code == 200
    assert b"portal_postbacks_received_total" in response.content


# --- figures that move -------------------------------------------------------------------------


def test_postbacks_are_counted_received_and_applied_once_drained(client):
    application = Application.objects.create(
        name="P", endpoint="https://iliveit.invalid", token="token-metrics-p", mvno_id=1
    )
    (message,) = launched(application, ["27820000001"])
    Message.objects.filter(pk=message.pk).update(
        state=MessageState.SUBMITTED, iliveit_id="MSG-METRICS-1"
    )
    before = scrape(client)

    assert post_postback(client, message, status_body("MSG-METRICS-1")) == 200
    stored = scrape(client)
    postbacks_drain()
    after = scrape(client)

    # Stored but not yet taken: pending, not yet received.
    assert value(stored, "portal_postbacks_unapplied", state="pending") == 1
    assert value(stored, "portal_postbacks_received_total") == 0
    assert value(after, "portal_postbacks_unapplied", state="pending") == 0
    assert value(after, "portal_postbacks_received_total") == 1
    assert value(after, "portal_postbacks_applied_total") == 1
    assert value(after, "portal_postbacks_quarantined_total") == 0
    assert value(before, "portal_postbacks_received_total") == 0


def test_a_duplicate_and_a_malformed_postback_are_counted_as_such(client):
    application = Application.objects.create(
        name="P", endpoint="https://iliveit.invalid", token="token-metrics-q", mvno_id=1
    )
    (message,) = launched(application, ["27820000001"])
    Message.objects.filter(pk=message.pk).update(
        state=MessageState.SUBMITTED, iliveit_id="MSG-METRICS-2"
    )

    post_postback(client, message, status_body("MSG-METRICS-2"))
    post_postback(client, message, status_body("MSG-METRICS-2"))
    post_postback(client, message, b"{not json")
    postbacks_drain()
    samples = scrape(client)

    assert value(samples, "portal_postbacks_received_total") == 3
    assert value(samples, "portal_postbacks_applied_total") == 1
    assert value(samples, "portal_postbacks_duplicate_total") == 1
    assert value(samples, "portal_postbacks_quarantined_total") == 1


def test_messages_by_state_come_from_the_campaign_counters(client):
    application = Application.objects.create(
        name="M", endpoint="https://iliveit.invalid", token="token-metrics-m", mvno_id=1
    )
    before = scrape(client)

    messages = launched(application, ["27820000001", "27820000002", "27820000003"])
    Message.objects.filter(pk=messages[0].pk).update(state=MessageState.FAILED)
    after = scrape(client)

    def moved(state):
        return value(after, "portal_messages", state=state) - value(
            before, "portal_messages", state=state
        )

    assert moved("queued") == 2
    assert moved("failed") == 1
    assert moved("delivered") == 0


def test_a_submit_to_the_sandbox_is_timed(client, sandbox_application):
    (message,) = launched(sandbox_application, ["27821000001"])

    assert message_submit(message_id=message.pk).state == MessageState.SUBMITTED
    samples = scrape(client)

    assert value(samples, "portal_send_latency_seconds_count") == 1
    assert value(samples, "portal_send_latency_seconds_bucket", le="+Inf") == 1
    assert 0 < value(samples, "portal_send_latency_seconds_sum") < 10
    assert value(samples, "portal_iliveit_429_total") == 0


def test_a_chunk_of_submits_times_every_call(client, sandbox_application):
    messages = launched(sandbox_application, ["27821000001", "27821000002", "27821000003"])

    outcomes = messages_submit(message_ids=[message.pk for message in messages])
    samples = scrape(client)

    assert {outcome.state for outcome in outcomes.values()} == {MessageState.SUBMITTED}
    assert value(samples, "portal_send_latency_seconds_count") == 3
    assert value(samples, "portal_send_latency_seconds_bucket", le="+Inf") == 3
    assert 0 < value(samples, "portal_send_latency_seconds_sum") < 30


def test_a_429_from_iliveit_is_counted(client, sandbox_application):
    (message,) = launched(sandbox_application, ["27000000010"])  # the sandbox's always-429

    assert message_submit(message_id=message.pk).state == MessageState.QUEUED
    samples = scrape(client)

    assert value(samples, "portal_iliveit_429_total") == 1
    assert value(samples, "portal_send_latency_seconds_count") == 1


def test_figures_are_shared_state_not_process_memory(client):
    # Another process (a worker elsewhere) counted these: only Redis knows.
    metrics.portal_redis().hincrby(metrics.metrics_key(), "iliveit_429", 5)

    assert value(scrape(client), "portal_iliveit_429_total") == 5


def test_an_unreachable_redis_never_fails_the_work_it_counts(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there

    metrics.postbacks_settled(received=1, states=["applied"])
    metrics.iliveit_rate_limited()
    with pytest.raises(ZeroDivisionError), metrics.send_timer():
        1 / 0  # noqa: B018 - the body's own error comes through unchanged
    samples = scrape(client)

    assert value(samples, "portal_metrics_redis_up") == 0
    assert value(samples, "portal_metrics_database_up") == 1


# --- who may read it ---------------------------------------------------------------------------


def test_an_address_outside_the_allowed_networks_is_refused(client):
    response = client.get(URL, REMOTE_ADDR="203.0.113.7")

    assert response.status_code == 403
    assert b"portal_" not in response.content


def test_a_private_address_is_allowed_without_a_login(client):
    assert client.get(URL, REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get(URL, REMOTE_ADDR="::ffff:192.168.1.9").status_code == 200


def test_a_request_through_a_proxy_needs_the_token(client, settings):
    settings.METRICS_TOKEN = TOKEN

    refused = client.get(URL, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.1")
    allowed = client.get(
        URL,
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.1",
        HTTP_AUTHORIZATION=f"Bearer {TOKEN}",
    )

    assert refused.status_code == 403
    assert allowed.status_code == 200


@pytest.mark.parametrize(
    "proxy_header",
    [
        {"HTTP_X_FORWARDED_FOR": "198.51.100.1"},
        {"HTTP_FORWARDED": "for=198.51.100.1"},
        {"HTTP_X_REAL_IP": "198.51.100.1"},
    ],
)
def test_any_proxy_header_makes_a_private_address_need_the_token(client, proxy_header):
    response = client.get(URL, REMOTE_ADDR="10.0.0.2", **proxy_header)

    assert response.status_code == 403


def test_the_token_opens_it_from_anywhere_and_a_wrong_one_does_not(client, settings):
    settings.METRICS_TOKEN = TOKEN
    outside = {"REMOTE_ADDR": "203.0.113.7"}

    assert client.get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **outside).status_code == 200
    assert client.get(URL, HTTP_AUTHORIZATION="Bearer wrong", **outside).status_code == 403
    assert client.get(URL, HTTP_AUTHORIZATION=f"Basic {TOKEN}", **outside).status_code == 403


def test_no_token_configured_means_no_bearer_gets_in(client, settings):
    settings.METRICS_TOKEN = ""

    response = client.get(URL, REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION="Bearer ")

    assert response.status_code == 403


def test_the_allowed_networks_come_from_the_settings(client, settings):
    import ipaddress

    settings.METRICS_ALLOWED_NETS = [ipaddress.ip_network("203.0.113.0/24")]

    assert client.get(URL, REMOTE_ADDR="203.0.113.7").status_code == 200
    assert client.get(URL, REMOTE_ADDR="127.0.0.1").status_code == 403
