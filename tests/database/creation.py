"""Each test process's database, with as few migrations per run as can be: migrating renders
the model states of every migration, many seconds of CPU each time (`django_db_setup` in
tests/conftest.py uses these).

- On SQLite each process copies the file `manage.py migrate` made once for the whole run
  (tests/fresh_sqlite.py, which the tests that start the app in other processes need anyway),
  so a run migrates once instead of once per process and once more for those tests.
- On PostgreSQL, with pytest-xdist, the first worker migrates one database for the run and
  each worker clones its own from it (`CREATE DATABASE ... TEMPLATE`, Django's
  `clone_test_db`, as Django's own parallel test runner does); meanwhile another worker makes
  the SQLite files when the run's tests need them. The first worker drops the run's database
  when it is done.

Each process then sets its database up as Django's test runner does when it keeps one
(`keepdb`): `migrate` finds every migration applied and only runs what follows migrating
(content types, permissions, the cache table), and the database is dropped at the end.
A worker whose copy is missing (one xdist started again) migrates its own. pytest-django's
`--reuse-db` and `--nomigrations` do not apply: every run makes its databases this way.
"""

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test.utils import setup_databases


def run_id(config) -> str:
    """The same for every process of one run, different for another run."""
    workerinput = getattr(config, "workerinput", None)
    return workerinput["testrunuid"][:12] if workerinput else str(os.getpid())


def worker_id(config) -> str | None:
    workerinput = getattr(config, "workerinput", None)
    return workerinput["workerid"] if workerinput else None


def test_database_names(config) -> None:
    """`test_<name>_<run>`, then `_<worker>` under xdist: two runs at once (a developer's shell
    and CI, SQLite and PostgreSQL) never drop each other's tables, and each worker's name is
    what `clone_test_db` calls its copy of the run's database."""
    for db_settings in settings.DATABASES.values():
        test = db_settings.setdefault("TEST", {})
        name = test.get("NAME") or f"test_{db_settings['NAME']}"
        name = f"{name}_{run_id(config)}"
        worker = worker_id(config)
        test["NAME"] = f"{name}_{worker}" if worker else name


def serialized_aliases(items) -> set[str]:
    """The databases a test wants serialized to roll back to (`serialized_rollback`)."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if (
            (marker and marker.kwargs.get("serialized_rollback"))
            or "django_db_serialized_rollback" in getattr(item, "fixturenames", ())
            or getattr(getattr(item, "cls", None), "serialized_rollback", False)
        ):
            return set(settings.DATABASES)
    return set()


def sqlite_copy_of(migrated: Path) -> None:
    """This process's test database: a copy of the run's migrated SQLite file."""
    shutil.copyfile(migrated, connection.settings_dict["TEST"]["NAME"])


def postgresql_copy_made(
    config, shared: Path, verbosity: int, meanwhile: Callable[[], None]
) -> Callable[[], None]:
    """This xdist worker's database, cloned from the run's migrated one, which the first
    worker to get here migrates (the others wait, after doing `meanwhile`). Returns what to do
    once this worker's own database is dropped: the worker that made the run's database drops
    it; a worker that comes after that migrates its own (`set_up`)."""
    shared.mkdir(parents=True, exist_ok=True)
    state = shared / "state"
    alias = connection.alias
    test = connection.settings_dict["TEST"]
    own = test["NAME"]
    template = own.removesuffix(f"_{worker_id(config)}")
    original = connection.settings_dict["NAME"]

    def connect_to(name: str) -> None:
        settings.DATABASES[alias]["NAME"] = name
        connection.settings_dict["NAME"] = name

    with open(shared / "lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            meanwhile()
            fcntl.flock(lock, fcntl.LOCK_EX)
        made_here = not state.exists()
        if made_here:
            test["NAME"] = template
            try:
                setup_databases(
                    verbosity=verbosity,
                    interactive=False,
                    aliases={alias},
                    serialized_aliases=set(),
                )
            finally:
                test["NAME"] = own
            state.write_text("made")
        if state.read_text() == "made":
            connect_to(template)
            try:
                connection.creation.clone_test_db(suffix=worker_id(config), verbosity=verbosity)
            finally:
                connect_to(original)

    def drop_the_runs_database() -> None:
        if not made_here:
            return
        with open(shared / "lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            connect_to(template)
            connection.creation.destroy_test_db(old_database_name=original, verbosity=verbosity)
            state.write_text("dropped")

    return drop_the_runs_database


def set_up(verbosity: int, serialized: set[str], *, keepdb: bool):
    """This process's database: with `keepdb`, the copy made for it, migrated (or, should
    the copy be missing, made and migrated now); without, made and migrated now."""
    return setup_databases(
        verbosity=verbosity,
        interactive=False,
        keepdb=keepdb,
        aliases=set(settings.DATABASES),
        serialized_aliases=serialized,
    )
