"""`make run` and `make serve` start the task worker beside the server, with the server's own
environment: in development the emails print in the terminal (Django's console backend);
under `make serve` through the console backend that blanks the tokens of patients' links."""

import re
import subprocess

import pytest

from tests.test_serving import ROOT
from tests.test_settings import clean_env

WORKER = re.compile(r"(.*) setsid \.venv/bin/python manage\.py db_worker (--\S+) --interval 1 &")


def recipe_line(target: str, server: str) -> str:
    result = subprocess.run(  # noqa: S603 (our own Makefile)
        ["make", "--dry-run", "--always-make", target],  # noqa: S607 (make from PATH)
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    (line,) = [line for line in result.stdout.splitlines() if server in line]
    return line


@pytest.mark.parametrize(
    ("target", "server", "reload", "environment"),
    [
        ("run", "manage.py runserver", "--reload", "DEBUG=1"),
        (
            "serve",
            "bin/gunicorn",
            "--no-reload",
            'EMAIL_BACKEND="${EMAIL_BACKEND:-recruitment.email_backends.'
            'RedactingConsoleEmailBackend}"',
        ),
    ],
)
def test_the_worker_runs_beside_the_server_with_its_environment_and_stops_with_it(
    target, server, reload, environment
):
    line = recipe_line(target, server)

    worker = WORKER.search(line)
    assert worker, line
    assert environment in worker.group(1)
    assert worker.group(2) == reload
    # Stopped, with the autoreloader's child, when the server's shell exits or is stopped.
    assert line.startswith("trap 'kill -TERM -- -$worker 2>/dev/null; wait $worker 2>/dev/null' ")
    assert "EXIT INT TERM;" in line
