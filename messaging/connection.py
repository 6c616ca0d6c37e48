"""Check connection: one `ping` to an application's endpoint with its token, answered in words
a staff member can act on (the admin's button on an application's page)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from iliveit import (
    APIUnavailable,
    AuthFailed,
    EndpointRefused,
    ILiveItError,
    InvalidRoute,
    MalformedResponse,
    RateLimited,
)
from messaging.clients import application_client
from messaging.models import Application

# Short: someone is waiting on the page.
CONNECT_TIMEOUT_S = 3.05
READ_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    text: str  # ping's answer, or what went wrong
    seconds: float


def application_check_connection(*, application: Application) -> ConnectionCheck:
    started = time.monotonic()
    try:
        client = application_client(
            application, connect_timeout=CONNECT_TIMEOUT_S, read_timeout=READ_TIMEOUT_S
        )
        answer = client.ping()
    except ILiveItError as error:
        return ConnectionCheck(ok=False, text=_plain(error), seconds=time.monotonic() - started)
    return ConnectionCheck(ok=True, text=answer, seconds=time.monotonic() - started)


def _plain(error: ILiveItError) -> str:
    if isinstance(error, EndpointRefused):
        return str(error)
    if isinstance(error, AuthFailed):
        return (
            f"iLiveIt refused the token (HTTP {error.status_code or 401}). Paste the "
            "application's current token under Token, and check the endpoint is this "
            "application's environment."
        )
    if isinstance(error, InvalidRoute):
        return (
            "The endpoint answered 404 to ping: it does not look like the iLiveIt API's base "
            "URL. Check the endpoint."
        )
    if isinstance(error, RateLimited):
        return (
            "iLiveIt answered 429: the application's per-second limit is used up just now "
            "(a campaign may be sending). The connection and token work; try again shortly."
        )
    if isinstance(error, APIUnavailable):
        if error.status_code:
            return (
                f"iLiveIt answered HTTP {error.status_code}: the service is failing just now. "
                "Try again later."
            )
        if error.request_sent:
            return (
                f"No answer within {READ_TIMEOUT_S:g} seconds: the endpoint took the request "
                f"but did not reply ({error.error})."
            )
        return (
            f"Could not connect to the endpoint: {error.error}. Check the address, and that "
            "this server may reach it."
        )
    if isinstance(error, MalformedResponse):
        return f"Something answered, but not as iLiveIt does: {error.error}. Check the endpoint."
    return str(error)
