"""Settings come from the environment: each case runs in a fresh process with a clean one.

The settings module is read once per process, so every test starts Python anew with only the
variables it names (the developer's DATABASE_URL, EMAIL_* and the like are dropped).
"""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Everything ldn_trial/settings.py reads, so the caller's environment cannot leak in.
# Every variable the settings file reads, found in its source so a new one is never missed.
SETTINGS_VARIABLES = {
    match.group(1) or match.group(2)
    for match in re.finditer(
        r'env(?:\.\w+)?\(\s*"([A-Z0-9_]+)"|"([A-Z0-9_]+)" in env',
        (ROOT / "ldn_trial" / "settings.py").read_text(),
    )
}
SETTINGS_PREFIXES = ("DJANGO_", "EMAIL_", "SECURE_")

READ_SETTINGS = """
import json, sys
import django
django.setup()
from django.conf import settings
print(json.dumps({name: getattr(settings, name) for name in sys.argv[1:]}, default=str))
"""


def production_secret_key() -> str:
    key = secrets.token_urlsafe(45)
    assert len(key) == 60
    return key


def clean_env(**variables: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in SETTINGS_VARIABLES and not name.startswith(SETTINGS_PREFIXES)
    }
    env["DJANGO_SETTINGS_MODULE"] = "ldn_trial.settings"
    env.update(variables)
    return env


def run(args: list[str], **variables: str) -> subprocess.CompletedProcess:
    return run_with(sys.executable, args, **variables)


def run_with(python: str, args: list[str], **variables: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [python, *args],
        cwd=ROOT,
        env=clean_env(**variables),
        capture_output=True,
        text=True,
        timeout=60,
    )


def manage(*args: str, **variables: str) -> subprocess.CompletedProcess:
    return run(["manage.py", *args], **variables)


def read_settings(*names: str, **variables: str) -> dict:
    result = run(["-c", READ_SETTINGS, *names], **variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def production(**variables: str) -> dict[str, str]:
    """What an operator sets (DATABASE_URL unset: the SQLite file)."""
    return {
        "DEBUG": "0",
        "SECRET_KEY": production_secret_key(),
        "ALLOWED_HOSTS": "trial.example.edu",
        **variables,
    }


# -- manage.py check --deploy -----------------------------------------------------------------
def test_deploy_check_prints_no_warning_with_production_variables():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNINGS" not in result.stderr


@pytest.mark.parametrize(
    ("variables", "warning"),
    [
        pytest.param({"DEBUG": "1"}, "security.W018", id="debug-on"),
        pytest.param({"SECRET_KEY": "too-short-a-key"}, "security.W009", id="short-secret-key"),
        pytest.param({"ALLOWED_HOSTS": ""}, "security.W020", id="no-allowed-hosts"),
        pytest.param({"SECURE_SSL_REDIRECT": "0"}, "security.W008", id="no-https-redirect"),
        pytest.param({"SECURE_HSTS_SECONDS": "0"}, "security.W004", id="no-hsts"),
    ],
)
def test_deploy_check_fails_on_an_unsafe_production_setting(variables, warning):
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production(**variables))

    assert result.returncode != 0
    assert f"({warning})" in result.stderr


def test_settings_refuse_to_load_without_a_secret_key_when_debug_is_off():
    result = manage("check", DEBUG="0")

    assert result.returncode != 0
    assert (
        "django.core.exceptions.ImproperlyConfigured: "
        "Set SECRET_KEY (or DEBUG=1 for local development)."
    ) in result.stderr


def test_makemigrations_check_runs_without_a_secret_key_and_finds_no_missing_migration():
    result = manage("makemigrations", "--check", "--dry-run", DEBUG="0")

    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_a_python_without_the_projects_packages_runs_manage_py_in_the_virtualenv():
    # The interpreter the virtualenv was made from.
    base = str(Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}")
    venv_python = ROOT / ".venv" / "bin" / "python"
    if not venv_python.exists() or base == sys.executable:
        pytest.skip("needs the project's .venv, made by `make`")
    probe = subprocess.run([base, "-c", "import django"], capture_output=True, timeout=60)  # noqa: S603
    if probe.returncode == 0:
        pytest.skip(f"{base} has Django installed itself")

    result = run_with(base, ["manage.py", "makemigrations", "--check", "--dry-run"], DEBUG="0")

    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_settings_load_without_a_secret_key_in_local_development():
    result = manage("check", DEBUG="1")

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_debug_is_off_unless_set():
    assert read_settings("DEBUG", SECRET_KEY=production_secret_key()) == {"DEBUG": False}


# -- Database ---------------------------------------------------------------------------------
def test_without_database_url_the_database_is_the_sqlite_file_in_the_project_root():
    databases = read_settings("DATABASES", **production())["DATABASES"]

    assert databases["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert databases["default"]["NAME"] == str(ROOT / "db.sqlite3")


def test_an_empty_database_url_counts_as_unset():
    databases = read_settings("DATABASES", **production(DATABASE_URL=""))["DATABASES"]

    assert databases["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert databases["default"]["NAME"] == str(ROOT / "db.sqlite3")


def test_a_postgres_database_url_selects_postgresql_with_persistent_checked_connections():
    databases = read_settings(
        "DATABASES",
        **production(DATABASE_URL="postgres://trial:s3cret@db.example.edu:5433/ldn_trial"),
    )["DATABASES"]

    default = databases["default"]
    assert default["ENGINE"] == "django.db.backends.postgresql"
    assert (default["NAME"], default["USER"], default["PASSWORD"]) == (
        "ldn_trial",
        "trial",
        "s3cret",
    )
    assert (default["HOST"], default["PORT"]) == ("db.example.edu", 5433)
    assert default["CONN_MAX_AGE"] == 60
    assert default["CONN_HEALTH_CHECKS"] is True
    assert default["OPTIONS"]["options"] == "-c jit=off"


@pytest.mark.django_db
def test_the_apps_postgresql_connections_compile_no_query_just_in_time():
    """PostgreSQL's JIT compiled the dashboard's loosely estimated queries on every view,
    costing more CPU than it saved."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: DATABASE_URL names no PostgreSQL database")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)


# -- Email, coordinators, cache ---------------------------------------------------------------
def test_coordinator_emails_are_read_as_a_comma_separated_list():
    assert read_settings(
        "COORDINATOR_EMAILS",
        **production(COORDINATOR_EMAILS="ana@example.edu,ben@example.edu"),
    ) == {"COORDINATOR_EMAILS": ["ana@example.edu", "ben@example.edu"]}


def test_spaces_after_commas_in_lists_are_forgiven():
    assert read_settings(
        "COORDINATOR_EMAILS",
        "ALLOWED_HOSTS",
        **production(
            COORDINATOR_EMAILS="ana@example.edu, ben@example.edu,", ALLOWED_HOSTS="a.edu, b.edu"
        ),
    ) == {
        "COORDINATOR_EMAILS": ["ana@example.edu", "ben@example.edu"],
        "ALLOWED_HOSTS": ["a.edu", "b.edu"],
    }


def test_coordinator_emails_are_an_empty_list_when_unset():
    assert read_settings("COORDINATOR_EMAILS", **production()) == {"COORDINATOR_EMAILS": []}


def test_an_smtp_tls_email_url_configures_the_smtp_backend_with_tls():
    values = read_settings(
        "EMAIL_BACKEND",
        "EMAIL_HOST",
        "EMAIL_PORT",
        "EMAIL_HOST_USER",
        "EMAIL_HOST_PASSWORD",
        "EMAIL_USE_TLS",
        "EMAIL_USE_SSL",
        **production(EMAIL_URL="smtp+tls://u:p@mail.example.edu:587"),
    )

    assert values == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "mail.example.edu",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "u",
        "EMAIL_HOST_PASSWORD": "p",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
    }


def test_email_goes_to_the_console_in_local_development_and_to_smtp_in_production():
    assert read_settings("EMAIL_BACKEND", DEBUG="1") == {
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"
    }
    assert read_settings("EMAIL_BACKEND", **production()) == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend"
    }


def test_the_cache_is_the_database_s_every_worker_shares_when_cache_url_is_unset():
    for variables in (production(), production(CACHE_URL=""), {"DEBUG": "1"}):
        caches = read_settings("CACHES", **variables)["CACHES"]

        assert caches["default"] == {
            "BACKEND": "recruitment.cache.AtomicDatabaseCache",
            "LOCATION": "ldn_trial_cache",
        }


def test_a_redis_cache_url_selects_django_s_redis_cache_shared_by_all_workers():
    variables = production(CACHE_URL="redis://cache.example.edu:6379/1")

    caches = read_settings("CACHES", **variables)["CACHES"]

    assert caches["default"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://cache.example.edu:6379/1",
    }
