"""The OpenAPI schema and its docs pages; and schemathesis, which sends every operation
generated requests on a live server and checks that none answers 5xx."""

import itertools
import re
from urllib.parse import quote

import pytest
import schemathesis
from django.urls import reverse
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from iliveit_portal.celery import app as celery_app
from messaging.models import CampaignState, MessageState, OptOut
from messaging.optouts import opt_out_record
from tests.api.conftest import error_of
from tests.support.campaigns import sms_campaign

SCHEMA = "/api/v1/schema/"


@pytest.mark.django_db
def test_the_schema_is_valid_openapi_and_describes_tokens_keys_and_errors(as_viewer):
    response = as_viewer.get(SCHEMA, HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    assert schema["components"]["securitySchemes"]["apiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["apiToken"]["description"],
    }
    assert set(schema["components"]["schemas"]["Error"]["properties"]) == {"error"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"401", "403", "429"} <= set(responses), (method, path)
            if method == "post":
                names = {p["name"] for p in operation.get("parameters", [])}
                assert "Idempotency-Key" in names, path
                assert {"409", "422"} <= set(responses), path


@pytest.mark.django_db
def test_the_schema_needs_a_token_or_a_session(anonymous, viewer):
    response = anonymous.get(SCHEMA)

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    anonymous.force_login(viewer)
    assert anonymous.get(SCHEMA).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/docs/", "/api/v1/redoc/", "/api/v1/docs/?script="])
def test_the_docs_send_a_visitor_without_a_session_to_sign_in(anonymous, path):
    response = anonymous.get(path)

    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={quote(path)}"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_the_docs_load_everything_from_the_portal_and_run_no_inline_script(viewer_client, path):
    response = viewer_client.get(path)

    assert response.status_code == 200
    page = response.content.decode()
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert (
        "unsafe-inline"
        not in response["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    )
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "/static/drf_spectacular_sidecar/" in page


@pytest.mark.django_db
def test_swagger_ui_gets_its_start_up_script_from_its_own_url(viewer_client):
    script = viewer_client.get("/api/v1/docs/?script=")

    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema/" in script.content.decode()
    assert '"validatorUrl": null' in script.content.decode()  # no call to validator.swagger.io


# --- schemathesis ------------------------------------------------------------------------------


@pytest.fixture
def api_world(application, as_composer):
    """Objects for the generated requests to find: campaigns in several states and messages."""
    draft = sms_campaign(application, name="Draft", recipients=5)
    sending = sms_campaign(application, name="Sending", recipients=3, state=CampaignState.SENDING)
    sending.messages.update(state=MessageState.FAILED, error_retryable=True)
    opt_out_record(application=application, recipient="27821000009", source="manual")
    celery_app.control.purge()
    yield [draft, sending]
    # Single sends and launches enqueued hints that no worker here will take.
    celery_app.control.purge()


# Per operation: generated valid requests, then invalid ones; and for operations on one object,
# as many again aimed at an object that exists, so that they get past the 404.
EXAMPLES = {GenerationMode.POSITIVE: 10, GenerationMode.NEGATIVE: 6}


def exercise(operation, strategy, examples: int, headers: dict, tally: list) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=strategy)
    def check(case):
        tally.append(operation.label)
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    check()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_no_operation_answers_a_server_error(live_server, api_world, as_composer):
    headers = {"Authorization": as_composer._credentials["HTTP_AUTHORIZATION"]}
    schema = schemathesis.openapi.from_url(f"{live_server.url}{SCHEMA}", headers=headers)
    documented = {
        f"{method.upper()} {path}"
        for path, methods in schema.raw_schema["paths"].items()
        for method in methods
    }
    existing = {
        "campaigns": [campaign.pk for campaign in api_world],
        "messages": [message.pk for campaign in api_world for message in campaign.messages.all()],
        "opt-outs": list(OptOut.objects.values_list("pk", flat=True)),
    }
    tally: list[str] = []
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        targets = [None]
        if "{id}" in operation.path:
            segments = operation.path.split("/")  # .../<collection>/{id}/...
            targets += existing[segments[segments.index("{id}") - 1]][:1]
        for pk, (mode, examples) in itertools.product(targets, EXAMPLES.items()):
            fixed = {"id": pk} if pk else None
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed)
            try:
                exercise(operation, strategy, examples, headers, tally)
            except Exception as failure:
                failures.append(f"{operation.label} ({mode.value}, pk={pk}): {failure}")

    print(f"schemathesis: {len(operations)} operations, {len(tally)} requests")
    assert failures == []
    # Every operation the schema documents was loaded and sent requests.
    assert {operation.label for operation in operations} == documented
    assert set(tally) == documented
    assert len(documented) == 17
    assert len(tally) > 17 * 20
