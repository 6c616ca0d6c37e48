"""A campaign's canary on its page and dashboard, in a real browser at both widths."""

import pytest

from messaging.models import MessageState
from messaging.services import campaign_check_canary, campaign_launch
from tests.browser.helpers import DESKTOP, PHONE, overflows, screenshot, sign_in
from tests.messaging.services.helpers import campaign_with

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def canary(application, *outcomes, share=0.9):
    campaign = campaign_with(application, [f"2782100{n:04d}" for n in range(40)])
    campaign_launch(
        campaign=campaign, user=None, canary_size=len(outcomes), canary_min_success=share
    )
    for message, state in zip(
        campaign.messages.exclude(state=MessageState.DRAFT).order_by("id"), outcomes, strict=True
    ):
        message.state = state
        message.save(update_fields=["state"])
    return campaign


@pytest.mark.parametrize(("size", "width"), [(DESKTOP, "1280"), (PHONE, "375")])
def test_a_waiting_canary_on_the_campaign_page_and_dashboard(
    page, live_server, application, composer_with_password, size, width
):
    campaign = canary(application, *[MessageState.DELIVERED] * 7, *[MessageState.SENT] * 3)
    page.set_viewport_size(size)
    sign_in(page, live_server.url)

    for name, path in (("page", ""), ("dashboard", "dashboard/")):
        page.goto(f"{live_server.url}/campaigns/{campaign.pk}/{path}")
        section = page.locator("section.canary")
        assert "7 of 10 canary messages delivered (70%)" in section.inner_text()
        assert "9 (90%) needed to release the other 30 recipients" in section.inner_text()
        assert not overflows(page)
        section.scroll_into_view_if_needed()
        screenshot(page, f"canary-waiting-{name}-{width}")


@pytest.mark.parametrize(("size", "width"), [(DESKTOP, "1280"), (PHONE, "375")])
def test_a_held_canary_says_why_on_the_campaign_page(
    page, live_server, application, composer_with_password, size, width
):
    campaign = canary(application, *[MessageState.DELIVERED] * 6, *[MessageState.FAILED] * 4)
    campaign_check_canary(campaign=campaign)
    page.set_viewport_size(size)
    sign_in(page, live_server.url)

    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")

    section = page.locator("section.canary")
    assert "Held: 6 of 10 delivered (60%), below the 90% (9) needed." in section.inner_text()
    assert not overflows(page)
    screenshot(page, f"canary-held-page-{width}", full_page=False)


def test_a_released_canary_on_the_dashboard(page, live_server, application, composer_with_password):
    campaign = canary(application, *[MessageState.DELIVERED] * 10, share=1.0)
    campaign_check_canary(campaign=campaign)
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url)

    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/dashboard/")

    section = page.locator("section.canary")
    assert "10 of 10 delivered (100%), 100% (10) needed" in section.inner_text()
    assert not overflows(page)
    section.scroll_into_view_if_needed()
    screenshot(page, "canary-released-dashboard-375")
