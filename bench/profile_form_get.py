"""Profile the interest form's page (a GET of the blank form) in one process, under the bench
settings.

    .venv/bin/python bench/profile_form_get.py --database NAME [--gets 2000] [--lines 30]

The database must be migrated with `bench.settings` and have the LDN study loaded (see
bench/README.md, "The form's page"). Warms the page with a few GETs, then profiles `--gets`
GETs through Django's test client (the whole stack: every middleware, the view, the cache,
gzip, as wrk asks for it) with cProfile, and prints the SQL a GET runs, the CPU and wall
microseconds a GET of the page and of the yardstick take without the profiler, and the
functions with the most time of their own and the most cumulative time.
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
YARDSTICK = "/bench/yardstick/"
HEADERS = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-For": "198.51.100.7",
    "Accept-Encoding": "gzip",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--gets", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=30)
    parser.add_argument("--path", default="/studies/ldn-mecfs/interest/")
    args = parser.parse_args()

    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["BENCH_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{args.database}"
    os.environ["CONN_MAX_AGE"] = "60"

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(headers=HEADERS)
    for _ in range(20):
        assert client.get(args.path).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(args.path)
    print(f"SQL a GET runs: {len(queries)}")
    for query in queries:
        print("  ", query["sql"][:150])

    # Without the profiler, the page beside the yardstick (the same middleware, "ok"): this
    # process's CPU time (the database server's is not in it) and the wall time a GET.
    for _ in range(20):
        client.get(YARDSTICK)
    for path in (YARDSTICK, args.path, YARDSTICK, args.path):
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(args.gets):
            client.get(path)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(
            f"{args.gets} GETs of {path}: {cpu / args.gets * 1e6:.0f} us of CPU, "
            f"{wall / args.gets * 1e6:.0f} us wall a GET"
        )

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.gets):
        client.get(args.path)
    profiler.disable()
    for sort in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(sort)
        stats.print_stats(args.lines)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
