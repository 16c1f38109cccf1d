from django.db import migrations, models

# Frozen copies of recruitment.models' tables as they stood when the codes came: a later change
# there must not change what this migration did.
CODES_BY_STATUS = {
    "declined": ("not_reached", "not_interested", "duplicate", "withdrew_by_link", "other"),
    "ineligible": ("fails_criterion", "other"),
    "withdrawn": ("not_reached", "not_interested", "other"),
}
DECLINE_REASON_CODES = {
    "not reached": "not_reached",
    "no longer interested": "not_interested",
    "duplicate": "duplicate",
    "withdrew interest (patient link)": "withdrew_by_link",
}


def reasons_coded(apps, schema_editor):
    """Give each move that needed a reason its code: the common reasons staff and the services
    wrote as text (DeclineReason) their own, anything else "other". The text stays, for staff
    who may see identities. One UPDATE per distinct (status, reason)."""
    StatusChange = apps.get_model("recruitment", "StatusChange")
    moves = StatusChange.objects.filter(to_status__in=list(CODES_BY_STATUS))
    pairs = moves.order_by().values_list("to_status", "reason").distinct()
    for to_status, reason in list(pairs):
        code = DECLINE_REASON_CODES.get((reason or "").strip().casefold(), "other")
        if code not in CODES_BY_STATUS[to_status]:
            code = "other"
        moves.filter(to_status=to_status, reason=reason).update(reason_code=code)


class Migration(migrations.Migration):
    dependencies = [
        ("recruitment", "0008_eligibility_override"),
    ]

    operations = [
        migrations.AddField(
            model_name="statuschange",
            name="reason_code",
            field=models.CharField(
                blank=True,
                choices=[
                    ("not_reached", "Not reached"),
                    ("not_interested", "No longer interested"),
                    ("duplicate", "Duplicate"),
                    ("withdrew_by_link", "Withdrew interest (patient link)"),
                    ("fails_criterion", "Fails a criterion"),
                    ("other", "Other"),
                ],
                help_text="Required to decline, find ineligible or withdraw; counted in CONSORT.",
                max_length=20,
                verbose_name="reason code",
            ),
        ),
        migrations.AddField(
            model_name="statuschange",
            name="reason_criterion",
            field=models.SlugField(
                blank=True,
                help_text="The criterion's code, with the reason code “fails a criterion”.",
                max_length=60,
                verbose_name="criterion not met",
            ),
        ),
        migrations.AlterField(
            model_name="statuschange",
            name="reason",
            field=models.TextField(
                blank=True,
                help_text="Free text; shown only to staff who may see names and contact details.",
                verbose_name="reason",
            ),
        ),
        migrations.RunPython(reasons_coded, migrations.RunPython.noop),
        # The CONSORT box counts declines by code, read from the index alone.
        migrations.RemoveIndex(
            model_name="statuschange",
            name="status_change_into",
        ),
        migrations.AddIndex(
            model_name="statuschange",
            index=models.Index(
                fields=["to_status", "participant"],
                include=("at", "reason", "reason_code"),
                name="status_change_into",
            ),
        ),
        migrations.AddConstraint(
            model_name="statuschange",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    reason_code__in=[
                        "",
                        "not_reached",
                        "not_interested",
                        "duplicate",
                        "withdrew_by_link",
                        "fails_criterion",
                        "other",
                    ]
                ),
                name="status_change_reason_code_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="statuschange",
            constraint=models.CheckConstraint(
                condition=models.Q(reason_code="fails_criterion", reason_criterion__gt="")
                | (~models.Q(reason_code="fails_criterion") & models.Q(reason_criterion="")),
                name="status_change_criterion_iff_fails_criterion",
            ),
        ),
    ]
