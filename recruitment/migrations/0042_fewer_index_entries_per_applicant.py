"""Two participant indexes hold only the rows that have a value, so a new applicant writes
neither: the unique index of enrollment slots (a OneToOneField's unique index took a NULL entry
for every applicant; the partial unique constraint refuses the same thing, a slot held twice)
and the not-reached index (only people with an unanswered attempt: the query asks for at least
one). The new constraint is made before the old one goes."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("recruitment", "0041_sent_form_packed"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="participant",
            constraint=models.UniqueConstraint(
                condition=models.Q(("slot__isnull", False)),
                fields=("slot",),
                name="slot_held_once",
            ),
        ),
        migrations.AlterField(
            model_name="participant",
            name="slot",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="participant",
                to="recruitment.enrolmentslot",
                verbose_name="enrollment slot",
            ),
        ),
        migrations.RemoveIndex(model_name="participant", name="participant_attempts"),
        migrations.AddIndex(
            model_name="participant",
            index=models.Index(
                condition=models.Q(("unanswered_attempts__gt", 0)),
                fields=["study", "unanswered_attempts"],
                name="participant_attempts",
            ),
        ),
    ]
