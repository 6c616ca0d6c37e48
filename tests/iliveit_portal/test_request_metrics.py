"""Django's request figures cover every page except the postback webhook, whose own figures
count it."""

import pytest
from prometheus_client import REGISTRY

pytestmark = pytest.mark.django_db


def requests_by_method(method: str) -> float:
    value = REGISTRY.get_sample_value(
        "django_http_requests_total_by_method_total", {"method": method}
    )
    return value or 0.0


def test_pages_are_counted_and_postbacks_are_not(client):
    before_get, before_post = requests_by_method("GET"), requests_by_method("POST")

    client.get("/healthz")
    client.post("/api/v1/nothing/", {})
    for _ in range(3):
        response = client.post(
            "/postbacks/status/some-ref/not-a-mac/", b"{}", content_type="application/json"
        )
        assert response.status_code in (403, 404)  # answered as ever, just not timed

    assert requests_by_method("GET") == before_get + 1
    assert requests_by_method("POST") == before_post + 1
