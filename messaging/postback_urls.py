"""Each message's postback URLs are its own and unguessable: /postbacks/status/<ref>/<mac>/
for status postbacks and /postbacks/reply/<ref>/<mac>/ for replies (a MAC of another purpose, so
one URL cannot be turned into the other).

iLiveIt does not sign postbacks, so the URL is the credential. The MAC is an HMAC-SHA256 of the
message's ref under the first of settings.POSTBACK_KEYS; every listed key is accepted, so keys
rotate without breaking URLs already handed to iLiveIt.
"""

import functools
import hashlib
import hmac

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.crypto import constant_time_compare

MAC_LENGTH = 32  # hex characters: 128 bits


def _mac(key: str, purpose: str, ref: str) -> str:
    message = f"{purpose}:{ref}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:MAC_LENGTH]


def sign(ref: str, *, purpose: str = "status") -> str:
    return _mac(settings.POSTBACK_KEYS[0], purpose, ref)


def verify(ref: str, mac: str, *, purpose: str = "status") -> bool:
    # Every key is checked, so the time taken does not say which key (if any) matched.
    keys = settings.POSTBACK_KEYS
    return any([constant_time_compare(_mac(key, purpose, ref), mac) for key in keys])


def status_url(ref: str) -> str:
    return _url("postbacks:status", ref, sign(ref))


def reply_url(ref: str) -> str:
    return _url("postbacks:reply", ref, sign(ref, purpose="reply"))


# reverse() for each message was two thirds of building its payload (py-spy: 8% of a sending
# worker). The route is reversed once, with these in its place; a ref (token_urlsafe) and a
# MAC (hex) are what reverse() would put there, unquoted.
_REF, _MAC = "REF.PLACEHOLDER", "MAC.PLACEHOLDER"


def _url(name: str, ref: str, mac: str) -> str:
    # Keyed on the URLconf in force, so that an overridden ROOT_URLCONF is followed too.
    path = _route(name, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
    return f"{settings.PORTAL_BASE_URL}{path.replace(_REF, ref, 1).replace(_MAC, mac, 1)}"


@functools.lru_cache(maxsize=32)
def _route(name: str, urlconf: str, script_prefix: str) -> str:
    return reverse(name, urlconf=urlconf, kwargs={"ref": _REF, "mac": _MAC})
