"""api.throttling: one rate per token, answered 429 in the error shape with Retry-After."""

import pytest
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from api.throttling import ApiRateThrottle
from tests.api.conftest import error_of, forget_throttle, token_client

pytestmark = pytest.mark.django_db

LIST = "/api/v1/campaigns/"


def test_a_token_past_its_rate_gets_429_with_retry_after(settings, composer):
    settings.API_RATE_LIMIT = "3/min"
    client = token_client(composer)
    forget_throttle(client)

    answers = [client.get(LIST).status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]
    throttled = client.get(LIST)
    assert error_of(throttled)["code"] == "throttled"
    assert 0 < int(throttled["Retry-After"]) <= 60


def test_each_token_has_its_own_rate(settings, composer):
    settings.API_RATE_LIMIT = "2/min"
    first, second = token_client(composer), token_client(composer)
    for client in (first, second):
        forget_throttle(client)

    first.get(LIST), first.get(LIST)

    assert first.get(LIST).status_code == 429
    assert second.get(LIST).status_code == 200


def test_a_session_is_limited_per_user(settings, composer):
    settings.API_RATE_LIMIT = "1/min"
    cache.delete(ApiRateThrottle.cache_format % {"scope": "api", "ident": f"user-{composer.pk}"})
    client = APIClient()
    client.force_login(composer)

    assert client.get(LIST).status_code == 200
    assert client.get(LIST).status_code == 429


def test_an_anonymous_caller_is_counted_by_its_address_behind_a_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    throttle = ApiRateThrottle()
    factory = APIRequestFactory()

    def key(forwarded_for: str) -> str:
        request = Request(
            factory.get("/api/v1/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded_for)
        )
        return throttle.get_cache_key(request, view=None)

    assert key("198.51.100.1") != key("198.51.100.2")
    # The leftmost entry is the client's own claim: it does not change the count.
    assert key("1.1.1.1, 198.51.100.1") == key("2.2.2.2, 198.51.100.1")
