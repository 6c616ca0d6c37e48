import pytest
from django.core.exceptions import ImproperlyConfigured

from iliveit_portal.redis_urls import celery_broker_url


def test_a_tcp_url_serves_celery_as_it_is():
    assert celery_broker_url("redis://127.0.0.1:6379/2") == "redis://127.0.0.1:6379/2"


def test_a_unix_socket_url_becomes_kombus_socket_form():
    assert (
        celery_broker_url("unix:///tmp/r.sock?db=3") == "redis+socket:///tmp/r.sock?virtual_host=3"
    )


def test_another_scheme_is_refused():
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        celery_broker_url("amqp://guest@localhost//")
