from django.db import migrations, models

TABLE = "recruitment_criterionverdict"


def key_add(apps, schema_editor):
    """The database's own key on (participant, criterion): PostgreSQL's primary key (its index
    finds a participant's verdicts); SQLite, which cannot add a primary key to a table, keeps a
    unique index with the same columns."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (participant_id, criterion_id)"
        )
    else:
        schema_editor.execute(
            f"CREATE UNIQUE INDEX {TABLE}_pkey ON {TABLE} (participant_id, criterion_id)"
        )


def key_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {TABLE}_pkey")
    else:
        schema_editor.execute(f"DROP INDEX {TABLE}_pkey")


class Migration(migrations.Migration):
    """A verdict is keyed by its participant and criterion: no id column, and one index written
    per verdict instead of two (the id's and the unique pair's)."""

    dependencies = [
        ("recruitment", "0037_waitlist_index_covers_the_dashboard_list"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="criterionverdict",
            name="one_verdict_per_criterion",
        ),
        migrations.RemoveField(
            model_name="criterionverdict",
            name="id",
        ),
        migrations.AddField(
            model_name="criterionverdict",
            name="pk",
            field=models.CompositePrimaryKey(
                "participant",
                "criterion",
                blank=True,
                editable=False,
                primary_key=True,
                serialize=False,
            ),
        ),
        migrations.RunPython(key_add, key_drop, elidable=False),
    ]
