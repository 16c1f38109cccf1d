"""The database cache's table: created by `migrate`, and on PostgreSQL unlogged, so the rate
limits' counts and the cached pages write nothing to the write-ahead log."""

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from recruitment.cache import cache_tables_unlog

TABLE = "ldn_trial_cache_under_test"
DATABASE_CACHE = {
    "default": {"BACKEND": "recruitment.cache.AtomicDatabaseCache", "LOCATION": TABLE},
    "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="UNLOGGED is PostgreSQL's (set DATABASE_URL)"
)


def persistence(table: str) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cursor.fetchone()
    return row and row[0]


@on_postgresql
@pytest.mark.django_db
def test_migrate_leaves_the_cache_table_unlogged_and_the_cache_working():
    from recruitment.apps import create_cache_table

    with override_settings(CACHES=DATABASE_CACHE):
        create_cache_table(using="default", verbosity=0)  # what `migrate` runs after migrating

        assert persistence(TABLE) == "u"
        cache = caches["default"]
        cache.set("counted", 1)
        assert cache.incr("counted") == 2
        assert cache.get("counted") == 2


@on_postgresql
@pytest.mark.django_db
def test_an_unlogged_cache_table_is_left_as_it_is():
    with override_settings(CACHES=DATABASE_CACHE):
        call_command("createcachetable", verbosity=0)

        assert cache_tables_unlog() == [TABLE]
        assert cache_tables_unlog() == []  # no second rewrite
        assert persistence(TABLE) == "u"


@pytest.mark.django_db
def test_without_postgresql_or_a_database_cache_nothing_is_changed():
    with override_settings(CACHES={"default": DATABASE_CACHE["local"]}):
        assert cache_tables_unlog() == []
    if connection.vendor != "postgresql":
        with override_settings(CACHES=DATABASE_CACHE):
            call_command("createcachetable", verbosity=0)
            assert cache_tables_unlog() == []
