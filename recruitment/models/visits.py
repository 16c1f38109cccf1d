"""Study visits: a study's visit plan (each planned visit anchored to a date in the
participant's course, with a window around its target day) and the visits booked from it."""

import datetime
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from recruitment.models.common import audit_history
from recruitment.models.participants import Participant
from recruitment.models.studies import Study, _pick, active_translation

# The patient-facing texts of a planned visit that the study file translates.
PLANNED_VISIT_TEXT_FIELDS = ("name", "place")


class VisitAnchor(models.TextChoices):
    """The date in a participant's course a planned visit is counted from."""

    CONSENT = "consent", _("Consent")
    RUN_IN_START = "run_in_start", _("Start of the run-in")
    ENROLLMENT = "enrollment", _("Enrollment")


class VisitStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    ATTENDED = "attended", _("Attended")
    MISSED = "missed", _("Missed")
    CANCELLED = "cancelled", _("Canceled")

    @classmethod
    def outcomes(cls) -> tuple["VisitStatus", ...]:
        """Where a booked visit ends: each is recorded once, never changed afterwards."""
        return (cls.ATTENDED, cls.MISSED, cls.CANCELLED)


class VisitWindow:
    """A planned visit's target date and the first and last dates it may take place."""

    __slots__ = ("target", "earliest", "latest")

    def __init__(self, *, target: datetime.date, earliest: datetime.date, latest: datetime.date):
        self.target = target
        self.earliest = earliest
        self.latest = latest

    def __contains__(self, day: datetime.date) -> bool:
        return self.earliest <= day <= self.latest

    def __eq__(self, other):
        return isinstance(other, VisitWindow) and (
            (self.target, self.earliest, self.latest)
            == (other.target, other.earliest, other.latest)
        )

    def __repr__(self):
        return f"VisitWindow({self.target}, {self.earliest}..{self.latest})"


class PlannedVisitText:
    """A planned visit's name and place in the active language, English fallback per text."""

    __slots__ = ("_planned", "_table")

    def __init__(self, planned: "PlannedVisit"):
        self._planned = planned
        self._table = active_translation(planned.translations)

    def __getattr__(self, name: str) -> str:
        if name not in PLANNED_VISIT_TEXT_FIELDS:
            raise AttributeError(name)
        return _pick(self._table, name, getattr(self._planned, name))


class PlannedVisitQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class PlannedVisit(models.Model):
    """One visit of a study's visit plan, loaded from the study file (`[[visits]]`). Its
    window is counted in days from the participant's anchor date; while that date is unknown
    (the run-in has not started), so is the window."""

    study = models.ForeignKey(
        Study, on_delete=models.CASCADE, related_name="planned_visits", verbose_name=_("study")
    )
    code = models.SlugField(
        _("code"), max_length=60, help_text=_("Stable identifier used by the study file.")
    )
    name = models.CharField(_("name"), max_length=120, help_text=_("Shown to the participant."))
    anchor = models.CharField(
        _("counted from"),
        max_length=20,
        choices=VisitAnchor,
        help_text=_("The date in the participant's course the target day is counted from."),
    )
    target_day = models.SmallIntegerField(
        _("target day"),
        help_text=_("Days after the anchor date (0: the same day; negative: before it)."),
    )
    days_before = models.PositiveSmallIntegerField(
        _("window: days before"),
        default=0,
        validators=[MaxValueValidator(365)],
        help_text=_("How many days before the target day the visit may take place."),
    )
    days_after = models.PositiveSmallIntegerField(
        _("window: days after"),
        default=0,
        validators=[MaxValueValidator(365)],
        help_text=_("How many days after the target day the visit may take place."),
    )
    place = models.CharField(
        _("default place"),
        max_length=200,
        blank=True,
        help_text=_("Offered when a visit is booked; shown to the participant."),
    )
    duration_minutes = models.PositiveSmallIntegerField(
        _("length in minutes"),
        default=60,
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)],
        help_text=_("How long the visit usually takes (the calendar entry's length)."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Visits taken out of the plan stay for the visits already booked."),
    )
    version = models.PositiveIntegerField(
        _("version"), default=1, editable=False, help_text=_("Goes up by one at every change.")
    )
    translations = models.JSONField(
        _("translations"),
        default=dict,
        blank=True,
        help_text=_(
            'Patient text in other languages, from the study file: {"es": {"name": ..., '
            '"place": ...}}. A missing text falls back to English.'
        ),
    )
    history = audit_history()

    objects = PlannedVisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("planned visit")
        verbose_name_plural = _("visit plan")
        ordering = ["study", "order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "code"], name="planned_visit_code_unique_in_study"
            ),
            models.CheckConstraint(
                condition=Q(anchor__in=VisitAnchor.values), name="planned_visit_anchor_valid"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def text(self) -> PlannedVisitText:
        """Patient text in the active language (English fallback per text); no query."""
        return PlannedVisitText(self)

    def window(self, anchor_date: datetime.date | None) -> VisitWindow | None:
        """The window around the target day, or None while the anchor date is unknown."""
        if anchor_date is None:
            return None
        target = anchor_date + datetime.timedelta(days=self.target_day)
        return VisitWindow(
            target=target,
            earliest=target - datetime.timedelta(days=self.days_before),
            latest=target + datetime.timedelta(days=self.days_after),
        )


class VisitQuerySet(models.QuerySet):
    def booked(self):
        return self.filter(status=VisitStatus.BOOKED)

    def between(self, start: datetime.datetime, end: datetime.datetime):
        """Visits starting at or after `start` and before `end`."""
        return self.filter(starts_at__gte=start, starts_at__lt=end)


class Visit(models.Model):
    """A visit booked for a participant from their study's plan. Written only by the visit
    services (`recruitment.screening.visits`): booked, rebooked (same row, the calendar
    entry's sequence goes up), then attended, missed or cancelled; every change is in its
    history with who and why."""

    participant = models.ForeignKey(
        Participant,
        on_delete=models.CASCADE,
        related_name="visits",
        verbose_name=_("participant"),
    )
    planned_visit = models.ForeignKey(
        PlannedVisit,
        on_delete=models.PROTECT,
        related_name="visits",
        verbose_name=_("visit"),
    )
    starts_at = models.DateTimeField(_("date and time"), help_text=_("Local time at the site."))
    duration_minutes = models.PositiveSmallIntegerField(
        _("length in minutes"),
        default=60,
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)],
    )
    place = models.CharField(_("place"), max_length=200)
    with_whom = models.CharField(
        _("with whom"),
        max_length=120,
        help_text=_("The staff member the participant will see; shown to the participant."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=VisitStatus, default=VisitStatus.BOOKED
    )
    calendar_uid = models.UUIDField(
        _("calendar entry"),
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text=_("The calendar file's UID: the same for every update of this visit."),
    )
    sequence = models.PositiveIntegerField(
        _("calendar sequence"),
        default=0,
        editable=False,
        help_text=_("Goes up by one at every rebooking or cancellation."),
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("booked by"),
    )
    booked_at = models.DateTimeField(_("booked at"), auto_now_add=True)
    outcome_at = models.DateTimeField(
        _("outcome recorded at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When it was marked attended, missed or canceled."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = audit_history()

    objects = VisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["starts_at", "pk"]
        indexes = [
            # The visits page (a day or a week), and the reminders the day before.
            models.Index(fields=["status", "starts_at"], name="visit_status_starts"),
            models.Index(fields=["participant", "starts_at"], name="visit_participant_starts"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=VisitStatus.values), name="visit_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status=VisitStatus.BOOKED, outcome_at__isnull=True)
                | Q(status__in=VisitStatus.outcomes(), outcome_at__isnull=False),
                name="visit_outcome_at_iff_outcome",
            ),
            # Rebooking moves the booked visit: a participant never holds two bookings of
            # the same planned visit.
            models.UniqueConstraint(
                fields=["participant", "planned_visit"],
                condition=Q(status="booked"),
                name="visit_one_booking_per_planned_visit",
            ),
        ]

    def __str__(self):
        return f"{self.planned_visit_id} at {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def ends_at(self) -> datetime.datetime:
        return self.starts_at + datetime.timedelta(minutes=self.duration_minutes)
