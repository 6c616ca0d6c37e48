"""Applications made straight in the database."""

from messaging.models import Application
from tests.support.sandbox import SandboxApp, SandboxProcess

# Long and distinctive, so that "it is not in the page" cannot pass by accident.
TOKEN = "tok-5f0e9c2b7a4d4e8f9b1c3a6d2e7f8a90-live"


def make_application(name: str = "App A", token: str = TOKEN) -> Application:
    """An application whose endpoint nothing answers on: for tests that never call iLiveIt
    (those that do use the sandbox_application fixture)."""
    return Application.objects.create(
        name=name,
        endpoint="http://127.0.0.1:8765",
        token=token,
        mvno_id=101,
        rate_limit=50,
    )


def make_sandbox_application(
    sandbox: SandboxProcess, app: SandboxApp, *, name: str = "", rate_limit: int = 500
) -> Application:
    """An application that sends to the test sandbox as `app` (tests/conftest.py's APP_A,
    APP_B, ...): the sandbox_application fixture, or another of its applications."""
    return Application.objects.create(
        name=name or f"Sandbox {app.token}",
        endpoint=sandbox.url,
        token=app.token,
        mvno_id=app.mvno_id,
        rate_limit=rate_limit,
    )
