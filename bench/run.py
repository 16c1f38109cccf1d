# The runner starts local tools (gunicorn, wrk, psql, manage.py) with fixed arguments and
# fetches loopback URLs only.
# ruff: noqa: S603, S607, S310
"""`make bench`: the benchmark in one command.

Creates a throwaway PostgreSQL database, migrates it with the bench settings, loads the LDN
study, signs a coordinator in through the real login and two-factor pages, starts gunicorn on
loopback, seeds participants with `seed_participants`, runs every scenario with wrk and prints
one table (also written to bench/results/latest.md).

    .venv/bin/python bench/run.py [--participants 100000] [--duration 10] [--worker-class sync]

Figures are lower bounds: wrk shares the 2 cores with gunicorn and PostgreSQL. Compare the
ratios, measured in the same run, not the absolute numbers.
"""

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
RESULTS = BENCH / "results" / "latest.md"
# Another name with BENCH_DB_NAME, so two people can run the bench at once (and BENCH_PORT).
DB_NAME = os.environ.get("BENCH_DB_NAME", "ldn_trial_bench")
ADMIN_DSN = os.environ.get("BENCH_ADMIN_DSN", "postgres://postgres@127.0.0.1:5432/postgres")
BENCH_DB_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
HOST = "127.0.0.1"
PORT = int(os.environ.get("BENCH_PORT", "8765"))
NEW_CONNECTION_PORT = PORT + 1
SLUG = "ldn-mecfs"
USERNAME = "bench-coordinator"

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ["BENCH_DATABASE_URL"] = BENCH_DB_URL
sys.path.insert(0, str(ROOT))


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def manage(*args: str, env: dict | None = None) -> str:
    result = subprocess.run(
        [str(PYTHON), "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


# ---------------------------------------------------------------------------------------------
# Database, study and a signed-in coordinator
# ---------------------------------------------------------------------------------------------
def database_recreate() -> None:
    import psycopg2

    conn = psycopg2.connect(ADMIN_DSN)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {DB_NAME}")
    conn.close()


def staff_session_cookie() -> str:
    """Sign a coordinator in through the real admin login and two-factor pages (in process,
    Django's test client, the bench settings: 2FA required, axes on) and return the session
    cookie wrk sends. Nothing is relaxed: the middleware checks this session on every request."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Permission
    from django.test import Client
    from django.urls import reverse
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts import roles
    from accounts.services import roles_ensure
    from recruitment.models import Study

    assert settings.STAFF_2FA_REQUIRED and not settings.DEBUG
    from django.contrib.auth import get_user_model

    password = secrets.token_urlsafe(16)
    user = get_user_model().objects.create_user(username=USERNAME, password=password, is_staff=True)
    user.groups.add(roles_ensure()[roles.COORDINATOR])
    # The admin yardstick's trivial model, bench only.
    user.user_permissions.add(Permission.objects.get(codename="view_benchrow"))
    Study.objects.get(slug=SLUG).members.add(user)
    device = TOTPDevice.objects.create(user=user, name="bench phone", confirmed=True)
    client = Client(HTTP_HOST=HOST, HTTP_X_FORWARDED_PROTO="https")
    response = client.post(
        reverse("admin:login") + "?next=/staff/",
        {"username": USERNAME, "password": password},
    )
    assert response.status_code == 302, response.status_code
    code = f"{totp(device.bin_key, step=device.step, digits=device.digits):0{device.digits}d}"
    response = client.post(reverse("staff_otp:verify") + "?next=/staff/", {"token": code})
    assert response.status_code == 302, response.status_code
    assert client.get("/staff/").status_code == 200
    return f"sessionid={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def bench_rows_seed(count: int) -> None:
    """The admin yardstick's table: `count` trivial rows."""
    import psycopg2

    conn = psycopg2.connect(BENCH_DB_URL)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_benchrow (created_at, note) SELECT now() - g * interval "
            "'1 minute', 'row ' || g FROM generate_series(1, %s) AS g",
            [count],
        )
        cursor.execute("VACUUM ANALYZE bench_benchrow")
    conn.close()


def form_post_secrets() -> tuple[str, str]:
    """A CSRF secret (sent as the csrftoken cookie and the form field, as a browser does)
    and a signed `form_issued` time a minute old: past the form's minimum, within its day."""
    from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
    from django.utils.crypto import get_random_string

    from recruitment.intake.form_timing import form_issued_token

    issued = form_issued_token(datetime.now(UTC) - timedelta(seconds=60))
    secret = get_random_string(CSRF_SECRET_LENGTH, allowed_chars=CSRF_ALLOWED_CHARS)
    return secret, urllib.parse.quote(issued, safe="")


# ---------------------------------------------------------------------------------------------
# gunicorn
# ---------------------------------------------------------------------------------------------
@dataclass
class Server:
    port: int
    worker_class: str
    threads: int
    conn_max_age: int
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    log_path: Path = field(
        default_factory=lambda: Path(tempfile.gettempdir()) / f"ldn-bench-gunicorn-{PORT}.log"
    )

    def command(self) -> list[str]:
        cmd = [str(GUNICORN)]
        if (ROOT / "gunicorn.conf.py").exists():
            cmd += ["--config", str(ROOT / "gunicorn.conf.py")]
        cmd += [
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            "2",
            "--worker-class",
            self.worker_class,
            "--threads",
            str(self.threads),
            # No worker recycling mid-run (production recycles after ~1,000 requests): a
            # restart would land inside a scenario and change the worker whose memory we read.
            "--max-requests",
            "0",
            "--access-logfile",
            "-" if os.environ.get("BENCH_ACCESS_LOG") else "/dev/null",
            "--error-logfile",
            str(self.log_path),
            "ldn_trial.wsgi:application",
        ]
        return cmd

    def start(self) -> None:
        env = {
            **os.environ,
            # What docs/deploy.md has production set on Python 3.11 (bench/README.md).
            "RESERVE_FRAME_STACK": os.environ.get("RESERVE_FRAME_STACK", "1"),
            "CONN_MAX_AGE": str(self.conn_max_age),
            **self.extra_env,
        }
        self.process = subprocess.Popen(
            self.command(), cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://{HOST}:{self.port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer /healthz; see {self.log_path}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]


def memory_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


# ---------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------
@dataclass
class Result:
    name: str
    clients: int
    rps: float
    p50_ms: float
    p95_ms: float
    errors: int
    requests: int
    note: str = ""


def drain(port: int) -> None:
    """Wait until the server answers at once: a sync worker still serves the requests that
    queued during the last scenario after wrk hung up, and they would count against the next
    one."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=30):
                pass
        except OSError:
            pass
        if time.monotonic() - started < 0.05:
            return
        time.sleep(0.2)


def wrk(
    name: str,
    path: str,
    *,
    clients: int,
    duration: int,
    port: int = PORT,
    script: str = "get.lua",
    env: dict | None = None,
) -> Result:
    drain(port)
    threads = 1 if clients == 1 else 2
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{clients}",
        f"-d{duration}s",
        "--timeout",
        "30s",
        "-s",
        str(BENCH / script),
        f"http://{HOST}:{port}{path}",
    ]
    out = subprocess.run(
        cmd, env={**os.environ, **(env or {})}, check=True, capture_output=True, text=True
    ).stdout
    match = re.search(r"^BENCH_RESULT (\{.*\})$", out, re.M)
    if not match:
        raise RuntimeError(f"wrk printed no result for {name}:\n{out}")
    data = json.loads(match.group(1))
    seconds = data["duration_us"] / 1e6
    result = Result(
        name=name,
        clients=clients,
        rps=data["requests"] / seconds if seconds else 0.0,
        p50_ms=data["p50_us"] / 1000,
        p95_ms=data["p95_us"] / 1000,
        errors=data["errors"] + data["wrong_status"],
        requests=data["requests"],
    )
    log(
        f"{name:<28} c={clients:<3} {result.rps:8.1f} req/s  p50 {result.p50_ms:7.1f} ms  "
        f"p95 {result.p95_ms:7.1f} ms  errors {result.errors}/{result.requests}"
    )
    return result


def export_run(server: Server, name: str, path: str, cookie: str, repeat: int) -> Result:
    """Download the CSV `repeat` times with one client, reading it as it streams; the peak
    RSS (VmHWM, reset first through /proc/<pid>/clear_refs) of the worker that served it."""
    drain(server.port)
    pids = server.worker_pids()
    baseline = {pid: memory_kb(pid, "VmRSS") for pid in pids}
    for pid in pids:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    timings, size = [], 0
    for _ in range(repeat):
        request = urllib.request.Request(
            f"http://{HOST}:{server.port}{path}",
            headers={"Cookie": cookie, "X-Forwarded-Proto": "https", "X-Forwarded-For": "1.2.3.4"},
        )
        started = time.monotonic()
        with urllib.request.urlopen(request, timeout=300) as response:
            assert response.status == 200, response.status
            size = 0
            while chunk := response.read(65536):
                size += len(chunk)
        timings.append(time.monotonic() - started)
    peaks = {pid: memory_kb(pid, "VmHWM") for pid in pids}
    busiest = max(pids, key=lambda pid: peaks[pid] - baseline[pid])
    timings.sort()
    result = Result(
        name=name,
        clients=1,
        rps=len(timings) / sum(timings),
        p50_ms=timings[len(timings) // 2] * 1000,
        p95_ms=timings[-1] * 1000,
        errors=0,
        requests=len(timings),
        note=(
            f"{size / 1e6:.1f} MB CSV; worker RSS {baseline[busiest] / 1024:.0f} MB before, "
            f"peak {peaks[busiest] / 1024:.0f} MB"
        ),
    )
    result.peak_mb = peaks[busiest] / 1024
    result.baseline_mb = baseline[busiest] / 1024
    log(f"{name:<28} c=1   p50 {result.p50_ms:7.1f} ms  {result.note}")
    return result


# ---------------------------------------------------------------------------------------------
# The worker: taking in the forms the posts kept
# ---------------------------------------------------------------------------------------------
TAKE_IN_SPAN = """
SELECT count(*) FILTER (WHERE task_path LIKE '%%.sent_form_take_in_task'),
       extract(epoch FROM max(finished_at) - min(started_at))
FROM django_tasks_database_dbtaskresult WHERE started_at >= %s
"""


# The forms not taken in yet.
WAITING = "SELECT now(), count(*) FROM recruitment_sentform WHERE taken_in_at IS NULL"


def take_in(name: str) -> Result:
    """Drain the queue the form posts left with the production worker, one process
    (`manage.py db_worker --batch`): each form's take-in (evaluate, match, write) and the emails
    it queues (rendered, sent to the dummy backend). Forms taken in a second, from the first
    task's start to the last one's end (the process's start-up left out)."""
    import psycopg2

    conn = psycopg2.connect(BENCH_DB_URL)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(WAITING)
            since, waiting = cursor.fetchone()
            manage("db_worker", "--batch", "--no-startup-delay", "--interval", "0")
            cursor.execute(TAKE_IN_SPAN, [since])
            taken, seconds = cursor.fetchone()
            cursor.execute(WAITING)
            _now, left = cursor.fetchone()
    finally:
        conn.close()
    seconds = float(seconds or 0)
    rate = taken / seconds if seconds else 0.0
    log(f"{name}: {taken} of {waiting} forms taken in, {rate:.0f} a second; {left} left")
    per = seconds / taken * 1000 if taken else 0.0
    return Result(
        name=name,
        clients=1,
        rps=rate,
        p50_ms=per,
        p95_ms=per,
        errors=left,
        requests=taken,
        note=f"{taken} forms and their emails in {seconds:.1f} s; the latency columns are the mean",
    )


def form_post_beside_the_worker(name: str, *, duration: int, env: dict) -> Result:
    """form-post again with the production worker running (`db_worker --no-reload --interval
    1`, as deploy.md's unit starts it), taking the forms in as they come: what a burst meets
    when it lasts, the worker sharing the 2 cores and the study row's lock with the requests.
    The forms it did not take in are left for `take_in`."""
    (before,) = bench_sql("SELECT count(*) FROM recruitment_sentform")
    worker = subprocess.Popen(
        [str(PYTHON), "manage.py", "db_worker", "--no-reload", "--interval", "1"],
        cwd=ROOT,
        env=os.environ,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(3)  # booted, and past its start-up delay
        result = wrk(
            name,
            f"/studies/{SLUG}/interest/",
            clients=32,
            duration=duration,
            script="form_post.lua",
            env=env,
        )
    finally:
        os.killpg(worker.pid, signal.SIGTERM)  # it finishes the form it is taking in
        worker.wait(timeout=60)
    sent, waiting = bench_sql(
        "SELECT count(*), count(*) FILTER (WHERE taken_in_at IS NULL) FROM recruitment_sentform"
    )
    result.note = f"{sent - before - waiting} of its {sent - before} forms taken in while it ran"
    return result


# ---------------------------------------------------------------------------------------------
# Storage: WAL per submission, the verdict table's size
# ---------------------------------------------------------------------------------------------
def bench_sql(sql: str) -> tuple:
    import psycopg2

    conn = psycopg2.connect(BENCH_DB_URL)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchone()
    finally:
        conn.close()


WAL_OF_THIS_DATABASE = """
WITH r AS (SELECT xid, record_length, block_ref FROM pg_get_wal_records_info(%s, %s)),
ours AS (SELECT DISTINCT xid FROM r WHERE block_ref LIKE %s AND xid <> '0')
SELECT coalesce(sum(record_length), 0) FROM r
WHERE block_ref LIKE %s OR xid IN (SELECT xid FROM ours)
"""


def wal_per_submission(form_env: dict, *, rounds: int = 3, duration: int = 3) -> tuple[float, int]:
    """WAL bytes a submission writes: a batch of form posts (1 client), and the worker taking
    them in with their emails, between two readings of `pg_current_wal_lsn()`, divided by the
    participants added. The WAL is the whole server's
    (other databases on it write too): the records of this database's pages and of the
    transactions that wrote them are summed with pg_walinspect; without that extension, the
    least of `rounds` batches' whole WAL is kept. Returns (bytes a submission, submissions)."""
    import psycopg2

    conn = psycopg2.connect(BENCH_DB_URL)
    conn.autocommit = True
    cursor = conn.cursor()
    try:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
        cursor.execute("SELECT oid FROM pg_database WHERE datname = current_database()")
        like = f"%/{cursor.fetchone()[0]}/%"
    except psycopg2.Error:
        like = None
    best: tuple[float, int] | None = None
    try:
        for n in range(rounds):
            cursor.execute(
                "SELECT count(*), pg_current_wal_lsn()::text FROM recruitment_participant"
            )
            before, start = cursor.fetchone()
            wrk(
                f"wal batch {n + 1}",
                f"/studies/{SLUG}/interest/",
                clients=1,
                duration=duration,
                script="form_post.lua",
                env=form_env,
            )
            take_in(f"wal batch {n + 1} taken in")
            cursor.execute(
                "SELECT count(*), pg_current_wal_lsn()::text FROM recruitment_participant"
            )
            after, end = cursor.fetchone()
            # The worker's last records (pruning, no commit) may not be flushed yet, and
            # pg_walinspect reads only flushed WAL: wait for the WAL writer (a fraction of a
            # second).
            for _ in range(50):
                cursor.execute("SELECT pg_current_wal_flush_lsn() >= %s::pg_lsn", [end])
                if cursor.fetchone()[0]:
                    break
                time.sleep(0.1)
            if like:
                cursor.execute(WAL_OF_THIS_DATABASE, [start, end, like, like])
            else:
                cursor.execute("SELECT pg_wal_lsn_diff(%s, %s)", [end, start])
            (wal,) = cursor.fetchone()
            if after > before:
                per = float(wal) / (after - before)
                if best is None or per < best[0]:
                    best = (per, after - before)
    finally:
        conn.close()
    return best or (0.0, 0)


def verdict_table_bytes() -> tuple[int, int, int]:
    """The stored verdicts' size on disk (table, TOAST and indexes), with the criterion
    versions they point at, and the participants they belong to."""
    return bench_sql(
        "SELECT pg_total_relation_size('recruitment_criterionverdict'), "
        "pg_total_relation_size('recruitment_criterionversion'), "
        "(SELECT count(*) FROM recruitment_participant)"
    )


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------
@dataclass
class Row:
    result: Result
    ratio: str
    goal: str
    met: bool | str | None


def fmt_row(row: Row) -> list[str]:
    r = row.result
    if isinstance(row.met, str):
        met = row.met
    else:
        met = "—" if row.met is None else ("met" if row.met else "NOT MET")
    return [
        r.name,
        str(r.clients),
        f"{r.rps:.1f}",
        f"{r.p50_ms:.1f} ms",
        f"{r.p95_ms:.1f} ms",
        str(r.errors),
        row.ratio,
        row.goal,
        met,
    ]


HEADER = ["scenario", "clients", "req/s", "p50", "p95", "errors", "ratio", "goal", "met"]


def table(rows: list[Row]) -> str:
    cells = [HEADER, *[fmt_row(row) for row in rows]]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADER))]
    lines = []
    for n, line in enumerate(cells):
        lines.append(
            "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
        )
        if n == 0:
            lines.append("| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines)


def versions() -> dict[str, str]:
    import django
    import psycopg2

    pg = subprocess.run(
        ["psql", ADMIN_DSN, "-Atc", "SHOW server_version"], capture_output=True, text=True
    ).stdout.strip()
    gunicorn = subprocess.run(
        [str(GUNICORN), "--version"], capture_output=True, text=True
    ).stdout.strip()
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return {
        "Python": platform.python_version(),
        "Django": django.get_version(),
        "psycopg2": psycopg2.__version__.split()[0],
        "PostgreSQL": pg,
        "gunicorn": gunicorn.removeprefix("gunicorn (version ").removesuffix(")"),
        "wrk": (wrk_version.stdout or wrk_version.stderr)
        .split(" Copyright")[0]
        .removeprefix("wrk ")
        .strip(),
    }


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = memory_kb_total()
    return f"{os.cpu_count()} cores ({cpu}), {mem / 1024 / 1024:.0f} GB RAM, {platform.platform()}"


def memory_kb_total() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1])
    return 0


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------
def main() -> int:  # noqa: PLR0915 - one linear script, easier to read whole
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=100, help="the 'before' size")
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario")
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=1, help="per worker, for gthread")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-new-connection", action="store_true")
    parser.add_argument(
        "--skip-rematch", action="store_true", help="leave out the registry's re-matching"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is missing: sudo apt-get install -y wrk", file=sys.stderr)
        return 2
    started = time.monotonic()
    big = args.participants
    label = f"{big // 1000}k" if big % 1000 == 0 else str(big)
    d = args.duration

    log(f"Recreating the database {DB_NAME}, migrating, loading the study")
    database_recreate()
    manage("migrate", "--noinput", "-v", "0")
    manage("collectstatic", "--noinput", "-v", "0")
    manage("load_study", "--create-only", f"recruitment/studies/{SLUG}.toml")
    cookie = staff_session_cookie()
    csrf, issued = form_post_secrets()
    staff = {"BENCH_COOKIE": cookie, "BENCH_EXPECT": "200"}
    queue = "/admin/recruitment/participant/"
    queue_filtered = queue + "?status__exact=new&o=-9"
    dashboard = "/staff/"
    export = f"/staff/studies/{SLUG}/screening-log.csv"

    server = Server(PORT, args.worker_class, args.threads, conn_max_age=60)
    log(f"Starting gunicorn: 2 {args.worker_class} workers, {args.threads} thread(s) each")
    server.start()
    results: dict[str, Result] = {}
    seed_times = {}
    try:
        t = time.monotonic()
        manage("seed_participants", "--total", str(args.small), "--seed", str(args.seed))
        seed_times[args.small] = time.monotonic() - t
        log(f"Seeded {args.small} participants")
        # Warm both workers (templates, the study's criteria) before measuring.
        wrk("warm-up", queue, clients=4, duration=2, env=staff)
        wrk("warm-up", dashboard, clients=4, duration=2, env=staff)
        results["queue-small"] = wrk(f"queue-{args.small}", queue, clients=1, duration=d, env=staff)
        results["queue-filtered-small"] = wrk(
            f"queue-filtered-{args.small}", queue_filtered, clients=1, duration=d, env=staff
        )
        results["dashboard-small"] = wrk(
            f"dashboard-{args.small}", dashboard, clients=1, duration=d, env=staff
        )
        results["export-small"] = export_run(
            server, f"export-{args.small}", export, cookie, repeat=5
        )

        t = time.monotonic()
        log(f"Seeding up to {big} participants")
        manage("seed_participants", "--total", str(big), "--seed", str(args.seed))
        seed_times[big] = time.monotonic() - t
        log(f"Seeded {big} participants in {seed_times[big]:.0f} s")
        storage = {"verdicts": verdict_table_bytes()}
        wrk("warm-up", queue, clients=4, duration=2, env=staff)
        bench_rows_seed(big)
        trivial = "/admin/bench/benchrow/"
        wrk("warm-up", trivial, clients=2, duration=2, env=staff)
        results["admin-yardstick"] = wrk(
            f"admin-yardstick-{label}", trivial, clients=1, duration=d, env=staff
        )

        results["yardstick"] = wrk("yardstick", "/bench/yardstick/", clients=32, duration=d)
        results["insert"] = wrk("insert-yardstick", "/bench/insert/", clients=32, duration=d)
        results["form-get"] = wrk("form-get", f"/studies/{SLUG}/interest/", clients=32, duration=d)
        form_env = {
            "BENCH_CSRF": csrf,
            "BENCH_FORM_ISSUED": issued,
            "BENCH_ORIGIN": f"https://{HOST}:{PORT}",
        }
        results["form-post"] = wrk(
            "form-post",
            f"/studies/{SLUG}/interest/",
            clients=32,
            duration=d,
            script="form_post.lua",
            env=form_env,
        )
        results["form-post-floor"] = wrk(
            "form-post-floor",
            f"/bench/{SLUG}/form-post-floor/",
            clients=32,
            duration=d,
            script="form_post.lua",
            env=form_env,
        )
        results["take-in"] = take_in("take-in (1 worker)")
        results["form-post-worker"] = form_post_beside_the_worker(
            "form-post, worker running", duration=d, env=form_env
        )
        take_in("the rest taken in")
        storage["wal"] = wal_per_submission(form_env)
        log(f"WAL per submission: {storage['wal'][0] / 1024:.1f} KB")
        results["queue"] = wrk(f"queue-{label}", queue, clients=1, duration=d, env=staff)
        results["queue-filtered"] = wrk(
            f"queue-filtered-{label}", queue_filtered, clients=1, duration=d, env=staff
        )
        results["queue-32"] = wrk(f"queue-{label}", queue, clients=32, duration=d, env=staff)
        results["dashboard"] = wrk(
            f"dashboard-{label}", dashboard, clients=1, duration=d, env=staff
        )
        results["export"] = export_run(server, f"export-{label}", export, cookie, repeat=3)
    finally:
        server.stop()

    log("The dashboard counting every participant on every view (no cached counts)")
    live = Server(
        NEW_CONNECTION_PORT,
        args.worker_class,
        args.threads,
        conn_max_age=60,
        extra_env={"DASHBOARD_COUNTS_CACHE_SECONDS": "0"},
    )
    live.start()
    try:
        wrk("warm-up", dashboard, clients=2, duration=2, env=staff, port=NEW_CONNECTION_PORT)
        results["dashboard-live"] = wrk(
            f"dashboard-{label} (counted)",
            dashboard,
            clients=1,
            duration=d,
            env=staff,
            port=NEW_CONNECTION_PORT,
        )
    finally:
        live.stop()

    if not args.skip_new_connection:
        log("Insert yardstick with a new database connection per request (CONN_MAX_AGE=0)")
        fresh = Server(NEW_CONNECTION_PORT, args.worker_class, args.threads, conn_max_age=0)
        fresh.start()
        try:
            results["insert-new"] = wrk(
                "insert-yardstick (new conn.)",
                "/bench/insert/",
                clients=32,
                duration=d,
                port=NEW_CONNECTION_PORT,
            )
        finally:
            fresh.stop()

    rematch = "" if args.skip_rematch else rematch_table(big, args.seed)
    elapsed = time.monotonic() - started
    rows = build_rows(results, args.small, label)
    text = table(rows) + "\n\n" + storage_table(storage, label) + rematch
    print()
    print(text)
    print()
    log(f"Done in {elapsed / 60:.1f} minutes")
    write_results(text, rows, args, seed_times, elapsed, big)
    return 0


def storage_table(storage: dict, label: str) -> str:
    wal, batch = storage["wal"]
    verdicts, versions, participants = storage["verdicts"]
    mb = 1024 * 1024
    rows = [
        ["measure", "value", "goal", "met"],
        [
            "WAL per submission",
            f"{wal / 1024:.1f} KB (least of 3 batches; {batch} submissions)",
            "<= 12 KB",
            "met" if 0 < wal <= 12 * 1024 else "NOT MET",
        ],
        [
            f"verdict table at {label} ({participants:,} participants)",
            f"{verdicts / mb:.0f} MB (+ criterion versions {versions / 1024:.0f} KB)",
            "<= 350 MB at 100,000",
            (
                ("met" if (verdicts + versions) / participants * 100_000 <= 350 * mb else "NOT MET")
                if participants
                else "—"
            ),
        ],
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines)


def build_rows(results: dict[str, Result], small: int, label: str) -> list[Row]:
    y, ins = results["yardstick"], results["insert"]
    rows = [Row(y, "1.00", "yardstick", None), Row(ins, "1.00", "yardstick", None)]
    if "insert-new" in results:
        new = results["insert-new"]
        rows.append(Row(new, f"{new.rps / ins.rps:.2f} of insert", "for reference", None))
    fg, fp = results["form-get"], results["form-post"]
    floor = results["form-post-floor"]
    rows.append(
        Row(
            fg, f"{fg.rps / y.rps:.2f} of yardstick", ">= 0.25 of yardstick", fg.rps >= 0.25 * y.rps
        )
    )
    rows.append(
        Row(
            fp,
            f"{fp.rps / floor.rps:.2f} of floor; {fp.rps / ins.rps:.2f} of insert",
            ">= 0.80 of floor, >= 0.25 of insert, p95 < 150 ms",
            fp.rps >= 0.8 * floor.rps
            and fp.rps >= 0.25 * ins.rps
            and fp.p95_ms < 150
            and fp.errors == 0,
        )
    )
    rows.append(
        Row(
            floor,
            f"{floor.rps / ins.rps:.2f} of insert",
            "for reference: the least a submission can cost (bench/README.md)",
            None,
        )
    )
    taken = results["take-in"]
    rows.append(
        Row(
            taken,
            f"{taken.rps / fp.rps:.2f} of form-post",
            "for reference: after a burst, the worker takes the forms in at this rate",
            None,
        )
    )
    beside = results["form-post-worker"]
    rows.append(
        Row(
            beside,
            f"{beside.rps / fp.rps:.2f} of form-post; {beside.rps / floor.rps:.2f} of floor",
            "for reference: a burst that lasts, the worker taking the forms in meanwhile",
            None,
        )
    )
    trivial = results["admin-yardstick"]
    rows.append(Row(trivial, "1.00", "admin yardstick (trivial model)", None))
    # Ratios only: absolute times differ by 2x and more between runs on these machines.
    for key in ("queue", "queue-filtered"):
        r, s = results[key], results[f"{key}-small"]
        rows.append(Row(s, "", f"the time at {small}", None))
        ratio, to_trivial = r.p50_ms / s.p50_ms, r.p50_ms / trivial.p50_ms
        rows.append(
            Row(
                r,
                f"{ratio:.2f}x the time at {small}; {to_trivial:.2f}x admin yardstick",
                "p50 <= 1.5x admin yardstick, <= 1.25x the time at 100",
                to_trivial <= 1.5 and ratio <= 1.25 and r.errors == 0,
            )
        )
    q32 = results["queue-32"]
    rows.append(Row(q32, f"{q32.rps / y.rps:.3f} of yardstick", "for reference", None))
    d, ds = results["dashboard"], results["dashboard-small"]
    rows.append(Row(ds, "", f"the time at {small}", None))
    ratio = d.p50_ms / ds.p50_ms
    rows.append(
        Row(
            d,
            f"{ratio:.2f}x the time at {small}",
            "p50 <= 2x the time at 100",
            ratio <= 2 and d.errors == 0,
        )
    )
    live = results["dashboard-live"]
    rows.append(
        Row(
            live,
            f"{live.p50_ms / ds.p50_ms:.2f}x the time at {small}",
            "for reference: every view counts",
            None,
        )
    )
    e, es = results["export"], results["export-small"]
    grew = es.peak_mb - es.baseline_mb
    rows.append(Row(es, f"worker peak RSS +{grew:.0f} MB", "", None))
    grew = e.peak_mb - e.baseline_mb
    rows.append(
        Row(
            e,
            f"worker peak RSS +{grew:.0f} MB",
            "streamed, peak RSS +< 20 MB",
            grew < 20,
        )
    )
    return rows


def rematch_table(people: int, seed: int) -> str:
    """The registry's re-matching of one study against `people` people (bench/rematch.py, in
    its own database and process), with the yardstick of the same run: its table, and whether
    the first run stayed under the 2-minute goal."""
    log(f"Re-matching one study against {people:,} people of the registry (bench/rematch.py)")
    env = {**os.environ, "BENCH_DB_NAME": f"{DB_NAME}_rematch"}
    finished = subprocess.run(
        [str(PYTHON), "bench/rematch.py", "--people", str(people), "--seed", str(seed)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    lines = [line for line in finished.stdout.splitlines() if line.startswith("|")]
    first = next((line for line in lines if "first run" in line), "")
    seconds = float(first.split("|")[2]) if first else float("nan")
    verdict = "met" if seconds < 120 else "NOT met"
    log(f"rematch, first run: {seconds:.1f} s (goal: under 120 s, {verdict})")
    return "\n\n" + "\n".join(lines) + f"\n\nGoal: the first run under 2 minutes: **{verdict}**."


def write_results(text, rows, args, seed_times, elapsed, big) -> None:
    v = versions()
    notes = "\n".join(f"- {r.result.name}: {r.result.note}" for r in rows if r.result.note)
    body = f"""# `make bench` results

Written by `bench/run.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; the whole run took
{elapsed / 60:.1f} minutes.

{text}

{notes}

## Machine and versions
- {machine()}
- {", ".join(f"{k} {val}" for k, val in v.items())}

## Data
- The LDN study (`{SLUG}`), seeded by `manage.py seed_participants --seed {args.seed}`: first
  {args.small} participants ({seed_times.get(args.small, 0):.0f} s), then up to {big:,}
  ({seed_times.get(big, 0):.0f} s), each with 11 answers, 18 stored verdicts, a status history,
  0 to 3 contact attempts and simple-history rows; consent and enrolment up to the target (20).
  form-post adds its own participants on top (each a new person).

## Settings (bench/settings.py: the production settings plus the yardsticks)
- gunicorn on {HOST}, 2 `{args.worker_class}` workers, {args.threads} thread(s) each; DEBUG off;
  `CONN_MAX_AGE=60` with health checks (the new-connection insert yardstick runs a second
  gunicorn with `CONN_MAX_AGE=0`); PostgreSQL on 127.0.0.1.
- Staff pages are fetched by a coordinator (a study member, Coordinator role) whose session
  was signed in through the real login and TOTP pages: two-factor verification and session
  limits run on every request.
- As behind a TLS proxy: `BEHIND_TLS_PROXY=1`, `TRUSTED_PROXY_COUNT=1`; wrk sends
  `X-Forwarded-Proto: https`. form-post sends a random `X-Forwarded-For` per request, so the
  per-IP rate limit (10/h) runs on every POST without blocking the benchmark.
- form-post-floor sends the same POSTs to a bench-only view (`bench/views.py`) that does the
  least any design must do while the patient waits: the same middleware, CSRF check and rate
  limit, the form checked, the next screening number taken and the submission kept as one
  row, the number put in a signed cookie. What it reaches is the most form-post could reach.
- Relaxed for the bench, and only here: email goes to Django's dummy backend (messages are
  rendered, never sent); the cache (rate-limit counters) is per-process local memory.
- Every scenario ran {args.duration} s after a warm-up. wrk shares the cores with the server:
  figures are lower bounds, compare the ratios.
- admin-yardstick is Django's default changelist of a trivial model (`bench.BenchRow`, {big:,}
  rows, 100 a page, full counts on): what the goal's "60 ms" stands for, measured here.
- queue-filtered is the changelist filtered on status "new" and sorted by date applied, newest
  first; dashboard is `/staff/`; export is the screening-log CSV, downloaded whole.
- The dashboard keeps its counts over every participant while nothing they count changed,
  and after a change shows the latest ones while the task worker recounts (docs/coordinators.md,
  "Dashboard"; the bench runs no worker): dashboard rows measure views that read the counts
  from the cache. "(counted)" is a second gunicorn with `DASHBOARD_COUNTS_CACHE_SECONDS=0`:
  every view counts in the request, as the very first view does before any counts are kept.
"""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(body)
    log(f"Wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
