"""The visits' reads: each participant's anchor dates and so each visit's window, the
visits page (a study's visits today and this week), the dashboard's count, and a
participant's visits on their page. Each read in a fixed number of queries.

A planned visit's window is counted from the participant's anchor date: the day of consent
(their consent record), the start of the run-in (the day they moved into the `run_in` status,
once the study has one), or enrollment (the day they moved into `enrolled`). Until that day
is known, so is the window: the visit is not flagged."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, F, OuterRef, Subquery
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from recruitment.models import (
    Participant,
    PlannedVisit,
    Status,
    StatusChange,
    Study,
    Visit,
    VisitAnchor,
    VisitStatus,
    VisitWindow,
)

# The run-in's status, when the study's status machine has one: its first move into it is
# the start of the run-in.
RUN_IN_STATUS = "run_in"

OUTSIDE_WINDOW = _("outside window: target {target}, window {earliest} to {latest}")
WINDOW = _("target {target}, window {earliest} to {latest}")
TODAY_TITLE = _("Today")
WEEK_TITLE = _("Other days this week")
WINDOW_UNKNOWN = {
    VisitAnchor.CONSENT: _("window unknown until consent is recorded"),
    VisitAnchor.RUN_IN_START: _("window unknown until the run-in starts"),
    VisitAnchor.ENROLLMENT: _("window unknown until enrollment"),
}


def _day(value: datetime.date) -> str:
    return formats.date_format(value, "MONTH_DAY_FORMAT")


def window_words(window: VisitWindow | None, anchor: str, *, outside: bool = False) -> str:
    """The window in words ("target Dec 10, window Dec 7 to Dec 17"), or why it is unknown."""
    if window is None:
        return str(WINDOW_UNKNOWN[VisitAnchor(anchor)])
    template = OUTSIDE_WINDOW if outside else WINDOW
    return str(template).format(
        target=_day(window.target), earliest=_day(window.earliest), latest=_day(window.latest)
    )


def _moved_into(status: str, *, participant) -> Subquery:
    """When the participant first moved into `status` (a StatusChange's time), or NULL."""
    changes = StatusChange.objects.filter(participant=participant, to_status=status)
    return Subquery(changes.order_by("at", "pk").values("at")[:1])


def anchor_annotations(prefix: str = "") -> dict:
    """The anchor dates as annotations of a queryset of participants (`prefix` ""), or of
    rows pointing at one (`prefix` "participant__"): read in the same query."""
    participant = OuterRef(prefix.removesuffix("__") or "pk")
    return {
        "anchor_consent_on": F(f"{prefix}consent__consented_on"),
        "anchor_run_in_at": _moved_into(RUN_IN_STATUS, participant=participant),
        "anchor_enrolled_at": _moved_into(Status.ENROLLED, participant=participant),
    }


def _local_day(value: datetime.datetime | None) -> datetime.date | None:
    return timezone.localdate(value) if value is not None else None


def anchor_dates_of(row) -> dict[str, datetime.date | None]:
    """The anchor dates of a row read with `anchor_annotations`."""
    return {
        VisitAnchor.CONSENT: row.anchor_consent_on,
        VisitAnchor.RUN_IN_START: _local_day(row.anchor_run_in_at),
        VisitAnchor.ENROLLMENT: _local_day(row.anchor_enrolled_at),
    }


def participant_anchor_dates(*, participant: Participant) -> dict[str, datetime.date | None]:
    """One participant's anchor dates (1 query)."""
    row = Participant.objects.annotate(**anchor_annotations()).get(pk=participant.pk)
    return anchor_dates_of(row)


@dataclass(frozen=True)
class PlannedVisitWindow:
    """A planned visit and its window for one participant (None while unknown)."""

    planned: PlannedVisit
    window: VisitWindow | None

    @property
    def words(self) -> str:
        return window_words(self.window, self.planned.anchor)


def planned_visit_windows(*, participant: Participant) -> list[PlannedVisitWindow]:
    """The study's active planned visits, in order, each with its window for this participant
    (2 queries)."""
    anchors = participant_anchor_dates(participant=participant)
    planned = PlannedVisit.objects.active().filter(study_id=participant.study_id)
    return [PlannedVisitWindow(p, p.window(anchors[p.anchor])) for p in planned.order_by("order")]


@dataclass(frozen=True)
class VisitRow:
    """One visit on the visits page or a participant's page. `name` is empty for staff who
    may not see identities."""

    visit: Visit
    window: VisitWindow | None
    name: str = ""

    @property
    def starts_at(self) -> datetime.datetime:
        return timezone.localtime(self.visit.starts_at)

    @property
    def outside_window(self) -> bool:
        return self.window is not None and self.starts_at.date() not in self.window

    @property
    def window_words(self) -> str:
        return window_words(
            self.window, self.visit.planned_visit.anchor, outside=self.outside_window
        )

    @property
    def status_label(self) -> str:
        return str(VisitStatus(self.visit.status).label)

    @property
    def is_booked(self) -> bool:
        return self.visit.status == VisitStatus.BOOKED

    @property
    def has_started(self) -> bool:
        return self.visit.starts_at <= timezone.now()


def _rows(visits, *, identify: bool) -> list[VisitRow]:
    rows = []
    for visit in visits:
        anchors = anchor_dates_of(visit)
        planned = visit.planned_visit
        name = visit.participant.full_name if identify else ""
        rows.append(VisitRow(visit, planned.window(anchors[planned.anchor]), name))
    return rows


def _visits(identify: bool):
    participant_fields = [
        "participant__id",
        "participant__screening_number",
        "participant__study_id",
    ]
    if identify:
        participant_fields += ["participant__first_name", "participant__last_name"]
    return (
        Visit.objects.select_related("participant", "planned_visit")
        .annotate(**anchor_annotations("participant__"))
        .only(
            *participant_fields,
            "starts_at",
            "duration_minutes",
            "place",
            "with_whom",
            "status",
            "sequence",
            "planned_visit__name",
            "planned_visit__anchor",
            "planned_visit__target_day",
            "planned_visit__days_before",
            "planned_visit__days_after",
        )
    )


def visit_list_of_participant(
    *, participant: Participant, identify: bool = False
) -> list[VisitRow]:
    """A participant's visits, soonest first, each with its window (1 query)."""
    visits = _visits(identify).filter(participant=participant).order_by("starts_at", "pk")
    return _rows(visits, identify=identify)


def week_of(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Monday and Sunday of the week holding `today`."""
    monday = today - datetime.timedelta(days=today.weekday())
    return monday, monday + datetime.timedelta(days=6)


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


@dataclass
class StudyVisits:
    study: Study
    today: list[VisitRow] = field(default_factory=list)
    this_week: list[VisitRow] = field(default_factory=list)  # the week's other days

    @property
    def total(self) -> int:
        return len(self.today) + len(self.this_week)

    @property
    def sections(self) -> list[tuple[str, str, list[VisitRow]]]:
        """The page's two lists: key, title, rows."""
        return [
            ("today", str(TODAY_TITLE), self.today),
            ("week", str(WEEK_TITLE), self.this_week),
        ]


def visit_week_list(*, user, today: datetime.date, identify: bool) -> list[StudyVisits]:
    """The visits of this week (Monday to Sunday) in every study the user works on, today's
    apart, in time order (2 queries)."""
    studies = list(Study.objects.visible_to(user).order_by("title"))
    if not studies:
        return []
    monday, sunday = week_of(today)
    visits = (
        _visits(identify)
        .filter(participant__study_id__in=[s.pk for s in studies])
        .between(_local_midnight(monday), _local_midnight(sunday + datetime.timedelta(days=1)))
        .order_by("starts_at", "pk")
    )
    by_study: dict[int, StudyVisits] = {s.pk: StudyVisits(s) for s in studies}
    for row in _rows(visits, identify=identify):
        listed = by_study[row.visit.participant.study_id]
        (listed.today if row.starts_at.date() == today else listed.this_week).append(row)
    return list(by_study.values())


def visits_this_week_by_study(*, study_ids, today: datetime.date) -> dict[int, int]:
    """How many visits are booked or took place this week (Monday to Sunday), per study,
    cancelled ones left out (1 query)."""
    monday, sunday = week_of(today)
    counts = (
        Visit.objects.filter(participant__study_id__in=list(study_ids))
        .between(_local_midnight(monday), _local_midnight(sunday + datetime.timedelta(days=1)))
        .exclude(status=VisitStatus.CANCELLED)
        .values("participant__study_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    found: dict[int, int] = defaultdict(int)
    for row in counts:
        found[row["participant__study_id"]] = row["n"]
    return dict(found)
