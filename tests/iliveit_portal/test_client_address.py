"""The client's address: REMOTE_ADDR, or behind trusted proxies the entry they wrote in
X-Forwarded-For, never one the client wrote itself."""

import pytest
from django.test import RequestFactory

from iliveit_portal.client_address import client_address
from tests.support.settings_process import settings_values

PROXY = "10.0.0.2"
PRODUCTION = {"SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "portal.example.com"}


def request_from(forwarded_for: str | None = None, peer: str = PROXY):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=peer, **headers)


def test_without_a_proxy_the_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    assert client_address(request_from("198.51.100.1", peer="203.0.113.7")) == "203.0.113.7"


@pytest.mark.parametrize(
    ("forwarded_for", "hops", "client"),
    [
        ("198.51.100.1", 1, "198.51.100.1"),
        # The client sent its own header; the proxy appended the address it really came from.
        ("1.1.1.1, 198.51.100.1", 1, "198.51.100.1"),
        ("1.1.1.1,198.51.100.1,10.0.0.9", 2, "198.51.100.1"),
        ("2001:db8::1", 1, "2001:db8::1"),
    ],
)
def test_behind_proxies_the_entry_they_wrote_is_taken(settings, forwarded_for, hops, client):
    settings.TRUSTED_PROXY_COUNT = hops

    assert client_address(request_from(forwarded_for)) == client


@pytest.mark.parametrize(
    ("forwarded_for", "hops"),
    [
        (None, 1),  # came straight to the app server
        ("", 1),
        ("198.51.100.1", 2),  # fewer entries than proxies: skipped one
        ("not-an-address", 1),
        ("198.51.100.1:5555", 1),
    ],
)
def test_an_entry_no_trusted_proxy_wrote_falls_back_to_the_peer(settings, forwarded_for, hops):
    settings.TRUSTED_PROXY_COUNT = hops

    assert client_address(request_from(forwarded_for)) == PROXY


@pytest.mark.parametrize(
    ("env", "count"),
    [
        ({}, 0),
        ({"TRUSTED_PROXY_COUNT": "2"}, 0),  # never read without BEHIND_PROXY
        ({"BEHIND_PROXY": "1"}, 1),
        ({"BEHIND_PROXY": "1", "TRUSTED_PROXY_COUNT": "2"}, 2),
    ],
)
def test_the_trusted_proxy_count_follows_behind_proxy(env, count):
    values = settings_values(["TRUSTED_PROXY_COUNT"], **PRODUCTION, **env)

    assert values["TRUSTED_PROXY_COUNT"] == count
