"""Time the participant queue in one process, by part, under the bench settings.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/COPY \
        .venv/bin/python bench/profile_queue.py [--page queue|filtered|yardstick]
        [--requests 30] [--profile]

Runs on an existing database (a copy of a seeded bench database: it adds a coordinator of
its own, `queue-profiler`, a study member with a confirmed TOTP device). Signs in through the
real login and two-factor pages with Django's test client, warms the page with 3 requests,
then prints the median CPU time (`time.process_time`) and wall time of `--requests` requests,
and the CPU each part of the page took on average: a few functions of the admin are wrapped
with timers for the run (the view, the changelist, the progress header, the rows, the
template). `--profile` also runs cProfile over as many requests and prints the functions with
the most cumulative time. The yardstick is `bench.BenchRow`'s changelist: fill its table first
(`INSERT INTO bench_benchrow (created_at, note) SELECT now(), 'row ' || g FROM
generate_series(1, 100000) AS g`).
"""

import argparse
import collections
import cProfile
import functools
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PAGES = {
    "queue": "/admin/recruitment/participant/",
    "filtered": "/admin/recruitment/participant/?status__exact=new&o=-9",
    "yardstick": "/admin/bench/benchrow/",
}
USERNAME = "queue-profiler"
PASSWORD = "queue-profiler-" + "x" * 16  # a throwaway copy's user, never production's


def timed(parts: dict, owner, name: str, label: str) -> None:
    original = getattr(owner, name, None)
    if original is None:
        return

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        started = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            parts[label] += time.process_time() - started

    setattr(owner, name, wrapper)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--page", choices=PAGES, default="queue")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.setdefault("CONN_MAX_AGE", "60")

    import django

    django.setup()
    from django.contrib.admin import options
    from django.contrib.admin.templatetags import admin_list
    from django.contrib.admin.views.main import ChangeList
    from django.template.response import SimpleTemplateResponse

    from recruitment import selectors
    from recruitment.admin.participants import ParticipantAdmin
    from recruitment.templatetags import queue_rows

    # Wrapped before the first request builds the URL patterns (they keep the bound views).
    parts = collections.defaultdict(float)
    timed(parts, ParticipantAdmin, "changelist_view", "view: the queue's (with its header)")
    timed(parts, selectors, "study_progress_list", "  progress header (its query)")
    timed(parts, options.ModelAdmin, "changelist_view", "  Django's changelist view")
    timed(
        parts, options.ModelAdmin, "get_changelist_instance", "  changelist: filters, count, page"
    )
    timed(parts, ChangeList, "get_results", "    count and page query")
    timed(parts, SimpleTemplateResponse, "render", "template (whole page)")
    timed(parts, queue_rows, "queue_tbody", "  the rows")
    timed(parts, queue_rows, "queue_results", "  the rows")
    timed(parts, admin_list, "admin_list_filter", "  the filters")

    client = signed_in_client()
    url = PAGES[args.page]
    for _ in range(3):
        assert client.get(url).status_code == 200
    parts.clear()
    cpu, wall = [], []
    for _ in range(args.requests):
        started, started_wall = time.process_time(), time.perf_counter()
        client.get(url)
        cpu.append(time.process_time() - started)
        wall.append(time.perf_counter() - started_wall)
    n = args.requests
    cpu_ms, wall_ms = sorted(cpu)[n // 2] * 1000, sorted(wall)[n // 2] * 1000
    print(f"{args.page}: CPU median {cpu_ms:.1f} ms, wall median {wall_ms:.1f} ms (by part: mean)")
    for label, seconds in parts.items():
        print(f"{seconds / n * 1000:8.2f} ms  {label}")
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(n):
            client.get(url)
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(60)
        print(out.getvalue())
    return 0


def signed_in_client():
    """A coordinator of the LDN study, signed in through the login and TOTP pages."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.test import Client
    from django.urls import reverse
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts import roles
    from accounts.services import roles_ensure
    from recruitment.models import Study

    user = get_user_model().objects.filter(username=USERNAME).first()
    if user is None:
        user = get_user_model().objects.create_user(
            username=USERNAME, password=PASSWORD, is_staff=True
        )
        user.groups.add(roles_ensure()[roles.COORDINATOR])
        user.user_permissions.add(Permission.objects.get(codename="view_benchrow"))
        Study.objects.get(slug="ldn-mecfs").members.add(user)
        TOTPDevice.objects.create(user=user, name="profiler", confirmed=True)
    device = TOTPDevice.objects.get(user=user)
    device.last_t = -1  # a code of this time step may have been used by the last run
    device.throttling_failure_count = 0
    device.save()
    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    response = client.post(reverse("admin:login"), {"username": USERNAME, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    code = f"{totp(device.bin_key, step=device.step, digits=device.digits):0{device.digits}d}"
    response = client.post(reverse("staff_otp:verify"), {"token": code})
    assert response.status_code == 302, response.status_code
    return client


if __name__ == "__main__":
    sys.exit(main())
