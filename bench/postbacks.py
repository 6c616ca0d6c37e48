"""Benchmark: postback intake on gunicorn and PostgreSQL, against a bare Django view.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/postbacks.py
        [--messages 10000] [--postbacks 50000] [--connections 32] [--gunicorn-workers 4]

Makes a throwaway database on DATABASE_URL's server with one campaign of --messages submitted
messages, then posts --postbacks status postbacks (each message's build, archive, submit,
sent and delivery reports, shuffled so that most arrive out of order) from --connections
concurrent loopback connections to the real webhook on gunicorn. The same run posts the same
bodies to a bare view that only inserts one row, behind the same middleware (bench/bare_urls.py).
A paced run then posts at half the bare view's rate, and the same INSERT is sent straight from
psycopg on that schedule: the latency floor that PostgreSQL and its disk set, with no web stack.

Prints throughput, p50 and p99 latency and errors for both, and the ratio; then counts inbox
rows against the 200s answered (lost). The webhook only stores; the worker's drain that applies
the rows runs after the intake, timed, and the run checks that every message ended delivered
with its five events. Ends with one RESULT line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import django_for_bench, throwaway_database  # noqa: E402

STAGES = ("build", "archive", "submit", "sent", "delivered")
# (postback_type, the stage it reports, its code and description), in lifecycle order.
LIFECYCLE = (
    ("build", "build", 14, "RenderFarmSuccess"),
    ("archive", "archive", 4, "Archived"),
    ("submit", "submit", 2, "Submitted"),
    ("sent", "sent", 1, "Sent"),
    ("delivery", "delivered", 1, "Delivered"),
)


# One drain in its own process, as a worker runs it; exits with the number of rows that failed.
DRAIN_SCRIPT = """
import sys, django
django.setup()
from postbacks.drain import postbacks_drain
sys.exit(min(len(postbacks_drain()), 100))
"""


def body_for(message_id: str, step: int, start: datetime) -> bytes:
    """The StatusResult iLiveIt posts after lifecycle step `step`: every stage so far set, the
    rest code 0 with the zero timestamp (NOTES.md)."""
    body = {
        "type": "sms",
        "campaign": "Bench",
        "message_id": message_id,
        "template": 0,
        "network": "vodacom",
        "msisdn": "27820000001",
        "email": "",
        "mvno": 1,
        "date_received": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "postback_type": LIFECYCLE[step][0],
    }
    reached = {stage: (code, text) for _, stage, code, text in LIFECYCLE[: step + 1]}
    for offset, name in enumerate(STAGES):
        code, text = reached.get(name, (0, ""))
        moment = (start + timedelta(seconds=offset)).strftime("%Y-%m-%dT%H:%M:%SZ")
        body[f"{name}_status"] = code
        body[f"{name}_status_description"] = text
        body[f"{name}_timestamp"] = moment if name in reached else "0001-01-01T00:00:00Z"
    return json.dumps(body).encode()


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    elapsed: float = 0.0
    # Inbox rows the run added, counted in the database afterwards.
    stored: int = 0

    def add(self, other: Run) -> None:
        self.latencies += other.latencies
        for status, n in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + n
        self.errors += other.errors
        self.elapsed += other.elapsed
        self.stored += other.stored

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.elapsed

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] * 1000


class _Closed(Exception):
    pass


async def _exchange(reader, writer, request: bytes) -> int:
    """Send one request on an open connection; answer the status code."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
        if name.strip().lower() == b"connection" and value.strip().lower() == b"close":
            await reader.readexactly(length)
            raise _Closed(status)
    await reader.readexactly(length)
    return status


async def _load(
    port: int, requests: list[tuple[str, bytes]], connections: int, rate: float | None
) -> Run:
    """`connections` kept-alive connections, each posting its next request as soon as the
    last was answered; or, given a rate, as soon as the request's turn on a fixed schedule
    comes (latency then counts from that turn, so a slow answer is not hidden by the wait)."""
    run = Run()
    queue = iter(enumerate(requests))
    begin = time.perf_counter()

    async def connection() -> None:
        reader = writer = None
        for index, (path, body) in queue:
            if rate:
                due = begin + index / rate
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
            request = (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Type: application/json\r\nUser-Agent: iLiveIt-bench\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            started = begin + index / rate if rate else time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                status = await _exchange(reader, writer, request)
            except _Closed as closed:
                status = closed.args[0]
                writer.close()
                reader = writer = None
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                run.errors += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
                continue
            run.latencies.append(time.perf_counter() - started)
            run.statuses[status] = run.statuses.get(status, 0) + 1
            if status != 200:
                run.errors += 1
        if writer is not None:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    run.elapsed = time.perf_counter() - begin
    return run


def load(
    port: int, requests: list[tuple[str, bytes]], connections: int, rate: float | None = None
) -> Run:
    return asyncio.run(_load(port, requests, connections, rate))


async def _floor(database_url: str, bodies: list[bytes], connections: int, rate: float) -> Run:
    """The webhook's one INSERT, sent straight from psycopg on `connections` connections on the
    same schedule as the paced run: the latency that PostgreSQL and its disk alone give at that
    rate, with no HTTP, gunicorn or Django in front."""
    import psycopg
    from psycopg import sql

    from postbacks.models import PostbackInbox

    insert = sql.SQL(
        "INSERT INTO {} (ref, kind, body, truncated, headers, received_at, state, reason) "
        "VALUES ('', 'status', %s, false, '{{}}', now(), 'pending', '')"
    ).format(sql.Identifier(PostbackInbox._meta.db_table))
    run = Run()
    queue = iter(enumerate(bodies))
    begin = time.perf_counter()

    async def connection() -> None:
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as db:
            for index, body in queue:
                due = begin + index / rate
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                await db.execute(insert, (body,))
                run.latencies.append(time.perf_counter() - due)
                run.statuses[200] = run.statuses.get(200, 0) + 1

    await asyncio.gather(*(connection() for _ in range(connections)))
    run.elapsed = time.perf_counter() - begin
    return run


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn(settings_module: str, workers: int, threads: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own app server
        [
            sys.executable,
            "-m",
            "gunicorn",
            "iliveit_portal.wsgi",
            "--workers",
            str(workers),
            # Threads keep connections alive between postbacks, as a proxy in front would.
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--keep-alive",
            "30",
            "--bind",
            f"127.0.0.1:{port}",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": settings_module},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start")


def warm_up(port: int, requests: list[tuple[str, bytes]], workers: int) -> None:
    # Every worker imports Django and opens its database connection before the clock starts.
    load(port, requests, workers * 2)


def settle_database() -> None:
    """Start both measurements from the same quiet database: statistics fresh, the bulk
    insert's dirty pages written out."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=30)


def report(name: str, run: Run) -> None:
    print(
        f"{name:<10} {run.rps:8.0f} req/s   p50 {run.percentile_ms(0.50):6.1f} ms   "
        f"p99 {run.percentile_ms(0.99):6.1f} ms   answered {dict(sorted(run.statuses.items()))}"
        f"   errors {run.errors}   ({len(run.latencies)} in {run.elapsed:.1f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--postbacks", type=int, default=50_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--gunicorn-workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds of each")
    parser.add_argument("--paced-s", type=float, default=20.0, help="length of the paced run")
    parser.add_argument("--drainers", type=int, default=2, help="drain processes afterwards")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("set DATABASE_URL to a PostgreSQL server (a throwaway database is made)")

    tmp = Path(tempfile.mkdtemp(prefix="bench-postbacks-"))
    database_url, drop_database = throwaway_database(tmp, "bench_postbacks")
    django_for_bench(
        tmp,
        database_url,
        # The sweeper would take the rows the view is applying; none runs here.
        CELERY_QUEUE=f"bench-{os.getpid()}",
    )
    from django.db import connections
    from django.db.models import Count
    from django.urls import reverse

    from iliveit_portal.queues import celery_queues
    from iliveit_portal.redis_client import redis_client
    from messaging.models import Application, Campaign, Channel, Message, MessageState
    from messaging.postback_urls import sign
    from postbacks.models import InboxKind, InboxState, MessageEvent, PostbackInbox

    try:
        application = Application.objects.create(
            name="Bench",
            endpoint="http://127.0.0.1:9/",
            token="bench",  # noqa: S106 - never used: nothing is sent
            mvno_id=1,
        )
        campaign = Campaign.objects.create(
            name="Bench", channel=Channel.SMS, application=application, body_text="Bench"
        )
        Message.objects.bulk_create(
            (
                Message(
                    campaign=campaign,
                    recipient=f"2782{n:07d}",
                    state=MessageState.SUBMITTED,
                    iliveit_id=f"BENCH-{n:07d}",
                )
                for n in range(args.messages)
            ),
            batch_size=2000,
        )
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
        per_message = max(1, args.postbacks // args.messages)
        real, bare = [], []
        for ref, iliveit_id in Message.objects.values_list("ref", "iliveit_id"):
            mac = sign(ref)
            path = reverse("postbacks:status", kwargs={"ref": ref, "mac": mac})
            for step in range(per_message):
                body = body_for(iliveit_id, step % len(LIFECYCLE), start)
                real.append((path, body))
                bare.append((f"/bare/{ref}/{mac}/", body))
        order = random.Random(1).sample(range(len(real)), len(real))
        real = [real[i] for i in order][: args.postbacks]
        bare = [bare[i] for i in order][: args.postbacks]
        connections.close_all()

        sides = {
            "bare": ("bench.bare_settings", bare),
            "postbacks": ("iliveit_portal.webhook_settings", real),
        }
        servers = {
            name: gunicorn(module, args.gunicorn_workers, args.threads)
            for name, (module, _) in sides.items()
        }
        runs = {name: Run() for name in sides}
        try:
            for name, (_process, port) in servers.items():
                # Warm-up on copies the counts below leave out (bare rows have no message; the
                # real ones are duplicates of bodies posted again in the measured run).
                warm_up(port, sides[name][1][: args.gunicorn_workers * 20], args.gunicorn_workers)
            settle_database()
            # Rounds alternate between the two, so that neither alone meets a checkpoint or
            # autovacuum, or the machine's other load.
            size = -(-args.postbacks // args.rounds)
            for start_at in range(0, args.postbacks, size):
                for name, (_process, port) in servers.items():
                    stored_before = PostbackInbox.objects.count()
                    part = load(port, sides[name][1][start_at : start_at + size], args.connections)
                    part.stored = PostbackInbox.objects.count() - stored_before
                    runs[name].add(part)
            # The same connections at half the bare view's saturated rate: the latency
            # iLiveIt sees when the portal is busy but not overrun.
            paced_rate = runs["bare"].rps / 2
            paced = sides["postbacks"][1][: int(paced_rate * args.paced_s)]
            # From a quiet database again: the saturated rounds' 100,000 rows would otherwise
            # have autovacuum and the checkpoint writing them out during the paced run.
            settle_database()
            stored_before = PostbackInbox.objects.count()
            paced_run = load(servers["postbacks"][1], paced, args.connections, rate=paced_rate)
            paced_run.stored = PostbackInbox.objects.count() - stored_before
            # As many database connections as gunicorn's threads hold.
            floor_run = asyncio.run(
                _floor(
                    database_url,
                    [body for _, body in paced],
                    args.gunicorn_workers * args.threads,
                    paced_rate,
                )
            )
        finally:
            for process, _ in servers.values():
                stop(process)
        connections.close_all()

        # The webhook only stores; workers' drains apply. None ran during the intake (on a
        # 2-core machine they would compete with gunicorn for the CPU), so they run now, timed,
        # side by side as the drain's helpers would.
        PostbackInbox.objects.filter(ref="").delete()  # the bare view's rows: nothing to apply
        to_drain = PostbackInbox.objects.filter(state=InboxState.PENDING).count()
        started = time.perf_counter()
        drainers = [
            subprocess.Popen(  # noqa: S603 - our own code
                [sys.executable, "-c", DRAIN_SCRIPT], cwd=REPO, env=os.environ.copy()
            )
            for _ in range(args.drainers)
        ]
        failed = sum(process.wait() for process in drainers)
        drain_s = time.perf_counter() - started
        inbox = PostbackInbox.objects.filter(kind=InboxKind.STATUS, message__campaign=campaign)
        by_state = dict(inbox.values_list("state").annotate(n=Count("id")).order_by())
        delivered = campaign.messages.filter(state=MessageState.DELIVERED).count()
        events = MessageEvent.objects.filter(message__campaign=campaign).count()
        pending = inbox.filter(state__in=(InboxState.PENDING, InboxState.WAITING)).count()
    finally:
        connections.close_all()
        drop_database()
        redis_client().delete(
            *celery_queues(os.environ), f"postbacks:drain:{os.environ['CELERY_QUEUE']}"
        )

    bare_run, real_run = runs["bare"], runs["postbacks"]
    lost = sum(max(0, run.ok - run.stored) for run in (real_run, bare_run, paced_run))
    ratio = real_run.rps / bare_run.rps
    print(
        f"{args.postbacks} postbacks over {args.messages} messages, {args.connections} "
        f"connections kept alive, gunicorn {args.gunicorn_workers} workers x {args.threads} "
        "threads, PostgreSQL"
    )
    report("bare view", bare_run)
    report("postbacks", real_run)
    report(f"paced {paced_rate:.0f}/s", paced_run)
    report("db floor", floor_run)
    print(f"ratio      {ratio:.2f} of the bare view   aim >= 0.7")
    print(
        f"p99        {real_run.percentile_ms(0.99):.1f} ms saturated (bare view "
        f"{bare_run.percentile_ms(0.99):.1f} ms), {paced_run.percentile_ms(0.99):.1f} ms at "
        f"{paced_rate:.0f}/s   aim < 50 ms"
    )
    print(
        f"floor      the same INSERT straight from psycopg at {paced_rate:.0f}/s: p99 "
        f"{floor_run.percentile_ms(0.99):.1f} ms (what PostgreSQL and its disk alone give)"
    )
    print(
        f"stored     {real_run.stored} inbox rows for {real_run.ok} answered 200 "
        f"(bare {bare_run.stored} for {bare_run.ok}); lost {lost}   aim 0"
    )
    print(
        f"drain      {to_drain} stored postbacks applied in {drain_s:.1f} s by {args.drainers} "
        f"drain processes = {to_drain / drain_s:.0f}/s ({failed} failed)"
    )
    drain_rps = to_drain / drain_s
    drain_ratio = drain_rps / real_run.rps
    print(
        f"apply      drains {drain_ratio:.2f}x the webhook's intake   aim >= 1.0 (a campaign at "
        "200/s brings 1,000 postbacks/s; below 1.0 the inbox grows without end)"
    )
    print(f"inbox      {by_state}; still pending {pending}")
    print(
        f"messages   {delivered} of {args.messages} delivered, {events} events "
        f"(expected {args.messages * min(per_message, len(LIFECYCLE))})"
    )
    print(
        f"RESULT rps={real_run.rps:.0f} bare_rps={bare_run.rps:.0f} ratio={ratio:.2f} "
        f"p50_ms={real_run.percentile_ms(0.50):.1f} p99_ms={real_run.percentile_ms(0.99):.1f} "
        f"lost={lost} paced_rps={paced_rate:.0f} paced_p99_ms={paced_run.percentile_ms(0.99):.1f} "
        f"drain_rps={drain_rps:.0f} drain_ratio={drain_ratio:.2f} "
        f"floor_p99_ms={floor_run.percentile_ms(0.99):.1f}"
    )


if __name__ == "__main__":
    main()
