"""manage.py apitoken create|revoke|list: API tokens from the command line."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from api.models import ApiToken
from api.tokens import ApiTokenError, api_token_create, api_token_revoke


class Command(BaseCommand):
    help = "Create, revoke or list API tokens. A new token is printed once and never again."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="command", required=True)
        create = commands.add_parser("create", help="Make a token for a user; prints it once.")
        create.add_argument("--user", required=True, help="The username the token acts as.")
        create.add_argument("--name", required=True, help="What the token is for.")
        revoke = commands.add_parser("revoke", help="Revoke a token by its prefix.")
        revoke.add_argument("prefix", help="The token's prefix (the part after 'ilv_').")
        listing = commands.add_parser("list", help="List tokens (never their secrets).")
        listing.add_argument("--user", default="", help="Only this user's tokens.")

    def handle(self, *args, command: str, **options):
        getattr(self, f"_{command}")(**options)

    def _create(self, *, user: str, name: str, **options):
        owner = self._user(user)
        try:
            # The command has no signed-in person: the audit log records the portal itself.
            created = api_token_create(user=owner, name=name, actor=None)
        except ApiTokenError as error:
            raise CommandError(str(error)) from None
        self.stderr.write(f"Token {created.token.prefix} for {owner.get_username()}; copy it now:")
        self.stdout.write(created.secret)

    def _revoke(self, *, prefix: str, **options):
        token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
        if token is None:
            raise CommandError(f"No token has the prefix {prefix!r}.")
        try:
            api_token_revoke(token=token, actor=None)
        except ApiTokenError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Revoked {token.prefix} ({token.name}).")

    def _list(self, *, user: str, **options):
        tokens = ApiToken.objects.select_related("user").order_by("user__username", "-id")
        if user:
            tokens = tokens.filter(user=self._user(user))
        for token in tokens:
            state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
            used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
            self.stdout.write(
                f"{token.prefix}\t{token.user.get_username()}\t{state}\tused {used}\t{token.name}"
            )

    def _user(self, username: str):
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user is named {username!r}.") from None
