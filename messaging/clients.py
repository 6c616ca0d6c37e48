"""The iLiveIt client of one application, as every caller in the portal builds it."""

from django.conf import settings

from messaging.iliveit import ILiveItClient, client_for
from messaging.models import Application


def application_client(
    application: Application,
    *,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
) -> ILiveItClient:
    """The client with the application's endpoint and token, and the configured timeouts
    unless the caller needs shorter ones (a page waiting on a call, say)."""
    return client_for(
        application.endpoint,
        application.token,
        connect_timeout=connect_timeout or settings.ILIVEIT_CONNECT_TIMEOUT,
        read_timeout=read_timeout or settings.ILIVEIT_READ_TIMEOUT,
    )
