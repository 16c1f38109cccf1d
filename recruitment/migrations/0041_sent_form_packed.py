"""A sent form's data is kept as compressed JSON (about half the bytes of a JSON column, in the
row and in the WAL), and its study's foreign key is checked by the app alone (the database's
check at commit locked the study's row once more per form). Forms still waiting are packed as
they are; those taken in hold nothing."""

import json
import zlib

from django.core.serializers.json import DjangoJSONEncoder
from django.db import migrations, models
import django.db.models.deletion


def pack_waiting(apps, schema_editor):
    SentForm = apps.get_model("recruitment", "SentForm")
    for sent in SentForm.objects.filter(taken_in_at__isnull=True).iterator():
        text = json.dumps(sent.data, cls=DjangoJSONEncoder, separators=(",", ":"))
        sent.packed = zlib.compress(text.encode())
        sent.save(update_fields=["packed"])


def unpack_waiting(apps, schema_editor):
    SentForm = apps.get_model("recruitment", "SentForm")
    for sent in SentForm.objects.filter(taken_in_at__isnull=True).iterator():
        sent.data = json.loads(zlib.decompress(sent.packed)) if sent.packed else {}
        sent.save(update_fields=["data"])


class Migration(migrations.Migration):
    dependencies = [
        ("recruitment", "0040_participant_applied_set_on_insert"),
    ]

    operations = [
        migrations.AddField(
            model_name="sentform",
            name="packed",
            field=models.BinaryField(
                default=b"",
                editable=False,
                help_text=(
                    "The contact details and answers, as validated, and the site's address: "
                    "compressed JSON, empty once taken in."
                ),
                verbose_name="form as sent",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(pack_waiting, unpack_waiting, elidable=True),
        # A default first, so that migrating back can add the column to the rows there.
        migrations.AlterField(
            model_name="sentform",
            name="data",
            field=models.JSONField(default=dict, editable=False, verbose_name="form as sent"),
        ),
        migrations.RemoveField(model_name="sentform", name="data"),
        migrations.AlterField(
            model_name="sentform",
            name="study",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="recruitment.study",
                verbose_name="study",
            ),
        ),
    ]
