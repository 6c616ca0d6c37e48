"""HTTP client for the iLiveIt Messaging API.

One request seam (`ILiveItClient._request`) does the auth header, JSON, timeouts and the
mapping of failures to typed errors. The client never retries: whether a retry is safe
depends on what the caller knows (a send with an unknown outcome must be reconciled before it
is repeated, or the message could reach the network twice), so the caller decides.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any, TypeVar
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, NewConnectionError

from iliveit.errors import (
    APIUnavailable,
    AuthFailed,
    BadRequest,
    EndpointRefused,
    ILiveItError,
    InvalidMessage,
    InvalidMethod,
    InvalidRoute,
    MalformedPayload,
    MalformedResponse,
    RateLimited,
)
from iliveit.responses import (
    ArchivedMessage,
    ScrubResult,
    StatusResult,
)
from iliveit.types import (
    BuildRequest,
    NewMessage,
    ResendRequest,
)
from iliveit.validation import (
    validate_build_request,
    validate_message_id,
    validate_msisdn,
    validate_new_message,
    validate_resend_request,
)

logger = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT = 3.05  # just over a multiple of 3 s, TCP's packet retransmission window
DEFAULT_READ_TIMEOUT = 10.0
POOL_SIZE = 16  # enough for one worker process's threads to talk to iLiveIt at once


def new_session(pool_size: int = POOL_SIZE) -> requests.Session:
    session = requests.Session()
    # No retries below us either: urllib3 may otherwise repeat a request whose first attempt
    # reached the API, and a repeated message/send is a second message.
    adapter = HTTPAdapter(max_retries=0, pool_connections=1, pool_maxsize=pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    # Proxy settings are read from the environment once here, not on every request (that
    # lookup cost about a millisecond per call, a fifth of a submission's CPU).
    session.proxies = requests.utils.get_environ_proxies("")
    session.trust_env = False
    return session


class ILiveItClient:
    """One application's access to the API (one token, one endpoint)."""

    def __init__(
        self,
        endpoint: str,
        access_token: str,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        if not access_token:
            raise ValueError("iLiveIt access token is empty")
        self.endpoint = _base_url(endpoint)
        self._access_token = access_token
        self.timeout = (connect_timeout, read_timeout)
        self.session = session if session is not None else new_session()

    def __repr__(self) -> str:
        # Never the token: clients end up in task arguments and tracebacks.
        return f"<ILiveItClient {self.endpoint}>"

    def with_timeouts(self, *, connect_timeout: float, read_timeout: float) -> ILiveItClient:
        """The same application and connection pool with other timeouts."""
        return ILiveItClient(
            self.endpoint,
            self._access_token,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            session=self.session,
        )

    # --- routes ---------------------------------------------------------------------------------

    def ping(self) -> str:
        return _answer_text(self._request("GET", "ping"), "Body")

    def send(self, message: NewMessage) -> str:
        """Submit a message; returns its MessageID."""
        validate_new_message(message)
        return _answer_text(self._request("POST", "message/send", message.to_json()), "MessageID")

    def generate_video(self, request: BuildRequest) -> str:
        """Build a video from a template, then act on it; returns the MessageID."""
        validate_build_request(request)
        answer = self._request("POST", "generate/video", request.to_json())
        return _answer_text(answer, "MessageID")

    def status(self, message_id: str) -> StatusResult:
        validate_message_id(message_id)
        return _read(StatusResult, self._request("GET", f"message/{_segment(message_id)}/status"))

    def status_extended(self, message_id: str) -> StatusResult:
        """The status plus the network's own reference for the message."""
        validate_message_id(message_id)
        route = f"message/{_segment(message_id)}/statusExtended"
        return _read(StatusResult, self._request("GET", route))

    def archived_message(self, message_id: str) -> ArchivedMessage:
        validate_message_id(message_id)
        return _read(ArchivedMessage, self._request("GET", f"message/{_segment(message_id)}"))

    def resend(self, request: ResendRequest) -> str:
        """Send an archived message again; returns the new MessageID."""
        validate_resend_request(request)
        answer = self._request("POST", "message/resend", request.to_json())
        return _answer_text(answer, "MessageID")

    def scrub(self, msisdn: str) -> ScrubResult:
        """What iLiveIt knows about a handset; obey `allow_send`."""
        validate_msisdn(msisdn)
        return _read(ScrubResult, self._request("GET", f"scrub/{_segment(msisdn)}"))

    # --- the request seam -----------------------------------------------------------------------

    def _request(
        self, method: str, route: str, payload: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        headers = {
            "Authorization": f"Bearer {self._access_token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        body = None if payload is None else json.dumps(payload).encode("utf-8")
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                urljoin(self.endpoint, route),
                data=body,
                headers=headers,
                timeout=self.timeout,
                # A redirect would turn a POST into a GET; an endpoint that redirects is
                # misconfigured and should say so.
                allow_redirects=False,
            )
        except _TRANSPORT_ERRORS as error:
            logger.debug("iLiveIt %s %s failed: %r", method, route, error)
            raise _transport_error(error) from error
        logger.debug(
            "iLiveIt %s %s -> %s in %.0f ms",
            method,
            route,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        if not 200 <= response.status_code < 300:
            raise _status_error(response)
        return _json_object(response)


# --- failures -----------------------------------------------------------------------------------

_TRANSPORT_ERRORS = (
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


def _transport_error(error: requests.RequestException) -> APIUnavailable:
    return APIUnavailable(f"{type(error).__name__}: {error}", request_sent=not _never_left(error))


def _never_left(error: requests.RequestException) -> bool:
    """True only when the request surely never reached the API. Anything less certain counts
    as sent, because an unknown outcome is safe to reconcile and unsafe to resubmit."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    if not isinstance(error, requests.ConnectionError) or not error.args:
        return False
    cause = error.args[0]
    if isinstance(cause, MaxRetryError):
        cause = cause.reason
    return isinstance(cause, NewConnectionError)


def _status_error(response: requests.Response) -> ILiveItError:
    status = response.status_code
    text = _error_text(response)
    if status == 400:
        return BadRequest(text, status_code=status)
    if status == 401:
        return AuthFailed(text, status_code=status)
    if status == 404:
        return InvalidRoute(text, status_code=status)
    if status == 405:
        return InvalidMethod(text, status_code=status)
    if status == 429:
        return RateLimited(text, status_code=status, retry_after=_retry_after(response))
    if status >= 500:
        return APIUnavailable(text, status_code=status, request_sent=True)
    if status >= 400:
        # The provider's clients file every other 4xx under AuthFailed.
        return AuthFailed(text, status_code=status)
    location = response.headers.get("Location", "")
    return MalformedResponse(f"unexpected answer {location}".strip(), status_code=status)


def _error_text(response: requests.Response) -> str:
    """The API's {"Error": ...} text, or the HTTP reason when a proxy answered instead."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key, value in body.items():
            if key.lower() == "error" and isinstance(value, str) and value:
                return value
    return response.reason or f"HTTP {response.status_code}"


def _retry_after(response: requests.Response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


# --- reading answers ----------------------------------------------------------------------------


def _json_object(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise MalformedResponse(
            f"answer is not JSON: {response.text[:80]!r}", status_code=response.status_code
        ) from None
    if not isinstance(body, dict):
        raise MalformedResponse("answer is not a JSON object", status_code=response.status_code)
    return body


def _answer_text(answer: dict[str, Any], key: str) -> str:
    for name, value in answer.items():
        if name.lower() == key.lower() and isinstance(value, str) and value:
            return value
    raise MalformedResponse(f"answer has no {key}", status_code=200)


Answer = TypeVar("Answer", StatusResult, ArchivedMessage, ScrubResult)


def _read(kind: type[Answer], answer: Any) -> Answer:
    try:
        return kind.from_json(answer)
    except MalformedPayload as error:
        raise MalformedResponse(str(error), status_code=200) from error


def _segment(value: str) -> str:
    # Ids go into the path; quoting keeps an odd id from naming another route.
    if value in (".", ".."):
        # A step up the path to every URL parser on the way, quoted or not (requests unquotes
        # %2E), so it can only be refused.
        raise InvalidMessage("id", f"{value!r} is not an id")
    return quote(value, safe="")


def _base_url(endpoint: str) -> str:
    """The endpoint as a base that routes are joined to: whatever its path, ending in exactly
    one "/", so that "v1" stays in "https://host/v1/message/send"."""
    parts = urlsplit(endpoint)
    # Checked first, and never quoted back: a password would end up in logs.
    if "@" in parts.netloc:
        raise EndpointRefused("iLiveIt endpoint must not carry a user name or password")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointRefused(f"iLiveIt endpoint must be an http(s) URL, got {endpoint!r}")
    # Even an empty "?" or "#" would swallow the route joined after it.
    if "?" in endpoint or "#" in endpoint:
        raise EndpointRefused(f"iLiveIt endpoint must not have a query or fragment: {endpoint!r}")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/", "", ""))


# --- one client per application -----------------------------------------------------------------

_clients: dict[tuple[str, str], ILiveItClient] = {}
_clients_lock = threading.Lock()


def client_for(
    endpoint: str,
    access_token: str,
    *,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
) -> ILiveItClient:
    """The process-wide client of one application, so that every caller shares its pool of
    kept-alive connections."""
    key = (endpoint.rstrip("/"), access_token)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = ILiveItClient(
                endpoint,
                access_token,
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
            )
            _clients[key] = client
    if client.timeout != (connect_timeout, read_timeout):
        return client.with_timeouts(connect_timeout=connect_timeout, read_timeout=read_timeout)
    return client


def close_clients() -> None:
    """Forget every cached client and close its connections (tests, settings changes)."""
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        client.session.close()
