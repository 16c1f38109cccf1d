"""Lighter reads and writes at scale:
- participants keep their latest contact attempt's time and outcome, so the call list and the
  queue's filters read two columns instead of every applicant's attempts (copied here from the
  attempts), with partial indexes for "not contacted yet" and "asked to call back";
- answers and verdicts point at criteria and criterion versions without a database constraint
  (a constraint's check locked every criterion row on each submission);
- indexes nothing reads are gone: the LIKE-pattern twins of the duplicate lookup's columns and
  single-column indexes that composite ones cover (the screening number's uniqueness is a
  constraint now, without its LIKE-pattern twin)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Exists, OuterRef, Subquery


def latest_attempt_copy(apps, schema_editor):
    """Each participant's latest contact attempt (latest `at`, then latest entered), as the
    contact-attempt service keeps it from now on."""
    Participant = apps.get_model("recruitment", "Participant")
    ContactAttempt = apps.get_model("recruitment", "ContactAttempt")
    latest = ContactAttempt.objects.filter(participant=OuterRef("pk")).order_by("-at", "-pk")
    Participant.objects.filter(
        Exists(ContactAttempt.objects.filter(participant=OuterRef("pk")))
    ).update(
        last_attempt_at=Subquery(latest.values("at")[:1]),
        last_attempt_outcome=Subquery(latest.values("outcome")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("recruitment", "0020_us_english_labels"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalparticipant",
            name="last_attempt_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="last contact attempt"
            ),
        ),
        migrations.AddField(
            model_name="historicalparticipant",
            name="last_attempt_outcome",
            field=models.CharField(
                blank=True,
                choices=[
                    ("reached", "Reached"),
                    ("voicemail", "Left voicemail"),
                    ("no_answer", "No answer"),
                    ("wrong_number", "Wrong number"),
                    ("call_back", "Asked to call back"),
                ],
                default="",
                editable=False,
                max_length=20,
                verbose_name="last contact outcome",
            ),
        ),
        migrations.AddField(
            model_name="participant",
            name="last_attempt_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="last contact attempt"
            ),
        ),
        migrations.AddField(
            model_name="participant",
            name="last_attempt_outcome",
            field=models.CharField(
                blank=True,
                choices=[
                    ("reached", "Reached"),
                    ("voicemail", "Left voicemail"),
                    ("no_answer", "No answer"),
                    ("wrong_number", "Wrong number"),
                    ("call_back", "Asked to call back"),
                ],
                default="",
                editable=False,
                max_length=20,
                verbose_name="last contact outcome",
            ),
        ),
        migrations.RunPython(latest_attempt_copy, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="participant",
            index=models.Index(
                condition=models.Q(("last_attempt_at__isnull", True), ("status", "new")),
                fields=["study", "created_at", "screening_seq"],
                name="participant_not_contacted",
            ),
        ),
        migrations.AddIndex(
            model_name="participant",
            index=models.Index(
                condition=models.Q(
                    ("last_attempt_outcome", "call_back"), ("next_follow_up_on__isnull", True)
                ),
                fields=["study", "last_attempt_at"],
                name="participant_call_back",
            ),
        ),
        migrations.AlterField(
            model_name="answer",
            name="criterion",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="answers",
                to="recruitment.eligibilitycriterion",
                verbose_name="criterion",
            ),
        ),
        migrations.AlterField(
            model_name="criterionverdict",
            name="criterion",
            field=models.ForeignKey(
                db_constraint=False,
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
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="verdicts",
                to="recruitment.criterionversion",
                verbose_name="criterion as judged",
            ),
        ),
        migrations.AlterField(
            model_name="participant",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True, verbose_name="applied"),
        ),
        migrations.AlterField(
            model_name="participant",
            name="email_normalised",
            field=models.CharField(editable=False, max_length=254),
        ),
        migrations.AlterField(
            model_name="participant",
            name="name_normalised",
            field=models.CharField(editable=False, max_length=201),
        ),
        migrations.AlterField(
            model_name="participant",
            name="phone_normalised",
            field=models.CharField(blank=True, editable=False, max_length=15),
        ),
        migrations.AlterField(
            model_name="participant",
            name="study",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="participants",
                to="recruitment.study",
                verbose_name="study",
            ),
        ),
        migrations.AddIndex(
            model_name="participant",
            index=models.Index(fields=["email_normalised"], name="participant_email_match"),
        ),
        migrations.AddIndex(
            model_name="participant",
            index=models.Index(fields=["name_normalised"], name="participant_name_match"),
        ),
        migrations.AddIndex(
            model_name="participant",
            index=models.Index(fields=["phone_normalised"], name="participant_phone_match"),
        ),
        migrations.AlterField(
            model_name='participant',
            name='screening_number',
            field=models.CharField(editable=False, max_length=30, verbose_name='screening number'),
        ),
        migrations.AddConstraint(
            model_name='participant',
            constraint=models.UniqueConstraint(fields=('screening_number',), name='screening_number_unique'),
        ),
    
    ]
