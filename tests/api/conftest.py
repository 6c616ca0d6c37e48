import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from api.throttling import ApiRateThrottle
from api.tokens import api_token_create
from messaging.models import Application
from tests.support.campaigns import sms_campaign


@pytest.fixture(autouse=True)
def generous_rate_limit(settings):
    # Throttle counters live in the shared cache and outlast each test's database, where ids
    # repeat; tests that are about throttling set their own rate and clear their key.
    settings.API_RATE_LIMIT = "100000/min"


@pytest.fixture
def application(db):
    # Never called in these tests: sending is left to workers, which only the end-to-end test
    # runs (against the sandbox).
    return Application.objects.create(
        name="Alpha", endpoint="http://127.0.0.1:9", token="alpha-token-0001", mvno_id=1
    )


@pytest.fixture
def other_application(db):
    return Application.objects.create(
        name="Beta", endpoint="http://127.0.0.1:9", token="beta-token-0002", mvno_id=2
    )


@pytest.fixture
def viewer(make_staff, application):
    return make_staff("vera", "Viewer", applications=[application])


@pytest.fixture
def composer(make_staff, application):
    return make_staff("cora", "Composer", applications=[application])


@pytest.fixture
def admin_user(make_staff):
    return make_staff("adam", "Admin")


@pytest.fixture
def outsider(make_staff, other_application):
    """A composer, but granted only another application."""
    return make_staff("otto", "Composer", applications=[other_application])


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
def as_admin(admin_user):
    return token_client(admin_user)


@pytest.fixture
def as_outsider(outsider):
    return token_client(outsider)


@pytest.fixture
def anonymous():
    return APIClient()


@pytest.fixture
def campaign(application):
    return sms_campaign(application)


@pytest.fixture
def other_campaign(other_application):
    return sms_campaign(other_application, name="Not yours")


def error_of(response) -> dict:
    """The error object of an API error answer, after checking its shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"]), body
    return body["error"]
