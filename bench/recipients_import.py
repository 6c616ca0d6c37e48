"""How long a 100k-row recipient CSV takes: read + parse, then insert into a campaign; once with
the recipient column only, once with --fields more columns (5 by default) kept as each
recipient's fields. Ends with one RESULT line holding both figures.

    .venv/bin/python bench/recipients_import.py [--rows 100000] [--fields 5] [--opt-outs 100000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \
        .venv/bin/python bench/recipients_import.py

Runs in a throwaway test database (test_<name>), created and dropped here.

--opt-outs N first puts N recipients on the application's opt-out list (not timed): every
tenth recipient of the CSV, then numbers the CSV does not hold, so that the import's opt-out
check (one lookup for the whole list) both finds and misses.
"""

import argparse
import io
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iliveit_portal.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
os.environ.setdefault("ALLOWED_HOSTS", "localhost")
os.environ.setdefault("PORTAL_VAR_DIR", str(ROOT / "var" / "bench"))


# Columns as a customer list has them: header cell, then a value for row i.
FIELD_COLUMNS = (
    ("First Name", lambda i: f"Person{i}"),
    ("Last Name", lambda i: f"Surname {i % 977}"),
    ("Amount Due", lambda i: f"{i % 9000 + 10} {i % 1000:03d}.50"),
    ("Account No.", lambda i: f"ACC-{i:08d}"),
    ("City", lambda i: ("Durban", "Cape Town", "Pretoria", "Gqeberha")[i % 4]),
)


def csv_bytes(rows: int, fields: int = 0) -> bytes:
    """A realistic mix of shapes (national with spaces, international, bare 27...) with
    `fields` more columns."""
    rng = random.Random(1)
    shapes = ("0{} {} {}", "+27 {} {} {}", "27{}{}{}")
    columns = [FIELD_COLUMNS[n % len(FIELD_COLUMNS)] for n in range(fields)]
    header = [
        "msisdn",
        *(
            f"{name} {n}" if n >= len(FIELD_COLUMNS) else name
            for n, (name, _) in enumerate(columns)
        ),
    ]
    lines = [";".join(header)]
    for i in range(rows):
        prefix = rng.choice(("82", "83", "72", "73", "84", "61"))
        digits = (prefix, f"{rng.randrange(1000):03d}", f"{rng.randrange(10000):04d}")
        cells = [rng.choice(shapes).format(*digits), *(value(i) for _, value in columns)]
        lines.append(";".join(cells))
    return "\r\n".join(lines).encode()


def seed_opt_outs(app, data: bytes, count: int) -> int:
    """`count` opt-outs of the application: every tenth CSV recipient, then other numbers."""
    from messaging.models import Channel, OptOut, OptOutSource
    from messaging.recipients import read_recipient_file

    listed = read_recipient_file(file=io.BytesIO(data), channel=Channel.SMS).accepted
    recipients = listed[::10][:count]
    # 2760...: a prefix csv_bytes never writes, so these miss.
    recipients += [f"2760{n:07d}" for n in range(count - len(recipients))]
    OptOut.objects.bulk_create(
        (OptOut(application=app, recipient=r, source=OptOutSource.IMPORT) for r in recipients),
        batch_size=5000,
    )
    return len(recipients)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--opt-outs", type=int, default=0, help="opt-outs to seed first")
    parser.add_argument("--fields", type=int, default=5, help="columns besides the recipient's")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    from messaging.models import Application, Campaign, Channel
    from messaging.recipients import campaign_add_recipients, read_recipient_file

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0)
    try:
        app = Application.objects.create(
            name="bench", endpoint="http://127.0.0.1:1", token="t" * 20, mvno_id=1
        )
        seeded = 0
        print(f"database: {connection.vendor}, rows: {args.rows}")
        totals = {}
        for fields in (0, args.fields):
            campaign = Campaign.objects.create(
                name=f"bench {fields}", channel=Channel.SMS, application=app
            )
            data = csv_bytes(args.rows, fields)
            if args.opt_outs and not seeded:
                seeded = seed_opt_outs(app, data, args.opt_outs)
                print(f"opt-outs seeded: {seeded}")

            # CPU time too: on a shared machine wall time says more about the neighbours.
            start, start_cpu = time.perf_counter(), time.process_time()
            parsed = read_recipient_file(file=io.BytesIO(data), channel=Channel.SMS)
            parsed_at, parsed_cpu = time.perf_counter(), time.process_time()
            result = campaign_add_recipients(campaign=campaign, parsed=parsed)
            done, done_cpu = time.perf_counter(), time.process_time()
            totals[fields] = (done - start, done - parsed_at)

            print(f"-- {fields} fields ({', '.join(parsed.field_names) or 'none'})")
            print(
                f"accepted {len(parsed.accepted)}, duplicates {parsed.duplicates}, "
                f"rejected {parsed.rejected_total}, added {result.added}, "
                f"with fields {campaign.messages.filter(fields__isnull=False).count()}, "
                f"opted out {result.rejected_total - parsed.rejected_total}"
            )
            print(f"read + parse: {parsed_at - start:6.2f} s  (cpu {parsed_cpu - start_cpu:.2f} s)")
            print(f"insert:       {done - parsed_at:6.2f} s  (cpu {done_cpu - parsed_cpu:.2f} s)")
            print(f"total:        {done - start:6.2f} s  (cpu {done_cpu - start_cpu:.2f} s)")
        print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(
            f"RESULT database={connection.vendor} rows={args.rows} "
            f"total_s={totals[0][0]:.2f} insert_s={totals[0][1]:.2f} "
            f"total_s_fields{args.fields}={totals[args.fields][0]:.2f} "
            f"insert_s_fields{args.fields}={totals[args.fields][1]:.2f}"
        )
    finally:
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


if __name__ == "__main__":
    main()
