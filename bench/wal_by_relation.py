"""The WAL a submission writes, by relation, in one process, on an existing database.

    .venv/bin/python bench/wal_by_relation.py --database NAME [--posts 40] [--by-record]

NAME is a PostgreSQL database migrated and seeded under `bench.settings` (a copy of the one
`make bench` leaves, say: `CREATE DATABASE ldn_bench_copy TEMPLATE ldn_trial_bench`). Posts
`--posts` valid interest forms of new people through Django's test client, one at a time, and
has the task worker take them in and send their emails (`db_worker --batch`, in this process),
between two readings of `pg_current_wal_lsn()`, then prints, per relation, the records and
bytes a submission wrote (with the full-page images among them; `--by-record`: by relation and
kind of record) and the total `bench/run.py` would count: the records of this database's pages
and of the transactions that wrote them. A batch that a checkpoint crossed shows full-page
images: run it again. The rate limit's counters are emptied first, so repeated runs from one
address range are not refused.
"""

import argparse
import functools
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BY_RELATION = """
SELECT coalesce(c.relname, r.resource_manager || ':' || r.record_type)
       || CASE WHEN %s THEN ' ' || r.resource_manager || ':' || r.record_type ELSE '' END,
       count(*),
       sum(r.record_length), sum(r.fpi_length)
FROM pg_get_wal_records_info(%s, %s) r
LEFT JOIN pg_class c
  ON c.relfilenode = (regexp_match(r.block_ref, 'rel \\d+/\\d+/(\\d+)'))[1]::oid
WHERE r.block_ref LIKE %s
GROUP BY 1 ORDER BY 3 DESC
"""
AS_THE_BENCH_COUNTS = """
WITH r AS (SELECT xid, record_length, block_ref FROM pg_get_wal_records_info(%s, %s)),
ours AS (SELECT DISTINCT xid FROM r WHERE block_ref LIKE %s AND xid <> '0')
SELECT coalesce(sum(record_length), 0) FROM r
WHERE block_ref LIKE %s OR xid IN (SELECT xid FROM ours)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--posts", type=int, default=40)
    parser.add_argument(
        "--by-record",
        action="store_true",
        help="split each relation by the kind of record (INSERT, HOT_UPDATE, LOCK, ...)",
    )
    args = parser.parse_args()

    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["BENCH_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{args.database}"
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from bench.profile_submit import interest_post
    from recruitment.intake.form_timing import form_issued_token

    cache.clear()
    issued = form_issued_token(datetime.now(UTC) - timedelta(seconds=60))
    post = functools.partial(interest_post, Client(), issued=issued)
    first = int(time.time()) % 100_000 * 1_000
    worker = ("db_worker", "--batch", "--no-startup-delay", "--interval", "0")
    for n in range(first, first + 5):  # warm the worker: the batch measures submissions only
        post(n)
    call_command(*worker, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
        cursor.execute("SELECT oid FROM pg_database WHERE datname = current_database()")
        ours = f"%/{cursor.fetchone()[0]}/%"
        cursor.execute("SELECT pg_current_wal_lsn()")
        (start,) = cursor.fetchone()
    for n in range(first + 5, first + 5 + args.posts):
        post(n)
    call_command(*worker, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        (end,) = cursor.fetchone()
        cursor.execute(BY_RELATION, [args.by_record, start, end, ours])
        rows = cursor.fetchall()
        cursor.execute(AS_THE_BENCH_COUNTS, [start, end, ours, ours])
        (counted,) = cursor.fetchone()
    per = args.posts
    print(f"{'relation':<58} {'records':>8} {'bytes':>8} {'of which page images':>21}")
    for name, records, length, images in rows:
        print(f"{name:<58} {records / per:8.1f} {length / per:8.0f} {images / per:21.0f}")
    print(
        f"\n{per} submissions: {float(counted) / per:,.0f} bytes of WAL each, as make bench counts"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
