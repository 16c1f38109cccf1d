"""`flush` as the test runner calls it after each transactional test (the live-server and
race tests), emptying PostgreSQL's tables with DELETE rather than TRUNCATE.

TRUNCATE gives every table, index and TOAST table a new file and drops the old ones, far
dearer for this schema's tables, most of them empty or nearly, than a DELETE of the few rows
a test wrote (bench/README.md, "The test suite's time"). The foreign keys Django makes are
deferred, so deleting in any order inside one transaction leaves nothing dangling. Sequences
go on as TRUNCATE without RESTART IDENTITY leaves them; a test that asks for them to be reset
(`reset_sequences`), SQLite (which already deletes) and an interactive flush get Django's own
command unchanged. Only tests/settings.py installs this app.
"""

from django.core.management.commands import flush
from django.core.management.sql import emit_post_migrate_signal
from django.db import connections, transaction


class Command(flush.Command):
    def handle(self, **options):
        database = options["database"]
        connection = connections[database]
        if (
            connection.vendor != "postgresql"
            or options["interactive"]
            or options.get("reset_sequences", True)
        ):
            return super().handle(**options)
        tables = connection.introspection.django_table_names(
            only_existing=True, include_views=False
        )
        with transaction.atomic(using=database), connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # noqa: S608
        if tables and not options.get("inhibit_post_migrate", False):
            # As Django's flush: the content types and permissions are written again.
            emit_post_migrate_signal(options["verbosity"], False, database)
