"""The small pieces every route shares: a request, an answer, an error and a route table."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from sandbox.config import App


class ApiError(Exception):
    """Answered as `{"Error": message}` with `status`, the provider's error shape."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Request:
    method: str
    route: str  # the path without its leading "/" and query string
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    app: App | None = None

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise ApiError(400, "body: is not valid JSON") from None

    @property
    def token(self) -> str:
        assert self.app is not None, "only authenticated routes ask for the token"
        return self.app.token


@dataclass
class Response:
    status: int
    body: Any


def ok(body: Any) -> Response:
    return Response(200, body)


Handler = Callable[[Any, Request], Response]


class RouteTable:
    """Routes by path template ("message/{id}/status") and verb.

    The first template whose path matches decides: a known path with another verb is a 405,
    even when a later template would take that verb (GET message/send is "Invalid method",
    not a lookup of a message called "send"). So list literal paths before templated ones.
    """

    def __init__(self) -> None:
        self._routes: list[tuple[re.Pattern[str], dict[str, Handler]]] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        pattern = re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template))
        for existing, handlers in self._routes:
            if existing.pattern == pattern.pattern:
                handlers[method] = handler
                return
        self._routes.append((pattern, {method: handler}))

    def resolve(self, method: str, route: str) -> tuple[Handler, dict[str, str]]:
        for pattern, handlers in self._routes:
            found = pattern.fullmatch(route)
            if found:
                if method not in handlers:
                    raise ApiError(405, "Invalid method")
                return handlers[method], {k: unquote(v) for k, v in found.groupdict().items()}
        raise ApiError(404, "Invalid route")
