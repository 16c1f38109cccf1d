"""A change stamp the database keeps itself, so a page built from rows can tell in one tiny
read whether those rows changed since."""

from django.db import models
from django.utils.translation import gettext_lazy as _

# The one row's key: the table holds a single stamp for every study's criteria.
CRITERIA_STAMP_ID = 1


class CriteriaStamp(models.Model):
    """A value the database changes whenever an eligibility criterion is inserted, updated or
    deleted (or, on PostgreSQL, the table truncated): triggers written by the migration that
    creates this table, so a change by the admin, by `load_study` or by SQL typed by hand
    changes it alike. The interest form's page is kept under it (recruitment/intake/
    form_cache.py) and reads this row instead of the criteria.

    Each change writes a new random value, not a counter: a change rolled back (and the row
    deleted, as a test database's flush does, until the next change writes it again) never
    leaves a value that a later change could take again, so nothing kept under an old value
    can come back."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=CRITERIA_STAMP_ID)
    value = models.BigIntegerField(_("value"))

    class Meta:
        verbose_name = _("criteria change stamp")
        verbose_name_plural = _("criteria change stamps")

    def __str__(self):
        return f"{self.value}"
