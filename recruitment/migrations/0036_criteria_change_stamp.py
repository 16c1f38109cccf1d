"""The criteria's change stamp: a one-row table the database itself rewrites (triggers) on
every insert, update or delete of a criterion, whoever makes it, SQL typed by hand included;
a new random value each time (recruitment/models/stamps.py says why)."""

from django.db import migrations, models

CRITERIA = "recruitment_eligibilitycriterion"
STAMP = "recruitment_criteriastamp"

# SQLite: row triggers only (no statement triggers, no TRUNCATE); random() is a 64-bit integer.
SQLITE_EVENTS = ("insert", "update", "delete")
SQLITE_CREATE = """
CREATE TRIGGER {stamp}_on_{event} AFTER {event} ON {criteria}
BEGIN
    INSERT OR REPLACE INTO {stamp} (id, value) VALUES (1, random());
END
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS {stamp}_on_{event}"

# PostgreSQL: once per statement (a load of 18 criteria writes the stamp once), TRUNCATE too.
POSTGRESQL_CREATE = [
    f"""
    CREATE FUNCTION {STAMP}_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {STAMP} (id, value)
        VALUES (1, floor((random() - 0.5) * 9.2e18)::bigint)
        ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value;
        RETURN NULL;
    END
    $$
    """,
    f"""
    CREATE TRIGGER {STAMP}_on_change
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {CRITERIA}
    FOR EACH STATEMENT EXECUTE FUNCTION {STAMP}_change()
    """,
]
POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS {STAMP}_on_change ON {CRITERIA}",
    f"DROP FUNCTION IF EXISTS {STAMP}_change()",
]


def triggers_create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for event in SQLITE_EVENTS:
            schema_editor.execute(
                SQLITE_CREATE.format(stamp=STAMP, event=event, criteria=CRITERIA)
            )
        schema_editor.execute(f"INSERT INTO {STAMP} (id, value) VALUES (1, random())")
    elif vendor == "postgresql":
        for statement in POSTGRESQL_CREATE:
            schema_editor.execute(statement)
        schema_editor.execute(
            f"INSERT INTO {STAMP} (id, value) VALUES (1, floor((random() - 0.5) * 9.2e18)::bigint)"
        )
    # Another database has no triggers and no row: the form's page reads the criteria instead.


def triggers_drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for event in SQLITE_EVENTS:
            schema_editor.execute(SQLITE_DROP.format(stamp=STAMP, event=event))
    elif vendor == "postgresql":
        for statement in POSTGRESQL_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("recruitment", "0035_history_without_match_keys"),
    ]

    operations = [
        migrations.CreateModel(
            name="CriteriaStamp",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("value", models.BigIntegerField(verbose_name="value")),
            ],
            options={
                "verbose_name": "criteria change stamp",
                "verbose_name_plural": "criteria change stamps",
            },
        ),
        migrations.RunPython(triggers_create, triggers_drop),
    ]
