"""The front page in a real browser: what a staff member sees after signing in, at both
widths, and the daily chart's figures by pointing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.models import CampaignState, Channel, MessageState
from tests.browser.helpers import DESKTOP, PHONE, overflows, screenshot, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def add(campaign, state, n, *, at, start=0, **fields):
    campaign.messages.bulk_create(
        campaign.messages.model(
            campaign=campaign,
            recipient=f"27{campaign.pk:03d}{start + i:06d}",
            state=state,
            network="vodacom",
            submit_code=2 if state != MessageState.DRAFT else None,
            submit_at=at if state != MessageState.DRAFT else None,
            sent_code=fields.get("sent_code", 1) if state != MessageState.DRAFT else None,
            sent_description=fields.get("sent_description", ""),
            sent_at=at + timedelta(seconds=5) if state != MessageState.DRAFT else None,
            delivered_code=1 if state == MessageState.DELIVERED else None,
            delivered_at=at + timedelta(seconds=30) if state == MessageState.DELIVERED else None,
        )
        for i in range(n)
    )


@pytest.fixture
def month(make_campaign, application, composer_with_password):
    now = timezone.now()
    for day in (1, 4, 9, 15, 22):
        done = make_campaign(
            Channel.EMAIL if day % 2 else Channel.SMS,
            name=f"Newsletter, {day} days ago, with a name long enough to wrap on a phone",
            state=CampaignState.DONE,
            launched_at=now - timedelta(days=day),
            finished_at=now - timedelta(days=day) + timedelta(hours=1),
        )
        at = now - timedelta(days=day)
        add(done, MessageState.DELIVERED, 20 + 3 * day, at=at)
        add(
            done,
            MessageState.FAILED,
            day,
            at=at,
            start=500,
            sent_code=5,
            sent_description="Rejected by the network",
        )
    live = make_campaign(
        name="Spring sale",
        state=CampaignState.SENDING,
        launched_at=now - timedelta(minutes=20),
        canary_size=10,
        canary_min_success=0.9,
    )
    add(live, MessageState.DELIVERED, 8, at=now - timedelta(minutes=15))
    add(live, MessageState.SENT, 2, at=now - timedelta(minutes=15), start=100)
    add(live, MessageState.DRAFT, 90, at=now, start=200)
    paused = make_campaign(
        Channel.MMS,
        name="Winter MMS",
        state=CampaignState.PAUSED,
        launched_at=now - timedelta(days=2),
        paused_reason="Paused automatically: 12 of the 20 messages with a final outcome failed.",
    )
    add(
        paused,
        MessageState.FAILED,
        12,
        at=now - timedelta(days=2),
        sent_code=2,
        sent_description="Absent subscriber",
    )
    add(paused, MessageState.DELIVERED, 8, at=now - timedelta(days=2), start=100)
    return live


@pytest.mark.parametrize(("size", "width"), [(DESKTOP, "1280"), (PHONE, "375")])
def test_the_front_page_after_signing_in(page, live_server, month, size, width):
    page.set_viewport_size(size)
    sign_in(page, live_server.url)  # lands on /, and waits for its "Campaigns" heading

    assert page.get_by_role("heading", name="Overview").is_visible()
    live = page.get_by_role("list", name="Sending now (1)")
    assert "Spring sale" in live.inner_text()
    assert "Canary waiting: 8 of 10 delivered, 9 (90%) needed" in live.inner_text()
    assert "10 of 100 handed to iLiveIt" in live.inner_text()
    lately = page.get_by_role("list", name="Paused, or finished lately (6)")
    assert "Paused automatically" in lately.inner_text()
    assert "Rejected by the network" in page.locator("table.reasons").inner_text()
    # Thirty days are bars where they fit three to a day, lines on a phone.
    drawn = "svg.chart rect.cbar" if size == DESKTOP else "svg.chart polyline"
    assert page.locator(drawn).count() == (3 * 30 if size == DESKTOP else 3)
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns")
    assert not overflows(page)
    screenshot(page, f"overview-{width}")
    page.locator("table.by-channel").scroll_into_view_if_needed()
    screenshot(page, f"overview-channels-{width}", full_page=False)


def test_pointing_at_a_day_shows_its_figures(page, live_server, month):
    sign_in(page, live_server.url)
    chart = page.locator("svg.chart")
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()

    # The last of 30 days sits at the right end of the plot.
    page.mouse.move(box["x"] + box["width"] - 20, box["y"] + box["height"] / 2)

    tip = page.locator(".chart-tip")
    tip.wait_for()
    assert "Submitted: 10" in tip.inner_text()  # today: the live campaign's canary
    screenshot(page, "overview-chart-hover-1280", full_page=False)
