import pytest

from messaging.models import Application
from tests.conftest import APP_A


@pytest.fixture
def sandbox_application(sandbox):
    """An application that sends to the test sandbox as APP_A."""
    return Application.objects.create(
        name="Sandbox A",
        endpoint=sandbox.url,
        token=APP_A.token,
        mvno_id=APP_A.mvno_id,
        rate_limit=500,
    )
