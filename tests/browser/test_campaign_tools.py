"""The campaign tools in a real browser: an empty campaign's Launch is off and says where to
add recipients; a recipient is found and removed; an MMS campaign's handsets are checked
against the sandbox and those that cannot get MMS dropped; a campaign is cloned; and the
admin's Check connection pings the sandbox. Screenshots at 1280 and 375 px land in
var/screenshots/ (campaign-tools-*.png), and no page scrolls sideways."""

import pytest

from messaging.models import Campaign, Channel, Message, Slide
from messaging.services.scrub import INLINE_MAX
from tests.browser.conftest import SCREENSHOTS
from tests.browser.helpers import (
    DESKTOP,
    PHONE,
    overflows,
    screenshot,
    sign_in,
    staff_with_password,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _both_widths(page, name: str, part: str = "") -> None:
    """Whole-page screenshots at both widths, and of `part` alone (a selector) to read it."""
    for size, width in ((DESKTOP, 1280), (PHONE, 375)):
        page.set_viewport_size(size)
        screenshot(page, f"campaign-tools-{name}-{width}")
        if part:
            path = SCREENSHOTS / f"campaign-tools-{name}-{width}-part.png"
            page.locator(part).first.screenshot(path=str(path))
        assert not overflows(page), f"{name} scrolls sideways at {width} px"
    page.set_viewport_size(DESKTOP)


@pytest.fixture
def composer(make_staff, sandbox_application):
    return staff_with_password(make_staff, "thandi", "Composer", applications=[sandbox_application])


@pytest.fixture
def mms(sandbox_application):
    campaign = Campaign.objects.create(
        name="Winter catalogue",
        channel=Channel.MMS,
        application=sandbox_application,
        subject="Our winter catalogue is here",
    )
    Slide.objects.create(campaign=campaign, position=0, duration=5, text="Warm coats, 30% off")
    return campaign


def test_an_empty_campaign_cannot_launch_and_says_where_to_add_recipients(
    page, live_server, composer, mms
):
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/campaigns/{mms.pk}/")

    launch = page.locator("#launch")
    assert launch.get_by_role("button", name="Launch").is_disabled()
    assert "There is nobody to launch to yet" in launch.inner_text()
    _both_widths(page, "empty", "#launch")

    launch.get_by_role("link", name="Recipients page").click()
    page.get_by_label("Paste recipients").fill("082 100 0001\n082 100 0002\n082 100 0003")
    page.get_by_role("button", name="Add recipients").click()
    page.get_by_text("3 added").wait_for()

    page.get_by_label("Number or address").fill("082 100 0002")
    page.get_by_role("button", name="Find").click()
    found = page.locator("#find table")
    found.get_by_text("27821000002").wait_for()
    _both_widths(page, "recipients", "#find")
    found.get_by_role("button", name="Remove 27821000002").click()  # the dialog is accepted
    page.get_by_text("Removed 27821000002 from “Winter catalogue”.").wait_for()
    assert sorted(mms.messages.values_list("recipient", flat=True)) == [
        "27821000001",
        "27821000003",
    ]

    page.goto(f"{live_server.url}/campaigns/{mms.pk}/")
    launch = page.locator("#launch")
    assert launch.get_by_role("button", name="Launch").is_enabled()
    assert "Sends 2 MMS, one to each recipient." in " ".join(launch.inner_text().split())


def test_handsets_are_checked_and_those_that_cannot_get_mms_dropped(
    page, live_server, composer, mms
):
    for recipient in ("27831234567", "27821234567", "27000000002", "27000000011"):
        mms.messages.create(recipient=recipient)
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/campaigns/{mms.pk}/")

    page.get_by_role("button", name="Check handsets").click()
    handsets = page.locator("#handsets")
    handsets.get_by_text("Checked 4 of 4 recipients").wait_for()
    assert "2 recipients cannot receive MMS" in handsets.inner_text()
    _both_widths(page, "handsets", "#handsets")

    handsets.get_by_role("button", name="Drop these recipients").click()
    page.get_by_text("Dropped 2 recipients who cannot receive MMS.").wait_for()
    assert "Every recipient checked can receive MMS." in page.locator("#handsets").inner_text()
    assert sorted(mms.messages.values_list("recipient", flat=True)) == [
        "27821234567",
        "27831234567",
    ]


def test_a_campaign_is_cloned_without_its_recipients(page, live_server, composer, mms):
    mms.messages.create(recipient="27831234567")
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/campaigns/{mms.pk}/")

    page.get_by_role("button", name="Clone").click()

    page.get_by_role("heading", name="Winter catalogue (copy)").wait_for()
    assert "This is a copy of “Winter catalogue”" in page.content()
    clone = Campaign.objects.get(name="Winter catalogue (copy)")
    assert clone.slides.get().text == "Warm coats, 30% off"
    assert not clone.messages.exists()
    _both_widths(page, "clone")


def test_the_admin_checks_an_applications_connection(
    page, live_server, make_staff, sandbox_application
):
    staff_with_password(make_staff, "thandi", "Admin")
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/admin/messaging/application/{sandbox_application.pk}/change/")

    page.get_by_role("button", name="Check connection").click()

    page.get_by_text("Connected: iLiveIt answered ping with “Pong!”").wait_for()
    _both_widths(page, "check-connection", "#content")

    sandbox_application.token = "a-token-the-sandbox-never-issued"
    sandbox_application.save()
    page.get_by_role("button", name="Check connection").click()
    page.get_by_text("Connection failed: iLiveIt refused the token (HTTP 401)").wait_for()
    _both_widths(page, "check-connection-failed")


def test_a_long_check_shows_how_far_it_got(page, live_server, composer, mms, empty_task_queue):
    # No worker runs here: the check stays where it started, as a long one looks at first.
    Message.objects.bulk_create(
        Message(campaign=mms, recipient=f"278312{n:05d}") for n in range(INLINE_MAX + 5)
    )
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/campaigns/{mms.pk}/")

    page.get_by_role("button", name="Check handsets").click()

    page.get_by_text(f"Checking {INLINE_MAX + 5} handsets; this page shows how far.").wait_for()
    assert "0 of 30 recipients checked so far" in page.locator("#handsets").inner_text()
    assert page.locator("#handsets").get_by_role("button").count() == 0
    _both_widths(page, "handsets-running", "#handsets")
