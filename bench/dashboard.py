"""Benchmark: the campaign dashboard at 1,000 and 1,000,000 messages, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/dashboard.py
        [--large 1000000] [--small 1000] [--runs 20] [--naive-runs 5] [--export-runs 1]

Makes a throwaway database on DATABASE_URL's server and generates two campaigns in SQL
(INSERT ... SELECT generate_series, in chunks of 250,000): each message submitted at 200/s, with
a spread of networks, outcomes (refused at submission, still queued or submitted, sent,
delivered, assumed delivered after 72 h, failed at the sent or delivered stage), stage times
and failure codes, and one status event per reported message (some late, some polled). The
triggers fill CampaignCount and the dashboard roll-ups as the rows go in; the run times that,
and what the triggers cost on a 200,000-row insert (rolled back).

The two campaigns are then marked launched (the large one still sending, the small one done),
so that the front page (reports/overview.py: the last 30 days across every application) counts
them; the run times it too, as a function and as the served page `/`.

Then times, warm, the median of --runs calls of campaign_dashboard for both campaigns, of
--naive-runs calls of campaign_dashboard_recount (the scan) for the large one, and keyset pages
of the large campaign's message list filtered by state (first page, one half-way through, and
the last page, read backwards), and the served list's first and last pages (aim: the last as
fast as the first). Checks that the large dashboard equals the recount.

Last, the large campaign's CSV export is downloaded through the real view (the test client,
signed in as a superuser) in a process of its own, so that the RSS measured is the exporting
process's and not the bench's: the whole streamed body is read, timed, and the process's RSS
sampled with psutil (and its kernel-kept peak). Aims: under 60 s and under 200 MB at 10^6
messages. Ends with one RESULT line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import psutil  # noqa: E402

from bench.common import django_for_bench, throwaway_database  # noqa: E402

CHUNK = 250_000
AIM_MS = 150
EXPORT_AIM_S = 60
EXPORT_AIM_RSS_MB = 200
# The last page may cost this much more than the first and still count as "as fast".
LAST_PAGE_AIM_RATIO = 1.5
BENCH_USER = "bench"

# One campaign's messages, ids first..last of the series. Random draws are materialised once per
# row (a volatile function in a subquery PostgreSQL may inline would be drawn again per use).
MESSAGES_SQL = """
WITH draws AS MATERIALIZED (
    SELECT g, random() AS r1, random() AS r2, random() AS r3, random() AS r4
    FROM generate_series(%(first)s, %(last)s) AS g
), outcomes AS MATERIALIZED (
    SELECT g, r4,
        CASE WHEN r1 < 0.02 THEN 'refused' WHEN r1 < 0.025 THEN 'queued'
             WHEN r1 < 0.03 THEN 'submitted' WHEN r1 < 0.06 THEN 'sent_failed'
             WHEN r1 < 0.10 THEN 'delivery_failed' WHEN r1 < 0.15 THEN 'sent'
             WHEN r1 < 0.16 THEN 'assumed' ELSE 'delivered' END AS outcome,
        CASE WHEN r2 < 0.45 THEN 'vodacom' WHEN r2 < 0.80 THEN 'mtn'
             WHEN r2 < 0.95 THEN 'cell_c' ELSE 'telkom' END AS network,
        -- Submitted at 200 per second; sent 1-21 s later; delivered after a long-tailed wait.
        date_trunc('second', %(start)s + g * interval '5 milliseconds') AS submit_at,
        date_trunc('second', %(start)s + g * interval '5 milliseconds'
            + (1 + r3 * 20) * interval '1 second') AS sent_at,
        date_trunc('second', %(start)s + g * interval '5 milliseconds'
            + (1 + r3 * 20 + exp(r4 * 8.5)) * interval '1 second') AS delivered_at
    FROM draws
), messages AS (
    SELECT *,
        outcome NOT IN ('refused', 'queued') AS accepted,
        outcome IN ('sent', 'sent_failed', 'delivered', 'assumed', 'delivery_failed') AS was_sent,
        outcome IN ('delivered', 'assumed', 'delivery_failed') AS reported
    FROM outcomes
)
INSERT INTO messaging_message (
    campaign_id, uuid, ref, recipient, is_test, is_single, iliveit_id, state, network,
    attempts, last_error, error_retryable, created_at, submitted_at, updated_at,
    rate_limited_count, is_transactional,
    build_description, archive_description,
    submit_code, submit_description, submit_at,
    sent_code, sent_description, sent_at,
    delivered_code, delivered_description, delivered_at
)
SELECT
    %(campaign)s, gen_random_uuid(), 'bench-' || %(campaign)s || '-' || g,
    '2782' || lpad(g::text, 7, '0'), false, false,
    CASE WHEN accepted THEN 'BENCH-' || %(campaign)s || '-' || g END,
    CASE outcome WHEN 'refused' THEN 'failed' WHEN 'sent_failed' THEN 'failed'
        WHEN 'delivery_failed' THEN 'failed' WHEN 'assumed' THEN 'delivered' ELSE outcome END,
    CASE WHEN accepted THEN network ELSE '' END,
    1,
    CASE WHEN outcome <> 'refused' THEN ''
        WHEN r4 < 0.6 THEN 'Invalid MSISDN' WHEN r4 < 0.9 THEN 'Number is blocked'
        ELSE 'Quota exceeded for this application' END,
    false, %(start)s, CASE WHEN accepted THEN submit_at END, now(),
    0, false,
    '', '',
    CASE WHEN accepted THEN 2 END, CASE WHEN accepted THEN 'Submitted' ELSE '' END,
    CASE WHEN accepted THEN submit_at END,
    CASE WHEN outcome = 'sent_failed' THEN (CASE WHEN r4 < 0.5 THEN 5 ELSE 2 END)
        WHEN was_sent THEN 1 END,
    CASE WHEN outcome = 'sent_failed' THEN (CASE WHEN r4 < 0.5 THEN 'Rejected'
        ELSE 'Absent subscriber' END) WHEN was_sent THEN 'Sent' ELSE '' END,
    CASE WHEN was_sent THEN sent_at END,
    CASE outcome WHEN 'delivered' THEN 1 WHEN 'assumed' THEN 12
        WHEN 'delivery_failed' THEN (CASE WHEN r4 < 0.7 THEN 3 ELSE 4 END) END,
    CASE outcome WHEN 'delivered' THEN 'Delivered' WHEN 'assumed' THEN 'Assumed Delivered'
        WHEN 'delivery_failed' THEN (CASE WHEN r4 < 0.7 THEN 'Expired' ELSE 'Undeliverable' END)
        ELSE '' END,
    CASE WHEN outcome = 'assumed' THEN submit_at + interval '72 hours'
        WHEN reported THEN delivered_at END
FROM messages
"""

# One status event per message that has a sent or delivered report: 2% learned by polling,
# 3% of the postbacks later than the promised hour.
EVENTS_SQL = """
WITH reports AS MATERIALIZED (
    SELECT id, random() AS r,
        CASE WHEN delivered_code IS NOT NULL THEN 'delivered' ELSE 'sent' END AS stage,
        coalesce(delivered_code, sent_code) AS code,
        CASE WHEN delivered_code IS NOT NULL THEN delivered_description
            ELSE sent_description END AS description,
        coalesce(delivered_at, sent_at) AS stage_at
    FROM messaging_message
    WHERE campaign_id = %(campaign)s AND id > %(after)s AND sent_code IS NOT NULL
)
INSERT INTO postbacks_messageevent
    (message_id, stage, code, description, stage_at, source, received_at, late_by_s)
SELECT id, stage, code, description, stage_at,
    CASE WHEN r < 0.02 THEN 'poll' ELSE 'postback' END, now(),
    CASE WHEN r > 0.97 THEN 60 + (r * 100000)::int %% 7200 ELSE 0 END
FROM reports
"""

LIST_SQL = """
SELECT id, recipient, state, network, updated_at FROM messaging_message
WHERE campaign_id = %s AND state = %s AND id > %s ORDER BY id LIMIT 50
"""

# The last page, as reports.message_queries.messages_page_before reads it: backwards from the top.
LAST_LIST_SQL = """
SELECT id, recipient, state, network, updated_at FROM messaging_message
WHERE campaign_id = %s AND state = %s ORDER BY id DESC LIMIT 51
"""


def generate(cursor, campaign_id: int, count: int, start) -> float:
    """Insert `count` messages (and their events) for the campaign; answer the seconds taken."""
    began = time.perf_counter()
    for first in range(1, count + 1, CHUNK):
        cursor.execute("SELECT coalesce(max(id), 0) FROM messaging_message")
        (after,) = cursor.fetchone()
        last = min(count, first + CHUNK - 1)
        cursor.execute(
            MESSAGES_SQL, {"campaign": campaign_id, "first": first, "last": last, "start": start}
        )
        cursor.execute(EVENTS_SQL, {"campaign": campaign_id, "after": after})
    return time.perf_counter() - began


def trigger_cost(connection, campaign_id: int, start, rows: int = 200_000) -> dict[str, float]:
    """Seconds to insert `rows` messages with no triggers, with the CampaignCount trigger only,
    and with every trigger; each insert is rolled back."""
    variants = {
        "no triggers": "SET LOCAL session_replication_role = replica",
        "counts only": (
            "ALTER TABLE messaging_message DISABLE TRIGGER messaging_message_rollups_insert"
        ),
        "counts + roll-ups": "",
    }
    seconds = {}
    for name, setup in variants.items():
        with connection.cursor() as cursor:
            cursor.execute("BEGIN")
            if setup:
                cursor.execute(setup)
            began = time.perf_counter()
            cursor.execute(
                MESSAGES_SQL, {"campaign": campaign_id, "first": 1, "last": rows, "start": start}
            )
            seconds[name] = time.perf_counter() - began
            cursor.execute("ROLLBACK")
    return seconds


def page(campaign_id: int, state: str, after: int | None) -> Callable[[], list]:
    """One keyset page of the campaign's message list: 50 rows of a state after id `after`, or
    the last page when `after` is None."""
    from django.db import connection  # Django is set up by then

    def run() -> list:
        with connection.cursor() as cursor:
            if after is None:
                cursor.execute(LAST_LIST_SQL, [campaign_id, state])
            else:
                cursor.execute(LIST_SQL, [campaign_id, state, after])
            return cursor.fetchall()

    return run


def served_pages(small, large, *, lists_after: int, runs: int) -> dict[str, float]:
    """Median serving time of each staff page through Django's test client (in process, no
    network), signed in as the bench's superuser."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(get_user_model().objects.get(username=BENCH_USER))

    def get(url: str) -> Callable[[], object]:
        def run() -> object:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response

        return run

    messages = reverse("reports:message_list", args=[large.pk])
    urls = {
        "dashboard page, small": reverse("reports:campaign_dashboard", args=[small.pk]),
        "dashboard page, large": reverse("reports:campaign_dashboard", args=[large.pk]),
        "dashboard figures part, large": reverse("reports:campaign_dashboard", args=[large.pk])
        + "?part=figures",
        "message list page, first": messages,
        "message list page, half-way": f"{messages}?after={lists_after}",
        "message list page, failed half-way": f"{messages}?state=failed&after={lists_after}",
        "message list page, last": f"{messages}?last=1",
        "message list page, failed last": f"{messages}?state=failed&last=1",
        "campaign list page": reverse("reports:campaign_list"),
        "front page (overview)": reverse("overview:front_page"),
    }
    return {name: median_ms(get(url), runs) for name, url in urls.items()}


def export_in_child(campaign_id: int) -> dict:
    """Run export_child in a fresh process (it inherits this process's environment, so the
    same database and settings) and answer what it measured."""
    completed = subprocess.run(  # noqa: S603 - this very script
        [sys.executable, __file__, "--export-child", str(campaign_id)],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def export_child(campaign_id: int) -> None:
    """Download the campaign's CSV export through the served view, as the bench's superuser,
    reading the whole streamed body; print one JSON line: seconds, time to the first byte,
    bytes, lines, this process's CPU seconds (what the export costs whatever else runs on the
    machine), and its RSS before the request and at its peak."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "iliveit_portal.settings"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    process = psutil.Process()
    client = Client()
    client.force_login(get_user_model().objects.get(username=BENCH_USER))
    url = reverse("reports:message_export", args=[campaign_id])
    rss_before = process.memory_info().rss
    peak = [rss_before]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], process.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    began, cpu_began = time.perf_counter(), time.process_time()
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    first_byte_s = None
    size = lines = 0
    for chunk in response.streaming_content:
        if first_byte_s is None:
            first_byte_s = time.perf_counter() - began
        size += len(chunk)
        lines += chunk.count(b"\n")
    seconds = time.perf_counter() - began
    cpu_s = time.process_time() - cpu_began
    response.close()
    done.set()
    sampler.join()
    # The kernel's own high-water mark (KiB on Linux) catches a peak between two samples.
    kernel_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_s": cpu_s,
                "first_byte_s": first_byte_s,
                "bytes": size,
                "lines": lines,
                "rss_before": rss_before,
                "rss_peak": max(peak[0], kernel_peak),
            }
        )
    )


def median_ms(call: Callable[[], object], runs: int) -> float:
    call()  # warm: plans cached, pages in memory
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--naive-runs", type=int, default=5)
    parser.add_argument("--export-runs", type=int, default=1)
    # Internal: the export's own process (export_in_child starts it).
    parser.add_argument("--export-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child is not None:
        export_child(args.export_child)
        return
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("set DATABASE_URL to a PostgreSQL server (a throwaway database is made)")

    tmp = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    database_url, drop_database = throwaway_database(tmp, "bench_dashboard")
    django_for_bench(tmp, database_url)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from messaging.models import (
        Application,
        Campaign,
        CampaignCount,
        CampaignFailure,
        CampaignLatency,
        CampaignMinute,
        CampaignState,
        Channel,
        Message,
    )
    from postbacks.models import CampaignEventCount
    from reports.dashboard import campaign_dashboard, campaign_dashboard_recount
    from reports.overview import overview

    try:
        application = Application.objects.create(
            name="Bench",
            endpoint="http://127.0.0.1:9/",
            token="bench",  # noqa: S106 - never used: nothing is sent
            mvno_id=1,
        )
        small, large, scratch = (
            Campaign.objects.create(
                name=name, channel=Channel.SMS, application=application, body_text="Bench"
            )
            for name in ("Small", "Large", "Scratch")
        )
        start = timezone.now().replace(microsecond=0) - timedelta(hours=6)
        with connection.cursor() as cursor:
            small_s = generate(cursor, small.pk, args.small, start)
            large_s = generate(cursor, large.pk, args.large, start)
        cost = trigger_cost(connection, scratch.pk, start)
        # Launched, so that the front page's last 30 days hold them: one still sending, one done.
        Campaign.objects.filter(pk=large.pk).update(state=CampaignState.SENDING, launched_at=start)
        Campaign.objects.filter(pk=small.pk).update(
            state=CampaignState.DONE, launched_at=start, finished_at=start + timedelta(hours=1)
        )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
            cursor.execute("CHECKPOINT")
        rollup_rows = {
            model.__name__: model.objects.filter(campaign=large).count()
            for model in (
                CampaignCount,
                CampaignMinute,
                CampaignLatency,
                CampaignFailure,
                CampaignEventCount,
            )
        }

        dashboard = campaign_dashboard(campaign_id=large.pk)
        recount = campaign_dashboard_recount(campaign_id=large.pk)
        small_ms = median_ms(lambda: campaign_dashboard(campaign_id=small.pk), args.runs)
        large_ms = median_ms(lambda: campaign_dashboard(campaign_id=large.pk), args.runs)
        naive_ms = median_ms(
            lambda: campaign_dashboard_recount(campaign_id=large.pk), args.naive_runs
        )
        front = overview(campaigns=Campaign.objects.all())
        overview_fn_ms = median_ms(lambda: overview(campaigns=Campaign.objects.all()), args.runs)

        # A common state and a rare one: the planner walks the primary key for the first and
        # the (campaign, state, id) index for the second.
        lists, plans = {}, {}
        for state in ("delivered", "failed"):
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id FROM messaging_message WHERE campaign_id = %s AND state = %s "
                    "ORDER BY id OFFSET %s LIMIT 1",
                    [large.pk, state, dashboard.totals[state] // 2],
                )
                (half_way,) = cursor.fetchone()
                cursor.execute("EXPLAIN " + LIST_SQL, [large.pk, state, half_way])
                plans[state] = [row[0] for row in cursor.fetchall()]
            for name, after in (("first", 0), ("half-way", half_way), ("last", None)):
                lists[f"{state}, {name} page"] = median_ms(page(large.pk, state, after), args.runs)

        # The pages themselves, as staff get them: middleware, sign-in, queries and template.
        get_user_model().objects.create_superuser(BENCH_USER)
        pages = served_pages(small, large, lists_after=half_way, runs=args.runs)
        exported_lines = 1 + Message.objects.filter(campaign=large, is_test=False).count()
        connection.close()  # the export's process works alone
        exports = [export_in_child(large.pk) for _ in range(args.export_runs)]
    finally:
        connection.close()
        drop_database()

    list_ms = max(lists.values())
    page_list_ms = max(ms for name, ms in pages.items() if "list" in name)
    print(
        f"generated  {args.small} messages in {small_s:.1f} s, {args.large} in {large_s:.1f} s "
        f"({args.large / large_s:.0f} rows/s, events included), PostgreSQL"
    )
    print(
        "insert     200000 rows: "
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in cost.items())
    )
    print(f"roll-ups   rows for the large campaign: {rollup_rows}")
    print(
        f"figures    total {dashboard.total}, funnel {dashboard.funnel}, delivery rate "
        f"{dashboard.delivery_rate:.3f}, p50 <= {dashboard.latency_p50_s} s, p95 <= "
        f"{dashboard.latency_p95_s} s, {len(dashboard.failure_reasons)} failure reasons, "
        f"{len(dashboard.per_minute)} minutes, {len(dashboard.per_hour)} hours, late "
        f"{dashboard.late_postbacks}, reconciled {dashboard.reconciled}"
    )
    print(f"check      large dashboard equals its recount: {dashboard == recount}")
    launched = args.small + args.large  # the generated messages are never drafts
    print(
        f"overview   {front.total.messages} messages in {front.total.campaigns} campaigns "
        f"(equals the generated {launched}: {front.total.messages == launched}), delivery rate "
        f"{front.total.delivery_rate:.3f}, {sum(front.daily.values['submitted'])} submitted "
        f"over {len(front.daily.starts)} days, {len(front.top_failure_reasons)} top reasons"
    )
    print(f"{'':<40}{args.small:>12,}{args.large:>14,}")
    print(f"{'campaign_dashboard (roll-ups)':<40}{small_ms:>9.1f} ms{large_ms:>11.1f} ms")
    print(f"{'campaign_dashboard_recount (scan)':<40}{'':>12}{naive_ms:>11.1f} ms")
    for name, ms in lists.items():
        print(f"{'message list, ' + name:<40}{'':>12}{ms:>11.2f} ms")
    print(
        f"compare    roll-ups {naive_ms / large_ms:.0f}x faster than the scan at {args.large:,}; "
        f"large vs small {large_ms / small_ms:.1f}x; aim < {AIM_MS} ms: "
        f"{'met' if max(small_ms, large_ms) < AIM_MS else 'MISSED'}"
    )
    for name, ms in pages.items():
        print(f"{'served: ' + name:<40}{'':>12}{ms:>11.1f} ms")
    served_small, served_large = pages["dashboard page, small"], pages["dashboard page, large"]
    overview_ms = pages["front page (overview)"]
    print(
        f"served     front page {overview_ms:.1f} ms over {launched:,} messages "
        f"(overview() {overview_fn_ms:.1f} ms); aim < {AIM_MS} ms: "
        f"{'met' if overview_ms < AIM_MS else 'MISSED'}"
    )
    print(
        f"served     dashboard page {served_small:.1f} ms at {args.small:,}, {served_large:.1f} ms "
        f"at {args.large:,}; slowest list page {page_list_ms:.1f} ms; aim < {AIM_MS} ms: "
        f"{'met' if max(served_small, served_large, page_list_ms) < AIM_MS else 'MISSED'}"
    )
    for state, plan in plans.items():
        print(f"list plan  {state}: " + " / ".join(line.strip() for line in plan))
    first_page_ms = pages["message list page, first"]
    last_page_ms = pages["message list page, last"]
    last_ratio = max(
        last_page_ms / first_page_ms,
        pages["message list page, failed last"] / pages["message list page, failed half-way"],
    )
    last_met = last_ratio <= LAST_PAGE_AIM_RATIO
    print(
        f"served     message list first page {first_page_ms:.1f} ms, last page "
        f"{last_page_ms:.1f} ms (failed: half-way "
        f"{pages['message list page, failed half-way']:.1f} ms, last "
        f"{pages['message list page, failed last']:.1f} ms); aim last <= "
        f"{LAST_PAGE_AIM_RATIO}x the first: {'met' if last_met else 'MISSED'}"
    )
    for run, export in enumerate(exports, 1):
        print(
            f"export     run {run}: {export['lines'] - 1:,} rows, {export['bytes'] / 1e6:.0f} MB "
            f"in {export['seconds']:.1f} s ({(export['lines'] - 1) / export['seconds']:,.0f} "
            f"rows/s, first byte {export['first_byte_s']:.2f} s, {export['cpu_s']:.1f} s of CPU "
            f"in the exporting process); RSS "
            f"{export['rss_before'] / 1e6:.0f} MB before, {export['rss_peak'] / 1e6:.0f} MB at "
            f"its peak; all rows: {export['lines'] == exported_lines}"
        )
    export_s = max(export["seconds"] for export in exports)
    export_rss_mb = max(export["rss_peak"] for export in exports) / 1e6
    export_cpu_s = max(export["cpu_s"] for export in exports)
    print(
        f"export     slowest {export_s:.1f} s, aim < {EXPORT_AIM_S} s: "
        f"{'met' if export_s < EXPORT_AIM_S else 'MISSED'}; peak RSS {export_rss_mb:.0f} MB, "
        f"aim < {EXPORT_AIM_RSS_MB} MB: {'met' if export_rss_mb < EXPORT_AIM_RSS_MB else 'MISSED'}"
    )
    # small_ms and large_ms are the dashboard page as served; list_large_ms the slowest message
    # list page at the large size; overview_ms the front page as served, over both campaigns.
    # The bare function and query figures follow.
    print(
        f"RESULT small_ms={served_small:.1f} large_ms={served_large:.1f} "
        f"naive_large_ms={naive_ms:.1f} list_large_ms={page_list_ms:.1f} "
        f"overview_ms={overview_ms:.1f} "
        f"dashboard_fn_small_ms={small_ms:.1f} dashboard_fn_large_ms={large_ms:.1f} "
        f"list_query_large_ms={list_ms:.2f} overview_fn_ms={overview_fn_ms:.1f} "
        f"export_s={export_s:.1f} export_rss_mb={export_rss_mb:.0f} "
        f"export_cpu_s={export_cpu_s:.1f} "
        f"first_page_ms={first_page_ms:.1f} last_page_ms={last_page_ms:.1f}"
    )


if __name__ == "__main__":
    main()
