"""Where an application's token may go: to iLiveIt, and nowhere else.

The client sends `Authorization: Bearer <token>` to the application's endpoint and staff see
what it answers, so an endpoint naming another host would hand that host the token. The admin
checks this rule when an endpoint is saved, and `messaging.clients` checks it again before each
client is made, for rows written before the rule or from the shell.
"""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError


def endpoint_refusal(endpoint: str) -> str:
    """Why the token may not be sent to `endpoint`, or "" when it may."""
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - reading it checks the port
    except ValueError:
        return "is not a valid URL"
    if "@" in parts.netloc:
        return "must not carry a user name or password"
    # Even an empty "?" or "#" would swallow the route joined after it.
    if "?" in endpoint or "#" in endpoint:
        return "must not have a query (?) or a fragment (#)"
    if parts.scheme == "http" and not _sandbox_allowed(host):
        return "must use https (plain http reaches only a local sandbox, in development)"
    if parts.scheme not in ("http", "https"):
        return "must use https"
    if host not in settings.ILIVEIT_ENDPOINT_HOSTS:
        allowed = ", ".join(settings.ILIVEIT_ENDPOINT_HOSTS)
        return f"must be on an iLiveIt host ({allowed}), not {host or 'no host'}"
    return ""


def validate_endpoint(endpoint: str) -> None:
    """The endpoint rule as a model field validator."""
    refusal = endpoint_refusal(endpoint)
    if refusal:
        raise ValidationError(f"The endpoint {refusal}: the application's token is sent there.")


def _sandbox_allowed(host: str) -> bool:
    if host in settings.ILIVEIT_HTTP_HOSTS:
        return True
    return settings.ILIVEIT_ALLOW_LOOPBACK_HTTP and _is_loopback(host)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
