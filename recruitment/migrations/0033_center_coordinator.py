from django.contrib.auth.management import create_permissions
from django.db import migrations

from accounts.roles import ROLE_PERMISSIONS


def roles_reapply(apps, schema_editor):
    """Create the center coordinators' group with its permission to see registry members."""
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
        ("recruitment", "0032_lighter_history_and_person_indexes"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="person",
            options={
                "ordering": ["pk"],
                "permissions": [
                    (
                        "view_registry_people",
                        "Can see who is in the registry: names and contact details",
                    )
                ],
                "verbose_name": "person",
                "verbose_name_plural": "people",
            },
        ),
        migrations.RunPython(roles_reapply, migrations.RunPython.noop),
    ]
