"""The endpoint rule: an application's token goes to iLiveIt and nowhere else."""

import pytest

from messaging.endpoints import endpoint_refusal

ILIVEIT = "api.iliveit.example"


@pytest.fixture(autouse=True)
def _production_like(settings):
    settings.ILIVEIT_ENDPOINT_HOSTS = [ILIVEIT, "127.0.0.1"]
    settings.ILIVEIT_ALLOW_LOOPBACK_HTTP = False


@pytest.mark.parametrize(
    "endpoint",
    [f"https://{ILIVEIT}", f"https://{ILIVEIT}/v1/", "https://API.iliveit.example:8443/api"],
)
def test_https_to_an_allowed_host_is_accepted(endpoint):
    assert endpoint_refusal(endpoint) == ""


@pytest.mark.parametrize(
    ("endpoint", "reason"),
    [
        (f"http://{ILIVEIT}", "must use https"),
        ("http://127.0.0.1:9999/internal", "must use https"),
        (f"ftp://{ILIVEIT}", "must use https"),
        ("https://evil.example", "must be on an iLiveIt host"),
        (f"https://{ILIVEIT}.evil.example", "must be on an iLiveIt host"),
        (f"https://user:secret@{ILIVEIT}", "user name or password"),
        (f"https://{ILIVEIT}@evil.example", "user name or password"),
        (f"https://{ILIVEIT}/?x=1", "query"),
        (f"https://{ILIVEIT}?", "query"),
        (f"https://{ILIVEIT}/internal#", "fragment"),
        (f"https://{ILIVEIT}:99999", "not a valid URL"),
        ("", "must use https"),
    ],
)
def test_anything_else_is_refused_with_the_reason(endpoint, reason):
    assert reason in endpoint_refusal(endpoint)


def test_plain_http_reaches_only_a_loopback_sandbox_and_only_when_allowed(settings):
    assert "https" in endpoint_refusal("http://127.0.0.1:8765")

    settings.ILIVEIT_ALLOW_LOOPBACK_HTTP = True

    assert endpoint_refusal("http://127.0.0.1:8765") == ""
    assert "fragment" in endpoint_refusal("http://127.0.0.1:9999/internal#")
    assert "https" in endpoint_refusal(f"http://{ILIVEIT}")
    # Loopback, but not a listed host.
    assert "iLiveIt host" in endpoint_refusal("http://localhost:8765")


def test_plain_http_reaches_a_host_the_operator_named_and_no_other(settings):
    settings.ILIVEIT_ENDPOINT_HOSTS = ["sandbox"]
    assert "https" in endpoint_refusal("http://sandbox:8765")

    settings.ILIVEIT_HTTP_HOSTS = ["sandbox"]

    assert endpoint_refusal("http://sandbox:8765") == ""
    assert "https" in endpoint_refusal("http://evil.example:8765")
