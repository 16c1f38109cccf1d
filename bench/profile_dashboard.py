"""Time the staff dashboard in one process, query by query, under the bench settings.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/<copy> \\
        .venv/bin/python bench/profile_dashboard.py [--views 20] [--counted] [--profile]

Runs against an existing, seeded database (a copy of the bench's: it adds a coordinator,
member of the LDN study, with a two-factor device, and signs them in through the real login
and two-factor pages). Draws `/staff/` a few times to warm up, then `--views` more with
Django's test client, and prints the median milliseconds of the whole view and of each query
it made (by the query's first words). `--counted` sets DASHBOARD_COUNTS_CACHE_SECONDS to 0
(every count recomputed, what the first view after a change costs); `--profile` adds a
cProfile of the views, functions by cumulative time.
"""

import argparse
import cProfile
import io
import os
import pstats
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
USERNAME = "bench-dashboard-profiler"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--views", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--counted", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--after-a-change",
        action="store_true",
        help="before each view, drop the counts kept for the current data (as a change does)",
    )
    parser.add_argument("--lines", type=int, default=30)
    parser.add_argument("--sql", help="write each query of the last view, with its values, here")
    args = parser.parse_args()
    if "BENCH_DATABASE_URL" not in os.environ:
        parser.error("BENCH_DATABASE_URL must name a seeded copy of the bench database")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.setdefault("CONN_MAX_AGE", "60")
    if args.counted:
        os.environ["DASHBOARD_COUNTS_CACHE_SECONDS"] = "0"

    import django

    django.setup()
    from django.db import connection

    client = signed_in_client()
    timings: dict[str, list[float]] = defaultdict(list)
    current: list[tuple[str, float]] = []

    def timer(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            ms = (time.perf_counter() - start) * 1000
            if args.sql:
                sql = context["cursor"].cursor.mogrify(sql, params).decode()
            current.append((sql, ms))

    if not args.counted:
        forget_current_counts(latest_too=True)  # the first warm-up view counts and keeps them
    for _ in range(args.warmup):
        assert client.get("/staff/").status_code == 200
    views: list[float] = []
    queries: list[int] = []
    profiler = cProfile.Profile() if args.profile else None
    with connection.execute_wrapper(timer):
        for _ in range(args.views):
            if args.after_a_change:
                forget_current_counts()
            current.clear()
            if profiler:
                profiler.enable()
            start = time.perf_counter()
            response = client.get("/staff/")
            views.append((time.perf_counter() - start) * 1000)
            if profiler:
                profiler.disable()
            assert response.status_code == 200
            queries.append(len(current))
            per_view: dict[str, float] = defaultdict(float)
            for n, (sql, ms) in enumerate(current):
                per_view[f"{n:02d} {label(sql)}"] += ms
            for key, ms in per_view.items():
                timings[key].append(ms)
    print(
        f"view: median {statistics.median(views):.1f} ms, min {min(views):.1f} ms, "
        f"{args.views} views, {statistics.median(queries)} queries"
    )
    for key in sorted(timings):
        print(f"  {statistics.median(timings[key]):8.2f} ms  {key}")
    if args.sql:
        Path(args.sql).write_text(
            "".join(f"-- {n:02d}\n{sql};\n\n" for n, (sql, _ms) in enumerate(current))
        )
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.lines)
        print(out.getvalue())
    return 0


def forget_current_counts(*, latest_too: bool = False) -> None:
    """What a change does to the dashboard's cache: the counts kept under the current key
    (and its queued-recount mark) no longer answer; the latest counts stay (unless
    `latest_too`: then the next view counts in the request, as the first one ever does)."""
    from django.conf import settings
    from django.db import connection

    table = settings.CACHES["default"]["LOCATION"]
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE cache_key LIKE %s",  # noqa: S608 (a setting)
            ["%dashboard-counts%" if latest_too else "%dashboard-counts:%"],
        )


def label(sql: str) -> str:
    """The query's table and the first columns it reads, enough to tell them apart."""
    tables = re.findall(r'FROM "(\w+)"', sql)
    head = re.sub(r"\s+", " ", sql)[:90]
    return f"[{','.join(dict.fromkeys(tables))[:70]}] {head}"


def signed_in_client():
    """A coordinator of the LDN study, signed in through the login and two-factor pages."""
    import secrets

    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts import roles
    from accounts.services import roles_ensure
    from recruitment.models import Study

    password = secrets.token_urlsafe(16)
    user, _created = get_user_model().objects.get_or_create(
        username=USERNAME, defaults={"is_staff": True}
    )
    user.set_password(password)
    user.save()
    user.groups.add(roles_ensure()[roles.COORDINATOR])
    Study.objects.get(slug="ldn-mecfs").members.add(user)
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(user=user, name="profiler phone", confirmed=True)
    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    response = client.post(
        reverse("admin:login") + "?next=/staff/", {"username": USERNAME, "password": password}
    )
    assert response.status_code == 302, response.status_code
    code = f"{totp(device.bin_key, step=device.step, digits=device.digits):0{device.digits}d}"
    response = client.post(reverse("staff_otp:verify") + "?next=/staff/", {"token": code})
    assert response.status_code == 302, response.status_code
    return client


if __name__ == "__main__":
    sys.exit(main())
