"""Settings are read at import, so each case starts a fresh interpreter with its own environment."""

import re

import pytest

from tests.support.sandbox import REPO_ROOT
from tests.support.settings_process import load_settings as load_script
from tests.support.settings_process import settings_values

PRINT_SETTINGS = (
    "from django.conf import settings as s; "
    "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.ILIVEIT_ENVIRONMENT, "
    "s.ILIVEIT_MVNO_ID, s.PORTAL_BASE_URL)"
)


def load_settings(**env: str):
    return load_script(PRINT_SETTINGS, **env)


PRODUCTION = {"SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "portal.example.com"}


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = load_settings(ALLOWED_HOSTS="portal.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY is missing" in result.stderr


def test_it_refuses_the_development_secret_key_when_debug_is_off():
    result = load_settings(
        SECRET_KEY="dev-only-insecure-key-do-not-use-in-production", ALLOWED_HOSTS="a.example"
    )
    assert result.returncode != 0
    assert "development default" in result.stderr


def test_it_refuses_to_start_with_empty_allowed_hosts_when_debug_is_off():
    result = load_settings(SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is empty" in result.stderr


def test_it_refuses_a_secret_key_shorter_than_50_characters_when_debug_is_off():
    result = load_settings(SECRET_KEY="k" * 49, ALLOWED_HOSTS="portal.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY is 49 characters long; it must be at least 50" in result.stderr


@pytest.mark.parametrize("hosts", ["*", "portal.example.com,*", "*.example.com"])
def test_it_refuses_a_wildcard_in_allowed_hosts_when_debug_is_off(hosts):
    result = load_settings(SECRET_KEY="x" * 50, ALLOWED_HOSTS=hosts)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must not contain '*'" in result.stderr


# Where the repository sets a key for a process that starts with DEBUG off.
KEYS_SHIPPED_IN = [
    "Dockerfile",
    ".env.example",
    "bench/common.py",
    "bench/recipients_import.py",
    "iliveit_portal/testing.py",
]


@pytest.mark.parametrize("path", KEYS_SHIPPED_IN)
def test_the_keys_the_repository_ships_are_long_enough(path):
    text = (REPO_ROOT / path).read_text()
    keys = re.findall(r'SECRET_KEY(?:=|",\s*)"?([A-Za-z0-9_-]+)', text)
    assert keys, path
    assert all(len(key) >= 50 for key in keys), keys


def test_debug_mode_takes_a_short_key_and_any_host():
    result = load_settings(DEBUG="1", SECRET_KEY="short", ALLOWED_HOSTS="*")
    assert result.returncode == 0, result.stderr


def test_debug_mode_starts_with_no_configuration_on_sqlite():
    result = load_settings(DEBUG="1")
    assert result.returncode == 0, result.stderr
    engine, broker, environment, mvno, base_url = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert broker == "redis://127.0.0.1:6379/0"
    assert environment == "staging"
    assert mvno == "0"
    assert base_url == "http://127.0.0.1:8000"


def test_database_and_redis_urls_are_honoured():
    result = load_settings(
        **PRODUCTION,
        DATABASE_URL="postgres://u@db.example:5432/portal",
        REDIS_URL="unix:///run/redis.sock?db=1",
        ILIVEIT_ENVIRONMENT="production",
        ILIVEIT_MVNO_ID="42",
        PORTAL_BASE_URL="https://portal.example.com/",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "redis+socket:///run/redis.sock?virtual_host=1",
        "production",
        "42",
        "https://portal.example.com",
    ]


@pytest.mark.parametrize(("value", "checked"), [(None, True), ("0", False), ("1", True)])
def test_postgresql_connections_are_health_checked_unless_switched_off(value, checked):
    env = {**PRODUCTION, "DATABASE_URL": "postgres://u@db.example:5432/portal"}
    if value is not None:
        env["DATABASE_CONN_HEALTH_CHECKS"] = value

    database = settings_values(["DATABASES"], **env)["DATABASES"]["default"]

    assert database["CONN_HEALTH_CHECKS"] is checked
    assert database["CONN_MAX_AGE"] == 600


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("DEBUG", "sometimes", "DEBUG must be a boolean"),
        ("DATABASE_CONN_HEALTH_CHECKS", "maybe", "DATABASE_CONN_HEALTH_CHECKS must be a boolean"),
        ("ILIVEIT_ENVIRONMENT", "prod", "ILIVEIT_ENVIRONMENT must be one of"),
        ("ILIVEIT_MVNO_ID", "abc", "ILIVEIT_MVNO_ID must be a whole number"),
        ("REDIS_URL", "memcached://x", "REDIS_URL must start with"),
        ("TRUSTED_PROXY_COUNT", "-1", "TRUSTED_PROXY_COUNT must be at least 0"),
    ],
)
def test_a_bad_value_stops_the_start_with_its_name(name, value, reason):
    result = load_settings(**{**PRODUCTION, "BEHIND_PROXY": "1", name: value})
    assert result.returncode != 0
    assert reason in result.stderr


def test_endpoint_hosts_default_to_the_iliveit_endpoints_host():
    values = settings_values(
        ["ILIVEIT_ENDPOINT_HOSTS", "ILIVEIT_ALLOW_LOOPBACK_HTTP"],
        **PRODUCTION,
        ILIVEIT_ENDPOINT="https://API.iLiveIt.example/v1",
    )
    assert values == {
        "ILIVEIT_ENDPOINT_HOSTS": ["api.iliveit.example"],
        "ILIVEIT_ALLOW_LOOPBACK_HTTP": False,
    }


def test_endpoint_hosts_can_be_listed_and_the_sandbox_is_allowed_in_development():
    values = settings_values(
        ["ILIVEIT_ENDPOINT_HOSTS", "ILIVEIT_ALLOW_LOOPBACK_HTTP"],
        DEBUG="1",
        ILIVEIT_ENDPOINT_HOSTS="staging.iliveit.example, API.iliveit.example",
    )
    assert values == {
        "ILIVEIT_ENDPOINT_HOSTS": ["staging.iliveit.example", "api.iliveit.example"],
        "ILIVEIT_ALLOW_LOOPBACK_HTTP": True,
    }
