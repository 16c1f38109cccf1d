from django.db import migrations, models

# The participant's match keys (derived from the name, email and phone the history keeps) are
# no longer copied into its history. Each is first given a default, so that migrating back
# can add the column again to the rows written meanwhile; the values are then derived anew by
# nothing (the history only ever showed them).
MATCH_KEYS = {
    "email_normalised": models.CharField(max_length=254, editable=False, default=""),
    "name_normalised": models.CharField(max_length=201, editable=False, default=""),
    "phone_normalised": models.CharField(max_length=15, editable=False, blank=True, default=""),
}


class Migration(migrations.Migration):
    dependencies = [
        ("recruitment", "0034_lighter_submission_writes"),
    ]

    operations = [
        *(
            migrations.AlterField(model_name="historicalparticipant", name=name, field=field)
            for name, field in MATCH_KEYS.items()
        ),
        *(
            migrations.RemoveField(model_name="historicalparticipant", name=name)
            for name in MATCH_KEYS
        ),
    ]
