"""Playwright driving Debian's Chromium (never `playwright install`): the browser, a signed-in
page, and a screenshot of every failed test under var/screenshots/."""

import os
import shutil
import subprocess

import pytest

from tests.support.sandbox import REPO_ROOT

SCREENSHOTS = REPO_ROOT / "var" / "screenshots"


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        # The test run installs Debian's Chromium where it is missing.
        subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], check=False)  # noqa: S607
        found = shutil.which("chromium")
    if found is None:
        pytest.fail("Chromium is missing: apt-get install chromium")
    return found


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    """Browser tests sign in through the form, so each hashes a password twice (set, then
    checked); Django's default hasher spends most of a second on each, on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.call_failed = report.failed
    return report


@pytest.fixture(scope="session")
def browser():
    # Playwright's sync API runs an event loop in this thread; the tests' own ORM calls are
    # plain synchronous code that Django would otherwise refuse beside it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    # Launch and cancel ask "are you sure?"; the person at the keyboard says yes.
    page.on("dialog", lambda dialog: dialog.accept())
    yield page
    if getattr(request.node, "call_failed", False):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def composer_with_password(make_staff, application):
    """Thandi, a Composer of `application`, who signs in through the form (helpers.sign_in)."""
    from tests.browser.helpers import staff_with_password

    return staff_with_password(make_staff, "thandi", "Composer", applications=[application])
