"""The message list's pages at both widths: a staff member jumps to the last page of a long
campaign and steps back from it."""

import pytest

from messaging.models import CampaignState, Channel, Message, MessageState
from tests.browser.helpers import (
    DESKTOP,
    PHONE,
    overflows,
    screenshot,
    sign_in,
    staff_with_password,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("width", [DESKTOP, PHONE], ids=["1280", "375"])
def test_the_last_page_and_the_one_before_it(page, live_server, make_staff, make_campaign, width):
    staff_with_password(make_staff, "thandi", "Admin")
    campaign = make_campaign(Channel.SMS, state=CampaignState.SENDING)
    Message.objects.bulk_create(
        Message(campaign=campaign, recipient=f"2782{n:07d}", state=MessageState.DELIVERED)
        for n in range(120)
    )
    page.set_viewport_size(width)
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/messages/")

    page.get_by_role("link", name="Last page").click()
    page.get_by_text("27820000119").wait_for()
    assert page.get_by_text("27820000070").count() == 1
    assert page.get_by_text("27820000069").count() == 0
    assert not overflows(page)
    screenshot(page, f"message-list-last-{width['width']}")
    page.get_by_role("link", name="Previous page").scroll_into_view_if_needed()
    screenshot(page, f"message-list-last-links-{width['width']}", full_page=False)

    page.get_by_role("link", name="Previous page").click()
    page.get_by_text("27820000069").wait_for()
    assert page.get_by_text("27820000119").count() == 0
    assert page.get_by_role("link", name="Next page").count() == 1
    screenshot(page, f"message-list-previous-{width['width']}")
