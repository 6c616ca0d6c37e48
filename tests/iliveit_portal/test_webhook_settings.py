"""iliveit_portal.webhook_settings and webhook_urls: the webhook processes take postbacks and
answer probes as the portal does, and serve nothing else."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from iliveit_portal import webhook_settings
from messaging.models import Message, MessageState
from postbacks.drain import postbacks_drain
from postbacks.models import PostbackInbox
from tests.postbacks.webhook import delivery_body, url_for

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def message(make_campaign):
    campaign = make_campaign()
    return Message.objects.create(
        campaign=campaign, recipient="27820000001", state=MessageState.SUBMITTED, iliveit_id="M-1"
    )


@pytest.fixture
def webhook_process(settings):
    """This process, set up as one of the webhook's."""
    settings.ROOT_URLCONF = webhook_settings.ROOT_URLCONF
    settings.MIDDLEWARE = webhook_settings.MIDDLEWARE


def test_a_postback_to_its_signed_url_is_stored_and_applied(client, message, webhook_process):
    # The URL is the one the sending worker signs, made with the portal's own URLs.
    url = url_for(message)
    response = client.post(url, json.dumps(delivery_body(message)), content_type="application/json")

    assert response.status_code == 200
    # Sized, so that gunicorn sends it whole rather than in chunks.
    assert response["Content-Length"] == "2"
    assert PostbackInbox.objects.filter(ref=message.ref).count() == 1
    postbacks_drain()
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED


def test_a_postback_with_a_bad_mac_is_refused(client, message, webhook_process):
    response = client.post(url_for(message, mac="0" * 32), "{}", content_type="application/json")

    assert response.status_code == 404
    assert not PostbackInbox.objects.exists()


def test_the_liveness_probe_answers(client, webhook_process):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/campaigns/", "/login/", "/admin/", "/api/v1/campaigns/"])
def test_staff_pages_and_the_api_are_not_served(admin_client, path, webhook_process):
    assert admin_client.get(path).status_code == 404


def test_the_settings_pass_djangos_checks_in_a_process_of_their_own():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--settings", "iliveit_portal.webhook_settings"],
        cwd=REPO,
        env={**os.environ, "DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
