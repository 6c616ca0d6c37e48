"""Headers every response carries, and throttled sign-in.

Django's SecurityMiddleware covers HSTS, nosniff, the referrer policy and the HTTPS redirect;
what it lacks is a Content-Security-Policy, added here for every page, admin included.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from iliveit_portal.client_address import client_address

# The portal's pages load only their own CSS and JS. The email preview is a srcdoc iframe,
# which inherits this policy (and adds its own, see email_preview_document): inline styles,
# which emails are full of, are allowed; remote images, which would tell a sender that staff
# opened the preview, are not.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=()"


class SecurityHeadersMiddleware:
    """A view may set a stricter or looser policy of its own; this one fills the gap."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


# --- sign-in throttling ------------------------------------------------------------------------


def _failure_keys(username: str, address: str) -> tuple[str, str]:
    # Hashed: the cache is shared, and a username is personal data.
    who = hashlib.sha256(f"{username.casefold()}|{address}".encode()).hexdigest()[:32]
    where = hashlib.sha256(address.encode()).hexdigest()[:32]
    return f"login-fail:user:{who}", f"login-fail:addr:{where}"


def login_locked(*, username: str, address: str) -> bool:
    """True once this user name failed LOGIN_FAILURES_ALLOWED times from this address, or
    the address failed LOGIN_ADDRESS_FAILURES_ALLOWED times for any names, within
    LOGIN_LOCKOUT_S. Counting the pair, not the name alone, keeps a stranger from locking a
    colleague out by typing their name wrong."""
    user_key, address_key = _failure_keys(username, address)
    counts = cache.get_many([user_key, address_key])
    return (
        counts.get(user_key, 0) >= settings.LOGIN_FAILURES_ALLOWED
        or counts.get(address_key, 0) >= settings.LOGIN_ADDRESS_FAILURES_ALLOWED
    )


def login_failed(*, username: str, address: str) -> None:
    for key in _failure_keys(username, address):
        # add() starts the window on the first failure; incr() does not extend it.
        cache.add(key, 0, timeout=settings.LOGIN_LOCKOUT_S)
        try:
            cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.set(key, 1, timeout=settings.LOGIN_LOCKOUT_S)


def login_succeeded(*, username: str, address: str) -> None:
    cache.delete(_failure_keys(username, address)[0])


class ThrottledAuthenticationForm(AuthenticationForm):
    """The portal's sign-in form (/login/, where every page and the admin send people) with a
    lockout. Any active user may pass it: what they may see is the roles' business, and staff
    status only the admin's."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "Please enter the correct %(username)s and password. Both are case-sensitive."
        ),
        "locked": (
            "Too many failed sign-ins. Wait %(minutes)d minutes and try again, or ask an "
            "administrator to reset your password."
        ),
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = client_address(self.request) if self.request else ""
        if login_locked(username=username, address=address):
            raise ValidationError(
                self.error_messages["locked"],
                code="locked",
                params={"minutes": max(1, settings.LOGIN_LOCKOUT_S // 60)},
            )
        try:
            cleaned = super().clean()
        except ValidationError as error:
            if error.code == "invalid_login":
                login_failed(username=username, address=address)
            raise
        login_succeeded(username=username, address=address)
        return cleaned
