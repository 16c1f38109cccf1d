"""The cache the rate limits count in, when no cache service is configured.

Rate limits (django-ratelimit) must count in one place for every gunicorn worker, and with
no lost increments when a burst of requests lands on several workers at once. Django's
database cache is shared by every process that reaches the database, but its `incr` reads
the value and writes it back in two steps, so two workers may both read 4 and both write 5.
`AtomicDatabaseCache` makes that read and write one transaction holding the row: with
PostgreSQL a row lock (SELECT ... FOR UPDATE); with SQLite the write transaction this project
begins IMMEDIATE (ldn_trial/settings.py), which one connection holds at a time.

`createcachetable` (which `migrate` runs, see recruitment/apps.py) creates its table. On
PostgreSQL the table is then made UNLOGGED (`cache_tables_unlog`): a cache holds nothing that
must survive a crash (after one PostgreSQL empties the table: rate-limit counts start again,
cached pages are rendered again), so its writes skip the write-ahead log, and a transaction
that wrote only the cache (every rate-limited POST counts in its own) commits without
waiting for the disk. Standby servers do not get an unlogged table's rows either, which a
cache does not need.
"""

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction

DEFAULT_TABLE = "ldn_trial_cache"


class AtomicDatabaseCache(DatabaseCache):
    """Django's database cache with an `incr` that no concurrent `incr` can interleave."""

    def __init__(self, table: str, params: dict):
        super().__init__(table, params)
        self.table_name = table

    def incr(self, key, delta=1, version=None):
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        with transaction.atomic(using=db):
            if connection.features.has_select_for_update:
                quote = connection.ops.quote_name
                with connection.cursor() as cursor:
                    # Raw SQL: the ORM has no model for Django's cache table. The table name
                    # comes from settings; the key is a parameter.
                    cursor.execute(
                        f"SELECT {quote('cache_key')} FROM {quote(self.table_name)} "  # noqa: S608
                        f"WHERE {quote('cache_key')} = %s FOR UPDATE",
                        [self.make_and_validate_key(key, version=version)],
                    )
            return super().incr(key, delta, version=version)


def cache_tables_unlog(*, using: str = "default") -> list[str]:
    """Make every database cache's table on `using` UNLOGGED (PostgreSQL only; idempotent:
    a table already unlogged is not rewritten). Returns the tables changed."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    tables = [
        caches[alias].cache_model_class._meta.db_table
        for alias in settings.CACHES
        if isinstance(caches[alias], DatabaseCache)
    ]
    changed = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                "SELECT relpersistence FROM pg_class WHERE oid = to_regclass(%s)", [table]
            )
            row = cursor.fetchone()
            if row is not None and row[0] == "p":
                cursor.execute(f"ALTER TABLE {connection.ops.quote_name(table)} SET UNLOGGED")
                changed.append(table)
    return changed
