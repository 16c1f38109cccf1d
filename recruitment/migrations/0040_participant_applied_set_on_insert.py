"""`created_at` (applied) is set by the service as the participant is inserted (a form taken in
by the worker gives the time it was sent) instead of by `auto_now_add`, which overrode it and
needed an UPDATE after. The column is the same: only Django's state changes, so SQLite does not
rebuild the tables."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("recruitment", "0039_sent_forms"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="historicalparticipant",
                    name="created_at",
                    field=models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="applied"
                    ),
                ),
                migrations.AlterField(
                    model_name="participant",
                    name="created_at",
                    field=models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="applied"
                    ),
                ),
            ],
        ),
    ]
