"""Unsubscribe links: each names one recipient of one application, and cannot be altered."""

from messaging.unsubscribe_links import unsubscribe_token_read, unsubscribe_url


def test_a_link_reads_back_as_its_application_and_recipient(settings):
    settings.PORTAL_BASE_URL = "https://portal.example"
    url = unsubscribe_url(application_id=7, recipient="thandi@example.com")
    assert url.startswith("https://portal.example/unsubscribe/")
    token = url.removeprefix("https://portal.example/unsubscribe/").rstrip("/")
    assert unsubscribe_token_read(token) == (7, "thandi@example.com")


def test_an_altered_or_forged_link_reads_as_nothing():
    url = unsubscribe_url(application_id=7, recipient="thandi@example.com")
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert unsubscribe_token_read(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert unsubscribe_token_read("not-a-token") is None
    assert unsubscribe_token_read("") is None
