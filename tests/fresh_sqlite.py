"""Fresh SQLite files for the tests that run the app in other processes (gunicorn, the task
workers), migrated once per test run by `manage.py migrate` in a process of its own with the
production settings, then copied for each test; on SQLite each test process's own database
is a copy of the migrated file too (tests/database/creation.py).

Migrating renders every migration's models and costs a process many seconds of CPU; the
tests that serve the app want a database as `make serve` leaves it, not the migration itself,
so each gets a copy of one migrated file. pytest-xdist's workers share the files: the first
to get the lock makes them, the others read what it recorded. `tests/test_ratelimit_workers.py`
and `tests/test_words_and_details.py` read the record of that migration (its output, the
cache table it made).
"""

import fcntl
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.test_settings import ROOT, clean_env, production_secret_key

LDN_STUDY_FILE = "recruitment/studies/ldn-mecfs.toml"


@dataclass(frozen=True)
class Run:
    """What one `manage.py` command in its own process did."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class FreshFiles:
    """A SQLite file `manage.py migrate` made, and a copy of it where `manage.py load_study`
    then loaded the LDN study; never written after: tests write to copies."""

    migrated: Path
    with_ldn_study: Path
    migrate: Run
    load_study: Run


def manage_run(*args: str, database: Path) -> Run:
    """`manage.py <args>` with the production settings (DEBUG off) on the SQLite file."""
    env = clean_env(
        DEBUG="0",
        SECRET_KEY=production_secret_key(),
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"sqlite:///{database}",
    )
    done = subprocess.run(  # noqa: S603 (our own interpreter)
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Run(list(args), done.returncode, done.stdout, done.stderr)


def fresh_files(directory: Path) -> FreshFiles:
    """The files in `directory`, made there by the first caller of this run (an exclusive
    lock keeps the other xdist workers waiting until they are whole)."""
    directory.mkdir(parents=True, exist_ok=True)
    record = directory / "runs.json"
    migrated = directory / "migrated.sqlite3"
    with_ldn_study = directory / "with-ldn-study.sqlite3"
    with open(directory / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            migrate = manage_run("migrate", "--noinput", database=migrated)
            load = Run(["load_study"], -1, "", "not run: migrate failed")
            if migrate.returncode == 0:
                shutil.copyfile(migrated, with_ldn_study)
                load = manage_run(
                    "load_study", "--create-only", LDN_STUDY_FILE, database=with_ldn_study
                )
            record.write_text(json.dumps({"migrate": vars(migrate), "load_study": vars(load)}))
        runs = json.loads(record.read_text())
    return FreshFiles(
        migrated=migrated,
        with_ldn_study=with_ldn_study,
        migrate=Run(**runs["migrate"]),
        load_study=Run(**runs["load_study"]),
    )
