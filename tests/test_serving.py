"""Production serving: static files hashed, compressed and cached for good; templates cached;
gunicorn's configuration loads; and the app answers through gunicorn with DEBUG off.

Static files go through the real production storage (`collectstatic` with WhiteNoise's
CompressedManifestStaticFilesStorage) into a temporary STATIC_ROOT, once for the run
(tests/conftest.py).
"""

import gzip
import json
import os
import re
import runpy
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import connection
from django.templatetags.static import static
from django.test import Client
from gunicorn.config import Config

from tests.conftest import PRODUCTION_STORAGES
from tests.test_settings import clean_env, production, production_secret_key, read_settings

ROOT = Path(__file__).resolve().parent.parent
TEN_YEARS = 10 * 365 * 24 * 60 * 60


@pytest.fixture
def production_static(settings, collected_static) -> Path:
    settings.STATIC_ROOT = collected_static
    settings.STORAGES = PRODUCTION_STORAGES
    return collected_static


def body(response) -> bytes:
    return b"".join(response.streaming_content)


# -- Static files (WhiteNoise) ----------------------------------------------------------------
def test_a_hashed_static_file_is_cached_for_ten_years_as_immutable(production_static):
    url = static("css/site.css")
    assert re.fullmatch(r"/static/css/site\.[0-9a-f]{12}\.css", url)

    response = Client().get(url)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert response["Cache-Control"] == f"max-age={TEN_YEARS}, public, immutable"
    assert body(response) == (ROOT / "static" / "css" / "site.css").read_bytes()


def test_the_gzip_file_made_by_collectstatic_is_served_to_a_browser_that_accepts_it(
    production_static,
):
    url = static("bootstrap/css/bootstrap.min.css")
    hashed_file = production_static / url.removeprefix("/static/")
    precompressed = Path(f"{hashed_file}.gz")
    assert precompressed.exists()

    compressed = Client().get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    plain = Client().get(url)

    assert compressed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in compressed["Vary"]
    assert compressed["Cache-Control"] == f"max-age={TEN_YEARS}, public, immutable"
    payload = body(compressed)
    assert payload == precompressed.read_bytes()  # served as made, not compressed per request
    assert gzip.decompress(payload) == hashed_file.read_bytes()
    assert len(payload) < len(hashed_file.read_bytes()) / 4
    assert not plain.has_header("Content-Encoding")
    assert body(plain) == hashed_file.read_bytes()


def test_pages_link_only_hashed_static_files(production_static, client, ldn_study):
    html = client.get("/studies/ldn-mecfs/").content.decode()

    links = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert links
    assert all(re.search(r"\.[0-9a-f]{12}\.(css|js|svg|png|ico)$", link) for link in links)


def test_a_static_file_under_its_unhashed_name_is_cached_only_briefly(production_static):
    response = Client().get("/static/css/site.css")

    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=60, public"


# -- Production settings read in a fresh process ----------------------------------------------
READ_TEMPLATE_LOADERS = """
import json
import django
django.setup()
from django.conf import settings
from django.template import engines

def name(obj):
    return f"{type(obj).__module__}.{type(obj).__qualname__}"

engine = engines["django"].engine
print(json.dumps({
    "debug": settings.DEBUG,
    "loaders": [name(loader) for loader in engine.template_loaders],
    "inner": [name(loader) for loader in engine.template_loaders[0].loaders],
    "staticfiles": settings.STORAGES["staticfiles"]["BACKEND"],
}))
"""


def production_env(**variables: str) -> dict[str, str]:
    return clean_env(
        DEBUG="0",
        SECRET_KEY=production_secret_key(),
        ALLOWED_HOSTS="127.0.0.1",
        **variables,
    )


def test_production_caches_compiled_templates_and_uses_the_compressed_manifest_storage():
    result = subprocess.run(  # noqa: S603 (our own interpreter)
        [sys.executable, "-c", READ_TEMPLATE_LOADERS],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "debug": False,
        "loaders": ["django.template.loaders.cached.Loader"],
        "inner": [
            "django.template.loaders.filesystem.Loader",
            "django.template.loaders.app_directories.Loader",
        ],
        "staticfiles": "whitenoise.storage.CompressedManifestStaticFilesStorage",
    }


PLAIN_HTTP = ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")


def test_production_redirects_to_https_and_sends_cookies_over_https_only_by_default():
    assert read_settings(*PLAIN_HTTP, **production()) == dict.fromkeys(PLAIN_HTTP, True)


def test_plain_http_for_make_serve_takes_a_variable_for_each_https_setting():
    variables = dict.fromkeys(PLAIN_HTTP, "0")

    assert read_settings(*PLAIN_HTTP, **production(**variables)) == dict.fromkeys(PLAIN_HTTP, False)


def test_static_root_comes_from_the_environment_or_defaults_to_the_project(tmp_path):
    assert read_settings("STATIC_ROOT", **production()) == {
        "STATIC_ROOT": str(ROOT / "staticfiles")
    }
    assert read_settings("STATIC_ROOT", **production(STATIC_ROOT=str(tmp_path))) == {
        "STATIC_ROOT": str(tmp_path)
    }


def test_make_serve_runs_the_production_configuration_over_plain_http_on_loopback():
    result = subprocess.run(
        ["make", "--dry-run", "--always-make", "serve"],  # noqa: S607 (make from PATH)
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    # The serve target's own commands (not the install and translation steps it depends on).
    commands = [
        # gunicorn's line starts the task worker first (tests/notifications/test_make_targets.py).
        line.split("worker=$!; ", 1)[-1]
        for line in result.stdout.splitlines()
        if ("manage.py" in line and "compile_translations" not in line) or "bin/gunicorn" in line
    ]
    serve_env = (
        "DEBUG=0 ALLOWED_HOSTS=127.0.0.1,localhost SECURE_SSL_REDIRECT=0 "
        "SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0"
    )
    assert all(line.startswith(serve_env) for line in commands), commands
    steps = [line.split(".venv/bin/", 1)[1] for line in commands]
    assert steps == [
        "python manage.py collectstatic --noinput -v 0",
        "python manage.py migrate --noinput -v 0",
        "python manage.py load_study --create-only recruitment/studies/ldn-mecfs.toml",
        "python manage.py check_enrolment",
        "gunicorn -c gunicorn.conf.py --bind 127.0.0.1:8000 ldn_trial.wsgi",
    ]


# -- gunicorn.conf.py -------------------------------------------------------------------------
def gunicorn(*args: str, **variables: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (our own interpreter)
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", *args, "ldn_trial.wsgi"],
        cwd=ROOT,
        env=production_env(**variables),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_gunicorn_configuration_loads():
    result = gunicorn("--check-config")

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_gunicorn_configuration_is_the_documented_one():
    result = gunicorn("--print-config", GUNICORN_BIND="127.0.0.1:8123")

    assert result.returncode == 0, result.stderr
    config = dict(
        re.match(r"(\w+)\s+= (.*)", line).groups()
        for line in result.stdout.splitlines()
        if re.match(r"\w+\s+= ", line)
    )
    assert config["bind"] == "['127.0.0.1:8123']"
    assert config["workers"] == str(2 * os.cpu_count() + 1)
    assert (config["worker_class"], config["threads"]) == ("gthread", "2")
    assert (config["timeout"], config["graceful_timeout"], config["keepalive"]) == ("30", "30", "5")
    assert (config["max_requests"], config["max_requests_jitter"]) == ("1000", "100")
    # No access log unless asked for; gunicorn's own log on stderr, for journald.
    assert (config["accesslog"], config["errorlog"]) == ("None", "-")
    assert config["logger_class"] == "<TokenRedactingLogger()>"
    assert config["control_socket_disable"] == "True"  # systemd's signals instead


def test_an_access_log_when_turned_on_holds_no_link_token_query_string_or_referrer(tmp_path):
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    cfg = Config()
    cfg.set("accesslog", str(tmp_path / "access.log"))
    cfg.set("access_log_format", conf["access_log_format"])
    logger = conf["TokenRedactingLogger"](cfg)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/withdraw/AbC123.secret-token/?email=ann.lee%40example.com",
        "PATH_INFO": "/withdraw/AbC123.secret-token/",
        "QUERY_STRING": "email=ann.lee%40example.com",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": "https://trial.example.edu/studies/ldn-mecfs/interest/resume/XyZ789/",
        "HTTP_USER_AGENT": "Mozilla/5.0",
        "REMOTE_ADDR": "203.0.113.7",
    }
    response = SimpleNamespace(status="200 OK", sent=512, headers=[])
    request = SimpleNamespace(headers=[("COOKIE", "sessionid=s3cr3t")])

    logger.access(response, request, environ, timedelta(milliseconds=12))
    for handler in logger.access_log.handlers:
        handler.flush()
    line = (tmp_path / "access.log").read_text()

    assert '"GET /withdraw/[redacted]/" 200 512 12ms' in line
    for secret in ("AbC123", "secret-token", "ann.lee", "XyZ789", "203.0.113.7", "s3cr3t"):
        assert secret not in line


# -- The app through gunicorn -----------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


class Server:
    """gunicorn with gunicorn.conf.py on a free loopback port, in its own process."""

    def __init__(self, env: dict[str, str]):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter)
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
            + ["--bind", f"127.0.0.1:{self.port}", "ldn_trial.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_until_up(self, deadline_seconds: float = 60) -> None:
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited: {self.process.communicate()[1]}")
            try:  # ready once a worker answers (the socket listens before workers boot)
                if get(f"{self.url}/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("gunicorn did not answer /healthz")

    def stop(self) -> tuple[int, str]:
        """SIGTERM, as systemd stops it: workers finish what they hold, then exit."""
        self.process.send_signal(signal.SIGTERM)
        try:
            _, stderr = self.process.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, stderr = self.process.communicate()
        return self.process.returncode, stderr


def test_gunicorn_with_the_production_configuration_serves_the_app(
    sqlite_with_ldn_study, collected_static
):
    """On a database as `make serve` leaves a new one: migrated, the LDN study loaded."""
    env = production_env(
        DATABASE_URL=f"sqlite:///{sqlite_with_ldn_study}",
        STATIC_ROOT=str(collected_static),
        SECURE_SSL_REDIRECT="0",  # no TLS on loopback: what `make serve` sets
        GUNICORN_WORKERS="2",
    )

    server = Server(env)
    try:
        server.wait_until_up()
        health = get(f"{server.url}/healthz")
        study = get(f"{server.url}/studies/ldn-mecfs/")
        stylesheet = re.search(rb'href="(/static/css/site\.[0-9a-f]{12}\.css)"', study[2])
        css = get(f"{server.url}{stylesheet.group(1).decode()}") if stylesheet else None
    finally:
        returncode, log = server.stop()

    status, headers, content = health
    assert (status, headers["Content-Type"]) == (200, "application/json")
    assert json.loads(content) == {"status": "ok", "database": "ok"}
    assert headers["Server"] == "gunicorn"
    status, headers, content = study
    assert status == 200
    assert "Low-dose naltrexone (LDN) for ME/CFS" in content.decode()
    assert 'href="/studies/ldn-mecfs/interest/"' in content.decode()
    assert "Strict-Transport-Security" not in headers  # plain HTTP: no HSTS
    assert css is not None and css[0] == 200
    assert css[1]["Cache-Control"] == f"max-age={TEN_YEARS}, public, immutable"
    assert returncode == 0, log
    assert "Booting worker" in log
    assert "GET /healthz" not in log  # no access log by default


@pytest.mark.django_db
def test_gunicorn_keeps_its_postgresql_connection_between_requests():
    """CONN_MAX_AGE: after its requests a worker's connection stays open for the next one."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (CI runs it): persistent connections are set for it")
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    url = f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = production_env(
        DATABASE_URL=url,
        SECURE_SSL_REDIRECT="0",
        GUNICORN_WORKERS="1",
        GUNICORN_THREADS="1",
    )

    def app_connections() -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [db["NAME"]],
            )
            return sorted(row[0] for row in cursor.fetchall())

    server = Server(env)
    try:
        server.wait_until_up()
        first = [get(f"{server.url}/healthz")[0] for _ in range(5)]
        after_first = app_connections()
        second = [get(f"{server.url}/healthz")[0] for _ in range(5)]
        after_second = app_connections()
    finally:
        server.stop()

    assert first == second == [200] * 5
    assert len(after_first) == 1  # one worker, one thread: one connection, kept open
    assert after_second == after_first  # and the same one served the next requests
