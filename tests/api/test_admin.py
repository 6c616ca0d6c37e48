"""api.admin: tokens are made through the service (secret shown once) and revoked by action."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from api.models import ApiToken
from api.tokens import api_token_create, token_hash
from audit.models import AuditAction, AuditEntry

pytestmark = pytest.mark.django_db


def test_adding_a_token_shows_its_secret_once_and_audits_it(client, superuser, composer):
    client.force_login(superuser)

    response = client.post(
        "/admin/api/apitoken/add/", {"user": composer.pk, "name": "Billing"}, follow=True
    )

    assert response.status_code == 200
    token = ApiToken.objects.get()
    shown = [str(message) for message in response.context["messages"]]
    secret = next(word for text in shown for word in text.split() if word.startswith("ilv_"))
    assert token_hash(secret) == token.secret_hash
    assert (token.user, token.name) == (composer, "Billing")
    assert AuditEntry.objects.get().action == AuditAction.API_TOKEN_CREATE
    again = client.get(f"/admin/api/apitoken/{token.pk}/change/")
    assert secret not in again.content.decode()
    assert not list(get_messages(again.wsgi_request))


def test_the_revoke_action_revokes_and_audits(client, superuser, composer):
    tokens = [api_token_create(user=composer, name=n, actor=superuser).token for n in "ab"]
    client.force_login(superuser)

    client.post(
        "/admin/api/apitoken/",
        {"action": "revoke", "_selected_action": [t.pk for t in tokens]},
    )

    assert ApiToken.objects.filter(revoked_at__isnull=False).count() == 2
    assert AuditEntry.objects.filter(action=AuditAction.API_TOKEN_REVOKE).count() == 2


def test_an_admin_role_manages_tokens_but_never_a_superusers(client, make_staff):
    from django.contrib.auth import get_user_model

    from api.tokens import api_token_create

    boss = get_user_model().objects.create_superuser("boss", "boss@example.com", "x")
    api_token_create(user=boss, name="boss's", actor=boss)
    worker = make_staff("integrator", "Composer")
    api_token_create(user=worker, name="integration", actor=boss)
    client.force_login(make_staff("ada", "Admin"))

    listing = client.get(reverse("admin:api_apitoken_changelist")).content.decode()
    assert "integration" in listing
    assert "boss&#x27;s" not in listing and "boss's" not in listing

    form = client.get(reverse("admin:api_apitoken_add")).content.decode()
    assert ">integrator<" in form
    assert ">boss<" not in form
    response = client.post(reverse("admin:api_apitoken_add"), {"user": boss.pk, "name": "stolen"})
    assert response.status_code == 200  # the form refuses the superuser
    assert not boss.api_tokens.filter(name="stolen").exists()
