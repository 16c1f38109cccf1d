from django.contrib.auth.management import create_permissions
from django.db import migrations, models

from accounts.roles import ROLE_PERMISSIONS


def roles_reapply(apps, schema_editor):
    """Give investigators the run-in's own override permission (coordinators never have it)."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="recruitment", codename__in=codenames
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("recruitment", "0029_allocation"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="runin",
            options={
                "permissions": [
                    (
                        "override_run_in",
                        "Can override the run-in, so a participant may be enrolled "
                        "(investigators only)",
                    )
                ],
                "verbose_name": "run-in",
                "verbose_name_plural": "run-ins",
            },
        ),
        migrations.AlterField(
            model_name="reminder",
            name="day",
            field=models.DateField(
                help_text="The day the visit was booked for when it was claimed, or the digest's.",
                verbose_name="for the day",
            ),
        ),
        # A visit's reminder is claimed once per day it is booked for and channel: the new key
        # is in place before the old one goes, so two schedulers are never unguarded.
        migrations.AddConstraint(
            model_name="reminder",
            constraint=models.UniqueConstraint(
                condition=models.Q(("visit__isnull", False)),
                fields=("kind", "visit", "day", "channel"),
                name="reminder_once_per_visit_day_and_channel",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="reminder",
            name="reminder_once_per_visit_and_channel",
        ),
        migrations.RunPython(roles_reapply, migrations.RunPython.noop),
    ]
