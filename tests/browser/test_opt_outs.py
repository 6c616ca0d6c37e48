"""The opt-out pages in a real browser: a composer finds an application's list from the
navigation and adds a number; a recipient opens their unsubscribe link, signed in to nothing,
and confirms. Each page is screenshotted at desktop and phone width into var/screenshots/
(opt-outs-*.png, unsubscribe-*.png) for a person to look at, and must not scroll sideways."""

from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.models import OptOut, OptOutSource
from messaging.optouts import opt_out_record
from messaging.unsubscribe_links import unsubscribe_url
from tests.browser.helpers import (
    DESKTOP,
    PHONE,
    overflows,
    screenshot,
    sign_in,
    staff_with_password,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def opt_outs(application, campaign):
    """A list as it looks after a while: a STOP reply to a message, a bounce with a long
    address, an unsubscribe, and some older imports."""
    message = campaign.messages.order_by("id").first()
    opt_out_record(
        application=application,
        recipient=message.recipient,
        source=OptOutSource.REPLY,
        reason="STOP",
        message=message,
    )
    opt_out_record(
        application=application,
        recipient="a.very.long.mailbox.name.for.a.small.screen@subdomain.example.co.za",
        source=OptOutSource.BOUNCE,
        reason="bounced: 550 5.1.1 mailbox unavailable",
    )
    opt_out_record(
        application=application, recipient="ann@example.com", source=OptOutSource.UNSUBSCRIBE
    )
    start = timezone.now() - timedelta(days=30)
    OptOut.objects.bulk_create(
        OptOut(
            application=application,
            recipient=f"2782555{n:04d}",
            source=OptOutSource.IMPORT,
            reason="imported from old-list.csv",
            created_at=start + timedelta(hours=n),
        )
        for n in range(5)
    )


def test_a_composer_finds_the_list_and_adds_a_number(
    page, live_server, composer_with_password, application, opt_outs
):
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Opt-outs").click()
    page.get_by_role("link", name=application.name).click()
    page.get_by_role("heading", name=f"Opt-outs of {application.name}").wait_for()
    page.get_by_label("Recipient:", exact=True).fill("082 123 4599")
    page.get_by_role("button", name="Opt out").click()

    page.get_by_text("27821234599 is opted out of").wait_for()
    assert page.locator("tr[data-opt-out]").first.inner_text().startswith("27821234599")
    assert OptOut.objects.filter(recipient="27821234599", source="manual").exists()
    screenshot(page, "opt-outs-1280")
    assert not overflows(page)

    page.set_viewport_size(PHONE)
    page.reload()
    screenshot(page, "opt-outs-375")
    assert not overflows(page)


def test_a_composer_imports_a_csv_and_reads_the_result_on_a_phone(
    page, live_server, composer_with_password, application, opt_outs
):
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/opt-outs/{application.pk}/")
    csv_text = "name,mobile\nAnn,0821234571\nBen,not a number at all\nCas,27825550001\n"

    page.get_by_label("CSV of recipients:").set_input_files(
        files=[{"name": "stop.csv", "mimeType": "text/csv", "buffer": csv_text.encode()}]
    )
    page.get_by_role("button", name="Import").click()

    result = page.get_by_role("heading", name="Import result").locator("..")
    result.wait_for()
    assert "1 added" in result.inner_text() and "1 already on the list" in result.inner_text()
    assert "not a number at all" in result.inner_text()
    screenshot(page, "opt-outs-import-375")
    assert not overflows(page)


def test_the_application_list_fits_a_phone(page, live_server, composer_with_password, opt_outs):
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url)

    page.goto(live_server.url + "/opt-outs/")

    screenshot(page, "opt-outs-applications-375")
    assert not overflows(page)


def test_a_recipient_unsubscribes_through_their_link(page, live_server, settings, application):
    settings.PORTAL_BASE_URL = live_server.url
    link = unsubscribe_url(application_id=application.pk, recipient="thandi.nkosi@example.com")

    for name, size in (("1280", DESKTOP), ("375", PHONE)):
        page.set_viewport_size(size)
        page.goto(link)
        page.get_by_role("heading", name=f"Unsubscribe from {application.name}?").wait_for()
        screenshot(page, f"unsubscribe-ask-{name}")
        assert not overflows(page)
    assert not OptOut.objects.exists()  # opening the link changed nothing

    page.get_by_role("button", name="Unsubscribe").click()

    page.get_by_role("heading", name="You are unsubscribed").wait_for()
    screenshot(page, "unsubscribe-done-375")
    assert not overflows(page)
    page.set_viewport_size(DESKTOP)
    screenshot(page, "unsubscribe-done-1280")
    entry = OptOut.objects.get()
    assert (entry.recipient, entry.source) == ("thandi.nkosi@example.com", "unsubscribe")


def test_an_admin_removes_an_entry_after_confirming(page, live_server, make_staff, opt_outs):
    staff_with_password(make_staff, "adele", "Admin")
    entry = OptOut.objects.get(recipient="ann@example.com")
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url, "adele")

    page.goto(f"{live_server.url}/opt-outs/{entry.application_id}/")
    page.get_by_role("link", name="Remove ann@example.com").click()
    page.get_by_role("heading", name="Remove an opt-out").wait_for()
    screenshot(page, "opt-outs-remove-375")
    assert not overflows(page)
    page.get_by_role("button", name="Remove from the list").click()

    page.get_by_text("ann@example.com is no longer opted out").wait_for()
    assert not OptOut.objects.filter(pk=entry.pk).exists()
