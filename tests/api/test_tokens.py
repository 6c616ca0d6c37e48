"""api.tokens: a token's secret is returned once, stored only as a hash, and every create and
revoke is audited in the same transaction."""

import hashlib
from datetime import timedelta

import pytest
from django.db import transaction

from api.models import ApiToken
from api.tokens import (
    ApiTokenError,
    api_token_create,
    api_token_find,
    api_token_revoke,
    api_token_touch,
)
from audit.models import AuditAction, AuditEntry

pytestmark = pytest.mark.django_db


def test_a_new_token_is_returned_once_and_stored_only_as_its_hash(composer, admin_staff):
    created = api_token_create(user=composer, name="CI", actor=admin_staff)

    token = ApiToken.objects.get()
    assert created.secret.startswith(f"ilv_{token.prefix}_")
    assert token.secret_hash == hashlib.sha256(created.secret.encode()).hexdigest()
    stored = [str(value) for value in ApiToken.objects.values().get().values()]
    assert created.secret not in stored
    assert "***" in repr(created) and created.secret not in repr(created)


def test_creating_and_revoking_are_audited_without_the_secret(composer, admin_staff):
    created = api_token_create(user=composer, name="CI", actor=admin_staff)
    api_token_revoke(token=created.token, actor=admin_staff)

    entries = list(AuditEntry.objects.order_by("id"))
    assert [entry.action for entry in entries] == [
        AuditAction.API_TOKEN_CREATE,
        AuditAction.API_TOKEN_REVOKE,
    ]
    assert all(entry.actor == admin_staff for entry in entries)
    assert all(entry.target_id == str(created.token.pk) for entry in entries)
    assert all(created.secret not in str(entry.detail) for entry in entries)


def test_a_rolled_back_create_leaves_neither_token_nor_entry(composer):
    with pytest.raises(RuntimeError), transaction.atomic():
        api_token_create(user=composer, name="CI", actor=composer)
        raise RuntimeError

    assert not ApiToken.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_token_needs_a_name(composer):
    with pytest.raises(ApiTokenError):
        api_token_create(user=composer, name="  ", actor=composer)


def test_a_token_is_revoked_once(composer):
    created = api_token_create(user=composer, name="CI", actor=composer)
    api_token_revoke(token=created.token, actor=composer)

    with pytest.raises(ApiTokenError, match="already revoked"):
        api_token_revoke(token=created.token, actor=composer)
    assert AuditEntry.objects.filter(action=AuditAction.API_TOKEN_REVOKE).count() == 1


def test_only_an_exact_active_token_is_found(composer):
    created = api_token_create(user=composer, name="CI", actor=composer)

    assert api_token_find(created.secret) == created.token
    assert api_token_find(created.secret + "x") is None
    assert api_token_find(created.secret.replace("ilv_", "xyz_")) is None
    assert api_token_find("garbage") is None
    composer.is_active = False
    composer.save()
    assert api_token_find(created.secret) is None


def test_last_used_is_written_at_most_once_a_minute(composer):
    token = api_token_create(user=composer, name="CI", actor=composer).token

    api_token_touch(token=token)
    first = ApiToken.objects.get().last_used_at
    api_token_touch(token=ApiToken.objects.get())
    assert ApiToken.objects.get().last_used_at == first

    ApiToken.objects.update(last_used_at=first - timedelta(seconds=61))
    api_token_touch(token=ApiToken.objects.get())
    assert ApiToken.objects.get().last_used_at > first - timedelta(seconds=61)
