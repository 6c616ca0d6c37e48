"""gunicorn's configuration for the web container (docker-compose.yml's `web` service).

Processes and threads per container come from the environment, so a deployment sizes the web
tier without a new image: WEB_CONCURRENCY worker processes of GUNICORN_THREADS threads each.
"""

import os
import shutil
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# Threads keep connections from the proxy alive between requests and overlap database waits.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE_S", "30"))
# A request that takes this long is stuck (the slowest page waits 10 s on iLiveIt at most).
timeout = int(os.environ.get("GUNICORN_TIMEOUT_S", "60"))
graceful_timeout = 30
# Recycled workers bound any slow leak; the jitter keeps them from restarting together. Each
# restart costs more than its import: the worker's kept-alive connections close, and what comes
# on them next waits for a fresh process. At 10,000 the webhook's three workers, taking 500
# postbacks a second in bench/pipeline.py, each restarted about once a minute, and those
# restarts were its slowest answers (its p99 went from 44-52 ms to 38 ms without them).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "100000"))
max_requests_jitter = max_requests // 10
# The image points this at /dev/shm: heartbeat files on memory, not on the container's overlay
# disk (which can stall the heartbeat and get healthy workers killed).
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR") or None
# The portal's own log lines are JSON (settings.LOGGING); access lines would repeat what the
# proxy logs, and would carry each postback URL's MAC.
# gunicorn 27's control socket lives under $HOME, which the image's unprivileged user cannot
# write (and nothing here uses it): without this every start logs a permission error.
control_socket_disable = True
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")


def on_starting(server) -> None:
    """Start every run with an empty prometheus_client multiprocess directory: files left by
    an earlier run's workers would be summed into this one's figures."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker) -> None:
    """A worker that exits takes its live gauges with it (prometheus_client's multiprocess
    mode); its counters stay summed in."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
