"""Each message's postback URL carries an HMAC of its ref: sign, verify and key rotation."""

import pytest
from django.urls import reverse, set_script_prefix

from messaging.models import new_message_ref
from messaging.postback_urls import MAC_LENGTH, reply_url, sign, status_url, verify

OLD_KEY = "old-postback-key-0123456789abcdef"
NEW_KEY = "new-postback-key-fedcba9876543210"
REF = "Zr1Qh3b0Jd9kX2mN4pL7sA"


@pytest.fixture
def keys(settings):
    settings.POSTBACK_KEYS = [NEW_KEY]
    return settings


def test_a_signed_ref_verifies(keys):
    assert verify(REF, sign(REF))


def test_the_mac_is_hex_of_the_declared_length(keys):
    mac = sign(REF)

    assert len(mac) == MAC_LENGTH
    int(mac, 16)


def test_the_mac_is_stable(keys):
    assert sign(REF) == sign(REF)


def test_another_refs_mac_does_not_verify(keys):
    assert not verify(REF, sign("another-ref-entirely"))


def test_a_changed_mac_does_not_verify(keys):
    mac = sign(REF)
    flipped = ("0" if mac[-1] != "0" else "1") + mac[1:]

    assert not verify(REF, flipped)
    assert not verify(REF, mac[:-1])
    assert not verify(REF, mac + "0")
    assert not verify(REF, mac.upper())


@pytest.mark.parametrize("mac", ["", "0" * MAC_LENGTH, "not-hex-at-all", "é" * MAC_LENGTH])
def test_junk_does_not_verify(keys, mac):
    assert not verify(REF, mac)


def test_it_signs_with_the_first_key(keys):
    keys.POSTBACK_KEYS = [OLD_KEY]
    old_mac = sign(REF)
    keys.POSTBACK_KEYS = [NEW_KEY, OLD_KEY]

    assert sign(REF) != old_mac


def test_a_url_signed_with_the_old_key_verifies_after_rotation(keys):
    keys.POSTBACK_KEYS = [OLD_KEY]
    old_mac = sign(REF)

    keys.POSTBACK_KEYS = [NEW_KEY, OLD_KEY]

    assert verify(REF, old_mac)
    assert verify(REF, sign(REF))


def test_a_url_signed_with_a_removed_key_fails(keys):
    keys.POSTBACK_KEYS = [OLD_KEY]
    old_mac = sign(REF)

    keys.POSTBACK_KEYS = [NEW_KEY]

    assert not verify(REF, old_mac)


def test_no_keys_verify_nothing(keys):
    mac = sign(REF)
    keys.POSTBACK_KEYS = []

    assert not verify(REF, mac)


def test_purposes_are_separate(keys):
    reply_mac = sign(REF, purpose="reply")

    assert reply_mac != sign(REF)
    assert verify(REF, reply_mac, purpose="reply")
    assert not verify(REF, reply_mac)
    assert not verify(REF, sign(REF), purpose="reply")


def test_the_status_url_is_the_routed_path_under_the_portal(keys):
    keys.PORTAL_BASE_URL = "https://portal.example.com"

    url = status_url(REF)

    path = reverse("postbacks:status", kwargs={"ref": REF, "mac": sign(REF)})
    assert url == f"https://portal.example.com{path}"
    assert path == f"/postbacks/status/{REF}/{sign(REF)}/"


def test_the_reply_url_is_the_routed_path_under_its_own_mac(keys):
    keys.PORTAL_BASE_URL = "https://portal.example.com"
    mac = sign(REF, purpose="reply")

    assert reply_url(REF) == f"https://portal.example.com/postbacks/reply/{REF}/{mac}/"
    assert verify(REF, mac, purpose="reply")
    assert not verify(REF, mac)


def test_each_messages_urls_are_what_reverse_gives(keys):
    keys.PORTAL_BASE_URL = "https://portal.example.com"
    for ref in [new_message_ref() for _ in range(200)]:
        status = reverse("postbacks:status", kwargs={"ref": ref, "mac": sign(ref)})
        reply = reverse("postbacks:reply", kwargs={"ref": ref, "mac": sign(ref, purpose="reply")})
        assert (status_url(ref), reply_url(ref)) == (
            f"https://portal.example.com{status}",
            f"https://portal.example.com{reply}",
        )


def test_the_urls_follow_the_script_prefix(keys):
    keys.PORTAL_BASE_URL = "https://portal.example.com"
    set_script_prefix("/portal/")
    try:
        assert (
            status_url(REF)
            == f"https://portal.example.com/portal/postbacks/status/{REF}/{sign(REF)}/"
        )
    finally:
        set_script_prefix("/")
    assert status_url(REF) == f"https://portal.example.com/postbacks/status/{REF}/{sign(REF)}/"


def test_the_urls_follow_an_overridden_urlconf(keys):
    keys.PORTAL_BASE_URL = "https://portal.example.com"
    assert status_url(REF).startswith("https://portal.example.com/postbacks/status/")
    keys.ROOT_URLCONF = "tests.messaging.moved_postback_urls"

    assert (
        status_url(REF) == f"https://portal.example.com/hooks/postbacks/status/{REF}/{sign(REF)}/"
    )
