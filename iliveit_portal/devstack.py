"""`make run`: the portal, Celery workers (sending's and postbacks'), beat and the iLiveIt
sandbox in one terminal.

With nothing configured it uses SQLite and an embedded Redis, so a newcomer installs nothing by
hand. DATABASE_URL, REDIS_URL and ILIVEIT_ENDPOINT, when set, are used instead, and a set
ILIVEIT_ENDPOINT means no sandbox is started.

While it runs, the settings it gave its processes are in var/devstack.env, which manage.py
reads (devstack_env_load): a command typed in a second terminal reaches this stack's database,
embedded Redis and web port without anything exported.
"""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import MutableMapping
from pathlib import Path

from iliveit_portal.queues import celery_queues

REPO_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", REPO_ROOT / "var"))

SANDBOX_PORT = int(os.environ.get("SANDBOX_PORT", "8765"))
SANDBOX_TOKEN = "sandbox-token"  # noqa: S105 - the local sandbox's published demo token
SANDBOX_MVNO_ID = 1
SANDBOX_RATE = 50
WEB_PORT = int(os.environ.get("PORT", "8000"))
DEMO_USERNAME = "admin"

ENV_FILE = VAR_DIR / "devstack.env"
# What a command needs to reach the running stack: the same database, broker, signing key
# (postback URLs are signed with it) and the URLs of the web server and iLiveIt.
ENV_FILE_KEYS = (
    "DEBUG",
    "SECRET_KEY",
    "POSTBACK_KEYS",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_QUEUE",
    "MEDIA_ROOT",
    "PORTAL_BASE_URL",
    "ILIVEIT_ENVIRONMENT",
    "ILIVEIT_ENDPOINT",
    "ILIVEIT_ACCESS_TOKEN",
    "ILIVEIT_MVNO_ID",
)
_PID_KEY = "DEVSTACK_PID"


def _defaults() -> dict[str, str]:
    return {
        "DEBUG": "1",
        "PORTAL_BASE_URL": f"http://127.0.0.1:{WEB_PORT}",
        "ILIVEIT_ENDPOINT": f"http://127.0.0.1:{SANDBOX_PORT}",
        "ILIVEIT_ACCESS_TOKEN": SANDBOX_TOKEN,
        "ILIVEIT_MVNO_ID": str(SANDBOX_MVNO_ID),
        "DEMO_ADMIN_PASSWORD": "admin",
    }


def devstack_env_write(env: dict[str, str], *, path: Path = ENV_FILE) -> None:
    """Leave this stack's settings where manage.py finds them. Only this user may read it: it
    can hold the signing key and the iLiveIt token."""
    lines = [
        "# Written by `make run` while it runs, read by manage.py; removed when it stops.",
        f"{_PID_KEY}={os.getpid()}",
        *(f"{key}={env[key]}" for key in ENV_FILE_KEYS if env.get(key)),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write("\n".join(lines) + "\n")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive, but not ours to trust
        return False
    return True


def devstack_env_load(
    environ: MutableMapping[str, str] = os.environ, *, path: Path = ENV_FILE
) -> bool:
    """Fill the settings a running `make run` left in `path` into `environ`, where they are
    not set already (what the shell exports wins). A file whose stack is gone (killed, so it
    could not remove it) is ignored. Answers whether it was read."""
    try:
        text = path.read_text()
    except OSError:
        return False
    values = dict(
        line.split("=", 1)
        for line in text.splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    )
    pid = values.pop(_PID_KEY, "")
    if not (pid.isdigit() and _alive(int(pid))):
        return False
    for key, value in values.items():
        if key in ENV_FILE_KEYS:
            environ.setdefault(key, value)
    return True


def _pump(name: str, stream, ready: threading.Event | None = None) -> None:
    """Prefix each line of a child's output with its name, so four logs stay readable."""
    for line in iter(stream.readline, b""):
        text = line.decode(errors="replace")
        sys.stdout.write(f"{name:>8} | {text}")
        sys.stdout.flush()
        if ready is not None and " ready." in text:  # Celery's "celery@host ready."
            ready.set()


def _banner(env: dict[str, str], *, user_set_endpoint: bool) -> str:
    return (
        f"\n  iLiveIt Portal:  http://127.0.0.1:{WEB_PORT}/\n"
        f"  Sign in:         {DEMO_USERNAME} / {env['DEMO_ADMIN_PASSWORD']}\n"
        f"  iLiveIt API:     {env['ILIVEIT_ENDPOINT']}"
        f"{' (sandbox)' if not user_set_endpoint else ''}\n"
        f"  Commands:        .venv/bin/python manage.py ... in another terminal reach this stack\n"
        f"                   (its settings are in {ENV_FILE})\n"
        f"  Stop with Ctrl-C.\n"
    )


def _web_answers() -> bool:
    url = f"http://127.0.0.1:{WEB_PORT}/healthz"
    with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1):
        return True
    return False


def _start(
    name: str, args: list[str], env: dict[str, str], ready: threading.Event | None = None
) -> subprocess.Popen:
    process = subprocess.Popen(  # noqa: S603 - fixed argument lists built here
        args,
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # so a stop reaches the whole group, runserver's reloader too
    )
    threading.Thread(target=_pump, args=(name, process.stdout, ready), daemon=True).start()
    return process


def _stop(processes: dict[str, subprocess.Popen]) -> None:
    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def run() -> int:
    user_set_endpoint = "ILIVEIT_ENDPOINT" in os.environ
    env = {**_defaults(), **os.environ}
    VAR_DIR.mkdir(parents=True, exist_ok=True)

    redis_server = None
    if not env.get("REDIS_URL"):
        from iliveit_portal.embedded_redis import start_embedded_redis, stop_embedded_redis

        redis_server, env["REDIS_URL"] = start_embedded_redis(VAR_DIR / "redis.db")

    python = sys.executable
    manage = [python, str(REPO_ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input"], env=env, check=True)  # noqa: S603
    subprocess.run([*manage, "ensuredemo"], env=env, check=True)  # noqa: S603

    processes: dict[str, subprocess.Popen] = {}
    if not user_set_endpoint:
        processes["sandbox"] = _start(
            "sandbox",
            [
                python,
                "-m",
                "sandbox",
                "--host",
                "127.0.0.1",
                "--port",
                str(SANDBOX_PORT),
                "--app",
                f"{SANDBOX_TOKEN}:{SANDBOX_MVNO_ID}:{SANDBOX_RATE}",
                "--step-seconds",
                "2",
            ],
            env,
        )
    celery = [python, "-m", "celery", "-A", "iliveit_portal"]
    sending_queue, postbacks_queue = celery_queues(env)
    worker_ready = threading.Event()
    processes["worker"] = _start(
        "worker",
        [*celery, "worker", "--loglevel", "info", "--concurrency", "2", "-Q", sending_queue],
        env,
        ready=worker_ready,
    )
    # Postbacks are applied by a worker of their own, so a campaign's queued submit chunks
    # never hold them up.
    processes["postbacks"] = _start(
        "postbacks",
        [
            *celery,
            *("worker", "--loglevel", "info", "--concurrency", "1"),
            *("-Q", postbacks_queue, "-n", "postbacks@%h"),
        ],
        env,
    )
    processes["beat"] = _start(
        "beat",
        [*celery, "beat", "--loglevel", "info", "--schedule", str(VAR_DIR / "celerybeat-schedule")],
        env,
    )
    processes["web"] = _start("web", [*manage, "runserver", f"127.0.0.1:{WEB_PORT}"], env)

    devstack_env_write(env)
    banner = _banner(env, user_set_endpoint=user_set_endpoint)
    print(banner, flush=True)

    # SIGTERM stops the stack as Ctrl-C does. The handler only raises: a handler that touched
    # a lock the main thread might hold (an Event's) could hang the stop for good.
    signal.signal(signal.SIGTERM, _interrupt)
    exit_code = 0
    announced = False
    try:
        while exit_code == 0:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"{name} exited with {process.returncode}; stopping the rest.")
                    exit_code = process.returncode or 1
            if not announced and worker_ready.is_set() and _web_answers():
                # Again once everything answers: by then the start-up logs have pushed the
                # first one off the screen.
                print(f"\n  Ready.{banner}", flush=True)
                announced = True
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        ENV_FILE.unlink(missing_ok=True)
        _stop(processes)
        if redis_server is not None:
            stop_embedded_redis(redis_server)
    return exit_code


if __name__ == "__main__":
    if sys.argv[1:] not in ([], ["run"]):
        sys.exit("usage: python -m iliveit_portal.devstack [run]")
    sys.exit(run())
