"""/healthz and /readyz, as a load balancer or an orchestrator asks them."""

import pytest
from django.urls import reverse

from iliveit_portal import health
from iliveit_portal.redis_client import redis_client
from postbacks.tasks import sweep

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_beat_yet():
    redis_client().delete(health.beat_key())
    yield
    redis_client().delete(health.beat_key())


def test_healthz_answers_without_signing_in_or_touching_dependencies(client):
    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_unavailable_until_the_periodic_sweep_has_run(client):
    before = client.get(reverse("readyz"))
    sweep()  # what beat has a worker run every SWEEP_INTERVAL_S
    after = client.get(reverse("readyz"))

    assert before.status_code == 503
    assert before.json()["checks"] == {"database": "ok", "broker": "ok", "beat": "not seen"}
    assert after.status_code == 200
    assert after.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok", "beat": "ok"},
    }


def test_readyz_reports_a_sweep_that_stopped(client, settings):
    settings.SWEEP_INTERVAL_S = 1
    long_ago = "1000000000"
    redis_client().set(health.beat_key(), long_ago)

    checks = client.get(reverse("readyz")).json()["checks"]

    assert checks["beat"].startswith("last seen")


def test_readyz_reports_a_broker_it_cannot_reach(client, settings):
    sweep()
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens there

    response = client.get(reverse("readyz"))

    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "error: ConnectionError"
    assert response.json()["checks"]["database"] == "ok"


def test_a_broker_that_is_down_does_not_stop_the_sweep(settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"

    assert "postbacks_applied" in sweep()


def test_only_get_is_allowed(client):
    assert client.post(reverse("readyz")).status_code == 405
