import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from api.throttling import ApiRateThrottle
from api.tokens import api_token_create
from tests.support.campaigns import sms_campaign


@pytest.fixture(autouse=True)
def generous_rate_limit(settings):
    # Throttle counters live in the shared cache and outlast each test's database, where ids
    # repeat; tests that are about throttling set their own rate and clear their key.
    settings.API_RATE_LIMIT = "100000/min"


@pytest.fixture
def no_role(make_staff, application):
    return make_staff("nora", None, applications=[application])


def token_client(user) -> APIClient:
    client = APIClient()
    created = api_token_create(user=user, name="tests", actor=user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.secret}")
    client.token = created.token
    return client


def forget_throttle(client: APIClient) -> None:
    cache.delete(
        ApiRateThrottle.cache_format % {"scope": "api", "ident": f"token-{client.token.pk}"}
    )


@pytest.fixture
def as_viewer(viewer):
    return token_client(viewer)


@pytest.fixture
def as_composer(composer):
    return token_client(composer)


@pytest.fixture
def as_admin(admin_staff):
    return token_client(admin_staff)


@pytest.fixture
def as_outsider(outsider):
    return token_client(outsider)


@pytest.fixture
def anonymous():
    return APIClient()


@pytest.fixture
def other_campaign(other_application):
    return sms_campaign(other_application, name="Not yours")


def error_of(response) -> dict:
    """The error object of an API error answer, after checking its shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"]), body
    return body["error"]
