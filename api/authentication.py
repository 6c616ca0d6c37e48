"""`Authorization: Bearer <token>` (or `Token <token>`) for API clients."""

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from api.tokens import api_token_find, api_token_touch

KEYWORDS = (b"bearer", b"token")


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None  # not ours: session authentication may still apply
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be 'Bearer <token>'."
            )
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("The token is not valid.") from None
        token = api_token_find(raw)
        if token is None:
            # One answer for unknown, revoked and malformed tokens: it tells a guesser nothing.
            raise exceptions.AuthenticationFailed("The token is not valid or was revoked.")
        api_token_touch(token=token)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
