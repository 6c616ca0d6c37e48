"""api.errors: every error, DRF's or ours, in one JSON shape; unknown API URLs too."""

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import error_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing/", "/api/v1/campaigns/abc/", "/api/v1/campaigns", "/api/v1/"]
)
def test_an_unknown_api_url_answers_a_json_404(anonymous, path):
    response = anonymous.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert error_of(response) == {"code": "not_found", "message": f"No API endpoint at {path}."}


def test_a_post_to_an_unknown_url_answers_the_json_404_not_a_csrf_page(composer):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(composer)

    response = client.post("/api/v1/campaigns/x/launch/", {}, format="json")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_a_missing_object_answers_the_same_shape(as_viewer):
    response = as_viewer.get("/api/v1/campaigns/987654/")

    assert response.status_code == 404
    assert error_of(response) == {"code": "not_found", "message": "Not found."}


def test_405_415_and_parse_errors_have_the_shape(as_composer, campaign):
    wrong_method = as_composer.delete(f"/api/v1/campaigns/{campaign.pk}/")
    not_json = as_composer.post(
        "/api/v1/campaigns/", "name=x", content_type="application/x-www-form-urlencoded"
    )
    broken = as_composer.post("/api/v1/campaigns/", "{oops", content_type="application/json")

    assert (wrong_method.status_code, error_of(wrong_method)["code"]) == (
        405,
        "method_not_allowed",
    )
    assert (not_json.status_code, error_of(not_json)["code"]) == (415, "unsupported_media_type")
    assert (broken.status_code, error_of(broken)["code"]) == (400, "parse_error")
    assert "JSON parse error" in error_of(broken)["message"]


def test_nested_field_errors_are_named_by_their_path(as_composer, application):
    body = {
        "name": "MMS",
        "channel": "mms",
        "application": application.pk,
        "subject": "Hi",
        "slides": [{"text": "fine"}, {"duration": 0}],
        "recipients": ["0821234567", ""],
    }

    response = as_composer.post("/api/v1/campaigns/", body, format="json")

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert error["message"] == "The request has invalid fields."
    assert set(error["fields"]) == {"slides.1.duration", "recipients.1"}
    assert all(isinstance(reasons, list) for reasons in error["fields"].values())


def test_an_error_without_a_field_is_the_message(as_admin, application, other_application):
    response = as_admin.post(
        "/api/v1/messages/",
        {"channel": "sms", "recipient": "0821234567", "text": "Hi"},
        format="json",
    )

    assert response.status_code == 400
    assert error_of(response) == {
        "code": "invalid",
        "message": "Several applications exist; name the one to send with.",
    }


def test_a_failure_of_our_own_answers_500_in_the_shape_without_its_text(
    as_viewer, campaign, monkeypatch, caplog
):
    # A fault only a bug can cause: the stats reader breaks.
    def broken(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("api.views.campaigns.campaign_dashboard", broken)

    response = as_viewer.get(f"/api/v1/campaigns/{campaign.pk}/stats/")

    assert response.status_code == 500
    assert error_of(response) == {
        "code": "server_error",
        "message": "The server failed to answer; try again later.",
    }
    assert "secret internals" not in response.content.decode()
    assert "secret internals" in caplog.text  # logged for us, with its traceback


# --- bodies that must not break the parser --------------------------------------------------

NESTED_100K = "[" * 100_000 + "]" * 100_000


def post_paths(campaign, message) -> list[str]:
    return [
        "/api/v1/campaigns/",
        f"/api/v1/campaigns/{campaign.pk}/recipients/",
        f"/api/v1/campaigns/{campaign.pk}/launch/",
        f"/api/v1/campaigns/{campaign.pk}/pause/",
        f"/api/v1/campaigns/{campaign.pk}/resume/",
        f"/api/v1/campaigns/{campaign.pk}/cancel/",
        f"/api/v1/campaigns/{campaign.pk}/retry-failed/",
        "/api/v1/messages/",
        f"/api/v1/messages/{message.pk}/resend/",
    ]


def test_json_nested_100_000_deep_answers_400_on_every_post_that_reads_it(as_admin, campaign):
    message = campaign.messages.first()

    for path in post_paths(campaign, message):
        # An Idempotency-Key makes even the endpoints that take no body read it.
        response = as_admin.post(
            path, NESTED_100K, content_type="application/json", HTTP_IDEMPOTENCY_KEY=path
        )

        assert response.status_code == 400, path
        assert error_of(response)["code"] == "parse_error", path


def test_json_nested_100_000_deep_never_answers_a_server_error(as_admin, campaign):
    message = campaign.messages.first()

    for path in post_paths(campaign, message):
        response = as_admin.post(path, NESTED_100K, content_type="application/json")

        assert response.status_code < 500, path
        if response.status_code >= 400:
            error_of(response)


def test_json_nested_deeper_than_the_limit_is_refused_before_any_field_sees_it(
    as_composer, application
):
    deep: dict = {}
    for _ in range(900):  # parses, but deeper than any template data needs
        deep = {"a": deep}
    body = {
        "name": "Video",
        "channel": "video",
        "application": application.pk,
        "template_id": 12,
        "template_data": deep,
    }

    response = as_composer.post("/api/v1/campaigns/", body, format="json")

    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"
    assert "nested deeper than" in error_of(response)["message"]


def test_json_nested_a_little_is_fine(as_composer, application):
    body = {
        "name": "Video",
        "channel": "video",
        "application": application.pk,
        "template_id": 12,
        "template_data": {"a": {"b": [{"c": [1, 2, {"d": "e"}]}]}},
    }

    response = as_composer.post("/api/v1/campaigns/", body, format="json")

    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    "path", ["/api/v1/campaigns/", "/api/v1/messages/", "/api/v1/campaigns/{pk}/recipients/"]
)
def test_a_body_over_the_upload_limit_answers_413(as_composer, campaign, settings, path):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"recipients": ["' + "2" * 2000 + '"]}'

    response = as_composer.post(path.format(pk=campaign.pk), body, content_type="application/json")

    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "request_too_large"
    assert "1000 bytes" in error["message"]


def test_a_body_within_the_upload_limit_is_read(as_composer, campaign, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = as_composer.post(
        f"/api/v1/campaigns/{campaign.pk}/recipients/",
        {"recipients": ["0821234567"]},
        format="json",
    )

    assert response.status_code == 200, response.json()
