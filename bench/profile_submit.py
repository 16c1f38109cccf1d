"""Profile the interest form's submission in one process, under the bench settings.

    .venv/bin/python bench/profile_submit.py [--posts 300] [--database NAME]
                                             [--compare | --take-in]

Recreates a throwaway PostgreSQL database (`ldn_trial_bench_profile` unless --database names
another), migrates it, loads the LDN study, warms the form with a few posts, then profiles
`--posts` valid submissions of new people through Django's test client, encoded as the bench's
wrk script sends them (the whole stack: middleware, CSRF, rate limit, validation, the service,
the redirect, the form kept for the worker) with cProfile, and prints the functions with the
most time of their own and the most cumulative time, and the mean milliseconds of CPU a
submission. With `--take-in`, the same for the worker's part instead: taking in those forms
(recruitment/intake/inbox.py).

With `--compare`, no profiler: `--posts` submissions and as many posts to the bench's floor
view (bench/views.py), in alternating blocks of 20 so that a change in the machine's load
falls on both alike, and the CPU each took in this process and in its PostgreSQL backend;
then the ratio the form would reach with no more Python than the floor, its database share
being what it is; then the CPU the worker's take-in of each of those forms costs, in this
process and in PostgreSQL (a submission's whole cost is the post's and its take-in's).
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
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.interest_data import interest_fields  # noqa: E402 - after ROOT is on the path

ADMIN_DSN = os.environ.get("BENCH_ADMIN_DSN", "postgres://postgres@127.0.0.1:5432/postgres")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--database", default="ldn_trial_bench_profile")
    parser.add_argument("--lines", type=int, default=25)
    parser.add_argument("--compare", action="store_true", help="against the floor, no profiler")
    parser.add_argument(
        "--take-in", action="store_true", help="profile the worker's take-in of the posts"
    )
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
    from django.db import connection
    from django.test import Client

    from recruitment.intake.form_timing import form_issued_token

    call_command("migrate", "--noinput", verbosity=0)
    call_command("load_study", "--create-only", str(ROOT / "recruitment/studies/ldn-mecfs.toml"))
    issued = form_issued_token(datetime.now(UTC) - timedelta(seconds=60))
    post = functools.partial(interest_post, issued=issued)

    client = Client()
    for n in range(10):
        post(client, n)
        post(client, 1_000_000 + n, path=FLOOR_PATH)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as a database in use has statistics
    if args.compare:
        return compare(client, post, args.posts)
    from recruitment.intake.inbox import sent_forms_take_in

    sent_forms_take_in()  # the warm-up's forms
    profile = cProfile.Profile()
    if args.take_in:
        for n in range(10, 10 + args.posts):
            post(client, n)
    started = time.process_time()
    profile.enable()
    if args.take_in:
        sent_forms_take_in()
    else:
        for n in range(10, 10 + args.posts):
            post(client, n)
    profile.disable()
    cpu = (time.process_time() - started) / args.posts * 1000
    for sort in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(sort).print_stats(args.lines)
        print(out.getvalue())
    what = "forms taken in" if args.take_in else "submissions"
    print(f"{args.posts} {what}, {cpu:.1f} ms of CPU each (in process, with the profiler)")
    return 0


FORM_PATH = "/studies/ldn-mecfs/interest/"
FLOOR_PATH = "/bench/ldn-mecfs/form-post-floor/"
BLOCK = 20


def compare(client, post, posts: int) -> int:
    """CPU a post of the form and of the floor view, in this process and in its database
    backend (its /proc times: the server is on this machine), in alternating blocks."""
    from django.db import connection

    from recruitment.intake.inbox import sent_forms_take_in
    from recruitment.models import SentForm

    sent_forms_take_in()  # the warm-up's forms

    def backend_seconds() -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    spent = {FORM_PATH: [0.0, 0.0], FLOOR_PATH: [0.0, 0.0]}
    n = 10
    for _ in range(max(1, posts // BLOCK)):
        for path in spent:
            backend, started = backend_seconds(), time.process_time()
            for _ in range(BLOCK):
                n += 1
                post(client, n + (1_000_000 if path == FLOOR_PATH else 0), path=path)
            spent[path][0] += time.process_time() - started
            spent[path][1] += backend_seconds() - backend
    count = max(1, posts // BLOCK) * BLOCK
    for path, (python, database) in spent.items():
        print(
            f"{path:40} {python / count * 1000:6.2f} ms in this process, "
            f"{database / count * 1000:6.2f} ms in PostgreSQL"
        )
    form, floor = (sum(spent[path]) for path in (FORM_PATH, FLOOR_PATH))
    print(f"the form's CPU against the floor's: {form / floor:.2f}x ({count} posts each)")
    # The most the bench's form-post / floor ratio could reach if the form's Python cost no
    # more than the floor's: what its database share alone allows.
    bound = floor / (spent[FLOOR_PATH][0] + spent[FORM_PATH][1])
    print(f"with the floor's Python, the form's PostgreSQL share alone: {bound:.2f} of the floor")
    waiting = SentForm.objects.waiting().count()
    backend, started = backend_seconds(), time.process_time()
    taken, failed = sent_forms_take_in()
    python, database = time.process_time() - started, backend_seconds() - backend
    assert (taken, failed) == (waiting, 0), (taken, failed, waiting)
    print(
        f"{'the take-in of a form (worker)':40} {python / taken * 1000:6.2f} ms in this process, "
        f"{database / taken * 1000:6.2f} ms in PostgreSQL ({taken} forms)"
    )
    return 0


def interest_post(client, n: int, issued: str, path: str = FORM_PATH) -> None:
    """Post the LDN interest form as new person number `n` (their own name, email, phone,
    client address and submission token) to `path`; assert the redirect to the thank-you
    page."""
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
        path,
        urlencode(data, doseq=True),  # as the bench's wrk script sends it
        content_type="application/x-www-form-urlencoded",
        HTTP_X_FORWARDED_FOR=f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_HOST="127.0.0.1",
    )
    assert response.status_code == 302, response.status_code


if __name__ == "__main__":
    sys.exit(main())
