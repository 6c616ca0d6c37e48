"""What the browser tests share: the two widths every page is looked at, signing in through
the login form, and screenshots under var/screenshots/ for a person to look at."""

from tests.browser.conftest import SCREENSHOTS

PASSWORD = "correct horse battery staple"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}


def staff_with_password(make_staff, username: str, role: str | None, *, applications=()):
    """A user who signs in through the sign-in page, so with a password (the shared
    fixtures' users have none: hashing one costs about a second)."""
    user = make_staff(username, role, applications=applications)
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in(page, base: str, username: str = "thandi") -> None:
    """Through the portal's sign-in page, as a person would; done once the navigation offers
    to sign out (whatever page `/` shows)."""
    page.goto(base + "/")
    page.fill("[name=username]", username)
    page.fill("[name=password]", PASSWORD)
    page.keyboard.press("Enter")  # the form submits from the keyboard
    page.get_by_role("button", name=f"Sign out {username}").wait_for()
    # The button shows while the page is still parsing; its scripts (the charts) run at the
    # end of the body, so wait for them as page.goto would.
    page.wait_for_load_state("load")


def overflows(page) -> bool:
    """Whether the page scrolls sideways."""
    return page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )


def screenshot(page, name: str, *, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)
