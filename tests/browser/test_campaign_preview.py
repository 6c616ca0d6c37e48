"""The campaign page's preview in a real browser: a composer finds a recipient by a value of
their fields and reads the content as that recipient gets it, with its SMS count and what the
campaign will cost; an email is shown in its sandboxed frame; a test goes out rendered with a
value typed in. Screenshots at desktop and phone width land in var/screenshots/
(campaign-preview-*.png), and the page must not scroll sideways."""

import pytest

from messaging.models import Channel
from tests.browser.helpers import (
    DESKTOP,
    PHONE,
    overflows,
    screenshot,
    sign_in,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def statement_sms(make_campaign):
    campaign = make_campaign(
        Channel.SMS,
        name="March statements",
        body_text='Hi {{ first_name|default:"there" }}, your balance is R{{ amount }}. Pay at '
        "any branch or online at example.co.za/pay before 31 March 2027. Reply STOP to opt out.",
    )
    campaign.messages.create(
        recipient="27821000001", fields={"first_name": "Thandi", "amount": "1 234.50"}
    )
    campaign.messages.create(
        recipient="27821000002",
        fields={"first_name": "Bartholomew-Sipho Ngubane-Whitfield", "amount": "98 765 432.10"},
    )
    campaign.messages.create(recipient="27821000003", fields={"amount": "0.00"})
    return campaign


def test_a_composer_previews_a_recipient_found_by_name_and_sends_a_test(
    page, live_server, composer_with_password, statement_sms
):
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/campaigns/{statement_sms.pk}/")

    # The first recipient is shown until the composer asks for another.
    preview = page.locator("#preview")
    assert "Hi Thandi, your balance is R1 234.50." in preview.inner_text()
    assert "4 SMS in all, 1 to 2 per recipient" in page.locator("[data-sms-cost]").inner_text()

    page.get_by_label("Recipient", exact=True).fill("bartholomew")
    page.get_by_role("button", name="Preview").click()
    preview.get_by_text("Hi Bartholomew-Sipho Ngubane-Whitfield").wait_for()
    assert "2 SMS (GSM-7)" in preview.locator("[data-segments]").inner_text()
    screenshot(page, "campaign-preview-1280")
    assert not overflows(page)

    page.set_viewport_size(PHONE)
    screenshot(page, "campaign-preview-375")
    assert not overflows(page)

    # The test form starts from the previewed recipient; a typed amount wins over theirs.
    page.set_viewport_size(DESKTOP)
    assert page.get_by_label("With the fields of").input_value() == "27821000002"
    page.get_by_label("Send to").fill("082 999 9999")
    page.get_by_label("amount").fill("5.00")
    page.get_by_role("button", name="Send test").click()
    page.get_by_text("Test message to 27829999999 is queued.").wait_for()
    test = statement_sms.messages.get(is_test=True)
    assert test.fields == {
        "first_name": "Bartholomew-Sipho Ngubane-Whitfield",
        "amount": "5.00",
    }


def test_an_email_is_previewed_in_its_frame_on_a_phone(
    page, live_server, composer_with_password, make_campaign
):
    campaign = make_campaign(
        Channel.EMAIL,
        name="Invoice",
        subject="Invoice for {{ first_name }}",
        body_html="<h1>Dear {{ first_name }}</h1><p>Amount due: R{{ amount }}</p>",
        body_text="Dear {{ first_name }}",
    )
    campaign.messages.create(
        recipient="ann@example.com", fields={"first_name": "<Ann>", "amount": "12.00"}
    )
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")

    frame = page.frame_locator("#preview iframe")
    frame.get_by_role("heading", name="Dear <Ann>").wait_for()
    assert "Amount due: R12.00" in frame.locator("body").inner_text()
    assert "Invoice for <Ann>" in page.locator("#preview [data-content]").inner_text()
    screenshot(page, "campaign-preview-email-375")
    assert not overflows(page)
    # A full-page screenshot leaves the sandboxed frame blank below the fold (it is painted by
    # another process); with it in view, the picture shows what the recipient gets.
    page.locator("#preview iframe").scroll_into_view_if_needed()
    screenshot(page, "campaign-preview-email-frame-375", full_page=False)
