"""Helpers for talking to the sandbox over plain HTTP, as any client of the real API would."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.conftest import APP_A, APP_B, APP_SLOW
from tests.support.sandbox import SandboxApp, SandboxProcess


class Api:
    """One application's view of the sandbox's API."""

    def __init__(self, sandbox: SandboxProcess, app: SandboxApp) -> None:
        self.sandbox = sandbox
        self.app = app
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {app.token}"

    def get(self, route: str, **kwargs: Any) -> requests.Response:
        return self.http.get(f"{self.sandbox.url}/{route}", timeout=10, **kwargs)

    def post(self, route: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.http.post(f"{self.sandbox.url}/{route}", json=body, timeout=10, **kwargs)

    def submit(self, route: str, body: dict[str, Any]) -> str:
        response = self.post(route, body)
        assert response.status_code == 200, response.text
        return response.json()["MessageID"]

    def send(self, body: dict[str, Any]) -> str:
        return self.submit("message/send", body)

    def status(self, message_id: str) -> dict[str, Any]:
        response = self.get(f"message/{message_id}/status")
        assert response.status_code == 200, response.text
        return response.json()

    def wait_for_status(
        self, message_id: str, done: Callable[[dict[str, Any]], bool], timeout: float = 5.0
    ) -> dict[str, Any]:
        return wait_until(lambda: self.status(message_id), done, timeout)

    def wait_until_settled(self, message_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The status once the sandbox says the lifecycle has no more stages to run."""
        return wait_until(lambda: self.sandbox.message(message_id), _settled, timeout)["status"]


def _settled(record: dict[str, Any]) -> bool:
    return record["lifecycle_done"]


def wait_until(read: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {value}")
        time.sleep(0.02)


def delivered_postbacks(sandbox: SandboxProcess, count: int) -> list[dict[str, Any]]:
    """The sandbox's postback log once `count` deliveries have been answered 200. (A receiver
    records a post before it answers, so it can know of a post before the sandbox does.)"""
    return wait_until(
        sandbox.postbacks, lambda log: sum(entry["delivered"] for entry in log) == count
    )


@pytest.fixture
def api(sandbox: SandboxProcess) -> Api:
    return Api(sandbox, APP_A)


@pytest.fixture
def api_b(sandbox: SandboxProcess) -> Api:
    return Api(sandbox, APP_B)


@pytest.fixture
def api_slow(sandbox: SandboxProcess) -> Api:
    return Api(sandbox, APP_SLOW)
