"""Benchmark: the whole path on one machine, from launch to applied postbacks, under a reader.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x REDIS_URL=redis://127.0.0.1:6379/N \\
        .venv/bin/python bench/pipeline.py [--messages 20000] [--rate 100] [--find-max] [--profile]

Makes a throwaway database on DATABASE_URL's server and starts, as production runs them:
- the sandbox in its own process, one application at --rate calls a second, posting every
  postback the portal asks for (all five types; an SMS brings five: submit "Received",
  archive, submit "Submitted", sent and delivery, --step-seconds apart) to the portal;
- the portal's webhook on gunicorn (--gunicorn-workers x --threads, with gunicorn.conf.py),
  as the compose file's `webhook` service, and the staff pages on a gunicorn of their own
  (--web-workers x --threads), as its `web` (with --web-workers 0, one gunicorn serves both);
- a Celery worker on the sending queue and one on the postbacks queue (CELERY_POSTBACKS_QUEUE),
  with the compose file's concurrency (4 each) and CPU weight (its cpu_shares, below), and
  beat. Beat is what `make run` and the compose file run, and its sweep is the portal's
  safety net (rows a lost drain left, a campaign's finish); it runs on the postbacks queue,
  beside the drains, and applies only rows older than 10 s, so it cannot flatter the apply lag
  much.

A campaign of --messages SMS messages is launched at once (campaign_launch; its dispatch task
queues every submit chunk) at an application limit of --rate messages/s, while a reader loads
the campaign's dashboard page every 200 ms over HTTP as a signed-in staff user.

Reports, against the issue's aims:
- applied: messages fully applied (delivered, with all five events), per second, from the
  first message fully applied to the last (the sustained rate); the rate from the first
  submission to the last apply is printed beside it;
- apply lag p50 and p99: each inbox row's processed_at - received_at;
- the webhook's p99, as the sandbox's postback sender timed its POSTs (what iLiveIt would
  see: gunicorn's queueing included); with --access-log, gunicorn's own time per request
  (%(D)s) beside it;
- the dashboard's p95;
- lost postbacks (answered 200 to the sandbox but no inbox row, or a row never applied) and
  duplicate submissions by the sandbox's own count.

--find-max runs steps of --step-s seconds of sending in the same stack, at rising rates
(--ladder) until a step fails: its apply lag p99 passes 5 s, or it applies less than 0.9 of
the rate asked for. Should the first step fail, it halves the rate until one passes. Then up to
--bisect steps halve the gap between the highest rate passed and the lowest failed. It reports
the highest applied rate of a step whose lag p99 stayed within 5 s (max_mps). The sandbox's own
limit is then twice the top of the ladder, so that the portal's limiter alone holds each R.

--profile runs py-spy (PYSPY, default /tmp/pyspy-pipe/bin/py-spy) on gunicorn and both
workers for the whole run, writes speedscope files to a directory it prints (open them
at https://www.speedscope.app), and prints each one's busiest functions.

Each run prints the CPU each part used (cores), since on a shared 2-core machine they compete.
Each part runs in a session of its own, which Linux makes an autogroup and shares the CPU
between as Docker does between containers. The compose file weighs the workers at 128 against
the web services' 1024 (cpu_shares); here their autogroups have nice 10, a weight of 110
(sched(7)). --worker-nice 0 gives every part the same weight.
Everything it starts (processes, the database, its Redis keys) is removed at the end, on
Ctrl-C or a failure too. Ends with one RESULT line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil
import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import django_for_bench, throwaway_database  # noqa: E402
from tests.support.sandbox import SandboxApp, SandboxProcess  # noqa: E402

MVNO = 1
POSTBACKS_PER_MESSAGE = 5  # an SMS: submit (Received), archive, submit (Submitted), sent, delivery
READER_EVERY_S = 0.2
MONITOR_EVERY_S = 0.2
# The backlog count reads the inbox's partial index, whose entries for rows applied since the
# last vacuum are still visited (1,500-2,500 blocks, 13-16 ms of PostgreSQL's time late in a
# run, pg_stat_statements): counted every 0.2 s, that was 70 ms a second taken from the stack
# being measured.
BACKLOG_EVERY_S = 1.0
PROGRESS_EVERY_S = 10.0
LAG_LIMIT_S = 5.0  # --find-max stops past this lag p99
PYSPY = os.environ.get("PYSPY", "/tmp/pyspy-pipe/bin/py-spy")  # noqa: S108 - the brief's path
AIMS = {
    "applied": "applied >= 0.95 R",
    "lag_p99": "lag p99 < 2 s",
    "webhook_p99": "webhook p99 < 50 ms",
    "dashboard_p95": "dashboard p95 < 100 ms",
    "lost": "0 lost",
    "duplicates": "0 duplicates",
}


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


TOKEN = "bench-pipeline-token"  # noqa: S105 - the sandbox's throwaway token


# --- processes --------------------------------------------------------------------------------


def start(
    args: list[str], log: Path, env: dict[str, str] | None = None, *, nice: int = 0
) -> subprocess.Popen:
    """A process in its own group (so a stop reaches its children), logging to `log`, with
    `env` added to this process's environment, and its CPU weight lowered by `nice`."""
    if nice:
        # Where the kernel has no autogroups, each process's own nice weighs it.
        args = ["nice", "-n", str(nice), *args]
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - our own commands
            args,
            cwd=REPO,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    if nice:
        # Its session is an autogroup of its own, whose nice weighs it against the others'.
        with contextlib.suppress(OSError):
            Path(f"/proc/{process.pid}/autogroup").write_text(str(nice))
    return process


def stop(process: subprocess.Popen, *, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    """Ask the process alone (a Celery worker's or gunicorn's children are stopped by it, after
    their task or request); what is left of its group after `timeout` is killed."""
    if process.poll() is None:
        process.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def wait_for_port(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{what} did not start")


def wait_for_log(log: Path, text: bytes, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with {process.returncode}; see {log}")
        if text in log.read_bytes():
            return
        time.sleep(0.2)
    raise SystemExit(f"{what} not ready in 60 s; see {log}")


@dataclass
class Stack:
    tmp: Path
    web_port: int
    # The staff pages' own gunicorn, when --web-workers gives them one; else web_port serves all.
    pages_port: int | None = None
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    profilers: dict[str, subprocess.Popen] = field(default_factory=dict)
    sandbox: SandboxProcess | None = None
    # gunicorn's access log, with --access-log: its own time per postback.
    access_log: Path | None = None

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def pages_url(self) -> str:
        return f"http://127.0.0.1:{self.pages_port or self.web_port}"

    def stop(self) -> None:
        # Profilers first, with SIGINT: that is when py-spy writes its file.
        for profiler in self.profilers.values():
            stop(profiler, sig=signal.SIGINT, timeout=60)
        for process in self.processes.values():
            stop(process)
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox.log_path.unlink(missing_ok=True)


def start_stack(args, tmp: Path, web_port: int, sandbox_rate: int) -> Stack:
    stack = Stack(tmp=tmp, web_port=web_port)
    if args.access_log:
        stack.access_log = tmp / "access.log"
    try:
        stack.sandbox = SandboxProcess(
            [SandboxApp(TOKEN, MVNO, sandbox_rate)],
            step_seconds=args.step_seconds,
        )
        celery = [sys.executable, "-m", "celery", "-A", "iliveit_portal"]
        sending_queue = os.environ["CELERY_QUEUE"]
        postbacks_queue = os.environ["CELERY_POSTBACKS_QUEUE"]
        workers = {
            "sending": (sending_queue, args.sending_concurrency),
            "postbacks": (postbacks_queue, args.postbacks_concurrency),
        }
        for name, (queue, concurrency) in workers.items():
            # Info, for the " ready." line; the portal's own loggers stay at LOG_LEVEL.
            stack.processes[f"{name} worker"] = start(
                [
                    *celery,
                    *("worker", "--loglevel", "info", "--pool", "prefork"),
                    *("--concurrency", str(concurrency), "--without-mingle", "--without-gossip"),
                    *("-Q", queue, "-n", f"{name}-{os.getpid()}@%h"),
                ],
                tmp / f"worker-{name}.log",
                nice=args.worker_nice,
            )
        stack.processes["beat"] = start(
            [*celery, "beat", "--loglevel", "warning", "--schedule", str(tmp / "beat-schedule")],
            tmp / "beat.log",
        )
        # The repository's gunicorn.conf.py (gunicorn reads it from its working directory),
        # as the compose file runs it; only the size, the address and the access log differ.
        # Beside a pool for the pages, it is the compose file's `webhook`, with its settings.
        stack.processes["gunicorn"] = start_gunicorn(
            args.gunicorn_workers,
            args.threads,
            web_port,
            tmp / "gunicorn.log",
            stack.access_log,
            settings="iliveit_portal.webhook_settings" if args.web_workers else None,
        )
        wait_for_port(web_port, stack.processes["gunicorn"], "gunicorn")
        if args.web_workers:
            # The compose file's `web` beside its `webhook` (README, "Scale"): staff pages on
            # processes of their own, so that they never queue behind iLiveIt's postbacks.
            stack.pages_port = free_port()
            stack.processes["gunicorn (pages)"] = start_gunicorn(
                args.web_workers, args.threads, stack.pages_port, tmp / "gunicorn-pages.log", None
            )
            wait_for_port(stack.pages_port, stack.processes["gunicorn (pages)"], "gunicorn")
        for name in workers:
            process = stack.processes[f"{name} worker"]
            wait_for_log(tmp / f"worker-{name}.log", b" ready.", process, f"{name} worker")
        if args.profile:
            start_profilers(stack, args)
    except BaseException:
        stack.stop()
        raise
    return stack


def start_gunicorn(
    workers: int,
    threads: int,
    port: int,
    log: Path,
    access_log: Path | None,
    *,
    settings: str | None = None,
) -> subprocess.Popen:
    access = []
    if access_log is not None:
        # Path, status, microseconds from the parsed request to the answer written.
        access = [
            *("--access-logfile", str(access_log)),
            *("--access-logformat", "%(U)s %(s)s %(D)s"),
        ]
    return start(
        [
            *(sys.executable, "-m", "gunicorn", "iliveit_portal.wsgi"),
            *("--workers", str(workers), "--threads", str(threads)),
            *("--bind", f"127.0.0.1:{port}", "--log-level", "warning"),
            *access,
        ],
        log,
        {"DJANGO_SETTINGS_MODULE": settings} if settings else None,
    )


def start_profilers(stack: Stack, args) -> None:
    targets = {
        "gunicorn": stack.processes["gunicorn"].pid,
        "sending-worker": stack.processes["sending worker"].pid,
        "postbacks-worker": stack.processes["postbacks worker"].pid,
    }
    for name, pid in targets.items():
        stack.profilers[name] = start(
            [
                *(PYSPY, "record", "--pid", str(pid), "--subprocesses", "--nonblocking"),
                # 20 a second: at 50, three py-spy processes took half a core of the two.
                *("--rate", "20", "--format", "speedscope"),
                *("--output", str(args.profile_dir / f"{name}.speedscope.json")),
            ],
            args.profile_dir / f"{name}.py-spy.log",
        )


# --- CPU used by each part --------------------------------------------------------------------


def _tree_cpu(root: psutil.Process) -> float:
    """CPU seconds of a process and its children, dead children (that it waited for) too."""
    try:
        times = root.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in root.children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                child_times = child.cpu_times()
                total += child_times.user + child_times.system
        return total
    except psutil.NoSuchProcess:
        return 0.0


def cpu_snapshot(stack: Stack, database: str) -> dict[str, float]:
    parts = {name: process.pid for name, process in stack.processes.items()}
    parts["sandbox"] = stack.sandbox.process.pid
    snapshot = {name: _tree_cpu(psutil.Process(pid)) for name, pid in parts.items()}
    # Its own threads only: every other part is its child.
    own = psutil.Process().cpu_times()
    snapshot["bench (reader, monitor)"] = own.user + own.system
    postgres = 0.0
    for process in psutil.process_iter(["name", "cmdline"]):
        # A backend's title names its database: "postgres: 15/main: user database ...".
        if process.info["name"] == "postgres" and database in " ".join(
            process.info["cmdline"] or ()
        ):
            with contextlib.suppress(psutil.NoSuchProcess):
                times = process.cpu_times()
                postgres += times.user + times.system
    snapshot["postgres (its backends)"] = postgres
    machine = psutil.cpu_times()
    busy = sum(machine) - machine.idle - getattr(machine, "iowait", 0)
    snapshot["others on the machine"] = busy - sum(snapshot.values())
    return snapshot


# --- the reader and the monitor ---------------------------------------------------------------


class Reader(threading.Thread):
    """Loads one campaign's dashboard page every READER_EVERY_S, as a staff user with the page
    open would (full page; the browser's own refresh is a part of it, less often)."""

    def __init__(self, url: str, cookies: dict[str, str]) -> None:
        super().__init__(daemon=True, name="dashboard-reader")
        self.http = requests.Session()
        self.http.cookies.update(cookies)
        self.url = url
        self.samples: list[tuple[float, float, int]] = []  # (started, seconds, status)
        self.stopping = threading.Event()

    def run(self) -> None:
        due = time.time()
        while not self.stopping.is_set():
            due = max(due, time.time())
            self.stopping.wait(max(0.0, due - time.time()))
            started = time.time()
            try:
                status = self.http.get(self.url, timeout=30, allow_redirects=False).status_code
            except requests.RequestException:
                status = 0
            self.samples.append((started, time.time() - started, status))
            due += READER_EVERY_S

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=35)


@dataclass
class Sample:
    at: float
    backlog: int  # inbox rows pending or waiting
    stored: int  # inbox rows of this step
    sending_queue: int  # tasks waiting in the sending queue
    postbacks_queue: int
    sweep_age: float  # seconds since beat's sweep last ran (inf: not yet)


class Monitor(threading.Thread):
    """Samples the inbox backlog and both Celery queues' lengths every MONITOR_EVERY_S."""

    def __init__(self, inbox_floor: int) -> None:
        super().__init__(daemon=True, name="monitor")
        self.inbox_floor = inbox_floor
        self.samples: list[Sample] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        from django.db import connection

        from iliveit_portal.health import beat_key
        from iliveit_portal.redis_client import redis_client
        from postbacks.models import InboxState, PostbackInbox

        redis = redis_client()
        backlog, counted_at = 0, 0.0
        try:
            while not self.stopping.wait(MONITOR_EVERY_S):
                if time.monotonic() - counted_at >= BACKLOG_EVERY_S:
                    backlog = PostbackInbox.objects.filter(
                        state__in=(InboxState.PENDING, InboxState.WAITING)
                    ).count()
                    counted_at = time.monotonic()
                newest = PostbackInbox.objects.order_by("-pk").values_list("pk", flat=True)[:1]
                stored = max(0, (newest[0] if newest else 0) - self.inbox_floor)
                swept = redis.get(beat_key())
                self.samples.append(
                    Sample(
                        time.time(),
                        backlog,
                        stored,
                        redis.llen(os.environ["CELERY_QUEUE"]),
                        redis.llen(os.environ["CELERY_POSTBACKS_QUEUE"]),
                        time.time() - float(swept) if swept else math.inf,
                    )
                )
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)


# --- one step: a campaign at one rate ---------------------------------------------------------


@dataclass
class Step:
    rate: int
    messages: int
    applied_mps: float = 0.0
    end_to_end_mps: float = 0.0
    send_mps: float = 0.0
    fully_applied: int = 0
    lag_p50_s: float = math.nan
    lag_p99_s: float = math.nan
    lag_max_s: float = math.nan
    webhook_p50_ms: float = math.nan
    webhook_p99_ms: float = math.nan
    server_p99_ms: float = math.nan
    dashboard_p50_ms: float = math.nan
    dashboard_p95_ms: float = math.nan
    lost: int = 0
    unapplied: int = 0  # rows not applied yet when the step's time ran out (not counted lost)
    duplicates: int = 0
    notes: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def sustained(self) -> bool:
        return self.lag_p99_s <= LAG_LIMIT_S


def make_campaign(rate: int, messages: int, sandbox_url: str):
    from django.db import connection

    from messaging.models import Application, Campaign, Channel, Message

    application = Application.objects.create(
        name=f"Bench {rate}/s",
        endpoint=sandbox_url,
        token=TOKEN,
        mvno_id=MVNO,
        rate_limit=rate,
    )
    campaign = Campaign.objects.create(
        name=f"Bench {messages} at {rate}/s",
        channel=Channel.SMS,
        application=application,
        body_text="Bench",
    )
    Message.objects.bulk_create(
        (Message(campaign=campaign, recipient=f"2782{n:07d}") for n in range(messages)),
        batch_size=2000,
    )
    # Fresh statistics for the planner, the new rows written out: as a long-lived database
    # would be, not one that grew from nothing a second ago.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")
    return campaign


def staff_cookies() -> dict[str, str]:
    """A signed-in superuser's session cookie, made as the sign-in form would."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    user = get_user_model().objects.create_superuser("bench-reader", "reader@example.com", None)
    client = Client()
    client.force_login(user)
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}


def progress(campaign) -> tuple[int, int, int]:
    """(submitted, delivered, failed) messages of the campaign, from its counters, as its
    dashboard reads them. Counting the messages themselves (two scans of 12-15 ms each, twice
    a second) took 50 ms a second of PostgreSQL's time from the stack being measured."""
    from messaging.counting import campaign_counts
    from messaging.models import MessageState

    states = campaign_counts(campaign_id=campaign.pk)
    waiting = sum(
        states[state]
        for state in (MessageState.DRAFT, MessageState.QUEUED, MessageState.SUBMITTING)
    )
    return (
        sum(states.values()) - waiting,
        states[MessageState.DELIVERED],
        states[MessageState.FAILED],
    )


def run_step(
    stack: Stack,
    reader_cookies: dict[str, str],
    rate: int,
    messages: int,
    database: str,
    max_wait_s: float | None,
) -> Step:
    from django.db.models import Max

    from messaging.services import campaign_launch
    from postbacks.models import PostbackInbox

    print(f"\n--- {messages} messages at {rate}/s ---", flush=True)
    campaign = make_campaign(rate, messages, stack.sandbox.url)
    stack.sandbox.reset()
    inbox_floor = PostbackInbox.objects.aggregate(top=Max("pk"))["top"] or 0
    access_log = stack.access_log
    access_offset = access_log.stat().st_size if access_log and access_log.exists() else 0
    reader = Reader(f"{stack.pages_url}/campaigns/{campaign.pk}/dashboard/", reader_cookies)
    monitor = Monitor(inbox_floor)
    cpu_before = cpu_snapshot(stack, database)
    reader.start()
    monitor.start()
    launched = time.time()
    campaign_launch(campaign=campaign, user=None)
    # Long enough for the sending and a backlog several times its length; a step past it is
    # reported with what was applied by then.
    deadline = launched + (max_wait_s or messages / rate * 3 + 120)
    next_progress = launched + PROGRESS_EVERY_S
    finished = None
    try:
        while time.time() < deadline:
            time.sleep(0.5)
            submitted, delivered, failed = progress(campaign)
            backlog = monitor.samples[-1].backlog if monitor.samples else -1
            answered = stack.sandbox.stats()["postbacks_delivered"]
            if time.time() >= next_progress:
                last = monitor.samples[-1] if monitor.samples else None
                print(
                    f"  {time.time() - launched:5.0f} s  submitted {submitted:6d}  delivered "
                    f"{delivered:6d}  inbox backlog {backlog:6d}  queued tasks: sending "
                    f"{last.sending_queue if last else -1}, postbacks "
                    f"{last.postbacks_queue if last else -1}",
                    flush=True,
                )
                next_progress += PROGRESS_EVERY_S
            settled = delivered + failed == messages and backlog == 0
            if settled and answered >= POSTBACKS_PER_MESSAGE * delivered:
                finished = time.time()
                break
        else:
            print(f"  not settled within {deadline - launched:.0f} s; reporting what was applied")
    finally:
        reader.stop()
        monitor.stop()
    cpu_after = cpu_snapshot(stack, database)
    ended = finished or time.time()
    step = analyse(stack, campaign, rate, messages, launched, ended, inbox_floor, reader, monitor)
    step.server_p99_ms = server_p99_ms(stack.access_log, access_offset)
    step.cpu = {
        name: (cpu_after[name] - cpu_before[name]) / (ended - launched) for name in cpu_after
    }
    return step


def analyse(stack, campaign, rate, messages, launched, ended, inbox_floor, reader, monitor) -> Step:
    from django.conf import settings
    from django.db.models import Count

    from iliveit_portal.health import beat_stale_after_s
    from messaging.models import MessageState
    from postbacks.models import InboxState, MessageEvent, PostbackInbox

    step = Step(rate=rate, messages=messages)
    rows_by_ref = defaultdict(list)
    lags, unsettled, refused = [], 0, Counter()
    ended_at = datetime.fromtimestamp(ended, UTC)
    for ref, state, received_at, processed_at in PostbackInbox.objects.filter(
        pk__gt=inbox_floor
    ).values_list("ref", "state", "received_at", "processed_at"):
        rows_by_ref[ref].append((state, processed_at))
        if state in (InboxState.PENDING, InboxState.WAITING) or processed_at is None:
            unsettled += 1
            # Not applied by the end: at least this late (a lower bound in the lag figures).
            lags.append((ended_at - received_at).total_seconds())
            continue
        if state in (InboxState.QUARANTINED, InboxState.SUSPICIOUS):
            refused[state] += 1
        lags.append((processed_at - received_at).total_seconds())
    events = dict(
        MessageEvent.objects.filter(message__campaign=campaign)
        .values_list("message")
        .annotate(n=Count("id"))
        .order_by()
    )
    applied_at, submitted_at, ref_of_id, report_lag = [], [], {}, []
    for pk, ref, iliveit_id, state, submitted, delivered in campaign.messages.values_list(
        "pk", "ref", "iliveit_id", "state", "submitted_at", "delivered_at"
    ):
        if submitted is not None:
            submitted_at.append(submitted.timestamp())
        if iliveit_id:
            ref_of_id[iliveit_id] = ref
        rows = rows_by_ref.get(ref, [])
        whole = (
            state == MessageState.DELIVERED
            and events.get(pk, 0) == POSTBACKS_PER_MESSAGE
            and rows
            and all(processed is not None for _, processed in rows)
        )
        if whole:
            applied_at.append(max(processed for _, processed in rows).timestamp())
            # From the delivery as the sandbox dated it (to the second) to its being applied:
            # the apply lag plus any wait in the sandbox's own queue of postbacks to send.
            report_lag.append(applied_at[-1] - delivered.timestamp())
    applied_at.sort()
    submitted_at.sort()
    step.fully_applied = len(applied_at)
    if len(applied_at) > 1:
        step.applied_mps = (len(applied_at) - 1) / (applied_at[-1] - applied_at[0])
        step.end_to_end_mps = len(applied_at) / (applied_at[-1] - submitted_at[0])
    if len(submitted_at) > 1:
        step.send_mps = (len(submitted_at) - 1) / (submitted_at[-1] - submitted_at[0])
    step.lag_p50_s = percentile(lags, 0.50)
    step.lag_p99_s = percentile(lags, 0.99)
    step.lag_max_s = max(lags, default=math.nan)

    # The sandbox's side: every POST of a postback, and what it answered 200 per message.
    attempts = stack.sandbox.postback_attempts()
    took = [attempt["ms"] for attempt in attempts]
    step.webhook_p50_ms = percentile(took, 0.50)
    step.webhook_p99_ms = percentile(took, 0.99)
    not_200 = Counter(attempt["status"] for attempt in attempts if attempt["status"] != 200)
    answered = Counter(
        ref_of_id.get(attempt["message_id"]) for attempt in attempts if attempt["status"] == 200
    )
    # A 200 with no inbox row behind it; rows left unapplied or refused are lost too.
    missing = sum(max(0, n - len(rows_by_ref.get(ref, []))) for ref, n in answered.items())
    # Rows still pending when the time ran out are slow, not lost: counted apart.
    step.lost = missing + sum(refused.values())
    step.unapplied = unsettled
    submissions = stack.sandbox.submissions()
    step.duplicates = len(submissions["duplicates"])
    stats = stack.sandbox.stats()

    dashboard = [seconds * 1000 for _, seconds, status in reader.samples]
    step.dashboard_p50_ms = percentile(dashboard, 0.50)
    step.dashboard_p95_ms = percentile(dashboard, 0.95)
    bad_pages = Counter(status for _, _, status in reader.samples if status != 200)

    first_stored = next((s for s in monitor.samples if s.stored), None)
    peak_backlog = max((s.backlog for s in monitor.samples), default=0)
    peak_sending = max((s.sending_queue for s in monitor.samples), default=0)
    peak_drains = max((s.postbacks_queue for s in monitor.samples), default=0)
    from messaging.tasks import CHUNK

    chunks = -(-messages // CHUNK)
    sweep_ages = [s.sweep_age for s in monitor.samples if s.sweep_age != math.inf]
    step.notes = [
        f"launch to settled   {ended - launched:.1f} s (sending alone would take "
        f"{messages / rate:.0f} s at {rate}/s)",
        f"sent                {len(submitted_at)} submitted at {step.send_mps:.1f}/s "
        f"(first to last submission); sandbox 429s {stats['http_429']}, API 5xx "
        f"{stats['http_5xx']}",
        f"at once             {first_stored.sending_queue if first_stored else '?'} submit tasks "
        f"queued when the first postback was stored (~{chunks} chunks in all; peak "
        f"{peak_sending}); drain tasks queued at most {peak_drains}",
        f"beat's sweep        ran at most {max(sweep_ages, default=math.nan):.0f} s apart "
        f"(every {settings.SWEEP_INTERVAL_S:.0f} s asked; past {beat_stale_after_s():.0f} s "
        "/readyz and beat's healthcheck fail)",
        f"fully applied       {step.fully_applied} of {messages} (delivered, "
        f"{POSTBACKS_PER_MESSAGE} events, every row applied); end to end "
        f"{step.end_to_end_mps:.1f}/s (first submission to last apply)",
        f"inbox               {sum(len(r) for r in rows_by_ref.values())} rows; peak backlog "
        f"{peak_backlog}; unapplied at the end {unsettled}; refused {dict(refused)}",
        f"postbacks           {len(attempts)} POSTs, answered other than 200: "
        f"{dict(not_200) or 'none'}; 200s without a row {missing}",
        f"webhook             p50 {step.webhook_p50_ms:.1f} ms, p99 {step.webhook_p99_ms:.1f} ms, "
        f"max {max(took, default=math.nan):.0f} ms (the sandbox's POST)",
        f"lag                 p50 {step.lag_p50_s:.2f} s, p99 {step.lag_p99_s:.2f} s, max "
        f"{step.lag_max_s:.1f} s (received_at to processed_at"
        + (f"; {unsettled} rows not applied count their wait so far)" if unsettled else ")"),
        f"report to applied   p50 {percentile(report_lag, 0.5):.1f} s, p99 "
        f"{percentile(report_lag, 0.99):.1f} s (a delivery as the sandbox dated it, to the "
        "second, to its message fully applied: its wait to be posted included)",
        f"dashboard           {len(dashboard)} loads, p50 {step.dashboard_p50_ms:.0f} ms, "
        f"p95 {step.dashboard_p95_ms:.0f} ms, max {max(dashboard, default=math.nan):.0f} ms; "
        f"not 200: {dict(bad_pages) or 'none'}",
        f"duplicates          {step.duplicates} (sandbox submissions {submissions['total']})",
    ]
    return step


def server_p99_ms(access_log: Path | None, offset: int) -> float:
    """p99 of gunicorn's own time for the postbacks it answered since `offset`."""
    if access_log is None or not access_log.exists():
        return math.nan
    with access_log.open("rb") as log:
        log.seek(offset)
        times = [
            int(line.split()[2]) / 1000
            for line in log
            if line.startswith(b"/postbacks/status/") and len(line.split()) == 3
        ]
    return percentile(times, 0.99)


def print_step(step: Step) -> None:
    for note in step.notes:
        print(f"  {note}")
    if not math.isnan(step.server_p99_ms):
        print(f"  gunicorn's own p99  {step.server_p99_ms:.1f} ms (%(D)s: request to answer)")
    print("  CPU (cores)         " + ", ".join(f"{k} {v:.2f}" for k, v in step.cpu.items()))


def print_aims(step: Step) -> None:
    rate = step.rate
    checks = [
        ("applied", f"{step.applied_mps:.1f}/s", step.applied_mps >= 0.95 * rate),
        ("lag_p99", f"{step.lag_p99_s:.2f} s (p50 {step.lag_p50_s:.2f} s)", step.lag_p99_s < 2),
        ("webhook_p99", f"{step.webhook_p99_ms:.1f} ms", step.webhook_p99_ms < 50),
        ("dashboard_p95", f"{step.dashboard_p95_ms:.0f} ms", step.dashboard_p95_ms < 100),
        ("lost", f"{step.lost} ({step.unapplied} not applied yet at the end)", step.lost == 0),
        ("duplicates", str(step.duplicates), step.duplicates == 0),
    ]
    print(f"\nAt R = {rate}/s:")
    for name, value, ok in checks:
        print(f"  {name:<14} {value:<28} aim {AIMS[name]:<26} {'ok' if ok else 'MISSED'}")


# --- profiles ---------------------------------------------------------------------------------


def _is_ours(path: str) -> bool:
    return path.startswith(str(REPO)) and "/.venv/" not in path and "/bench/" not in path


def summarise_profile(path: Path, top: int = 12) -> None:
    """The functions with most samples in a py-spy speedscope file: inclusive (on the stack)
    and self (at the top of it), as shares of all samples."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        print(f"  {path.name}: unreadable ({error})")
        return
    frames = data["shared"]["frames"]
    total, inclusive, itself, own = 0, Counter(), Counter(), set()
    for profile in data["profiles"]:
        for stack, weight in zip(profile["samples"], profile["weights"], strict=True):
            total += weight
            names = {f"{frames[i]['name']} ({Path(frames[i].get('file', '')).name})" for i in stack}
            for name in names:
                inclusive[name] += weight
            own.update(
                f"{frames[i]['name']} ({Path(frames[i].get('file', '')).name})"
                for i in stack
                if _is_ours(frames[i].get("file", ""))
            )
            if stack:
                top_frame = frames[stack[-1]]
                itself[f"{top_frame['name']} ({Path(top_frame.get('file', '')).name})"] += weight
    if not total:
        print(f"  {path.name}: no samples")
        return
    print(f"  {path.name}: {total:.0f} s sampled (the process busy, not idle)")
    print("    self:      " + "; ".join(f"{n} {c / total:.0%}" for n, c in itself.most_common(top)))
    ours = [(name, n) for name, n in inclusive.most_common() if name in own][:top]
    print("    our code, inclusive: " + "; ".join(f"{n} {c / total:.0%}" for n, c in ours))
    # Below the loops that hold every sample (a worker's task, a request's middleware).
    below = [
        (name, n)
        for name, n in inclusive.most_common()
        if n < 0.8 * total and not name.startswith("process ")  # py-spy's frame per process
    ][:top]
    print("    any code, inclusive: " + "; ".join(f"{n} {c / total:.0%}" for n, c in below))


# --- the run ----------------------------------------------------------------------------------


def good(step: Step) -> bool:
    """Whether a --find-max step kept up: lag within the limit, and (nearly) the rate asked."""
    return step.sustained and step.applied_mps >= 0.9 * step.rate


def next_rate(steps: list[Step], ladder: list[int], bisect: int) -> int | None:
    """The rate of --find-max's next step, or None when it is done."""
    passed = [step.rate for step in steps if good(step)]
    failed = [step.rate for step in steps if not good(step)]
    if not failed:
        higher = [rate for rate in ladder if rate > max(passed)]
        return higher[0] if higher else None
    if not passed:
        lower = min(failed) // 2
        return lower if lower >= 10 else None
    low, high = max(passed), min(failed)
    # Steps since the run first had both a rate passed and one failed: the bisection's.
    both = next(n for n in range(1, len(steps) + 1) if len({good(step) for step in steps[:n]}) == 2)
    if len(steps) - both >= bisect or high - low <= max(10, low // 10):
        return None
    return (low + high) // 2


def forget_redis_keys(redis, queue: str) -> None:
    """Delete every key this run made (each names its queue), and the tasks a stopped worker
    held unacknowledged (acks_late): kombu's shared `unacked` hash would otherwise put them
    back on the run's queues later."""
    keys = list(redis.scan_iter(match=f"*{queue}*", count=1000))
    if keys:
        redis.delete(*keys)
    for tag, entry in redis.hscan_iter("unacked"):
        # An entry is [message, exchange, routing key]; the routing key is the queue's name.
        with contextlib.suppress(ValueError, IndexError, TypeError):
            if json.loads(entry)[2] in (queue, f"{queue}-postbacks"):
                redis.hdel("unacked", tag)
                redis.zrem("unacked_index", tag)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rate", type=int, default=100, help="the application's limit, R/s")
    parser.add_argument("--find-max", action="store_true", help="raise R until lag p99 > 5 s")
    # From below 100: a step that fails leaves a backlog that takes long to apply, and on a
    # busy machine 100/s may already be one.
    parser.add_argument("--ladder", default="25,50,100,150,200,300,400,500,700,1000")
    parser.add_argument("--step-s", type=float, default=30.0, help="sending time per step")
    parser.add_argument("--bisect", type=int, default=1, help="find-max steps between pass/fail")
    parser.add_argument("--step-seconds", type=float, default=1.0, help="sandbox stage gap")
    parser.add_argument("--gunicorn-workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument(
        "--web-workers",
        type=int,
        default=1,
        help="gunicorn workers of the staff pages' own pool (0: one pool serves everything)",
    )
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=10,
        help="the workers' autogroup nice: 10 weighs them as the compose file's cpu_shares 128",
    )
    parser.add_argument("--sending-concurrency", type=int, default=4)
    parser.add_argument("--postbacks-concurrency", type=int, default=4)
    parser.add_argument("--profile", action="store_true", help="py-spy on every part")
    parser.add_argument(
        "--access-log",
        action="store_true",
        # The compose file's webhook keeps none (gunicorn.conf.py); it was 7% of its CPU.
        help="gunicorn's access log on the webhook, for its own time per postback",
    )
    parser.add_argument(
        "--max-wait-s",
        type=float,
        help="longest wait for a step to settle (default 3x its sending time + 120 s)",
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("set DATABASE_URL to a PostgreSQL server (a throwaway database is made)")
    if args.profile and not Path(PYSPY).exists():
        raise SystemExit(
            f"no py-spy at {PYSPY}: make a venv and pip install py-spy there (PYSPY=its path)"
        )

    # SIGTERM ends the run as Ctrl-C does: through the cleanup below.
    signal.signal(signal.SIGTERM, _interrupt)
    tmp = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    if args.profile:
        args.profile_dir = Path(tempfile.mkdtemp(prefix="pipeline-profile-"))
    queue = f"bench-pipeline-{os.getpid()}"
    web_port = free_port()
    stack = None
    steps: list[Step] = []
    drop_database = None
    try:
        database_url, drop_database = throwaway_database(tmp, "bench_pipeline")
        django_for_bench(
            tmp,
            database_url,
            CELERY_QUEUE=queue,
            CELERY_POSTBACKS_QUEUE=f"{queue}-postbacks",
            # Its own cache keys too, so that the cleanup below finds every key it made.
            CACHE_KEY_PREFIX=queue,
            PORTAL_BASE_URL=f"http://127.0.0.1:{web_port}",
        )
        ladder = sorted(int(rate) for rate in args.ladder.split(","))
        sandbox_rate = 2 * ladder[-1] if args.find_max else args.rate
        stack = start_stack(args, tmp, web_port, sandbox_rate)
        cookies = staff_cookies()
        print(
            f"stack: sandbox (step {args.step_seconds} s), gunicorn {args.gunicorn_workers} x "
            f"{args.threads} threads (+ {args.web_workers} x {args.threads} for staff pages), "
            f"sending worker x{args.sending_concurrency}, postbacks "
            f"worker x{args.postbacks_concurrency} (both at autogroup nice {args.worker_nice}), "
            f"beat; PostgreSQL; Redis "
            f"{os.environ['REDIS_URL']}"
        )
        rate = ladder[0] if args.find_max else args.rate
        while rate is not None:
            messages = args.messages if not args.find_max else int(rate * args.step_s)
            database = database_url.rsplit("/", 1)[-1]
            step = run_step(stack, cookies, rate, messages, database, args.max_wait_s)
            steps.append(step)
            print_step(step)
            if args.find_max:
                print(
                    f"  => applied {step.applied_mps:.1f}/s of {rate}/s, lag p99 "
                    f"{step.lag_p99_s:.2f} s: {'sustained' if step.sustained else 'NOT sustained'}"
                )
            rate = next_rate(steps, ladder, args.bisect) if args.find_max else None
    finally:
        if stack is not None:
            stack.stop()
        from django.db import connections

        connections.close_all()
        if drop_database is not None:
            drop_database()
        from iliveit_portal.redis_client import redis_client

        forget_redis_keys(redis_client(), queue)
        errors = sum(
            log.read_text(errors="replace").count("Traceback") for log in tmp.glob("*.log")
        )
        if errors:
            print(f"\n{errors} tracebacks in the logs under {tmp} (kept)")
        else:
            for log in tmp.iterdir():
                log.unlink()
            tmp.rmdir()

    if args.profile:
        print(f"\nprofiles (py-spy, speedscope format) in {args.profile_dir}:")
        for path in sorted(args.profile_dir.glob("*.speedscope.json")):
            summarise_profile(path)
    print("\nThe machine is shared (2 cores, other sessions' work on it): figures are low.")
    # The figures at --rate when --find-max ran it (it is on the ladder), else its first step.
    first = next((step for step in steps if step.rate == args.rate), steps[0])
    print_aims(first)
    result = (
        f"RESULT applied_mps={first.applied_mps:.1f} lag_p50_s={first.lag_p50_s:.2f} "
        f"lag_p99_s={first.lag_p99_s:.2f} webhook_p99_ms={first.webhook_p99_ms:.1f} "
        f"dashboard_p95_ms={first.dashboard_p95_ms:.0f} lost={first.lost} "
        f"duplicates={first.duplicates}"
    )
    if first.unapplied:
        result += f" unapplied={first.unapplied}"
    if args.find_max:
        sustained = [step for step in steps if step.sustained]
        max_mps = max((step.applied_mps for step in sustained), default=0.0)
        print("\nfind-max: R, applied/s, lag p99 s, webhook p99 ms, dashboard p95 ms, lost")
        for step in steps:
            print(
                f"  {step.rate:5d} {step.applied_mps:8.1f} {step.lag_p99_s:8.2f} "
                f"{step.webhook_p99_ms:8.1f} {step.dashboard_p95_ms:8.0f} {step.lost:5d}"
                f"{'' if step.sustained else '   lag p99 past 5 s'}"
            )
        print(f"max_mps {max_mps:.1f}: the highest applied rate with lag p99 <= {LAG_LIMIT_S} s")
        result += f" max_mps={max_mps:.1f} rate={first.rate} messages={first.messages}"
    print(result)


if __name__ == "__main__":
    main()
