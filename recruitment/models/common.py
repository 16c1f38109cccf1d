"""What every model module shares: the validators and the audit history's shape."""

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

ZIP_VALIDATOR = RegexValidator(r"^[0-9]{5}$", _("Enter a 5-digit ZIP code."))
PREFIX_VALIDATOR = RegexValidator(
    r"^[A-Z][A-Z0-9]{1,9}$", _("Use 2 to 10 capital letters or digits.")
)


def audit_history(**options) -> HistoricalRecords:
    """Read-only history of every change, with the staff member's reason kept whole:
    simple-history's default reason column holds 100 characters, and PostgreSQL refuses a
    longer reason, which would make the change itself fail."""
    return HistoricalRecords(
        cascade_delete_history=False,
        history_change_reason_field=models.TextField(null=True),
        **options,
    )
