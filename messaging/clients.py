"""The iLiveIt client of one application, as every caller in the portal builds it."""

from django.conf import settings

from iliveit import EndpointRefused, ILiveItClient, client_for
from messaging.endpoints import endpoint_refusal
from messaging.models import Application


def application_client(
    application: Application,
    *,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
) -> ILiveItClient:
    """The client with the application's endpoint and token, and the configured timeouts
    unless the caller needs shorter ones (a page waiting on a call, say).

    EndpointRefused when the endpoint breaks the rule in messaging.endpoints: the admin checks
    it on save, but a row written before the rule, or from the shell, must not leak the token.
    """
    refusal = endpoint_refusal(application.endpoint)
    if refusal:
        # Not the endpoint itself: it may hold a password, and this text is shown to staff.
        raise EndpointRefused(
            f"The endpoint of application {application.name!r} is refused: it {refusal}. "
            "Correct it in the admin (Applications)."
        )
    return client_for(
        application.endpoint,
        application.token,
        connect_timeout=connect_timeout or settings.ILIVEIT_CONNECT_TIMEOUT,
        read_timeout=read_timeout or settings.ILIVEIT_READ_TIMEOUT,
    )
