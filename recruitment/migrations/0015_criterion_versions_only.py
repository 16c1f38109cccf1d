"""Every verdict points at its criterion version (0013): the per-verdict copies go, and
with them the indexes a submission wrote for nothing: verdicts and answers are found by their
unique (participant, criterion) indexes, nothing looks them up by criterion or version alone,
only staff-entered answers have a recorder (a partial index), and the participant history is
read by participant and date, never by email, phone, name or number."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("recruitment", "0014_criterion_versions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveField(
            model_name="criterionverdict",
            name="criterion_snapshot",
        ),
        migrations.AlterField(
            model_name="answer",
            name="criterion",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="answers",
                to="recruitment.eligibilitycriterion",
                verbose_name="criterion",
            ),
        ),
        migrations.AlterField(
            model_name="answer",
            name="participant",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="answers",
                to="recruitment.participant",
                verbose_name="participant",
            ),
        ),
        migrations.AlterField(
            model_name="answer",
            name="recorded_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="recorded by",
            ),
        ),
        migrations.AlterField(
            model_name="criterionverdict",
            name="criterion",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="verdicts",
                to="recruitment.eligibilitycriterion",
                verbose_name="criterion",
            ),
        ),
        migrations.AlterField(
            model_name="criterionverdict",
            name="criterion_version",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="verdicts",
                to="recruitment.criterionversion",
                verbose_name="criterion as judged",
            ),
        ),
        migrations.AlterField(
            model_name="criterionverdict",
            name="participant",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="verdicts",
                to="recruitment.participant",
                verbose_name="participant",
            ),
        ),
        migrations.AlterField(
            model_name="historicalparticipant",
            name="created_at",
            field=models.DateTimeField(blank=True, editable=False, verbose_name="applied"),
        ),
        migrations.AlterField(
            model_name="historicalparticipant",
            name="duplicate_of",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                editable=False,
                help_text="Matched on email, phone, or name and date of birth. Staff confirm or dismiss.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="recruitment.participant",
                verbose_name="possible duplicate of",
            ),
        ),
        migrations.AlterField(
            model_name="historicalparticipant",
            name="email_normalised",
            field=models.CharField(editable=False, max_length=254),
        ),
        migrations.AlterField(
            model_name="historicalparticipant",
            name="name_normalised",
            field=models.CharField(editable=False, max_length=201),
        ),
        migrations.AlterField(
            model_name="historicalparticipant",
            name="phone_normalised",
            field=models.CharField(blank=True, editable=False, max_length=15),
        ),
        migrations.AlterField(
            model_name="historicalparticipant",
            name="screening_number",
            field=models.CharField(editable=False, max_length=30, verbose_name="screening number"),
        ),
        migrations.AlterField(
            model_name="historicalparticipant",
            name="slot",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="recruitment.enrolmentslot",
                verbose_name="enrolment slot",
            ),
        ),
        migrations.AddIndex(
            model_name="answer",
            index=models.Index(
                condition=models.Q(("recorded_by__isnull", False)),
                fields=["recorded_by"],
                name="answer_recorded_by",
            ),
        ),
    ]
