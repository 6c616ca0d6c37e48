"""A message's page and its campaign's list in a real browser: what happened reads as a
sentence, a failure shows its reason, the filters offer the campaign's own networks and codes,
and an MMS's image shows as a thumbnail. Screenshotted at desktop and phone width
(message-*.png)."""

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from messaging.models import CampaignState, Channel, MessageState, SlideMedia
from tests.browser.helpers import DESKTOP, PHONE, overflows, screenshot, sign_in
from tests.messaging.compose_helpers import png_bytes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def campaign(composer_with_password, make_campaign):
    campaign = make_campaign(name="Spring sale", state=CampaignState.DONE)
    now = timezone.now()
    campaign.messages.create(
        recipient="27820000001",
        state=MessageState.DELIVERED,
        network="Vodacom",
        delivered_code=1,
        delivered_description="Delivered",
        delivered_at=now,
    )
    campaign.messages.create(
        recipient="27820000002",
        state=MessageState.FAILED,
        network="MTN",
        iliveit_id="m-2",
        sent_code=27,
        sent_description="Absent subscriber",
        sent_at=now,
    )
    return campaign


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1280", "375"])
def test_a_failed_message_is_found_by_its_code_and_says_why_it_failed(
    page, live_server, campaign, size
):
    page.set_viewport_size(size)
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/messages/")

    assert page.get_by_label("Network").locator("option").all_inner_texts() == [
        "Any network",
        "MTN",
        "Vodacom",
    ]
    page.get_by_label("Failure code").select_option(label="27 · Absent subscriber (sending)")
    page.get_by_role("button", name="Filter").click()
    page.get_by_text("Failed at sending: Absent subscriber (code 27)").wait_for()
    assert page.get_by_role("link", name="27820000001").count() == 0
    screenshot(page, f"message-list-{size['width']}")

    page.get_by_role("link", name="27820000002").click()
    failure = page.locator("[data-failure]")
    assert failure.inner_text().startswith("Failed at sending: Absent subscriber (code 27) at ")
    assert not overflows(page)
    screenshot(page, f"message-failed-{size['width']}")


def test_an_mms_image_slide_shows_as_a_thumbnail(
    page, live_server, make_campaign, composer_with_password, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    mms = make_campaign(Channel.MMS, name="Picture day", state=CampaignState.DONE)
    slide = mms.slides.create(position=0, media_type=SlideMedia.IMAGE, mime="image/png")
    slide.media.save("dot.png", ContentFile(png_bytes()))
    message = mms.messages.create(recipient="27820000009", state=MessageState.DELIVERED)

    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/campaigns/messages/{message.pk}/")

    thumbnail = page.get_by_role("img", name="Slide 1's image")
    thumbnail.scroll_into_view_if_needed()  # it loads lazily, once in view
    assert thumbnail.evaluate("image => image.decode().then(() => image.naturalWidth)") == 1
    screenshot(page, "message-mms-375")
