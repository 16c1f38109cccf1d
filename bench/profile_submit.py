"""Profile the interest form's submission in one process, under the bench settings.

    .venv/bin/python bench/profile_submit.py [--posts 300] [--database NAME]

Recreates a throwaway PostgreSQL database (`ldn_trial_bench_profile` unless --database names
another), migrates it, loads the LDN study, warms the form with a few posts, then profiles
`--posts` valid submissions of new people through Django's test client (the whole stack:
middleware, CSRF, rate limit, validation, the service, the redirect) with cProfile, and prints
the functions with the most time of their own and the most cumulative time, and the mean
milliseconds of CPU a submission.
"""

import argparse
import cProfile
import functools
import io
import os
import pstats
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.interest_data import interest_fields  # noqa: E402 - after ROOT is on the path

ADMIN_DSN = os.environ.get("BENCH_ADMIN_DSN", "postgres://postgres@127.0.0.1:5432/postgres")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--database", default="ldn_trial_bench_profile")
    parser.add_argument("--lines", type=int, default=25)
    args = parser.parse_args()

    import psycopg2

    conn = psycopg2.connect(ADMIN_DSN)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {args.database}")
    conn.close()
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["BENCH_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{args.database}"
    os.environ["CONN_MAX_AGE"] = "60"

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from recruitment.intake.form_timing import form_issued_token

    call_command("migrate", "--noinput", verbosity=0)
    call_command("load_study", "--create-only", str(ROOT / "recruitment/studies/ldn-mecfs.toml"))
    issued = form_issued_token(datetime.now(UTC) - timedelta(seconds=60))
    post = functools.partial(interest_post, issued=issued)

    client = Client()
    for n in range(10):
        post(client, n)
    profile = cProfile.Profile()
    started = time.process_time()
    profile.enable()
    for n in range(10, 10 + args.posts):
        post(client, n)
    profile.disable()
    cpu = (time.process_time() - started) / args.posts * 1000
    for sort in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(sort).print_stats(args.lines)
        print(out.getvalue())
    print(f"{args.posts} submissions, {cpu:.1f} ms of CPU each (in process, with the profiler)")
    return 0


def interest_post(client, n: int, issued: str) -> None:
    """Post the LDN interest form as new person number `n` (their own name, email, phone,
    client address and submission token); assert the redirect to the thank-you page."""
    data = {
        **interest_fields(
            first_name="Bench",
            last_name=f"Person{n}",
            email=f"p{n}@example.org",
            phone=f"(659) {200 + n // 10000 % 700:03d}-{n % 10000:04d}",
        ),
        "form_issued": issued,
    }
    response = client.post(
        "/studies/ldn-mecfs/interest/",
        data,
        HTTP_X_FORWARDED_FOR=f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_HOST="127.0.0.1",
    )
    assert response.status_code == 302, response.status_code


if __name__ == "__main__":
    sys.exit(main())
