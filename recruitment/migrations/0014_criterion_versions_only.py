"""Every verdict points at its criterion version (0013): the per-verdict copies go."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("recruitment", "0013_criterion_versions"),
    ]

    operations = [
        migrations.AlterField(
            model_name="criterionverdict",
            name="criterion_version",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="verdicts",
                to="recruitment.criterionversion",
                verbose_name="criterion as judged",
            ),
        ),
        migrations.RemoveField(
            model_name="criterionverdict",
            name="criterion_snapshot",
        ),
    ]
