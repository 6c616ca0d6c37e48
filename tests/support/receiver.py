"""A small HTTP server that stands in for the portal's postback webhook inside a test."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class ReceivedPost:
    path: str
    body: bytes
    headers: dict[str, str]
    answered: int
    at: float = field(default_factory=time.monotonic)

    def json(self):
        return json.loads(self.body)


class PostbackReceiver:
    def __init__(self) -> None:
        self.posts: list[ReceivedPost] = []
        self._failures_left = 0
        self._failure_status = 500
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The answer's two writes would otherwise wait ~40 ms for a delayed ACK each post.
            disable_nagle_algorithm = True

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status = receiver._next_status()
                with receiver._lock:
                    receiver.posts.append(
                        ReceivedPost(self.path, body, dict(self.headers.items()), status)
                    )
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def url(self, path: str = "/postback") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next `count` posts with `status` instead of 200."""
        with self._lock:
            self._failures_left = count
            self._failure_status = status

    def _next_status(self) -> int:
        with self._lock:
            if self._failures_left > 0:
                self._failures_left -= 1
                return self._failure_status
            return 200

    def accepted(self, path: str | None = None) -> list[ReceivedPost]:
        with self._lock:
            return [p for p in self.posts if p.answered == 200 and (path is None or p.path == path)]

    def wait_for(self, predicate: Callable[[PostbackReceiver], bool], timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return
            time.sleep(0.02)
        raise AssertionError(f"receiver condition not met in {timeout}s; got {len(self.posts)}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
