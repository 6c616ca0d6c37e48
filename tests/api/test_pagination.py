"""api.pagination: cursor pages walk every row exactly once, newest first, with a capped size."""

import base64

import pytest

from api.pagination import MAX_PAGE_SIZE
from messaging.models import Message
from tests.api.conftest import error_of
from tests.support.campaigns import sms_campaign

pytestmark = pytest.mark.django_db


def walk(client, url: str, **query) -> tuple[list[int], int]:
    seen, pages = [], 0
    response = client.get(url, query)
    while True:
        assert response.status_code == 200, response.json()
        body = response.json()
        seen += [row["id"] for row in body["results"]]
        pages += 1
        if not body["next"]:
            return seen, pages
        response = client.get(body["next"])


def test_walking_the_message_pages_sees_every_row_once(as_viewer, application):
    sms_campaign(application, recipients=23)

    seen, pages = walk(as_viewer, "/api/v1/messages/", page_size=5)

    assert seen == list(Message.objects.order_by("-id").values_list("id", flat=True))
    assert len(set(seen)) == 23
    assert pages == 5


def test_rows_added_while_walking_do_not_repeat_or_shift_pages(as_viewer, application):
    campaign = sms_campaign(application, recipients=10)
    first = as_viewer.get("/api/v1/messages/", {"page_size": 4}).json()
    Message.objects.create(campaign=campaign, recipient="27830000001")

    rest, _ = walk(as_viewer, first["next"])

    assert sorted([row["id"] for row in first["results"]] + rest) == sorted(
        Message.objects.exclude(recipient="27830000001").values_list("id", flat=True)
    )


def test_campaign_pages_walk_every_campaign_once(as_viewer, application):
    campaigns = [sms_campaign(application, name=f"C{n}", recipients=0) for n in range(7)]

    seen, pages = walk(as_viewer, "/api/v1/campaigns/", page_size=3)

    assert seen == [c.pk for c in reversed(campaigns)]
    assert pages == 3


def test_the_page_size_is_capped(as_viewer, application):
    sms_campaign(application, recipients=MAX_PAGE_SIZE + 5)

    body = as_viewer.get("/api/v1/messages/", {"page_size": 10_000}).json()

    assert len(body["results"]) == MAX_PAGE_SIZE
    assert body["next"]


def test_a_forged_cursor_answers_404_in_the_error_shape(as_viewer, campaign):
    forged = base64.b64encode(b"p=abc").decode()

    response = as_viewer.get("/api/v1/messages/", {"cursor": forged})

    assert response.status_code == 404
    assert error_of(response)["message"] == "Invalid cursor"
