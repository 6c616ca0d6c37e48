"""Typed failures of the iLiveIt client.

Every failure says whether trying the same call again later can help (`retryable`), so the
sending task can decide between a retry, a reconcile and a final failure without reading
status codes itself.
"""

from __future__ import annotations


class ILiveItError(Exception):
    """Base of every failure the client raises."""

    retryable: bool = False

    def __init__(self, error: str, *, status_code: int | None = None) -> None:
        super().__init__(error if status_code is None else f"HTTP {status_code}: {error}")
        self.error = error
        self.status_code = status_code


class InvalidMessage(ILiveItError):
    """The request breaks one of the provider's rules; found before anything was sent."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class EndpointRefused(ILiveItError, ValueError):
    """The endpoint may not be sent the token (not http(s), user info, a query or fragment, or
    an endpoint the portal's rule refuses); found before anything was sent.

    Retryable: once the endpoint is corrected, the same message can be sent."""

    retryable = True


class BadRequest(ILiveItError):
    """HTTP 400: the API refused the request; `error` is the API's own text."""


class AuthFailed(ILiveItError):
    """HTTP 401 and any other unmapped 4xx, as the provider's own clients treat them."""


class InvalidRoute(ILiveItError):
    """HTTP 404: an unknown route, or a message this application may not see."""


class InvalidMethod(ILiveItError):
    """HTTP 405: a known route called with the wrong verb."""


class RateLimited(ILiveItError):
    """HTTP 429: the application's per-second budget is spent; the reference says a later
    retry is safe because nothing was accepted."""

    retryable = True

    def __init__(
        self, error: str, *, status_code: int | None = 429, retry_after: float | None = None
    ) -> None:
        super().__init__(error, status_code=status_code)
        self.retry_after = retry_after


class APIUnavailable(ILiveItError):
    """HTTP 5xx, no connection, or a timeout.

    `request_sent` is False only when the request surely never reached the API (refused or
    timed-out connect). When it is True the outcome is unknown: a send may have been accepted,
    so the caller must reconcile before it submits the same message again.
    """

    retryable = True

    def __init__(self, error: str, *, request_sent: bool, status_code: int | None = None) -> None:
        super().__init__(error, status_code=status_code)
        self.request_sent = request_sent


class MalformedResponse(ILiveItError):
    """The API answered success with a body we cannot read.

    Not retryable: a send answered this way may have been accepted, and repeating it blindly
    could submit the message twice.
    """


class MalformedPayload(ValueError):
    """A JSON document from iLiveIt does not have the documented shape."""


class MalformedStatus(MalformedPayload):
    """A StatusResult (polled or posted back) does not have the documented shape."""
