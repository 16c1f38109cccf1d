"""The two covering indexes become `CoveringIndex`: INCLUDE columns on PostgreSQL, a plain index
on SQLite, which has no covering indexes (declared with `include=`, every `migrate` and
`check` warned models.W040 there). The indexes in the database are already what
`CoveringIndex` creates on each database, so only the migration state changes."""

from django.db import migrations, models

import recruitment.models.common


class Migration(migrations.Migration):
    dependencies = [
        ("recruitment", "0018_staff_entry"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="participant", name="participant_tally"),
                migrations.AddIndex(
                    model_name="participant",
                    index=recruitment.models.common.CoveringIndex(
                        covering=("id",),
                        fields=["study", "status", "referral_source"],
                        name="participant_tally",
                    ),
                ),
                migrations.RemoveIndex(model_name="statuschange", name="status_change_into"),
                migrations.AddIndex(
                    model_name="statuschange",
                    index=recruitment.models.common.CoveringIndex(
                        covering=("at", "reason", "reason_code"),
                        fields=["to_status", "participant"],
                        name="status_change_into",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
