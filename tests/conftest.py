import os
from pathlib import Path

import pytest

from recruitment import services

# Playwright's sync API keeps an event loop in the main thread; Django would refuse its
# synchronous database calls in the live-server tests. Tests only, never in settings.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

LDN_FILE = Path(__file__).resolve().parent.parent / "recruitment" / "studies" / "ldn-mecfs.toml"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Give each test run its own test database, so two runs at once (a developer's shell
    and CI, SQLite and PostgreSQL) never drop each other's tables."""
    from django.conf import settings

    for db_settings in settings.DATABASES.values():
        test = db_settings.setdefault("TEST", {})
        name = test.get("NAME") or f"test_{db_settings['NAME']}"
        test["NAME"] = f"{name}_{os.getpid()}"


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.COORDINATOR_EMAILS = ["coordinators@example.edu"]
    settings.SECURE_SSL_REDIRECT = False
    # Security features that would get in the way of every other test are off by default;
    # tests/test_security*.py turn each one on to prove it.
    settings.STAFF_2FA_REQUIRED = False
    settings.INTEREST_FORM_MIN_SECONDS = 0
    settings.RATELIMIT_ENABLE = False
    settings.AXES_ENABLED = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def ldn_study(db):
    """The real LDN ME/CFS study, loaded from its reviewed file."""
    return services.study_load_file(path=LDN_FILE).study
