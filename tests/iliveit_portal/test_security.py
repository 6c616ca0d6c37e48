"""Security headers on every page, HTTPS behind a proxy, and sign-in throttling."""

import time

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse

from iliveit_portal.security import PAGE_CSP
from tests.support.settings_process import settings_values

PRODUCTION = {"SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "portal.example.com"}
LOGIN = reverse("login")


@pytest.fixture(autouse=True)
def no_failures_counted():
    # Sign-in failures live in the shared cache, which outlives a test's database.
    yield
    redis = cache._cache.get_client()
    for key in redis.scan_iter(match=f"{cache.key_prefix}*login-fail*"):
        redis.delete(key)


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    # Real password hashing costs about a second per sign-in; these tests sign in dozens of times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def ann(make_staff):
    """Signs in through the login form, so with a password (make_staff's users have none)."""
    user = make_staff("ann")
    user.set_password("correct horse battery")
    user.save()
    return user


def sign_in(client, username, password, address="203.0.113.7", **headers):
    return client.post(
        LOGIN,
        {"username": username, "password": password, "next": "/"},
        REMOTE_ADDR=address,
        **headers,
    )


def through_proxy(client_address: str, claimed: str = "") -> dict:
    """What the app server sees of a sign-in that came through one proxy (at 10.0.0.2)."""
    forwarded = f"{claimed}, {client_address}" if claimed else client_address
    return {"address": "10.0.0.2", "HTTP_X_FORWARDED_FOR": forwarded}


# --- headers ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_page_carries_the_csp_and_other_security_headers(client):
    for path in (LOGIN, "/healthz", "/campaigns/"):
        response = client.get(path)
        assert response["Content-Security-Policy"] == PAGE_CSP, path
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        assert "camera=()" in response["Permissions-Policy"]


def test_production_is_https_only_with_secure_cookies_and_hsts():
    values = settings_values(
        [
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "SECURE_SSL_REDIRECT",
            "SECURE_HSTS_SECONDS",
            "SECURE_PROXY_SSL_HEADER",
        ],
        **PRODUCTION,
    )
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31_536_000
    # Trusting X-Forwarded-Proto is only safe behind a proxy that sets it: opt-in.
    assert values["SECURE_PROXY_SSL_HEADER"] is None


def test_behind_a_proxy_the_forwarded_scheme_is_trusted():
    values = settings_values(["SECURE_PROXY_SSL_HEADER"], BEHIND_PROXY="1", **PRODUCTION)
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_local_development_runs_on_plain_http():
    values = settings_values(["SESSION_COOKIE_SECURE", "SECURE_SSL_REDIRECT"], DEBUG="1")
    assert values == {"SESSION_COOKIE_SECURE": False, "SECURE_SSL_REDIRECT": False}


@pytest.mark.django_db
def test_behind_a_proxy_plain_http_is_redirected_but_probes_are_not(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert client.get(LOGIN).status_code == 301
    assert client.get(LOGIN, HTTP_X_FORWARDED_PROTO="https").status_code == 200
    assert client.get("/healthz").status_code == 200


# --- sign-in throttling --------------------------------------------------------------------


@pytest.mark.django_db
def test_five_wrong_passwords_lock_the_name_even_against_the_right_one(client, ann, settings):
    settings.LOGIN_FAILURES_ALLOWED = 5
    for _ in range(5):
        response = sign_in(client, "ann", "wrong")
        assert "Please enter the correct username and password" in response.content.decode()
    response = sign_in(client, "ann", "correct horse battery")
    assert response.status_code == 200
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_lock_on_one_address_leaves_the_same_name_elsewhere_and_other_names_free(
    client, ann, settings
):
    settings.LOGIN_FAILURES_ALLOWED = 3
    bob = get_user_model().objects.create_user(
        username="bob", password="pw-of-bob-42", is_staff=True
    )
    for _ in range(3):
        sign_in(client, "ann", "wrong")
    assert (
        sign_in(client, "ann", "correct horse battery", address="198.51.100.1").status_code == 302
    )
    client.logout()
    assert sign_in(client, "bob", "pw-of-bob-42").status_code == 302
    assert int(client.session["_auth_user_id"]) == bob.pk


@pytest.mark.django_db
def test_one_address_trying_many_names_is_locked_out(client, ann, settings):
    settings.LOGIN_ADDRESS_FAILURES_ALLOWED = 10
    for n in range(10):
        sign_in(client, f"guess{n}", "wrong")
    response = sign_in(client, "ann", "correct horse battery")
    assert "Too many failed sign-ins" in response.content.decode()


@pytest.mark.django_db
def test_a_successful_sign_in_clears_the_count(client, ann, settings):
    settings.LOGIN_FAILURES_ALLOWED = 3
    sign_in(client, "ann", "wrong")
    sign_in(client, "ann", "wrong")
    assert sign_in(client, "ann", "correct horse battery").status_code == 302
    client.logout()
    sign_in(client, "ann", "wrong")
    sign_in(client, "ann", "wrong")
    assert sign_in(client, "ann", "correct horse battery").status_code == 302


@pytest.mark.django_db
def test_the_lock_ends_when_its_window_passes(client, ann, settings):
    settings.LOGIN_FAILURES_ALLOWED = 2
    settings.LOGIN_LOCKOUT_S = 2
    sign_in(client, "ann", "wrong")
    sign_in(client, "ann", "wrong")
    assert "Too many" in sign_in(client, "ann", "correct horse battery").content.decode()
    time.sleep(2.5)
    assert sign_in(client, "ann", "correct horse battery").status_code == 302


@pytest.mark.django_db
def test_behind_a_proxy_one_clients_failures_do_not_lock_out_the_others(client, ann, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_ADDRESS_FAILURES_ALLOWED = 10
    for n in range(10):
        sign_in(client, f"guess{n}", "wrong", **through_proxy("198.51.100.66"))

    attacker = sign_in(client, "ann", "correct horse battery", **through_proxy("198.51.100.66"))
    colleague = sign_in(client, "ann", "correct horse battery", **through_proxy("203.0.113.7"))

    assert "Too many failed sign-ins" in attacker.content.decode()
    assert colleague.status_code == 302


@pytest.mark.django_db
def test_behind_a_proxy_a_forged_forwarded_address_does_not_escape_the_count(client, ann, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_FAILURES_ALLOWED = 3
    for n in range(3):
        sign_in(client, "ann", "wrong", **through_proxy("198.51.100.66", claimed=f"1.2.3.{n}"))

    response = sign_in(
        client, "ann", "correct horse battery", **through_proxy("198.51.100.66", "1.2.3.9")
    )

    assert "Too many failed sign-ins" in response.content.decode()


@pytest.mark.django_db
def test_without_a_proxy_the_forwarded_header_cannot_pick_the_address(client, ann, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.LOGIN_FAILURES_ALLOWED = 3
    for n in range(3):
        sign_in(client, "ann", "wrong", HTTP_X_FORWARDED_FOR=f"1.2.3.{n}")

    response = sign_in(client, "ann", "correct horse battery", HTTP_X_FORWARDED_FOR="1.2.3.9")

    assert "Too many failed sign-ins" in response.content.decode()
