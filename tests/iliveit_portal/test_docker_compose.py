"""The production stack's files: docker-compose.yml validated by Docker Compose itself (with
.env.example's values), its shape, .env.example and the Dockerfile."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.settings_process import load_settings

yaml = pytest.importorskip("yaml")

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
DOCKERFILE = REPO / "Dockerfile"
# Where .ci/run installs a compose binary from PyPI when the docker CLI has no plugin.
LOCAL_COMPOSE = REPO / "var" / "tools" / "compose" / "bin" / "docker-compose"

PORTAL_SERVICES = ("web", "worker", "postbacks-worker", "beat", "migrate")


def _version(command: list[str]) -> int | None:
    """The major version of a compose command, or None when it does not run."""
    try:
        result = subprocess.run(  # noqa: S603 - fixed commands
            [*command, "version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"version v?(\d+)\.", result.stdout + result.stderr)
    return int(match.group(1)) if result.returncode == 0 and match else None


def compose_command() -> list[str] | None:
    """A Compose v2 or later (v1 knows no `env_file: {path, required}`), or None."""
    candidates = []
    if os.environ.get("COMPOSE_BIN"):
        candidates.append(os.environ["COMPOSE_BIN"].split())
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    candidates.append([str(LOCAL_COMPOSE)])
    if shutil.which("docker-compose"):
        candidates.append(["docker-compose"])
    for command in candidates:
        if (_version(command) or 0) >= 2:
            return command
    return None


@pytest.fixture(scope="module")
def compose():
    command = compose_command()
    if command is None:
        pytest.skip(
            "no Docker Compose v2 binary: neither `docker compose` nor "
            f"{LOCAL_COMPOSE.relative_to(REPO)} (.ci/run installs it from PyPI)"
        )
    return command


def run_compose(compose, *args: str) -> subprocess.CompletedProcess:
    # Only .env.example's values: the test process's own SECRET_KEY, DATABASE_URL and the rest
    # must not stand in for a variable that .env.example forgot.
    environment = {key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ}
    return subprocess.run(  # noqa: S603 - our compose file, a fixed command
        [*compose, "-f", str(COMPOSE_FILE), "--env-file", str(ENV_EXAMPLE), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
        env=environment,
    )


@pytest.fixture(scope="module")
def stack() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


# --- validated by Docker Compose ------------------------------------------------------------


def test_compose_accepts_the_stack_with_the_example_settings(compose):
    result = run_compose(compose, "config", "--quiet")
    assert result.returncode == 0, result.stderr


def test_compose_accepts_the_stack_with_the_sandbox_profile(compose):
    result = run_compose(compose, "--profile", "sandbox", "config", "--quiet")
    assert result.returncode == 0, result.stderr
    services = run_compose(compose, "--profile", "sandbox", "config", "--services")
    assert "sandbox" in services.stdout.split()


def test_the_sandbox_is_left_out_without_its_profile(compose):
    result = run_compose(compose, "config", "--services")
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == {
        "postgres",
        "redis",
        "migrate",
        "web",
        "webhook",
        "worker",
        "postbacks-worker",
        "beat",
    }


def test_compose_refuses_the_stack_without_a_secret_key(compose, tmp_path):
    settings = {**env_example(), "SECRET_KEY": ""}
    env_file = tmp_path / "env"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
    result = subprocess.run(  # noqa: S603 - our compose file, a fixed command
        [*compose, "-f", str(COMPOSE_FILE), "--env-file", str(env_file), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
        env={key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ},
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


# --- the shape that matters ------------------------------------------------------------------


def test_the_stack_has_its_services_and_the_sandbox_only_in_its_profile(stack):
    services = stack["services"]
    expected = {"postgres", "redis", "migrate", "web", "webhook", "worker", "postbacks-worker"}
    expected.add("beat")
    assert expected | {"sandbox"} <= set(services)
    assert services["sandbox"]["profiles"] == ["sandbox"]
    for name, service in services.items():
        if name != "sandbox":
            assert "profiles" not in service, name


def test_every_long_running_service_has_a_health_check(stack):
    for name, service in stack["services"].items():
        if name == "migrate":
            continue  # a one-shot job; the others wait for it to complete
        assert service.get("healthcheck", {}).get("test"), name
        assert not service["healthcheck"].get("disable"), name
    web_check = " ".join(stack["services"]["web"]["healthcheck"]["test"])
    assert "/healthz" in web_check


def test_the_portal_waits_for_healthy_dependencies_and_the_migrations(stack):
    services = stack["services"]
    for name in ("web", "webhook", "worker", "postbacks-worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "migrate" in services["migrate"]["command"]


def test_data_lives_in_named_volumes(stack):
    volumes = stack["volumes"]
    assert {"postgres-data", "media"} <= set(volumes)
    assert "postgres-data:/var/lib/postgresql/data" in stack["services"]["postgres"]["volumes"]
    for name in ("web", "worker"):
        assert any(v.startswith("media:") for v in stack["services"][name]["volumes"]), name


def test_workers_and_web_can_be_scaled_out(stack):
    for name, service in stack["services"].items():
        assert "container_name" not in service, name
    worker = stack["services"]["worker"]
    assert "ports" not in worker
    # web publishes a range of host ports, one per container, never a single fixed one.
    (web_port,) = stack["services"]["web"]["ports"]
    assert re.search(r"\d+-\d+:8000$|WEB_PORTS", web_port)


def test_postbacks_have_web_processes_of_their_own(stack):
    web, webhook = stack["services"]["web"], stack["services"]["webhook"]
    # The same app and server; its own containers, host ports and size.
    assert webhook["command"] == web["command"]
    (webhook_port,) = webhook["ports"]
    assert re.search(r"WEBHOOK_PORTS:-8010-8019\}:8000$", webhook_port)
    assert webhook["environment"]["WEB_CONCURRENCY"] == "${WEBHOOK_CONCURRENCY:-4}"
    assert webhook["environment"]["DJANGO_SETTINGS_MODULE"] == "iliveit_portal.webhook_settings"
    assert "/healthz" in " ".join(webhook["healthcheck"]["test"])


def test_workers_yield_the_cpu_to_postbacks_and_pages(stack):
    services = stack["services"]
    for name in ("worker", "postbacks-worker"):
        assert services[name]["cpu_shares"] == "${WORKER_CPU_SHARES:-128}", name
    # Docker's default weight, 1024, for the processes that answer requests.
    for name in ("web", "webhook"):
        assert "cpu_shares" not in services[name], name


def test_settings_come_from_the_environment(stack):
    web = stack["services"]["web"]
    assert web["env_file"][0]["path"] == ".env"
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "POSTBACK_KEYS", "PORTAL_BASE_URL"):
        assert web["environment"][name] == f"${{{name}:?set {name} in .env}}"
    assert web["environment"]["PROMETHEUS_MULTIPROC_DIR"]


def test_env_example_lists_every_variable_the_compose_file_reads():
    used = set(re.findall(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)", COMPOSE_FILE.read_text()))
    listed = set(env_example())
    assert used, "the compose file reads no variables?"
    assert used <= listed, f"missing from .env.example: {sorted(used - listed)}"
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "POSTBACK_KEYS", "PORTAL_BASE_URL"} <= listed


# --- the image -------------------------------------------------------------------------------


def dockerfile_lines() -> list[str]:
    # Continuation lines joined, comments dropped.
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def test_the_image_runs_as_a_non_root_user():
    users = [line.split(None, 1)[1] for line in dockerfile_lines() if line.startswith("USER ")]
    assert users, "the Dockerfile has no USER line"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")


def test_the_image_installs_from_the_lock_and_collects_static_files():
    lines = dockerfile_lines()
    assert lines[0].startswith("FROM python:3.11-slim")
    assert any("pip install -c requirements.lock ." in line for line in lines)
    assert any("collectstatic" in line for line in lines)
    assert any(line.startswith("ENV") and "STATICFILES_MANIFEST=1" in line for line in lines)
    assert "gunicorn" in [line for line in lines if line.startswith("CMD")][-1]


def test_the_build_context_leaves_out_secrets_and_local_state():
    ignored = (REPO / ".dockerignore").read_text().split()
    for entry in (".env", ".git", ".venv", "var"):
        assert entry in ignored


def test_the_example_settings_let_the_portal_send_to_the_sandbox_container():
    # DEBUG is off in the stack, so only ILIVEIT_HTTP_HOSTS lets plain http reach `sandbox`.
    values = env_example()
    env = {key: values[key] for key in values if key.startswith("ILIVEIT_")}
    script = (
        "from django.conf import settings; from messaging.endpoints import endpoint_refusal; "
        "print(repr(endpoint_refusal(settings.ILIVEIT_ENDPOINT)))"
    )
    result = load_settings(
        script,
        **env,
        DEBUG="0",
        SECRET_KEY=values["SECRET_KEY"],
        ALLOWED_HOSTS=values["ALLOWED_HOSTS"],
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "''"
