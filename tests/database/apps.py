from django.apps import AppConfig


class TestDatabaseConfig(AppConfig):
    """A test-only app (tests/settings.py installs it, production never does): how the test
    database is emptied after a transactional test."""

    name = "tests.database"
    label = "test_database"
