"""manage.py apitoken create|revoke|list."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from api.models import ApiToken
from api.tokens import token_hash
from audit.models import AuditAction, AuditEntry

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out, err = StringIO(), StringIO()
    call_command("apitoken", *args, stdout=out, stderr=err)
    return out.getvalue().strip()


def test_create_prints_the_secret_once_then_list_and_revoke_never_do(composer):
    secret = run("create", "--user", composer.username, "--name", "CI")
    token = ApiToken.objects.get()

    listed = run("list")
    revoked = run("revoke", token.prefix)

    assert token_hash(secret) == token.secret_hash
    assert token.prefix in listed and secret not in listed
    assert "active" in listed
    assert token.prefix in revoked and secret not in revoked
    assert "revoked" in run("list", "--user", composer.username)
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        AuditAction.API_TOKEN_CREATE,
        AuditAction.API_TOKEN_REVOKE,
    ]


@pytest.mark.parametrize(
    "args",
    [
        ("create", "--user", "nobody", "--name", "CI"),
        ("create", "--user", "cora", "--name", " "),
        ("revoke", "deadbeef"),
    ],
)
def test_bad_arguments_stop_with_a_reason(composer, args):
    with pytest.raises(CommandError):
        run(*args)
    assert not ApiToken.objects.exists()
