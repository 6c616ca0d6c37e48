"""The campaign dashboard page and the figures part it reloads while live."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from messaging.models import CampaignState, MessageState
from messaging.states import OPTED_OUT
from tests.messaging.compose_helpers import make_application, make_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(application):
    """Sending, with delivered, failed and queued messages for the dashboard's figures."""
    campaign = make_campaign("sms", application=application, state=CampaignState.SENDING)
    submit = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=10)
    for n in range(4):
        campaign.messages.create(
            recipient=f"2782000000{n}",
            state=MessageState.DELIVERED,
            network="vodacom",
            submit_code=2,
            submit_at=submit,
            sent_code=1,
            sent_at=submit + timedelta(seconds=5),
            delivered_code=1,
            delivered_at=submit + timedelta(seconds=40),
        )
    campaign.messages.create(
        recipient="27820000009",
        state=MessageState.FAILED,
        network="mtn",
        submit_code=2,
        submit_at=submit,
        sent_code=5,
        sent_description="Rejected by network",
        sent_at=submit + timedelta(minutes=1),
    )
    campaign.messages.create(recipient="27820000010", state=MessageState.QUEUED)
    return campaign


def dashboard_url(campaign, **query) -> str:
    url = reverse("reports:campaign_dashboard", args=[campaign.pk])
    return url + ("?part=figures" if query.get("part") else "")


def test_a_viewer_sees_totals_funnel_networks_speed_and_failure_reasons(
    client, make_staff, application, campaign
):
    client.force_login(make_staff("ann", "Viewer", applications=[application]))

    response = client.get(dashboard_url(campaign))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<dd data-figure="total">6</dd>' in html
    assert '<dd data-figure="delivered">4</dd>' in html
    assert '<dd data-figure="failed">1</dd>' in html
    assert '<dd data-figure="delivery-rate">80%</dd>' in html
    assert "Rejected by network" in html
    assert "vodacom" in html and "mtn" in html
    assert 'data-figure="p50"' in html
    assert "Content-Security-Policy" in response.headers
    assert 'src="/static/messaging/dashboard.js"' in html


def test_the_chart_data_is_embedded_as_json_in_the_configured_time_zone(
    client, make_staff, application, campaign
):
    client.force_login(make_staff("ann", "Viewer", applications=[application]))

    html = client.get(dashboard_url(campaign)).content.decode()

    marker = 'id="series-data" type="application/json">'
    start = html.index(marker) + len(marker)
    data = json.loads(html[start : html.index("</script>", start)])
    assert data["step"] == "minute"
    assert sum(data["submitted"]) == 5
    assert sum(data["delivered"]) == 4
    submit_local = timezone.localtime(campaign.messages.first().submit_at)
    assert submit_local.strftime("%Y-%m-%d %H:%M") in data["labels"]


def test_while_sending_the_figures_part_reloads_itself(client, make_staff, application, campaign):
    client.force_login(make_staff("ann", "Viewer", applications=[application]))

    part = client.get(dashboard_url(campaign, part=True))

    html = part.content.decode()
    assert part.status_code == 200
    assert "<html" not in html
    assert 'data-live="true"' in html


def test_a_finished_campaign_with_no_reports_due_stops_reloading(
    client, make_staff, application, campaign
):
    campaign.messages.filter(state=MessageState.QUEUED).update(state=MessageState.CANCELLED)
    campaign.state = CampaignState.DONE
    campaign.save()
    client.force_login(make_staff("ann", "Viewer", applications=[application]))

    assert 'data-live="false"' in client.get(dashboard_url(campaign)).content.decode()


def test_an_empty_campaign_shows_an_empty_dashboard(client, make_staff, application):
    empty = make_campaign("sms", application=application, name="Empty")
    client.force_login(make_staff("ann", "Viewer", applications=[application]))

    html = client.get(dashboard_url(empty)).content.decode()

    assert '<dd data-figure="total">0</dd>' in html
    assert "No delivery report has come in yet." in html


def test_staff_not_granted_the_application_get_no_dashboard(client, make_staff, campaign):
    client.force_login(make_staff("out", "Composer", applications=[make_application("B", "t-b")]))

    for url in (dashboard_url(campaign), dashboard_url(campaign, part=True)):
        response = client.get(url)
        assert response.status_code == 404
        assert b"Rejected by network" not in response.content


def test_the_dashboard_needs_a_sign_in(client, campaign):
    response = client.get(dashboard_url(campaign))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_failures_show_under_the_stage_they_failed_at_with_code_and_description(
    client, make_staff, application, campaign
):
    client.force_login(make_staff("ann", "Viewer", applications=[application]))

    html = client.get(dashboard_url(campaign)).content.decode()

    failures = html[html.index("Failures by stage") :]
    assert "<dt>Sent</dt>" in failures
    assert "5 · Rejected by network: 1" in failures


def funnel_rows(html: str) -> dict[str, tuple[str, str]]:
    """Each funnel step's (reached, failed here), by stage."""
    rows = {}
    table = html[html.index('<table class="funnel">') : html.index("</table>")]
    for part in table.split('<tr data-stage="')[1:]:
        stage = part[: part.index('"')]
        cells = [cell.split("<")[0] for cell in part.split('<td class="number">')[1:]]
        rows[stage] = (cells[0], cells[1])
    return rows


def test_an_sms_funnel_has_no_built_step_and_counts_build_failures_on_the_way_to_sent(
    client, make_staff, application, campaign
):
    campaign.messages.create(
        recipient="27820000011",
        state=MessageState.FAILED,
        submit_code=2,
        archive_code=11,
        archive_description="Archive failed",
    )
    client.force_login(make_staff("ann", "Viewer", applications=[application]))

    rows = funnel_rows(client.get(dashboard_url(campaign)).content.decode())

    assert list(rows) == ["queued", "submitted", "sent", "delivered"]
    assert rows["sent"] == ("4", "2")


def test_a_video_funnel_shows_the_built_step_with_its_own_failures(client, make_staff, application):
    video = make_campaign("video", application=application, state=CampaignState.SENDING)
    video.messages.create(recipient="27820000001", state=MessageState.SENT, build_code=14)
    video.messages.create(
        recipient="27820000002", state=MessageState.FAILED, submit_code=2, build_code=12
    )
    client.force_login(make_staff("ann", "Viewer", applications=[application]))

    rows = funnel_rows(client.get(dashboard_url(video)).content.decode())

    assert list(rows) == ["queued", "submitted", "built", "sent", "delivered"]
    assert rows["built"] == ("1", "1")
    assert rows["sent"] == ("1", "0")


def test_a_failed_delivery_counts_towards_the_time_to_a_delivery_report_and_says_so(
    client, make_staff, application, campaign
):
    submit = timezone.now() - timedelta(minutes=10)
    campaign.messages.create(
        recipient="27820000011",
        state=MessageState.FAILED,
        submit_code=2,
        submit_at=submit,
        sent_code=1,
        sent_at=submit + timedelta(seconds=5),
        delivered_code=2,
        delivered_description="Delivery failed",
        delivered_at=submit + timedelta(seconds=50),
    )
    client.force_login(make_staff("ann", "Viewer", applications=[application]))

    html = client.get(dashboard_url(campaign)).content.decode()

    assert '<dd data-figure="delivered">4</dd>' in html
    assert '<span data-figure="latency-count">5</span> messages with a delivery report' in html
    assert "delivered or failed" in html


def test_messages_refused_for_an_opt_out_are_shown_apart_from_other_cancellations(
    client, make_staff, application, campaign
):
    campaign.messages.create(
        recipient="27820000011", state=MessageState.CANCELLED, last_error=OPTED_OUT
    )
    campaign.messages.filter(state=MessageState.QUEUED).update(state=MessageState.CANCELLED)
    client.force_login(make_staff("ann", "Viewer", applications=[application]))

    html = client.get(dashboard_url(campaign)).content.decode()

    assert '<span data-figure="opted-out">1</span> whose recipient had opted out' in html
    assert '<span data-figure="cancelled">1</span> cancelled otherwise' in html


def test_the_chart_fills_empty_minutes_with_zeros_and_picks_hours_for_a_long_send(
    client, make_staff, application
):
    done = make_campaign("sms", application=application, state=CampaignState.DONE, name="Long")
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=30)
    for n, offset in enumerate((timedelta(0), timedelta(hours=5, minutes=30))):
        done.messages.create(
            recipient=f"2782100000{n}",
            state=MessageState.FAILED,
            submit_code=2,
            submit_at=start + offset,
        )
    client.force_login(make_staff("ann", "Viewer", applications=[application]))

    html = client.get(dashboard_url(done)).content.decode()

    marker = 'id="series-data" type="application/json">'
    start_at = html.index(marker) + len(marker)
    data = json.loads(html[start_at : html.index("</script>", start_at)])
    assert data["step"] == "hour"
    assert data["submitted"] == [1, 0, 0, 0, 0, 1]
    assert "Hours with nothing in them are left out" in html
