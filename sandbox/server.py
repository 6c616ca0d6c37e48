"""HTTP plumbing: one thread per connection, HTTP/1.1 keep-alive, JSON in and out.

Order of checks on an API call, as the provider's router does it: route (404), verb (405),
token (401), rate limit (429), then the route's own validation (400) and answer.
"""

from __future__ import annotations

import json
import logging
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from sandbox import api, control
from sandbox.config import App
from sandbox.state import Sandbox
from sandbox.validation import ValidationError
from sandbox.web import ApiError, Request, Response, RouteTable

log = logging.getLogger(__name__)

CONTROL_PREFIX = "_sandbox/"
# Large enough for an MMS carrying a video slide as base64.
MAX_BODY_BYTES = 50 * 1024 * 1024
# Idle keep-alive connections are closed after this long; clients reconnect as they would.
IDLE_TIMEOUT_SECONDS = 120

API_ROUTES = api.build_routes()
CONTROL_ROUTES = control.build_routes()


def dispatch(sandbox: Sandbox, request: Request) -> Response:
    if request.route.startswith(CONTROL_PREFIX):
        request.route = request.route.removeprefix(CONTROL_PREFIX)
        return _run(CONTROL_ROUTES, sandbox, request, authenticate=False)
    response = _run(API_ROUTES, sandbox, request, authenticate=True)
    sandbox.stats.count_api_answer(response.status)
    return response


def _run(routes: RouteTable, sandbox: Sandbox, request: Request, *, authenticate: bool) -> Response:
    try:
        handler, request.params = routes.resolve(request.method, request.route)
        if authenticate:
            request.app = _authenticate(sandbox, request)
            if not sandbox.limiter.allow(request.app.token):
                raise ApiError(429, api.RATE_LIMITED)
        return handler(sandbox, request)
    except ValidationError as error:
        return Response(400, {"Error": str(error)})
    except ApiError as error:
        return Response(error.status, {"Error": error.message})
    except Exception:
        log.exception("%s /%s failed", request.method, request.route)
        return Response(500, {"Error": "Internal server error"})


def _authenticate(sandbox: Sandbox, request: Request) -> App:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    app = sandbox.apps.get(token.strip()) if scheme.lower() == "bearer" else None
    if app is None:
        raise ApiError(401, "Authentication failed")
    return app


class SandboxRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "iLiveItSandbox/1.0"
    timeout = IDLE_TIMEOUT_SECONDS
    # Headers and body go out in two writes; with Nagle on, the body then waits for the
    # client's delayed ACK (about 40 ms) on every kept-alive request.
    disable_nagle_algorithm = True
    server: SandboxHTTPServer

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _handle(self) -> None:
        started = time.monotonic()
        body = self._read_body()
        if body is None:
            return
        url = urlsplit(self.path)
        request = Request(
            method=self.command,
            route=url.path.lstrip("/"),
            query=dict(parse_qsl(url.query)),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        response = dispatch(self.server.sandbox, request)
        self._answer(response)
        log.debug(
            "%s %s -> %d in %.1f ms",
            self.command,
            self.path,
            response.status,
            (time.monotonic() - started) * 1000,
        )

    def _read_body(self) -> bytes | None:
        """The request body, or None after answering a request whose body cannot be read
        (the connection is then closed, as its framing is lost)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self._answer(Response(411, {"Error": "Content-Length required"}), close=True)
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self._answer(Response(400, {"Error": "Invalid Content-Length"}), close=True)
            return None
        if length > MAX_BODY_BYTES:
            self._answer(Response(413, {"Error": "Request body too large"}), close=True)
            return None
        return self.rfile.read(length)

    def _answer(self, response: Response, *, close: bool = False) -> None:
        payload = json.dumps(response.body).encode()
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        try:
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # A client that timed out (the slow recipients are for exactly that) has gone.
            log.debug("%s %s: client went away before the answer", self.command, self.path)
            self.close_connection = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # requests are logged once, with their duration, in `_handle`

    def log_message(self, format: str, *args: object) -> None:
        log.debug(format, *args)


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 drops connections when a benchmark opens many at once.
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        super().__init__(address, SandboxRequestHandler)
