"""POST JSON over kept-alive connections, one per origin, for one postback sender thread.

Plain http.client rather than requests: a benchmark schedules about a thousand postbacks a
second, and on a small machine requests' per-call work (settings merging, hooks, cookie jars,
pool bookkeeping: about 0.9 ms of CPU per POST, against about 0.2 ms here) would make the
sandbox, not the portal, the bottleneck.
"""

from __future__ import annotations

import http.client
import select
from urllib.parse import urlsplit

HEADERS = {"Content-Type": "application/json", "User-Agent": "iLiveIt-Sandbox/1"}

Origin = tuple[str, str, int]


class KeepAliveClient:
    """Not thread-safe: each sender thread owns one."""

    def __init__(self, *, connect_timeout: float, read_timeout: float) -> None:
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._connections: dict[Origin, http.client.HTTPConnection] = {}

    def post(self, url: str, payload: bytes) -> int:
        """The answer's HTTP status; OSError or http.client.HTTPException when none came."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise http.client.InvalidURL(url)
        origin = (parts.scheme, parts.hostname, parts.port or _default_port(parts.scheme))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection = self._connection(origin)
        try:
            connection.request("POST", target, body=payload, headers=HEADERS)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            self._drop(origin)
            raise
        if response.will_close:
            self._drop(origin)
        return response.status

    def close(self) -> None:
        for origin in list(self._connections):
            self._drop(origin)

    def _connection(self, origin: Origin) -> http.client.HTTPConnection:
        connection = self._connections.get(origin)
        if connection is not None and _closed_by_peer(connection):
            self._drop(origin)
            connection = None
        if connection is None:
            scheme, host, port = origin
            factory = (
                http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            )
            connection = factory(host, port, timeout=self._connect_timeout)
            try:
                connection.connect()
            except OSError:
                connection.close()
                raise
            connection.sock.settimeout(self._read_timeout)
            self._connections[origin] = connection
        return connection

    def _drop(self, origin: Origin) -> None:
        connection = self._connections.pop(origin, None)
        if connection is not None:
            connection.close()


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _closed_by_peer(connection: http.client.HTTPConnection) -> bool:
    """An idle kept-alive socket has nothing to read unless the server closed it (a receiver's
    keep-alive timeout); checking first spares a failed POST and a back-off."""
    if connection.sock is None:
        return True
    # poll, not select: select fails on descriptors above 1023, which a busy sandbox reaches.
    poller = select.poll()
    poller.register(connection.sock, select.POLLIN)
    return bool(poller.poll(0))
