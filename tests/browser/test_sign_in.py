"""The portal's sign-in page in a real browser: a Composer without staff status signs in and
out from the keyboard, a wrong password and a user with no role get a clear page, at 1280
and 375 px."""

import pytest

from tests.browser.helpers import (
    DESKTOP,
    PASSWORD,
    PHONE,
    overflows,
    screenshot,
    sign_in,
    staff_with_password,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_composer_without_staff_status_signs_in_and_out(
    page, live_server, composer_with_password, size
):
    assert not composer_with_password.is_staff
    page.set_viewport_size(size)
    page.goto(live_server.url + "/campaigns/")
    assert page.url.startswith(live_server.url + "/login/?next=")
    assert page.get_by_role("heading", name="Sign in").is_visible()
    assert "Django" not in page.content()
    assert not overflows(page)
    screenshot(page, f"sign-in-{size['width']}")

    page.fill("[name=username]", "thandi")
    page.fill("[name=password]", "not the password")
    page.keyboard.press("Enter")
    page.get_by_text("Please enter the correct username and password").wait_for()
    assert not overflows(page)
    screenshot(page, f"sign-in-wrong-password-{size['width']}")

    page.fill("[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out thandi").wait_for()
    assert page.url == live_server.url + "/campaigns/"  # where they were going
    assert page.get_by_role("link", name="Compose", exact=True).is_visible()
    assert page.get_by_role("link", name="Admin", exact=True).count() == 0

    page.get_by_role("button", name="Sign out thandi").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    page.goto(live_server.url + "/campaigns/")
    assert page.url.startswith(live_server.url + "/login/")


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_someone_without_a_role_is_told_so(page, live_server, make_staff, size):
    staff_with_password(make_staff, "nomsa", None)
    page.set_viewport_size(size)

    sign_in(page, live_server.url, "nomsa")

    assert page.get_by_role("heading", name="No access yet").is_visible()
    assert not overflows(page)
    screenshot(page, f"no-access-{size['width']}")


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_page_the_role_does_not_allow_is_refused_in_the_portals_look(
    page, live_server, make_staff, application, size
):
    staff_with_password(make_staff, "vuyo", "Viewer", applications=[application])
    page.set_viewport_size(size)
    sign_in(page, live_server.url, "vuyo")

    page.goto(live_server.url + "/campaigns/new/")

    assert page.get_by_role("heading", name="Not allowed").is_visible()
    assert page.get_by_role("button", name="Sign out vuyo").is_visible()
    assert not overflows(page)
    screenshot(page, f"not-allowed-{size['width']}")
