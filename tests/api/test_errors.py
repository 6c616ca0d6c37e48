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
