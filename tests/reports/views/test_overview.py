"""The front page at /: the last 30 days across the applications the user is granted."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.html import strip_tags

from messaging.models import CampaignState, MessageState
from tests.messaging.compose_helpers import make_campaign

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    return " ".join(strip_tags(response.content.decode()).split())


@pytest.fixture
def sending(application):
    campaign = make_campaign(
        "sms",
        application=application,
        name="Spring sale",
        state=CampaignState.SENDING,
        launched_at=timezone.now() - timedelta(hours=1),
    )
    for n, state in enumerate([MessageState.DELIVERED] * 3 + [MessageState.FAILED]):
        campaign.messages.create(
            recipient=f"2782000000{n}",
            state=state,
            submit_code=2,
            submit_at=timezone.now() - timedelta(minutes=30),
            sent_code=1 if state == MessageState.DELIVERED else 5,
            sent_description="Sent" if state == MessageState.DELIVERED else "Rejected by network",
        )
    return campaign


@pytest.fixture
def elsewhere(other_application):
    campaign = make_campaign(
        "email",
        application=other_application,
        name="Not yours",
        state=CampaignState.SENDING,
        launched_at=timezone.now(),
    )
    campaign.messages.create(recipient="x@example.com", state=MessageState.DELIVERED)
    return campaign


def test_the_front_page_shows_the_granted_applications_last_30_days(
    viewer_client, sending, elsewhere
):
    response = viewer_client.get("/")

    assert response.status_code == 200
    text = text_of(response)
    html = response.content.decode()
    assert '<dd data-figure="messages">4</dd>' in html
    assert '<dd data-figure="delivery-rate">75.0%</dd>' in html
    assert "Spring sale" in text
    assert "Not yours" not in text
    assert "Rejected by network" in text
    assert "Sending now (1)" in text
    assert 'id="daily-data"' in html
    assert 'src="/static/portal/chart.js"' in html


def test_the_page_has_one_campaigns_heading_and_the_nav_keeps_its_campaigns_link(
    viewer_client, sending
):
    html = viewer_client.get("/").content.decode()

    # Browser tests' sign_in waits for the one heading named "Campaigns".
    assert html.count('<h2 id="campaigns-h">Campaigns</h2>') == 1
    assert html.lower().count("campaigns</h") == 1
    assert '<a href="/campaigns/">Campaigns</a>' in html


def test_an_admin_sees_every_application(client, admin_staff, sending, elsewhere):
    client.force_login(admin_staff)

    text = text_of(client.get("/"))

    assert "Spring sale" in text and "Not yours" in text


def test_a_user_with_no_grants_sees_an_empty_front_page(client, make_staff, sending):
    client.force_login(make_staff("nobody", "Viewer"))

    text = text_of(client.get("/"))

    assert "Spring sale" not in text
    assert "Nothing is sending just now." in text
    assert "No failures." in text


def test_the_front_page_needs_a_sign_in(client):
    response = client.get("/")

    assert response.status_code == 302
    assert "login" in response.url
