"""api.authentication: Bearer (or Token) tokens, and sessions with DRF's CSRF check."""

import pytest
from rest_framework.test import APIClient

from api.models import ApiToken
from api.tokens import api_token_create, api_token_revoke
from tests.api.conftest import error_of

pytestmark = pytest.mark.django_db

LIST = "/api/v1/campaigns/"


def test_bearer_and_token_keywords_both_work(composer, campaign):
    secret = api_token_create(user=composer, name="CI", actor=composer).secret
    client = APIClient()

    for keyword in ("Bearer", "Token", "bearer"):
        client.credentials(HTTP_AUTHORIZATION=f"{keyword} {secret}")
        assert client.get(LIST).status_code == 200, keyword
    assert ApiToken.objects.get().last_used_at is not None


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ilv_x_y", "Bearer a b", "Token ilv_00000000_nope", "Bearer ünïcode"],
)
def test_a_bad_token_answers_401(composer, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(LIST)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert error_of(response)["code"] == "authentication_failed"


def test_a_revoked_token_answers_401(composer):
    created = api_token_create(user=composer, name="CI", actor=composer)
    api_token_revoke(token=created.token, actor=composer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.secret}")

    assert client.get(LIST).status_code == 401


def test_a_session_reads_and_must_send_the_csrf_token_to_write(composer, application):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(composer)
    body = {"name": "x", "channel": "sms", "application": application.pk, "body_text": "Hi"}

    read = client.get(LIST)
    write = client.post(LIST, body, format="json")

    assert read.status_code == 200
    assert write.status_code == 403
    assert "CSRF" in error_of(write)["message"]
    client.get("/campaigns/")  # a page with a form (sign out) sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    assert client.post(LIST, body, format="json", HTTP_X_CSRFTOKEN=token).status_code == 201
