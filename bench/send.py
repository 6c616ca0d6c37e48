"""Benchmark: send a 10,000-recipient campaign through real Celery workers to the sandbox at an
application limit of 200 msg/s.

    .venv/bin/python bench/send.py [--recipients 10000] [--rate 200] [--workers 4] [--personalised]

Uses DATABASE_URL's server (a throwaway database is made and dropped there) or, without it, a
temporary SQLite file; REDIS_URL or an embedded Redis. Prints the launch time, the achieved
send rate against the limit, the 429s the sandbox answered, duplicate submissions by the
sandbox's own count, and the workers' peak RSS; ends with one RESULT line.

With --personalised the SMS has two placeholders and every message its own fields, so each
is rendered when it is submitted; the RESULT line then also gives the rendering cost per
message (render_us), timed here by a micro-benchmark of messaging.personalise's render.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import django_for_bench, throwaway_database  # noqa: E402
from tests.support.sandbox import SandboxApp, SandboxProcess  # noqa: E402

TOKEN = "bench-token"  # noqa: S105 - the sandbox's throwaway token
MVNO = 1
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4, help="worker processes (prefork)")
    parser.add_argument(
        "--personalised",
        action="store_true",
        help="an SMS with two placeholders, and fields on every message",
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-send-"))
    database_url, drop_database = throwaway_database(tmp, "bench_send")
    redis_server = None
    if not os.environ.get("REDIS_URL"):
        from iliveit_portal.embedded_redis import start_embedded_redis, stop_embedded_redis

        redis_server, os.environ["REDIS_URL"] = start_embedded_redis(tmp / "redis.db")
    django_for_bench(
        tmp,
        database_url,
        PORTAL_BASE_URL=postback_sink(),
        CELERY_QUEUE=f"bench-{os.getpid()}",
    )
    from messaging.models import Application, Campaign, Channel, Message, MessageState
    from messaging.services import campaign_launch

    # Stages a minute apart: the measured minute carries each message's first postback, and the
    # later ones (their intake is bench/postbacks.py's subject) do not compete for the CPU.
    sandbox = SandboxProcess([SandboxApp(TOKEN, MVNO, args.rate)], step_seconds=60.0)
    worker = subprocess.Popen(  # noqa: S603 - our own worker
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
            str(args.workers),
            "--without-mingle",
            "--without-gossip",
            "--queues",
            os.environ["CELERY_QUEUE"],
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker_tree = psutil.Process(worker.pid)
    peak_rss = 0
    try:
        application = Application.objects.create(
            name="Bench", endpoint=sandbox.url, token=TOKEN, mvno_id=MVNO, rate_limit=args.rate
        )
        body = PERSONALISED_BODY if args.personalised else "Bench"
        campaign = Campaign.objects.create(
            name="Bench", channel=Channel.SMS, application=application, body_text=body
        )
        Message.objects.bulk_create(
            (
                Message(
                    campaign=campaign,
                    recipient=f"2782{n:07d}",
                    fields=personal_fields(n) if args.personalised else None,
                )
                for n in range(args.recipients)
            ),
            batch_size=2000,
        )
        # Timed while the worker comes up, before the clock starts.
        started = time.monotonic()
        render_us = render_cost_us(campaign)
        time.sleep(max(0.0, 3 - (time.monotonic() - started)))

        started = time.monotonic()
        campaign_launch(campaign=campaign, user=None)
        launch_s = time.monotonic() - started

        done = MessageState.SUBMITTED
        submitted = 0
        deadline = started + args.recipients / args.rate * 4 + 60
        while submitted < args.recipients and time.monotonic() < deadline:
            time.sleep(0.5)
            peak_rss = max(peak_rss, tree_rss(worker_tree))
            submitted = campaign.messages.filter(state=done).count()
        elapsed = time.monotonic() - started
        stats = sandbox.stats()
        submissions = sandbox.submissions()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        sandbox.stop()
        from django.db import connections

        connections.close_all()
        drop_database()
        if redis_server is not None:
            stop_embedded_redis(redis_server)

    rate = submitted / elapsed
    rate_fraction = rate / args.rate
    duplicates = len(submissions["duplicates"])
    worker_rss_mb = peak_rss / 1024 / 1024
    print(f"recipients            {args.recipients}  (submitted {submitted})")
    print(f"database              {database_url.split(':')[0]}, workers {args.workers}")
    print(f"launch (queue all)    {launch_s:.2f} s   aim < 5 s")
    print(f"send time             {elapsed:.1f} s   ideal {args.recipients / args.rate:.1f} s")
    print(
        f"send rate             {rate:.1f} msg/s of {args.rate}  = {rate_fraction:.3f}  aim >= 0.95"
    )
    print(f"429s from iLiveIt     {stats['http_429']}")
    print(f"duplicate submissions {duplicates}   aim 0 (sandbox total {submissions['total']})")
    print(f"worker peak RSS       {worker_rss_mb:.0f} MB (all {args.workers + 1} processes)")
    kind = "personalised: 2 placeholders, 2 fields" if args.personalised else "the same text"
    print(f"render per message    {render_us:.1f} µs ({kind})")
    print(
        f"RESULT personalised={int(args.personalised)} launch_s={launch_s:.2f} "
        f"rate_fraction={rate_fraction:.3f} http_429={stats['http_429']} "
        f"duplicates={duplicates} worker_rss_mb={worker_rss_mb:.0f} render_us={render_us:.1f}"
    )


if __name__ == "__main__":
    main()
