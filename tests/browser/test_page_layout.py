"""The staff pages at phone width and from the keyboard, in a real browser."""

import pytest

from messaging.models import MessageState
from tests.browser.helpers import PHONE, overflows, sign_in, staff_with_password

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def campaign(make_staff, make_campaign, application):
    """A long name and a few messages, for a Viewer who signs in through the login form (so
    with a password, which the shared viewer has not)."""
    staff_with_password(make_staff, "vuyo", "Viewer", applications=[application])
    campaign = make_campaign(name="A campaign with a rather long name for a small screen")
    for n, state in enumerate([MessageState.DELIVERED] * 3 + [MessageState.FAILED]):
        campaign.messages.create(recipient=f"2782000000{n}", state=state, network="vodacom")
    return campaign


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/campaigns/",
        "/campaigns/{pk}/dashboard/",
        "/campaigns/{pk}/",
        "/campaigns/messages/{message}/",
    ],
)
def test_pages_fit_a_phone_without_sideways_scrolling(page, live_server, campaign, path):
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url, "vuyo")

    message = campaign.messages.order_by("id").last()
    page.goto(live_server.url + path.format(pk=campaign.pk, message=message.pk))

    assert not overflows(page)


def test_the_campaign_list_works_from_the_keyboard(page, live_server, campaign):
    sign_in(page, live_server.url, "vuyo")
    page.goto(live_server.url + "/campaigns/")  # signing in lands on the front page
    page.get_by_label("Search").focus()

    page.keyboard.type("rather long")
    page.keyboard.press("Enter")
    page.get_by_role("link", name=campaign.name, exact=True).wait_for()
    for _ in range(40):  # Tab through the filters to the campaign's link and open it
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == campaign.name:
            break
    page.keyboard.press("Enter")

    page.get_by_role("heading", name=campaign.name).wait_for()
