"""Benchmark: the send path through real Celery workers to the sandbox, against its floor.

    .venv/bin/python bench/send.py [--recipients 10000] [--rate 200] [--workers 4]
        [--personalised] [--unlimited 100000] [--floor-seconds 20]
        [--skip-limited] [--skip-floor] [--skip-unlimited]

Three parts, each skippable:

- limited: a --recipients campaign at an application limit of --rate msg/s, against a sandbox
  with the same limit. Prints the launch time, the achieved rate against the limit
  (rate_fraction), the 429s the sandbox answered and duplicate submissions by its own count.
- floor: --workers loops (one process each, as the worker's prefork children) call the
  portal's iLiveIt client `send` with the SMS a submission builds, against a second sandbox,
  for --floor-seconds: no database, no Celery, no rate limiter. floor_mps is the mean of a run
  just before the unlimited run and one just after it.
- unlimited: a campaign of --unlimited messages through the workers to that same sandbox, with
  an application limit far above what is reached. portal_mps is timed from the first message
  accepted to the last (their submitted_at), as the floor's loops are timed once connected;
  send_ratio = portal_mps / floor_mps. The rate from the launch, with the dispatch task's
  start, is portal_launch_mps. The workers' RSS (every process of the worker's tree) is
  sampled throughout: rss_start_mb once the first tenth is sent (warm), rss_end_mb at the end,
  and their growth.

The second sandbox's limit is as high as the application's, so neither bucket binds in the
floor or in the unlimited run, and its stages are ten minutes apart, so both runs carry each
message's first postback and nothing more.

Uses DATABASE_URL's server (a throwaway database is made and dropped there) or, without it, a
temporary SQLite file; REDIS_URL or an embedded Redis. Ends with one RESULT line; figures of a
part that was skipped are `na`.

With --personalised the SMS has two placeholders and every message its own fields, so each
is rendered when it is submitted; the RESULT line then also gives the rendering cost per
message (render_us), timed here by a micro-benchmark of messaging.personalise's render.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import django_for_bench, throwaway_database  # noqa: E402
from tests.support.sandbox import SandboxApp, SandboxProcess  # noqa: E402

TOKEN = "bench-token"  # noqa: S105 - the sandbox's throwaway token
UNLIMITED_TOKEN = "bench-unlimited-token"  # noqa: S105 - the same, for the second sandbox
MVNO = 1
# An application limit that never binds: the limiter's bucket then holds a quarter of a million
# tokens and refills a thousand a millisecond (messaging/ratelimit.py), and the sandbox's bucket
# holds a million. Each submission still takes its token from Redis, as in production.
NO_LIMIT = 1_000_000
# The unlimited run's stages are this far apart: longer than the run, so each message brings
# its first postback (as in the limited run) and the later ones never come.
UNLIMITED_STEP_S = 600.0
PERSONALISED_BODY = (
    'Hi {{ first_name }}, your balance is R{{ amount|default:"0.00" }}. Reply STOP to opt out.'
)
RENDER_ROUNDS = 20_000


def personal_fields(n: int) -> dict[str, str]:
    return {"first_name": f"Person{n}", "amount": f"{n % 9000 + 10} {n % 1000:03d}.50"}


def render_cost_us(campaign) -> float:
    """Microseconds to render one message's content, as a submission does (best of 3)."""
    from messaging.personalise import campaign_render_for

    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for n in range(RENDER_ROUNDS):
            campaign_render_for(campaign, recipient=f"2782{n:07d}", fields=personal_fields(n))
        best = min(best, time.perf_counter() - started)
    return best / RENDER_ROUNDS * 1e6


class _Sink(BaseHTTPRequestHandler):
    """Stands in for the portal's webhook: answers every postback 200 at once."""

    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def postback_sink() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def tree_rss(process: psutil.Process) -> int:
    try:
        members = [process, *process.children(recursive=True)]
        return sum(member.memory_info().rss for member in members)
    except psutil.NoSuchProcess:
        return 0


# --- the floor ------------------------------------------------------------------------------------


def floor_payload(sink: str, loop: int, n: int):
    """The SMS a submission builds (messaging/payloads.py), with a postback URL of its own."""
    from iliveit import ALL_POSTBACK_TYPES, NewMessage, SMSData

    ref = f"floor{loop}x{n:08d}"
    mac = "0" * 32  # the sink checks nothing; the length is the real one
    return NewMessage(
        mvno_id=MVNO,
        campaign="Bench",
        postback_status_url=f"{sink}/postbacks/status/{ref}/{mac}/",
        postback_status_types=ALL_POSTBACK_TYPES,
        postback_reply_url=f"{sink}/postbacks/reply/{ref}/{mac}/",
        data=SMSData(msisdn=f"2783{loop}{n:06d}", text="Bench", network="any"),
    )


def floor_loop(endpoint: str, sink: str, loop: int, ready, go, deadline, results) -> None:
    """One loop of the floor, in a process of its own as a prefork child is: send until the
    shared deadline, then report how many were accepted and how many failed."""
    from iliveit import ILiveItError, client_for

    client = client_for(endpoint, UNLIMITED_TOKEN)
    client.send(floor_payload(sink, loop, 0))  # opens the kept-alive connection
    ready.put(loop)
    go.wait()
    sent = failed = 0
    n = 1
    while time.monotonic() < deadline.value:
        try:
            client.send(floor_payload(sink, loop, n))
            sent += 1
        except ILiveItError:
            failed += 1
        n += 1
    results.put((sent, failed))


def measure_floor(endpoint: str, sink: str, *, loops: int, seconds: float) -> tuple[float, int]:
    """Messages a second that `loops` processes calling the client alone get the sandbox to
    accept, and how many calls failed."""
    context = multiprocessing.get_context("spawn")
    ready, results = context.Queue(), context.Queue()
    go = context.Event()
    deadline = context.Value("d", 0.0)
    processes = [
        context.Process(
            target=floor_loop, args=(endpoint, sink, loop, ready, go, deadline, results)
        )
        for loop in range(loops)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        ready.get(timeout=60)
    # CLOCK_MONOTONIC is the machine's, so the processes share the deadline.
    deadline.value = time.monotonic() + seconds
    go.set()
    counts = [results.get(timeout=seconds + 60) for _ in processes]
    for process in processes:
        process.join(timeout=10)
    sent = sum(count for count, _ in counts)
    failed = sum(count for _, count in counts)
    return sent / seconds, failed


# --- a run through the workers --------------------------------------------------------------------


@dataclass
class Run:
    """One campaign sent through the workers, and what the sandbox saw of it."""

    messages: int
    submitted: int = 0
    launch_s: float = 0.0
    elapsed_s: float = 0.0
    # From the first message accepted to the last (their submitted_at).
    sending_s: float = 0.0
    http_429: int = 0
    duplicates: int = 0
    rss_samples: list[tuple[int, int]] = field(default_factory=list)  # (submitted, bytes)

    @property
    def rate(self) -> float:
        """From the launch to the last message seen submitted."""
        return self.submitted / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def sending_rate(self) -> float:
        """From the first message accepted to the last: the workers' pace once they send, as
        the floor's loops are timed once connected (the launch is launch_s, and the first
        chunks' wait for the dispatch task is in `rate`)."""
        return (self.submitted - 1) / self.sending_s if self.sending_s else 0.0


def new_campaign(sandbox, token: str, rate: int, messages: int, *, personalised: bool, tag: str):
    from messaging.models import Application, Campaign, Channel, Message

    application = Application.objects.create(
        name=f"Bench {tag}", endpoint=sandbox.url, token=token, mvno_id=MVNO, rate_limit=rate
    )
    body = PERSONALISED_BODY if personalised else "Bench"
    campaign = Campaign.objects.create(
        name=f"Bench {tag}", channel=Channel.SMS, application=application, body_text=body
    )
    Message.objects.bulk_create(
        (
            Message(
                campaign=campaign,
                recipient=f"2782{n:07d}",
                fields=personal_fields(n) if personalised else None,
            )
            for n in range(messages)
        ),
        batch_size=2000,
    )
    return campaign


def send_through_workers(campaign, sandbox, worker_tree, *, messages: int, patience_s: float):
    """Launch the campaign and wait until every message is submitted (or patience runs out),
    sampling the worker tree's RSS as it goes."""
    from django.db.models import Max, Min

    from messaging.counting import campaign_counts
    from messaging.models import MessageState
    from messaging.services import campaign_launch

    run = Run(messages=messages)
    started = time.monotonic()
    campaign_launch(campaign=campaign, user=None)
    run.launch_s = time.monotonic() - started
    deadline = started + patience_s
    while run.submitted < messages and time.monotonic() < deadline:
        time.sleep(0.5)
        # The trigger-kept counters, not a COUNT over the messages: counting up to 100,000
        # rows twice a second loaded the database the workers were being timed on.
        run.submitted = campaign_counts(campaign_id=campaign.pk)[MessageState.SUBMITTED]
        run.rss_samples.append((run.submitted, tree_rss(worker_tree)))
    run.elapsed_s = time.monotonic() - started
    span = campaign.messages.aggregate(first=Min("submitted_at"), last=Max("submitted_at"))
    if span["first"] is not None:
        run.sending_s = (span["last"] - span["first"]).total_seconds()
    run.http_429 = sandbox.stats()["http_429"]
    run.duplicates = len(sandbox.submissions()["duplicates"])
    return run


def rss_flatness(run: Run) -> tuple[float, float]:
    """RSS (MB) once the first tenth of the run was sent, when the worker is warm, and at the
    end."""
    warm = next(
        (rss for sent, rss in run.rss_samples if sent >= run.messages // 10),
        run.rss_samples[0][1],
    )
    return warm / 2**20, run.rss_samples[-1][1] / 2**20


def start_worker(workers: int) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - our own worker
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "iliveit_portal",
            "worker",
            "--loglevel",
            "warning",
            "--pool",
            "prefork",
            "--concurrency",
            str(workers),
            "--without-mingle",
            "--without-gossip",
            "--queues",
            os.environ["CELERY_QUEUE"],
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


# --- the report -----------------------------------------------------------------------------------


def figure(value: float | None, digits: int) -> str:
    return "na" if value is None else f"{value:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=10_000, help="of the limited run")
    parser.add_argument("--rate", type=int, default=200, help="the limited run's limit")
    parser.add_argument("--workers", type=int, default=4, help="worker processes (prefork)")
    parser.add_argument(
        "--personalised",
        action="store_true",
        help="an SMS with two placeholders, and fields on every message",
    )
    parser.add_argument("--unlimited", type=int, default=100_000, help="messages, no limit")
    parser.add_argument("--floor-seconds", type=float, default=20.0)
    parser.add_argument("--skip-limited", action="store_true")
    parser.add_argument("--skip-floor", action="store_true")
    parser.add_argument("--skip-unlimited", action="store_true")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-send-"))
    database_url, drop_database = throwaway_database(tmp, "bench_send")
    redis_server = None
    if not os.environ.get("REDIS_URL"):
        from iliveit_portal.embedded_redis import start_embedded_redis, stop_embedded_redis

        redis_server, os.environ["REDIS_URL"] = start_embedded_redis(tmp / "redis.db")
    sink = postback_sink()
    django_for_bench(tmp, database_url, PORTAL_BASE_URL=sink, CELERY_QUEUE=f"bench-{os.getpid()}")

    # Stages a minute apart: the measured minute carries each message's first postback, and the
    # later ones (their intake is bench/postbacks.py's subject) do not compete for the CPU.
    limited_sandbox = SandboxProcess([SandboxApp(TOKEN, MVNO, args.rate)], step_seconds=60.0)
    unlimited_sandbox = SandboxProcess(
        [SandboxApp(UNLIMITED_TOKEN, MVNO, NO_LIMIT)], step_seconds=UNLIMITED_STEP_S
    )
    worker = None
    limited = unlimited = None
    floors: list[tuple[float, int]] = []  # (messages a second, calls failed) per floor run
    peak_rss = 0
    try:
        limited_campaign = new_campaign(
            limited_sandbox,
            TOKEN,
            args.rate,
            args.recipients,
            personalised=args.personalised,
            tag="limited",
        )
        worker = start_worker(args.workers)
        worker_tree = psutil.Process(worker.pid)
        # Timed while the worker comes up, before the clock starts.
        started = time.monotonic()
        render_us = render_cost_us(limited_campaign)
        time.sleep(max(0.0, 3 - (time.monotonic() - started)))

        if not args.skip_limited:
            limited = send_through_workers(
                limited_campaign,
                limited_sandbox,
                worker_tree,
                messages=args.recipients,
                patience_s=args.recipients / args.rate * 4 + 60,
            )
        # Its later stages would post 10,000 postbacks a minute apart through the floors and
        # the unlimited run, unevenly (most during the unlimited run): nothing reads them.
        limited_sandbox.stop()
        if not args.skip_unlimited:
            unlimited_campaign = new_campaign(
                unlimited_sandbox,
                UNLIMITED_TOKEN,
                NO_LIMIT,
                args.unlimited,
                personalised=args.personalised,
                tag="unlimited",
            )

        def floor() -> None:
            floors.append(
                measure_floor(
                    unlimited_sandbox.url, sink, loops=args.workers, seconds=args.floor_seconds
                )
            )
            unlimited_sandbox.reset()

        # Just before the unlimited run and again just after it, so that both meet the same
        # load on a shared machine (its speed drifted by a tenth within minutes); the worker
        # waits idle on the broker meanwhile.
        if not args.skip_floor:
            floor()
        if not args.skip_unlimited:
            unlimited = send_through_workers(
                unlimited_campaign,
                unlimited_sandbox,
                worker_tree,
                messages=args.unlimited,
                patience_s=args.unlimited / 20 + 60,
            )
            if not args.skip_floor:
                floor()
        for run in (limited, unlimited):
            if run is not None:
                peak_rss = max([peak_rss, *(rss for _, rss in run.rss_samples)])
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        limited_sandbox.stop()
        unlimited_sandbox.stop()
        from django.db import connections

        connections.close_all()
        drop_database()
        if redis_server is not None:
            stop_embedded_redis(redis_server)

    report(args, limited, unlimited, floors, peak_rss, render_us)


def report(args, limited, unlimited, floors, peak_rss, render_us) -> None:
    print(
        f"database              {os.environ['DATABASE_URL'].split(':')[0]}, workers {args.workers}"
    )
    rate_fraction = None
    if limited is not None:
        rate_fraction = limited.rate / args.rate
        print(
            f"limited run           {args.recipients} at {args.rate}/s  "
            f"(submitted {limited.submitted})"
        )
        print(f"  launch (queue all)  {limited.launch_s:.2f} s   aim < 5 s")
        print(
            f"  send time           {limited.elapsed_s:.1f} s   ideal "
            f"{args.recipients / args.rate:.1f} s"
        )
        print(
            f"  send rate           {limited.rate:.1f} msg/s of {args.rate}  = "
            f"{rate_fraction:.3f}  aim >= 0.97"
        )
        print(f"  429s from iLiveIt   {limited.http_429}")
        print(f"  duplicates          {limited.duplicates}   aim 0")
    floor_mps = None
    if floors:
        floor_mps = sum(rate for rate, _ in floors) / len(floors)
        each = " and ".join(f"{rate:.1f}" for rate, _ in floors)
        when = ", before and after the unlimited run" if len(floors) == 2 else ""
        print(
            f"floor                 {floor_mps:.1f} msg/s  ({args.workers} processes calling "
            f"client.send for {args.floor_seconds:.0f} s: {each}{when}; "
            f"{sum(failed for _, failed in floors)} failed)"
        )
    portal_mps = send_ratio = rss_start = rss_end = rss_growth = None
    if unlimited is not None:
        portal_mps = unlimited.sending_rate
        rss_start, rss_end = rss_flatness(unlimited)
        rss_growth = rss_end - rss_start
        print(
            f"unlimited run         {args.unlimited} with no limit  "
            f"(submitted {unlimited.submitted})"
        )
        print(
            f"  send rate           {portal_mps:.1f} msg/s in {unlimited.sending_s:.1f} s "
            f"(first to last accepted); {unlimited.rate:.1f} msg/s in "
            f"{unlimited.elapsed_s:.1f} s from the launch"
        )
        print(f"  429s from iLiveIt   {unlimited.http_429}")
        print(f"  duplicates          {unlimited.duplicates}   aim 0")
        print(
            f"  worker RSS          {rss_start:.0f} MB after the first tenth, "
            f"{rss_end:.0f} MB at the end: {rss_growth:+.1f} MB   aim flat"
        )
        if floor_mps:
            send_ratio = portal_mps / floor_mps
            print(f"  against the floor   {send_ratio:.3f}   aim >= 0.8")
    print(f"worker peak RSS       {peak_rss / 2**20:.0f} MB (all {args.workers + 1} processes)")
    kind = "personalised: 2 placeholders, 2 fields" if args.personalised else "the same text"
    print(f"render per message    {render_us:.1f} µs ({kind})")
    runs = [run for run in (limited, unlimited) if run is not None]
    print(
        f"RESULT personalised={int(args.personalised)} "
        f"launch_s={figure(limited and limited.launch_s, 2)} "
        f"rate_fraction={figure(rate_fraction, 3)} "
        f"http_429={sum(run.http_429 for run in runs)} "
        f"duplicates={sum(run.duplicates for run in runs)} "
        f"worker_rss_mb={peak_rss / 2**20:.0f} render_us={render_us:.1f} "
        f"floor_mps={figure(floor_mps, 1)} portal_mps={figure(portal_mps, 1)} "
        f"portal_launch_mps={figure(unlimited and unlimited.rate, 1)} "
        f"send_ratio={figure(send_ratio, 3)} rss_start_mb={figure(rss_start, 1)} "
        f"rss_end_mb={figure(rss_end, 1)} rss_growth_mb={figure(rss_growth, 1)}"
    )


if __name__ == "__main__":
    main()
