# The history indexes no read uses, and the person email index without its LIKE twin.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("recruitment", "0031_whatif_run"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="historicalparticipant",
            name="entered_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                editable=False,
                help_text="The staff member who entered the interest form on the person's behalf.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="entered by (staff)",
            ),
        ),
        migrations.AlterField(
            model_name="historicalparticipant",
            name="person",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                editable=False,
                help_text="The same person's applications to other studies share this record.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="recruitment.person",
                verbose_name="person",
            ),
        ),
        migrations.AlterField(
            model_name="historicalparticipant",
            name="study",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="recruitment.study",
                verbose_name="study",
            ),
        ),
        migrations.AlterField(
            model_name="person",
            name="email_normalised",
            field=models.CharField(blank=True, editable=False, max_length=254),
        ),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(fields=["email_normalised"], name="person_email"),
        ),
    ]
