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


class CoveringIndex(models.Index):
    """An index that also stores the `covering` columns (PostgreSQL's INCLUDE), so a query
    reads them from the index alone, where the database has covering indexes; a plain index
    elsewhere. SQLite has none: declaring `include=` there makes every `migrate` and `check`
    warn (models.W040) that the columns are ignored, which they then are anyway."""

    def __init__(self, *args, covering=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.covering = tuple(covering)

    def deconstruct(self):
        path, args, kwargs = super().deconstruct()
        kwargs["covering"] = self.covering
        return path, args, kwargs

    def create_sql(self, model, schema_editor, using="", **kwargs):
        index = self
        if self.covering and schema_editor.connection.features.supports_covering_indexes:
            path, args, options = models.Index.deconstruct(self)
            index = models.Index(*args, **{**options, "include": self.covering})
        return models.Index.create_sql(index, model, schema_editor, using=using, **kwargs)
