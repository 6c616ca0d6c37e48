"""The portal's own sign-in (/login/) and sign-out: a role, not staff status, lets someone in;
no role gets a page that says so; `next` is followed only on this site; the admin and the API's
docs send people to this page."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def no_failures_counted():
    # Sign-in failures live in the shared cache, which outlives a test's database.
    yield
    redis = cache._cache.get_client()
    for key in redis.scan_iter(match=f"{cache.key_prefix}*login-fail*"):
        redis.delete(key)


@pytest.fixture
def with_password(make_staff, application):
    def make(username, role=None, **kwargs):
        user = make_staff(username, role, applications=[application], **kwargs)
        user.set_password(PASSWORD)
        user.save()
        return user

    return make


def sign_in(client, username, password=PASSWORD, next_url=None):
    data = {"username": username, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post(reverse("login"), data, REMOTE_ADDR="203.0.113.7")


def test_the_sign_in_page_is_the_portals_own(client):
    response = client.get("/login/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1" in html and "Sign in</h1>" in html
    assert "portal/portal.css" in html
    assert "Django administration" not in html
    assert 'name="username"' in html and 'name="password"' in html


def test_a_viewer_without_staff_status_signs_in_and_works(client, with_password, make_campaign):
    vera = with_password("vera", "Viewer")
    make_campaign(name="Spring sale")
    assert not vera.is_staff

    response = sign_in(client, "vera")
    assert response.status_code == 302 and response.url == "/"

    page = client.get(reverse("reports:campaign_list"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Spring sale" in html
    assert "Sign out vera" in html
    assert 'href="/admin/"' not in html  # the admin needs staff status


def test_a_composer_without_staff_status_can_compose(client, with_password):
    with_password("cora", "Composer")
    sign_in(client, "cora")

    assert client.get(reverse("messaging:compose_choose")).status_code == 200


def test_without_staff_status_the_admin_sends_back_to_the_sign_in_page(client, with_password):
    with_password("vera", "Viewer")
    sign_in(client, "vera")

    to_admin = client.get("/admin/")
    assert to_admin.status_code == 302
    assert to_admin.url == "/admin/login/?next=/admin/"
    login = client.get(to_admin.url)
    assert login.url == "/login/?next=/admin/"
    page = client.get(login.url)
    # Not a loop: the page says who is signed in and why it was shown.
    assert page.status_code == 200
    assert "You are signed in as <strong>vera</strong>, who may not open that page" in (
        page.content.decode()
    )


def test_signed_in_the_sign_in_page_offers_the_way_back(client, with_password):
    with_password("vera", "Viewer")
    sign_in(client, "vera")

    html = client.get(reverse("login")).content.decode()

    assert "You are already signed in as <strong>vera</strong>" in html
    assert "may not open that page" not in html


def test_staff_with_the_admin_role_reach_the_admin_after_signing_in(client, with_password):
    with_password("adam", "Admin")

    response = sign_in(client, "adam", next_url="/admin/")

    assert response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_someone_without_a_role_is_told_they_have_no_access_yet(client, with_password):
    with_password("nora")

    response = sign_in(client, "nora", next_url="/campaigns/")

    assert response.status_code == 302 and response.url == reverse("no_access")
    page = client.get(response.url)
    html = page.content.decode()
    assert page.status_code == 403
    assert "No access yet" in html
    assert "has no role in the portal yet" in html
    assert "Sign out nora" in html


def test_someone_without_a_role_opening_a_page_sees_the_same_explanation(client, with_password):
    with_password("nora")
    sign_in(client, "nora")

    for url in ("/", reverse("reports:campaign_list")):
        page = client.get(url, follow=True)
        assert page.status_code == 403, url
        assert "No access yet" in page.content.decode(), url


def test_a_role_without_the_right_to_a_page_gets_a_plain_refusal(client, with_password):
    with_password("vera", "Viewer")
    sign_in(client, "vera")

    page = client.get(reverse("messaging:compose_choose"))

    assert page.status_code == 403
    html = page.content.decode()
    assert "Not allowed" in html and "No access yet" not in html


def test_someone_with_a_role_is_sent_on_from_the_no_access_page(client, with_password):
    with_password("vera", "Viewer")
    sign_in(client, "vera")

    assert client.get(reverse("no_access")).url == "/"


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [
        ("/campaigns/?state=sending", "/campaigns/?state=sending"),
        ("https://evil.example.com/", "/"),
        ("//evil.example.com/", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_is_followed_only_on_this_site(client, with_password, next_url, lands_on):
    with_password("vera", "Viewer")

    assert sign_in(client, "vera", next_url=next_url).url == lands_on


def test_a_wrong_password_is_a_form_error_on_the_same_page(client, with_password):
    with_password("vera", "Viewer")

    response = sign_in(client, "vera", "wrong")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Please enter the correct username and password" in html
    assert "_auth_user_id" not in client.session


def test_an_inactive_user_cannot_sign_in(client, with_password):
    vera = with_password("vera", "Viewer")
    vera.is_active = False
    vera.save()

    assert sign_in(client, "vera").status_code == 200
    assert "_auth_user_id" not in client.session


def test_the_throttle_holds_on_this_page(client, with_password, settings):
    settings.LOGIN_FAILURES_ALLOWED = 3
    with_password("vera", "Viewer")
    for _ in range(3):
        sign_in(client, "vera", "wrong")

    response = sign_in(client, "vera")

    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_out_is_a_post_that_ends_the_session(client, with_password):
    with_password("vera", "Viewer")
    sign_in(client, "vera")

    assert client.get(reverse("logout")).status_code == 405  # a link cannot sign anyone out
    assert "_auth_user_id" in client.session
    response = client.post(reverse("logout"))

    assert response.status_code == 302 and response.url == reverse("login")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("reports:campaign_list")).url.startswith("/login/?next=")


def test_the_admins_sign_out_ends_the_session_the_same_way(client, with_password):
    with_password("adam", "Admin")
    sign_in(client, "adam")

    response = client.post("/admin/logout/")

    assert response.url == reverse("login")
    assert "_auth_user_id" not in client.session


def test_a_superuser_without_a_role_may_use_the_portal(client):
    get_user_model().objects.create_superuser("root", password=PASSWORD)

    response = sign_in(client, "root")

    assert response.url == "/"
