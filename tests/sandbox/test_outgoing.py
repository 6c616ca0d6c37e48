"""The kept-alive HTTP client the postback senders use."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sandbox.outgoing import KeepAliveClient
from tests.support.sandbox import free_port


class Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *, close_after_each: bool, idle_timeout: float | None) -> None:
        self.close_after_each = close_after_each
        self.client_ports: list[int] = []
        self.bodies: list[bytes] = []
        self.content_types: list[str | None] = []
        handler = type("Handler", (RecordingHandler,), {"timeout": idle_timeout})
        super().__init__(("127.0.0.1", 0), handler)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class RecordingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Recorder

    def do_POST(self) -> None:
        self.server.client_ports.append(self.client_address[1])
        self.server.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.content_types.append(self.headers.get("Content-Type"))
        self.send_response(201 if self.path == "/created" else 200)
        self.send_header("Content-Length", "0")
        if self.server.close_after_each:
            self.send_header("Connection", "close")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def serving(*, close_after_each: bool = False, idle_timeout: float | None = None):
    server = Recorder(close_after_each=close_after_each, idle_timeout=idle_timeout)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def receiver() -> Iterator[Recorder]:
    yield from serving()


@pytest.fixture
def closing_receiver() -> Iterator[Recorder]:
    yield from serving(close_after_each=True)


@pytest.fixture
def client() -> Iterator[KeepAliveClient]:
    client = KeepAliveClient(connect_timeout=1, read_timeout=2)
    yield client
    client.close()


def test_it_posts_json_and_returns_the_status(receiver: Recorder, client) -> None:
    assert client.post(receiver.url(), b'{"a": 1}') == 200
    assert client.post(receiver.url("/created"), b"{}") == 201

    assert receiver.bodies == [b'{"a": 1}', b"{}"]
    assert receiver.content_types == ["application/json"] * 2


def test_it_keeps_one_connection_alive_per_origin(receiver: Recorder, client) -> None:
    for n in range(5):
        client.post(receiver.url(f"/status/{n}?ref={n}"), b"{}")

    assert len(set(receiver.client_ports)) == 1


def test_it_reconnects_when_the_server_closed_the_connection(
    closing_receiver: Recorder, client
) -> None:
    statuses = [client.post(closing_receiver.url(), b"{}") for _ in range(3)]

    assert statuses == [200, 200, 200]
    assert len(set(closing_receiver.client_ports)) == 3


def test_it_reconnects_when_the_server_dropped_an_idle_connection(client) -> None:
    for receiver in serving(idle_timeout=0.1):
        assert client.post(receiver.url(), b"{}") == 200
        time.sleep(0.3)  # the server closes the idle kept-alive connection meanwhile

        assert client.post(receiver.url(), b"{}") == 200
        assert len(set(receiver.client_ports)) == 2


def test_an_unreachable_receiver_raises(client) -> None:
    with pytest.raises(OSError):
        client.post(f"http://127.0.0.1:{free_port()}/hook", b"{}")


def test_a_url_it_cannot_post_to_raises(client) -> None:
    with pytest.raises(http.client.HTTPException):
        client.post("ftp://example.com/hook", b"{}")
