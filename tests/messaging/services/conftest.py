"""The fixtures of the messaging services' tests: no workers run, so every service is called
inline, against the sandbox's application."""

import pytest


@pytest.fixture(autouse=True)
def _no_workers(empty_task_queue):
    pass


@pytest.fixture
def application(sandbox_application):
    """The services are called inline, against the sandbox."""
    return sandbox_application
