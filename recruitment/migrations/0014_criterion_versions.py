"""Verdicts point at the criterion version they were judged by instead of each holding its own
copy of the criterion: one version row per distinct (criterion, snapshot) already stored, every
verdict pointed at its own. The copies are dropped in the next migration, once every verdict
points at a version (PostgreSQL cannot alter a table with the updates' pending checks in the
same transaction)."""

import hashlib
import json

import django.db.models.deletion
from django.db import migrations, models


def _digest(snapshot: dict) -> str:
    # The same as recruitment.models.studies.snapshot_digest, frozen here.
    canonical = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def versions_from_snapshots(apps, schema_editor):
    verdicts = apps.get_model("recruitment", "CriterionVerdict")
    versions = apps.get_model("recruitment", "CriterionVersion")
    seen: dict[tuple[int, str], int] = {}
    distinct = (
        verdicts.objects.order_by()
        .values_list("criterion_id", "criterion_snapshot")
        .distinct()
        .iterator()
    )
    for criterion_id, snapshot in distinct:
        key = (criterion_id, _digest(snapshot))
        if key not in seen:
            seen[key] = versions.objects.create(
                criterion_id=criterion_id, digest=key[1], snapshot=snapshot
            ).pk
        verdicts.objects.filter(
            criterion_id=criterion_id,
            criterion_snapshot=snapshot,
            criterion_version__isnull=True,
        ).update(criterion_version_id=seen[key])
    # Snapshots that compare unequal in SQL but are the same JSON: one by one.
    for verdict in verdicts.objects.filter(criterion_version__isnull=True).iterator():
        key = (verdict.criterion_id, _digest(verdict.criterion_snapshot))
        if key not in seen:
            seen[key] = versions.objects.create(
                criterion_id=verdict.criterion_id,
                digest=key[1],
                snapshot=verdict.criterion_snapshot,
            ).pk
        verdicts.objects.filter(pk=verdict.pk).update(criterion_version_id=seen[key])


def snapshots_from_versions(apps, schema_editor):
    verdicts = apps.get_model("recruitment", "CriterionVerdict")
    versions = apps.get_model("recruitment", "CriterionVersion")
    for version in versions.objects.iterator():
        verdicts.objects.filter(criterion_version_id=version.pk).update(
            criterion_snapshot=version.snapshot
        )


class Migration(migrations.Migration):
    dependencies = [
        ("recruitment", "0013_study_call_script"),
    ]

    operations = [
        migrations.CreateModel(
            name="CriterionVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("digest", models.CharField(editable=False, max_length=64, verbose_name="digest")),
                (
                    "snapshot",
                    models.JSONField(editable=False, verbose_name="criterion as judged"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                (
                    "criterion",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="versions",
                        to="recruitment.eligibilitycriterion",
                        verbose_name="criterion",
                    ),
                ),
            ],
            options={
                "verbose_name": "criterion version",
                "verbose_name_plural": "criterion versions",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("criterion", "digest"), name="criterion_version_unique"
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="criterionverdict",
            name="criterion_version",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="verdicts",
                to="recruitment.criterionversion",
                verbose_name="criterion as judged",
            ),
        ),
        migrations.AlterField(
            model_name="criterionverdict",
            name="criterion_snapshot",
            field=models.JSONField(null=True, verbose_name="criterion as judged"),
        ),
        migrations.RunPython(versions_from_snapshots, snapshots_from_versions),
    ]
