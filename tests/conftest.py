import os
import shutil
from pathlib import Path

import pytest
from django.db import transaction
from django.test.utils import teardown_databases

from accounts import roles
from recruitment.models import SharedQuestion, Study
from recruitment.registry.tasks import study_rematch_enqueue
from recruitment.studies.services import study_load_file
from tests import settings as project_settings
from tests.database import creation
from tests.factories import staff
from tests.fresh_sqlite import FreshFiles, fresh_files
from tests.written_rows import WrittenRows, rows_written_by

# Playwright's sync API keeps an event loop in the main thread; Django would refuse its
# synchronous database calls in the live-server tests. Tests only, never in settings.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

LDN_FILE = Path(__file__).resolve().parent.parent / "recruitment" / "studies" / "ldn-mecfs.toml"
LDN_SLUG = "ldn-mecfs"


@pytest.fixture(scope="session", autouse=True)
def _compiled_translations():
    """Compile the translations when a .po is newer than its .mo, as `make test` does first,
    so a test run by hand reads the same Spanish text (the .mo files are not committed)."""
    from django.core.management import call_command
    from django.utils.translation.reloader import translation_file_changed

    root = Path(__file__).resolve().parent.parent
    stale = [
        po
        for po in root.glob("locale/*/LC_MESSAGES/*.po")
        if not po.with_suffix(".mo").exists()
        or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime
    ]
    if stale:
        cwd = os.getcwd()
        os.chdir(root)
        try:
            call_command("compile_translations", verbosity=0)
        finally:
            os.chdir(cwd)
        # Catalogues loaded before this (none, normally) are read again, as runserver does.
        translation_file_changed(sender=None, file_path=stale[0].with_suffix(".mo"))


# The static files as production stores them (tests/test_serving.py pins that the settings
# choose this storage when DEBUG is off).
PRODUCTION_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory) -> Path:
    """`collectstatic` with the production storage (hashed names, gzip copies, a manifest), as
    `make serve` and a deploy run it: once per run, for the tests that serve pages with DEBUG
    off (a fresh checkout has no STATIC_ROOT to fall back on)."""
    from django.core.management import call_command
    from django.test import override_settings

    root = tmp_path_factory.mktemp("staticfiles")
    with override_settings(STATIC_ROOT=root, STORAGES=PRODUCTION_STORAGES):
        call_command("collectstatic", "--noinput", verbosity=0)
    return root


@pytest.fixture(scope="session")
def fresh_sqlite_files(tmp_path_factory) -> FreshFiles:
    """The SQLite files `manage.py migrate` and `load_study` made in processes of their own,
    once for the whole run: the xdist workers share one directory of the run's temporary
    directory (tests/fresh_sqlite.py)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    return fresh_files(shared / "fresh-sqlite")


@pytest.fixture
def sqlite_with_ldn_study(fresh_sqlite_files, tmp_path) -> Path:
    """This test's own SQLite file as `make serve` leaves a new one: migrated, with the LDN
    study loaded; for the app served or worked on by other processes."""
    for run in (fresh_sqlite_files.migrate, fresh_sqlite_files.load_study):
        assert run.returncode == 0, f"manage.py {' '.join(run.args)}: {run.stderr}"
    path = tmp_path / "db.sqlite3"
    shutil.copyfile(fresh_sqlite_files.with_ldn_study, path)
    return path


@pytest.fixture(scope="session", autouse=True)
def _local_memory_cache():
    """Tests cache in local memory, for speed and so a test without the database can use the
    cache; tests/test_ratelimit_workers.py serves the real default (the database's cache
    table) and Redis through gunicorn."""
    from django.test import override_settings

    local = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(CACHES=local):
        yield


@pytest.fixture(scope="session")
def django_db_modify_db_settings(request):
    """Give each test run its own test databases (tests/database/creation.py)."""
    creation.test_database_names(request.config)


@pytest.fixture(scope="session")
def django_db_setup(
    request, django_test_environment, django_db_blocker, django_db_modify_db_settings
):
    """Each test process's database without a migration of its own: a copy of the SQLite file
    `manage.py migrate` made for the run, or on PostgreSQL of the database one xdist worker
    migrated (tests/database/creation.py); dropped at the end."""
    from django.db import connection

    verbosity = request.config.option.verbose
    items = request.session.items

    def migrated_files() -> FreshFiles:
        files = request.getfixturevalue("fresh_sqlite_files")
        assert files.migrate.returncode == 0, f"manage.py migrate: {files.migrate.stderr}"
        return files

    def fresh_files_if_needed() -> None:
        if any("fresh_sqlite_files" in getattr(item, "fixturenames", ()) for item in items):
            migrated_files()

    finish = None
    with django_db_blocker.unblock():
        if connection.vendor == "sqlite":
            creation.sqlite_copy_of(migrated_files().migrated)
        elif creation.worker_id(request.config):
            shared = request.getfixturevalue("tmp_path_factory").getbasetemp().parent
            finish = creation.postgresql_copy_made(
                request.config, shared / "test-databases", verbosity, fresh_files_if_needed
            )
        copied = connection.vendor == "sqlite" or creation.worker_id(request.config)
        databases = creation.set_up(
            verbosity, creation.serialized_aliases(items), keepdb=bool(copied)
        )
    yield
    with django_db_blocker.unblock():
        teardown_databases(databases, verbosity=verbosity)
        if finish:
            finish()


PRODUCTION_PASSWORD_HASHERS = list(project_settings.PASSWORD_HASHERS)
FAST_PASSWORD_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"

IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Email tasks run as the transaction commits, so a test that runs the on-commit callbacks
    # finds its emails in mail.outbox; tests/notifications/ run the database queue's worker.
    settings.TASKS = IMMEDIATE_TASKS
    settings.COORDINATOR_EMAILS = ["coordinators@example.edu"]
    # Texts are kept in recruitment.texts.outbox, as emails in mail.outbox.
    settings.TEXT_BACKEND = "recruitment.texts.backends.LocMemTextBackend"
    from recruitment import texts

    texts.outbox.clear()
    settings.SECURE_SSL_REDIRECT = False
    # Security features that would get in the way of every other test are off by default;
    # the security tests (tests/**/test_security*.py) turn each one on to prove it.
    settings.STAFF_2FA_REQUIRED = False
    settings.INTEREST_FORM_MIN_SECONDS = 0
    settings.RATELIMIT_ENABLE = False
    settings.AXES_ENABLED = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Argon2 is slow on purpose (bench/README.md, "The test suite's time"): tests hash
    # and check passwords with a fast hasher, and the production list still reads Argon2
    # hashes. tests/accounts/test_security_auth.py restores PRODUCTION_PASSWORD_HASHERS to
    # prove new passwords are hashed with Argon2.
    settings.PASSWORD_HASHERS = [FAST_PASSWORD_HASHER, *PRODUCTION_PASSWORD_HASHERS]


@pytest.fixture(autouse=True)
def _no_criterion_versions_kept():
    """Each test's transaction is rolled back, version rows included: ids kept in memory by
    one test (recruitment/evaluation.py) would point at nothing in the next."""
    from recruitment.evaluation import criterion_versions_forget

    criterion_versions_forget()
    yield
    criterion_versions_forget()


@pytest.fixture(autouse=True)
def _english_unless_a_test_asks():
    """LocaleMiddleware leaves a Spanish request's language active in the thread; start and
    end every test in the default language so one test's Spanish never leaks into the next."""
    from django.conf import settings
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture
def ldn_study(ldn_study_with_run_in):
    """The real LDN ME/CFS study, loaded from its reviewed file, with its run-in turned off:
    the tests of every other step walk consented participants straight to enrollment (the
    run-in's own tests, tests/screening/test_run_in.py, use `ldn_study_with_run_in`)."""
    from recruitment.models import Study

    Study.objects.filter(pk=ldn_study_with_run_in.pk).update(run_in_days=0)
    ldn_study_with_run_in.refresh_from_db()
    return ldn_study_with_run_in


@pytest.fixture
def ldn_study_with_run_in(db, ldn_rows):
    """The real LDN ME/CFS study, loaded from its reviewed file, its 28-day run-in included.

    The file is loaded once per test process (`ldn_rows`); each test inserts the rows that
    load wrote (tests/studies/test_ldn_fixture.py proves they are the same rows)."""
    return ldn_study_from(ldn_rows)


def ldn_study_from(rows: WrittenRows) -> Study:
    """Insert the rows loading the LDN file wrote, and queue what it queues besides (the
    queue's rows are not recorded); load the file itself when the study or any shared question
    is already there, as then what loading writes depends on what it finds."""
    if Study.objects.filter(slug=LDN_SLUG).exists() or SharedQuestion.objects.exists():
        return study_load_file(path=LDN_FILE).study
    with transaction.atomic():
        study = rows.insert()
        if study.is_recruiting:
            study_rematch_enqueue(study=study)
    return study


@pytest.fixture(scope="session")
def ldn_rows(django_db_setup, django_db_blocker) -> WrittenRows:
    """The rows `study_load_file` writes for the LDN file into an empty database, recorded once
    per test process in a transaction that is rolled back."""
    with django_db_blocker.unblock():
        return rows_written_by(lambda: study_load_file(path=LDN_FILE).study)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: no rate-limit counter or cached form page from
    the test before, and a rolled-back test frees its ids, and the next test's rows may take
    them again (SQLite), so a count cached under one test's ids must not answer another's
    (recruitment.reports.dashboard keys its counts on ids). The same for the interest form's
    pages and studies each process keeps."""
    from django.core.cache import cache

    from recruitment.intake import form_cache

    cache.clear()
    form_cache.pages_forget()
    form_cache.studies_forget()


# -- one user per role, for tests that act as each -------------------------------------------
def studies_of(staff_study) -> list:
    return [staff_study] if staff_study is not None else []


@pytest.fixture
def staff_study(ldn_study):
    """The study the role fixtures' users are members of: the LDN study, unless a test module
    overrides this fixture with its own study, or with None for users of no study (services
    record who acted and check no membership)."""
    return ldn_study


# Without a usable password: tests sign in with `force_login`, and Argon2 is slow on purpose,
# so no hash is made per test. A test of the sign-in itself makes its own user.
@pytest.fixture
def coordinator(staff_study):
    return staff("coordinator", roles.COORDINATOR, *studies_of(staff_study), password=None)


@pytest.fixture
def monitor(staff_study):
    return staff("monitor", roles.MONITOR, *studies_of(staff_study), password=None)


@pytest.fixture
def investigator(staff_study):
    return staff("investigator", roles.INVESTIGATOR, *studies_of(staff_study), password=None)


@pytest.fixture
def coord_client(client, coordinator):
    client.force_login(coordinator)
    return client
