"""The campaign dashboard's chart in a real browser: zero-filled, its series told apart, its
figures readable by pointing, and a one-minute campaign drawn as bars, at both widths."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.models import CampaignState, MessageState
from tests.browser.helpers import DESKTOP, PHONE, overflows, screenshot, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def submitted(campaign, at, n: int, *, delivered: bool = True, start: int = 0) -> None:
    for i in range(n):
        campaign.messages.create(
            recipient=f"2782{start + i:07d}",
            state=MessageState.DELIVERED if delivered else MessageState.SUBMITTED,
            network="vodacom",
            submit_code=2,
            submit_at=at,
            sent_code=1 if delivered else None,
            sent_at=at + timedelta(seconds=5) if delivered else None,
            delivered_code=1 if delivered else None,
            delivered_at=at + timedelta(seconds=20) if delivered else None,
        )


@pytest.fixture
def one_minute(make_campaign, composer_with_password):
    campaign = make_campaign(name="One minute", state=CampaignState.DONE)
    submitted(campaign, timezone.now().replace(second=0, microsecond=0) - timedelta(hours=1), 3)
    return campaign


@pytest.fixture
def with_a_gap(make_campaign, composer_with_password):
    """484 messages at one minute, then nothing for four minutes, then one."""
    campaign = make_campaign(name="With a gap", state=CampaignState.DONE)
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=2)
    campaign.messages.bulk_create(
        campaign.messages.model(
            campaign=campaign,
            recipient=f"2783{i:07d}",
            state=MessageState.DELIVERED,
            submit_code=2,
            submit_at=start,
            sent_code=1,
            sent_at=start,
            delivered_code=1,
            delivered_at=start,
        )
        for i in range(484)
    )
    submitted(campaign, start + timedelta(minutes=5), 1, start=900)
    return campaign


def open_dashboard(page, base, campaign, size):
    page.set_viewport_size(size)
    sign_in(page, base)
    page.goto(f"{base}/campaigns/{campaign.pk}/dashboard/")
    page.locator("svg.chart rect.catcher").wait_for(state="attached")


@pytest.mark.parametrize(("size", "name"), [(DESKTOP, "1280"), (PHONE, "375")])
def test_a_one_minute_campaign_draws_three_labelled_bars(page, live_server, one_minute, size, name):
    open_dashboard(page, live_server.url, one_minute, size)

    bars = page.locator("svg.chart rect.cbar")
    assert bars.count() == 3
    assert all(float(bars.nth(i).get_attribute("height")) > 20 for i in range(3))
    assert page.locator("svg.chart text.value").all_text_contents() == ["3", "3", "3"]
    legend = page.locator(".chart-legend li").all_inner_texts()
    assert legend == ["Submitted", "Sent", "Delivery reports"]
    assert not overflows(page)
    page.locator("figure.chart").scroll_into_view_if_needed()
    screenshot(page, f"dashboard-chart-one-minute-{name}")


@pytest.mark.parametrize(("size", "name"), [(DESKTOP, "1280"), (PHONE, "375")])
def test_the_empty_minutes_of_a_gap_are_drawn_as_zeros(page, live_server, with_a_gap, size, name):
    open_dashboard(page, live_server.url, with_a_gap, size)

    data = json.loads(page.locator("#series-data").inner_text())
    assert data["submitted"] == [484, 0, 0, 0, 0, 1]
    assert data["delivered"] == [484, 0, 0, 0, 0, 1]
    assert not overflows(page)
    page.locator("figure.chart").scroll_into_view_if_needed()
    screenshot(page, f"dashboard-chart-gap-{name}")


def test_pointing_at_a_minute_shows_its_figures(page, live_server, with_a_gap):
    open_dashboard(page, live_server.url, with_a_gap, DESKTOP)
    chart = page.locator("svg.chart")
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()

    # The first of six minutes sits in the left sixth of the plot.
    page.mouse.move(box["x"] + 48 + (box["width"] - 60) / 12, box["y"] + box["height"] / 2)

    tip = page.locator(".chart-tip")
    tip.wait_for()
    assert "Submitted: 484" in tip.inner_text()
    assert "Delivery reports: 484" in tip.inner_text()
    screenshot(page, "dashboard-chart-hover-1280", full_page=False)


def test_the_chart_reads_from_the_keyboard(page, live_server, with_a_gap):
    open_dashboard(page, live_server.url, with_a_gap, DESKTOP)

    page.locator("svg.chart").focus()
    page.keyboard.press("End")

    assert "Submitted: 1" in page.locator(".chart-tip").inner_text()
    page.keyboard.press("ArrowLeft")
    assert "Submitted: 0" in page.locator(".chart-tip").inner_text()


def test_a_long_campaign_is_drawn_as_dashed_and_solid_lines(
    page, live_server, make_campaign, composer_with_password
):
    campaign = make_campaign(name="Two hours", state=CampaignState.DONE)
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=3)
    for minute in range(0, 150, 7):
        submitted(campaign, start + timedelta(minutes=minute), 1 + minute % 3, start=minute * 10)

    open_dashboard(page, live_server.url, campaign, DESKTOP)

    lines = page.locator("svg.chart polyline")
    assert lines.count() == 3
    dashes = [lines.nth(i).get_attribute("stroke-dasharray") for i in range(3)]
    assert len(set(dashes)) == 3  # solid, dashed, dotted
    page.locator("figure.chart").scroll_into_view_if_needed()
    screenshot(page, "dashboard-chart-lines-1280")
