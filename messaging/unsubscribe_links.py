"""Each recipient's unsubscribe link: `{{ unsubscribe_url }}` in an email, a public page that
needs no sign-in (/unsubscribe/<token>/). The token is signed with SECRET_KEY, so that a link
opts out only the recipient and application it was made for; an altered one reads as None."""

from django.conf import settings
from django.core import signing

SALT = "messaging.unsubscribe"
PATH = "/unsubscribe/"


def unsubscribe_token(*, application_id: int, recipient: str) -> str:
    return signing.dumps([application_id, recipient], salt=SALT, compress=True)


def unsubscribe_token_read(token: str) -> tuple[int, str] | None:
    """The application id and recipient a token was made for, or None for a forged one."""
    try:
        application_id, recipient = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(application_id, int) or not isinstance(recipient, str):
        return None
    return application_id, recipient


def unsubscribe_url(*, application_id: int, recipient: str) -> str:
    token = unsubscribe_token(application_id=application_id, recipient=recipient)
    return f"{settings.PORTAL_BASE_URL}{PATH}{token}/"
