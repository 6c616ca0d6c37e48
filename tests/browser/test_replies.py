"""The replies inbox and a campaign's replies page in a real browser: a composer finds a reply
from the navigation by a word in it, then opens that campaign's replies. Screenshotted at
desktop and phone width (replies-*.png); neither scrolls sideways at 375 px."""

import pytest

from messaging.models import CampaignState, MessageState
from postbacks.models import Reply, ReplyKind
from tests.browser.helpers import DESKTOP, PHONE, overflows, screenshot, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def replies(composer_with_password, make_campaign):
    campaign = make_campaign(name="Winter coats", state=CampaignState.DONE)
    other = make_campaign(name="Summer hats", state=CampaignState.DONE)
    for n, (sent_in, text) in enumerate(
        [
            (campaign, "Yes please, send me the catalogue"),
            (campaign, "STOP"),
            (other, "Which colours do the hats come in?"),
        ]
    ):
        message = sent_in.messages.create(recipient=f"2782000000{n}", state=MessageState.DELIVERED)
        Reply.objects.create(
            message=message,
            kind=ReplyKind.SMS,
            sender=message.recipient,
            text=text,
            content_hash=str(n),
        )
    return campaign


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1280", "375"])
def test_a_composer_finds_a_reply_by_a_word_and_opens_its_campaigns_replies(
    page, live_server, replies, size
):
    page.set_viewport_size(size)
    sign_in(page, live_server.url)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Replies").click()
    page.get_by_role("heading", name="Replies").wait_for()
    page.get_by_label("Search").fill("catalogue")
    page.keyboard.press("Enter")
    page.get_by_text("Yes please, send me the catalogue").wait_for()

    assert page.get_by_text("Which colours").count() == 0
    assert page.get_by_text("STOP", exact=True).count() == 0
    assert not overflows(page)
    screenshot(page, f"replies-inbox-{size['width']}")

    page.get_by_role("link", name="Winter coats").click()
    page.get_by_role("heading", name="Replies to Winter coats").wait_for()
    assert page.get_by_text("STOP", exact=True).count() == 1
    assert page.get_by_text("Which colours").count() == 0
    assert not overflows(page)
    screenshot(page, f"replies-campaign-{size['width']}")
