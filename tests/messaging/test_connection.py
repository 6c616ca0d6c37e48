"""Check connection: a ping to the sandbox over HTTP, and what staff are told when it fails."""

import pytest

from messaging.connection import application_check_connection
from tests.support.applications import make_application
from tests.support.sandbox import free_port

pytestmark = pytest.mark.django_db


def test_a_working_application_gets_pings_answer(sandbox_application):
    result = application_check_connection(application=sandbox_application)

    assert result.ok
    assert result.text == "Pong!"
    assert 0 < result.seconds < 5


def test_a_wrong_token_is_named_as_the_cause(sandbox_application):
    sandbox_application.token = "a-token-the-sandbox-never-issued"

    result = application_check_connection(application=sandbox_application)

    assert not result.ok
    assert result.text.startswith("iLiveIt refused the token (HTTP 401)")


def test_nothing_listening_is_said_in_plain_words(db):
    application = make_application("Nowhere")
    application.endpoint = f"http://127.0.0.1:{free_port()}"

    result = application_check_connection(application=application)

    assert not result.ok
    assert result.text.startswith("Could not connect to the endpoint")
    assert application.token not in result.text


def test_an_endpoint_the_portal_refuses_is_not_called(settings, db):
    settings.ILIVEIT_ENDPOINT_HOSTS = ["api.iliveit.example"]
    application = make_application("Elsewhere")
    application.endpoint = "https://evil.example"

    result = application_check_connection(application=application)

    assert not result.ok
    assert "is refused" in result.text and "Correct it in the admin" in result.text
