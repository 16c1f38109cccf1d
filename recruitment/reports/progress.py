"""The study's progress over time: applications and enrolments per ISO week, and when the
target is reached at the recent enrolment rate (the dashboard's chart and projection)."""

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.utils import timezone

from recruitment.models import Participant, Status, StatusChange

# Weeks shown in the applications and enrolments chart (the current week is the last one).
CHART_WEEKS = 12
# Weeks of enrolments the projection's rate is measured over.
RATE_WEEKS = 8


@dataclass(frozen=True)
class WeekCount:
    start: date  # the Monday of the ISO week
    applications: int
    enrolments: int

    @property
    def iso_week(self) -> str:
        year, week, _day = self.start.isocalendar()
        return f"{year}-W{week:02d}"


def week_starts(*, today: date, weeks: int = CHART_WEEKS) -> list[date]:
    """The Mondays of the last `weeks` ISO weeks, the current one last."""
    this_monday = today - timedelta(days=today.weekday())
    return [this_monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def as_local_date(value) -> date:
    """A date, or an aware datetime's date in the site's time zone."""
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def weekly_series_by_study(
    *, study_ids: Sequence[int], today: date, weeks: int = CHART_WEEKS
) -> dict[int, tuple[WeekCount, ...]]:
    """Applications (by date applied) and enrolments (by the date of the status change to
    `enrolled`) per ISO week in the site's time zone, the last `weeks` weeks (2 queries)."""
    starts = week_starts(today=today, weeks=weeks)
    since, until = _local_midnight(starts[0]), _local_midnight(today + timedelta(days=1))
    applications = (
        Participant.objects.filter(
            study_id__in=study_ids, created_at__gte=since, created_at__lt=until
        )
        .order_by()
        .annotate(week=TruncWeek("created_at"))
        .values("study_id", "week")
        .annotate(n=Count("*"))  # not the pk: the (study, created_at) index alone answers
    )
    enrolments = (
        _enrolments_between(study_ids, since, until)
        .annotate(week=TruncWeek("at"))
        .values("participant__study_id", "week")
        .annotate(n=Count("pk"))
    )
    applied: Counter = Counter()
    for row in applications:
        applied[row["study_id"], as_local_date(row["week"])] += row["n"]
    enrolled: Counter = Counter()
    for row in enrolments:
        enrolled[row["participant__study_id"], as_local_date(row["week"])] += row["n"]
    return {
        study_id: tuple(
            WeekCount(start, applied[study_id, start], enrolled[study_id, start])
            for start in starts
        )
        for study_id in study_ids
    }


@dataclass(frozen=True)
class Projection:
    """When the target is reached at the recent enrolment rate."""

    remaining: int
    recent_enrolments: int
    rate_weeks: int
    on: date | None  # None when the target is reached or there is no recent rate

    @property
    def reached(self) -> bool:
        return self.remaining <= 0

    @property
    def per_week(self) -> float:
        return self.recent_enrolments / self.rate_weeks

    @property
    def weeks(self) -> float | None:
        if self.reached or not self.recent_enrolments:
            return None
        return self.remaining / self.per_week


def project(*, remaining: int, recent_enrolments: int, today: date) -> Projection:
    """`remaining` slots filled at the rate of `recent_enrolments` in the last RATE_WEEKS
    weeks: today plus remaining / rate weeks, rounded up to a whole day."""
    on = None
    if remaining > 0 and recent_enrolments > 0:
        days = math.ceil(remaining * RATE_WEEKS * 7 / recent_enrolments)
        on = today + timedelta(days=days)
    return Projection(max(remaining, 0), recent_enrolments, RATE_WEEKS, on)


def recent_enrolments_by_study(*, study_ids: Sequence[int], today: date) -> Counter:
    """Enrolments in the RATE_WEEKS weeks that end today (today and the 55 days before, for
    8 weeks), per study (1 query)."""
    since = _local_midnight(today - timedelta(weeks=RATE_WEEKS) + timedelta(days=1))
    until = _local_midnight(today + timedelta(days=1))
    rows = (
        _enrolments_between(study_ids, since, until)
        .values("participant__study_id")
        .annotate(n=Count("pk"))
    )
    return Counter({row["participant__study_id"]: row["n"] for row in rows})


def _enrolments_between(study_ids, since, until):
    """Moves to enrolled in [since, until), unordered, ready to group."""
    return StatusChange.objects.filter(
        participant__study_id__in=study_ids,
        to_status=Status.ENROLLED,
        at__gte=since,
        at__lt=until,
    ).order_by()
