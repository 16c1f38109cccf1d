"""The run-in: a baseline after consent in which completing the daily symptom reports is itself
an inclusion criterion. One record per participant who started one, holding the study's rule
as it stood at the start (days and minimum adherence), the days completed as last recorded,
and an investigator's override. Written only by `recruitment.screening.run_in`; every change
is kept in its history."""

from datetime import date, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from recruitment.models.common import audit_history
from recruitment.models.participants import Participant


def adherence_percent(*, days_completed: int, days: int) -> int:
    """Daily reports completed as a whole percent of the run-in's days, rounded down (21 of
    28 is 75): a participant just under the minimum never shows as meeting it."""
    if days <= 0:
        return 0
    return days_completed * 100 // days


def days_counted(*, started_on: date, days: int, as_of: date | None) -> int:
    """The run-in's days up to `as_of` (its start counts as day 1), at most its length; 0
    before any count was recorded."""
    if as_of is None:
        return 0
    return max(0, min(days, (as_of - started_on).days + 1))


def on_track(*, days_completed: int, counted: int, min_adherence: int) -> bool:
    """The days reported so far reach the minimum share of the days counted so far."""
    return days_completed * 100 >= min_adherence * counted


class RunIn(models.Model):
    """A participant's run-in: started on a day, `days` long, passed when the recorded
    adherence covers its last day and reaches `min_adherence` percent."""

    participant = models.OneToOneField(
        Participant,
        on_delete=models.CASCADE,
        related_name="run_in",
        verbose_name=_("participant"),
    )
    started_on = models.DateField(_("run-in started on"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("started by"),
    )
    days = models.PositiveSmallIntegerField(
        _("run-in length (days)"),
        validators=[MinValueValidator(1)],
        help_text=_("The study's run-in length when this run-in started."),
    )
    min_adherence = models.PositiveSmallIntegerField(
        _("minimum adherence (%)"),
        validators=[MaxValueValidator(100)],
        help_text=_("The study's minimum share of daily reports when this run-in started."),
    )
    days_completed = models.PositiveSmallIntegerField(
        _("days completed"),
        default=0,
        help_text=_("Days with a completed daily report, as of the date recorded."),
    )
    adherence_as_of = models.DateField(_("adherence as of"), null=True, blank=True)
    adherence_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("adherence recorded by"),
    )
    override_reason = models.TextField(
        _("override reason"),
        blank=True,
        help_text=_(
            "An investigator's reason to enroll although the run-in is incomplete or under "
            "the minimum."
        ),
    )
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("overridden by"),
    )
    override_at = models.DateTimeField(_("overridden at"), null=True, blank=True)
    history = audit_history()

    class Meta:
        verbose_name = _("run-in")
        verbose_name_plural = _("run-ins")
        permissions = [
            (
                "override_run_in",
                _("Can override the run-in, so a participant may be enrolled (investigators only)"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(days_completed__lte=F("days")), name="run_in_days_completed_in_range"
            ),
            models.CheckConstraint(
                condition=Q(min_adherence__lte=100), name="run_in_min_adherence_percent"
            ),
            models.CheckConstraint(
                condition=Q(override_by__isnull=True, override_reason="")
                | Q(override_by__isnull=False) & ~Q(override_reason=""),
                name="run_in_override_has_reason",
            ),
        ]

    def __str__(self):
        return f"Run-in from {self.started_on}"

    @property
    def last_day(self) -> date:
        return self.started_on + timedelta(days=self.days - 1)

    def day(self, today: date) -> int:
        """Which day of the run-in `today` is (1 on the day it started), at most its length."""
        return max(1, min((today - self.started_on).days + 1, self.days))

    @property
    def percent(self) -> int:
        return adherence_percent(days_completed=self.days_completed, days=self.days)

    def most_days(self, as_of: date) -> int:
        """The most days with a report there can be up to `as_of`."""
        return days_counted(started_on=self.started_on, days=self.days, as_of=as_of)

    @property
    def counted(self) -> int:
        return days_counted(started_on=self.started_on, days=self.days, as_of=self.adherence_as_of)

    @property
    def on_track(self) -> bool:
        return on_track(
            days_completed=self.days_completed,
            counted=self.counted,
            min_adherence=self.min_adherence,
        )

    @property
    def complete(self) -> bool:
        """The recorded adherence covers the run-in's last day."""
        return self.adherence_as_of is not None and self.adherence_as_of >= self.last_day

    @property
    def meets_minimum(self) -> bool:
        return self.days_completed * 100 >= self.min_adherence * self.days

    @property
    def passed(self) -> bool:
        return self.complete and self.meets_minimum

    @property
    def overridden(self) -> bool:
        return self.override_by_id is not None
