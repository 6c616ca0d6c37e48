"""`make run`: the portal, a Celery worker, beat and the iLiveIt sandbox in one terminal.

With nothing configured it uses SQLite and an embedded Redis, so a newcomer installs nothing by
hand. DATABASE_URL, REDIS_URL and ILIVEIT_ENDPOINT, when set, are used instead, and a set
ILIVEIT_ENDPOINT means no sandbox is started.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", REPO_ROOT / "var"))

SANDBOX_PORT = int(os.environ.get("SANDBOX_PORT", "8765"))
SANDBOX_TOKEN = "sandbox-token"  # noqa: S105 - the local sandbox's published demo token
SANDBOX_MVNO_ID = 1
SANDBOX_RATE = 50
WEB_PORT = int(os.environ.get("PORT", "8000"))
DEMO_USERNAME = "admin"


def _defaults() -> dict[str, str]:
    return {
        "DEBUG": "1",
        "PORTAL_BASE_URL": f"http://127.0.0.1:{WEB_PORT}",
        "ILIVEIT_ENDPOINT": f"http://127.0.0.1:{SANDBOX_PORT}",
        "ILIVEIT_ACCESS_TOKEN": SANDBOX_TOKEN,
        "ILIVEIT_MVNO_ID": str(SANDBOX_MVNO_ID),
        "DEMO_ADMIN_PASSWORD": "admin",
    }


def _pump(name: str, stream) -> None:
    """Prefix each line of a child's output with its name, so four logs stay readable."""
    for line in iter(stream.readline, b""):
        sys.stdout.write(f"{name:>8} | {line.decode(errors='replace')}")
        sys.stdout.flush()


def _start(name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
    process = subprocess.Popen(  # noqa: S603 - fixed argument lists built here
        args,
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # so a stop reaches the whole group, runserver's reloader too
    )
    threading.Thread(target=_pump, args=(name, process.stdout), daemon=True).start()
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
    processes["worker"] = _start(
        "worker", [*celery, "worker", "--loglevel", "info", "--concurrency", "2"], env
    )
    processes["beat"] = _start(
        "beat",
        [*celery, "beat", "--loglevel", "info", "--schedule", str(VAR_DIR / "celerybeat-schedule")],
        env,
    )
    processes["web"] = _start("web", [*manage, "runserver", f"127.0.0.1:{WEB_PORT}"], env)

    print(
        f"\n  iLiveIt Portal:  http://127.0.0.1:{WEB_PORT}/\n"
        f"  Sign in:         {DEMO_USERNAME} / {env['DEMO_ADMIN_PASSWORD']}\n"
        f"  iLiveIt API:     {env['ILIVEIT_ENDPOINT']}"
        f"{' (sandbox)' if not user_set_endpoint else ''}\n"
        f"  Stop with Ctrl-C.\n",
        flush=True,
    )

    # SIGTERM stops the stack as Ctrl-C does. The handler only raises: a handler that touched
    # a lock the main thread might hold (an Event's) could hang the stop for good.
    signal.signal(signal.SIGTERM, _interrupt)
    exit_code = 0
    try:
        while exit_code == 0:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"{name} exited with {process.returncode}; stopping the rest.")
                    exit_code = process.returncode or 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        _stop(processes)
        if redis_server is not None:
            stop_embedded_redis(redis_server)
    return exit_code


if __name__ == "__main__":
    if sys.argv[1:] not in ([], ["run"]):
        sys.exit("usage: python -m iliveit_portal.devstack [run]")
    sys.exit(run())
