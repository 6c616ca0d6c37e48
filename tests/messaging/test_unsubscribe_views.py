"""The public unsubscribe page: GET asks, POST opts out, a forged link answers 404, and
Django's CSRF check works for a visitor who never signed in."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from audit.models import AuditAction, AuditEntry
from messaging import unsubscribe_views
from messaging.models import OptOut, OptOutSource
from messaging.optouts import opt_out_record
from messaging.unsubscribe_links import PATH, unsubscribe_token, unsubscribe_url
from messaging.unsubscribe_views import recipient_masked, throttle_key

pytestmark = pytest.mark.django_db

ADDRESS = "thandi.nkosi@example.com"


@pytest.fixture(autouse=True)
def _no_throttle_left_over():
    cache.delete(throttle_key("127.0.0.1"))
    yield
    cache.delete(throttle_key("127.0.0.1"))


@pytest.fixture
def browser():
    """A visitor with no session, whose POSTs Django checks for the CSRF token as it would a
    real browser's (the test client skips that check unless asked)."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def link(application) -> str:
    return reverse(
        "unsubscribe", args=[unsubscribe_token(application_id=application.pk, recipient=ADDRESS)]
    )


def csrf_token(response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())[1]


def test_the_route_is_where_the_links_point(settings):
    settings.PORTAL_BASE_URL = "https://portal.example"
    url = unsubscribe_url(application_id=7, recipient=ADDRESS)
    token = unsubscribe_token(application_id=7, recipient=ADDRESS)

    assert reverse("unsubscribe", args=[token]) == urlsplit(url).path
    assert urlsplit(url).path.startswith(PATH)


def test_get_asks_for_confirmation_and_changes_nothing(browser, link, application):
    response = browser.get(link)

    html = response.content.decode()
    assert response.status_code == 200
    assert f"Unsubscribe from {application.name}?" in html
    assert recipient_masked(ADDRESS) in html and ADDRESS not in html
    assert 'method="post"' in html and "csrfmiddlewaretoken" in html
    assert not OptOut.objects.exists()
    assert not AuditEntry.objects.exists()


def test_the_page_is_private_and_not_for_search_engines(browser, link):
    response = browser.get(link)

    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_post_opts_out_without_signing_in(browser, link, application):
    page = browser.get(link)

    response = browser.post(link, {"csrfmiddlewaretoken": csrf_token(page)})

    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    entry = OptOut.objects.get(application=application, recipient=ADDRESS)
    assert entry.source == OptOutSource.UNSUBSCRIBE and entry.created_by is None
    audit = AuditEntry.objects.get(action=AuditAction.OPT_OUT_ADD)
    assert audit.actor is None and audit.detail["source"] == "unsubscribe"


def test_posting_again_changes_nothing(browser, link, application):
    token = csrf_token(browser.get(link))
    browser.post(link, {"csrfmiddlewaretoken": token})
    first = OptOut.objects.get()

    response = browser.post(link, {"csrfmiddlewaretoken": token})

    assert response.status_code == 200
    assert OptOut.objects.get() == first
    assert AuditEntry.objects.filter(action=AuditAction.OPT_OUT_ADD).count() == 1


def test_a_post_without_the_csrf_token_is_refused(browser, link):
    browser.get(link)

    response = browser.post(link, {})

    assert response.status_code == 403
    assert not OptOut.objects.exists()


def test_the_page_says_so_when_already_unsubscribed(browser, link, application):
    opt_out_record(application=application, recipient=ADDRESS, source=OptOutSource.REPLY)

    html = browser.get(link).content.decode()

    assert "Already unsubscribed" in html
    assert "<button" not in html.split("<main>")[1]


def test_it_opts_out_only_of_the_application_the_link_names(
    browser, link, application, other_application
):
    browser.post(link, {"csrfmiddlewaretoken": csrf_token(browser.get(link))})

    assert list(OptOut.objects.values_list("application_id", flat=True)) == [application.pk]


def test_a_forged_or_altered_link_answers_404(client, application):
    token = unsubscribe_token(application_id=application.pk, recipient=ADDRESS)
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    # Signed, but with another salt: a token made for something else.
    other_salt = signing.dumps([application.pk, ADDRESS], salt="something.else")
    for bad in (altered, other_salt, "not-a-token", "x" * 300):
        url = f"{PATH}{bad}/"
        assert client.get(url).status_code == 404, bad
        assert client.post(url).status_code == 404, bad
    assert not OptOut.objects.exists()


def test_a_link_of_an_application_that_is_gone_answers_404(client, application):
    url = reverse("unsubscribe", args=[unsubscribe_token(application_id=10**9, recipient=ADDRESS)])

    assert client.get(url).status_code == 404


def test_other_methods_are_refused(client, link):
    assert client.put(link).status_code == 405
    assert client.delete(link).status_code == 405


def test_a_flood_of_posts_from_one_address_is_slowed(client, link, application, monkeypatch):
    monkeypatch.setattr(unsubscribe_views, "POSTS_ALLOWED", 1)
    client.post(link)

    response = client.post(link)

    assert response.status_code == 429
    assert "wait a few minutes" in response.content.decode()


@pytest.mark.parametrize(
    ("recipient", "masked"),
    [
        ("thandi.nkosi@example.com", "th••••••••@example.com"),
        ("jo@example.com", "j•••@example.com"),
        ("27821234567", "+2782••••567"),
        ("1234", "••••"),
    ],
)
def test_the_recipient_is_shown_partly_masked(recipient, masked):
    assert recipient_masked(recipient) == masked
