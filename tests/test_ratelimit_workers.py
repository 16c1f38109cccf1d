"""The interest form's per-address limit (10 an hour) holds for the whole site, not per
gunicorn worker: the default cache (CACHE_URL unset) is a table in the database that every
worker shares, and Redis (CACHE_URL=redis://...) is one too. `check --deploy` warns when the
cache is one each process keeps for itself.

The served tests start a real gunicorn with gunicorn.conf.py, the production settings and 3
workers, and send every request on a new connection so the workers share them out; gunicorn's
access log (turned on here, with the worker's pid) says which worker answered each POST.
"""

import http.cookiejar
import re
import secrets
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from recruitment.checks import check_rate_limit_cache_is_shared
from tests.factories import ldn_form_data
from tests.test_serving import free_port, get, production_env

ROOT = Path(__file__).resolve().parent.parent
FORM_PATH = "/studies/ldn-mecfs/interest/"
LDN_STUDY_FILE = "recruitment/studies/ldn-mecfs.toml"
LIMIT = 10
WORKERS = 3
# Past the limit, POSTs go on until every worker has taken one (the access log says which).
MAX_OVER_LIMIT = 60
# Redis: a database number of the tests' own; the keys a test made are deleted after it.
REDIS_DB_URL = "redis://127.0.0.1:6379/15"
DATABASE_CACHE = {"BACKEND": "recruitment.cache.AtomicDatabaseCache", "LOCATION": "ldn_trial_cache"}
ACCESS_LINE = re.compile(r"<(?P<pid>\d+)> (?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3})$")


# -- gunicorn with 3 workers, and a patient's browser -------------------------------------------
class Workers:
    """gunicorn with gunicorn.conf.py and 3 workers on a free loopback port, its access log
    naming the worker (pid) of each request."""

    def __init__(self, env: dict[str, str]):
        self.url = f"http://127.0.0.1:{free_port()}"
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter)
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
            + ["--bind", self.url.removeprefix("http://"), "--workers", str(WORKERS)]
            + ["--access-logfile", "-", "--access-logformat", "%(p)s %(m)s %(U)s %(s)s"]
            + ["ldn_trial.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for_every_worker(self, deadline_seconds: float = 60) -> None:
        deadline = time.monotonic() + deadline_seconds
        while sum("Booting worker" in line for line in self.lines) < WORKERS:
            assert self.process.poll() is None, "\n".join(self.lines)
            assert time.monotonic() < deadline, "\n".join(self.lines)
            time.sleep(0.1)
        while True:
            try:
                if get(f"{self.url}/healthz")[0] == 200:
                    return
            except OSError:
                pass
            assert time.monotonic() < deadline, "\n".join(self.lines)
            time.sleep(0.1)

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.reader.join(timeout=10)
        return "\n".join(self.lines)

    def wait_for_posts(self, count: int) -> list[tuple[int, int]]:
        """The form's POSTs once `count` of them are in the access log (written after each
        response is sent)."""
        deadline = time.monotonic() + 10
        while len(posts := self.form_posts()) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return posts

    def form_posts(self) -> list[tuple[int, int]]:
        """(worker pid, status) of every POST of the interest form, in the order answered."""
        matches = (ACCESS_LINE.search(line) for line in self.lines)
        return [
            (int(match["pid"]), int(match["status"]))
            for match in matches
            if match and match["method"] == "POST" and match["path"] == FORM_PATH
        ]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One person's browser behind the one proxy production has (nginx, TRUSTED_PROXY_COUNT=1),
    from an address of its own so no other test's counts touch it: cookies kept, redirects
    not followed, and a new connection for every request (urllib never reuses one), so any
    worker may take any request."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.address = (
            f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"
        )
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
        )
        self.opener.addheaders = [("X-Forwarded-For", self.address)]

    def open(self, path: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(f"{self.base_url}{path}", data=body, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def form_fields(self) -> dict[str, str]:
        """The form page's CSRF token and signed time, as a browser gets them on GET."""
        status, page = self.open(FORM_PATH)
        assert status == 200, page
        served = dict(re.findall(r'name="(csrfmiddlewaretoken|form_issued)" value="([^"]+)"', page))
        assert set(served) == {"csrfmiddlewaretoken", "form_issued"}
        return served

    def send_interest(self, number: int, served: dict[str, str]) -> int:
        """A valid submission of the form, from another person each time, with its own
        double-click token; the status answered."""
        data = ldn_form_data(
            token=str(uuid.uuid4()),
            email=f"person{number}@example.com",
            last_name=f"Lee{number}",
            **served,
        )
        return self.open(FORM_PATH, data)[0]


KEPT = (
    "SELECT (SELECT COUNT(*) FROM recruitment_sentform) "
    "+ (SELECT COUNT(*) FROM recruitment_participant)"
)


def served_database(request) -> tuple[str, Callable[[], int]]:
    """The database the served app uses, migrated (so with the cache table) and with the
    LDN study, and a function counting the forms it kept (sent forms waiting for the task
    worker, which does not run here, and participants). On PostgreSQL this run's test
    database (the test is transactional: emptied after); else the test's own SQLite file
    (`sqlite_with_ldn_study`, tests/conftest.py)."""
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        url = f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        call_command("load_study", "--create-only", LDN_STUDY_FILE)
        with override_settings(CACHES={"default": DATABASE_CACHE}):
            call_command("createcachetable", verbosity=0)  # as `migrate` does with the default

        def participants() -> int:
            with connection.cursor() as cursor:
                cursor.execute(KEPT)
                return cursor.fetchone()[0]

        return url, participants

    path = request.getfixturevalue("sqlite_with_ldn_study")
    url = f"sqlite:///{path}"

    def participants() -> int:
        with sqlite3.connect(path) as db:
            return db.execute(KEPT).fetchone()[0]

    return url, participants


def served_env(database_url: str, collected_static: Path, **variables: str) -> dict[str, str]:
    """Production settings as `make serve` sets them (plain HTTP on loopback) behind one
    proxy, the form's minimum fill time off so the test need not wait, and the limit at its
    default."""
    return production_env(
        DATABASE_URL=database_url,
        STATIC_ROOT=str(collected_static),
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        INTEREST_FORM_MIN_SECONDS="0",
        INTEREST_RATE_LIMIT=f"{LIMIT}/h",
        TRUSTED_PROXY_COUNT="1",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",  # no SMTP server here
        **variables,
    )


def send_past_the_limit(env: dict[str, str]) -> tuple[list[int], list[tuple[int, int]], str]:
    """LIMIT submissions from one address through 3 workers, then more until each worker
    has answered at least one past the limit (at most MAX_OVER_LIMIT): the statuses, the
    (worker pid, status) of each POST from the access log, and the server's log."""
    server = Workers(env)
    statuses: list[int] = []
    try:
        server.wait_for_every_worker()
        browser = Browser(server.url)
        served = browser.form_fields()
        while len(statuses) < LIMIT + MAX_OVER_LIMIT:
            statuses.append(browser.send_interest(len(statuses), served))
            posts = server.wait_for_posts(len(statuses))
            past_the_limit = {pid for pid, _status in posts[LIMIT:]}
            if len(past_the_limit) == WORKERS:
                break
    finally:
        log = server.stop()
    return statuses, server.form_posts(), log


def assert_the_limit_held_in_every_worker(statuses, posts, log) -> None:
    assert statuses[:LIMIT] == [302] * LIMIT, log
    assert statuses[LIMIT:] == [429] * (len(statuses) - LIMIT), log
    assert [status for _pid, status in posts] == statuses, log
    # Every worker took some past the limit, and refused them: none counted on its own.
    assert len({pid for pid, _status in posts[LIMIT:]}) == WORKERS, posts


@pytest.mark.django_db(transaction=True)
def test_the_eleventh_post_from_one_address_is_refused_by_every_worker_with_the_default_cache(
    request, collected_static
):
    database_url, participants = served_database(request)
    env = served_env(database_url, collected_static)
    env.pop("CACHE_URL", None)  # the default: the database's cache table

    statuses, posts, log = send_past_the_limit(env)

    assert_the_limit_held_in_every_worker(statuses, posts, log)
    assert participants() == LIMIT  # valid submissions, each one saved until the limit


@pytest.fixture
def redis_db():
    """Redis at 127.0.0.1:6379, database 15; the keys made meanwhile are deleted after.
    Skips when nothing answers there."""
    import redis

    client = redis.Redis.from_url(REDIS_DB_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis answers at 127.0.0.1:6379: the Redis cache cannot be served")
    before = set(client.scan_iter())
    yield REDIS_DB_URL
    made = set(client.scan_iter()) - before
    if made:
        client.delete(*made)
    client.close()


@pytest.mark.django_db(transaction=True)
def test_the_eleventh_post_from_one_address_is_refused_by_every_worker_with_redis(
    request, collected_static, redis_db
):
    database_url, participants = served_database(request)
    env = served_env(database_url, collected_static, CACHE_URL=redis_db)

    statuses, posts, log = send_past_the_limit(env)

    assert_the_limit_held_in_every_worker(statuses, posts, log)
    assert participants() == LIMIT


# -- the database cache counts without losing an increment ------------------------------------
@pytest.mark.django_db(transaction=True)
def test_increments_from_many_connections_at_once_are_never_lost():
    """Rate limits add 1 per request from whichever worker takes it; two at the same moment
    must both count (Django's own database cache reads then writes, and loses one)."""
    threads, each = 8, 25
    with override_settings(CACHES={"default": DATABASE_CACHE}):
        call_command("createcachetable", verbosity=0)
        cache = caches["default"]
        cache.set("counter", 0)
        barrier = threading.Barrier(threads)
        errors = []

        def count() -> None:
            try:
                barrier.wait()
                for _ in range(each):
                    cache.incr("counter")
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)
            finally:
                connection.close()

        workers = [threading.Thread(target=count) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        total = cache.get("counter")
        cache.clear()

    assert errors == []
    assert total == threads * each


# -- check --deploy ---------------------------------------------------------------------------
PROCESS_LOCAL = [
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
    "django.core.cache.backends.filebased.FileBasedCache",
]
SHARED = [
    "recruitment.cache.AtomicDatabaseCache",
    "django.core.cache.backends.db.DatabaseCache",
    "django.core.cache.backends.redis.RedisCache",
]


@pytest.mark.parametrize("backend", PROCESS_LOCAL)
def test_the_deploy_check_warns_when_rate_limits_count_per_process(backend, tmp_path):
    with override_settings(CACHES={"default": {"BACKEND": backend, "LOCATION": str(tmp_path)}}):
        messages = check_rate_limit_cache_is_shared()

    assert [message.id for message in messages] == ["recruitment.W001"]
    assert backend in messages[0].msg


@pytest.mark.parametrize("backend", SHARED)
def test_the_deploy_check_is_silent_with_a_cache_every_worker_shares(backend):
    location = "redis://127.0.0.1:6379/15" if "redis" in backend else "ldn_trial_cache"
    with override_settings(CACHES={"default": {"BACKEND": backend, "LOCATION": location}}):
        assert check_rate_limit_cache_is_shared() == []


def test_the_deploy_check_reads_the_cache_the_rate_limits_use():
    caches_setting = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": ""},
        "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    with override_settings(CACHES=caches_setting, RATELIMIT_USE_CACHE="local"):
        assert [message.id for message in check_rate_limit_cache_is_shared()] == [
            "recruitment.W001"
        ]


def run_deploy_check(**variables: str) -> subprocess.CompletedProcess:
    from tests.test_settings import manage, production

    return manage("check", "--deploy", "--fail-level", "WARNING", **production(**variables))


def test_manage_check_deploy_warns_with_a_local_memory_cache_url():
    result = run_deploy_check(CACHE_URL="locmemcache://")

    assert result.returncode != 0
    assert "(recruitment.W001)" in result.stderr


@pytest.mark.parametrize("cache_url", ["", "redis://127.0.0.1:6379/1"])
def test_manage_check_deploy_is_silent_with_the_default_or_a_redis_cache(cache_url):
    result = run_deploy_check(CACHE_URL=cache_url)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "recruitment.W001" not in result.stderr


# -- the cache table exists once migrate has run ----------------------------------------------
def test_migrate_creates_the_cache_table(fresh_sqlite_files):
    """`manage.py migrate` on a new SQLite file, in a process of its own with the production
    settings: made once for the run (tests/fresh_sqlite.py), read here without writing."""
    migrate = fresh_sqlite_files.migrate

    assert migrate.returncode == 0, migrate.stderr
    with sqlite3.connect(f"file:{fresh_sqlite_files.migrated}?mode=ro", uri=True) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert "ldn_trial_cache" in tables
