"""Who to contact now, per study: the call list's reads, in a fixed number of queries.

Five groups, each person in the first one that fits (the order is the page's order):

1. new, not contacted: status `new` and no contact attempt at all (`not_contacted`, the
   queue's "new, not contacted" filter), oldest first, with the working days left of the
   study's promise (`Study.call_within_working_days`);
2. waitlisted, a slot is free: the first waitlisted people, in waitlist order, while the study
   has free slots (as many as it has);
3. asked to call back: their latest contact attempt's outcome is "asked to call back" and it
   set no follow-up date (with a date, they come back on that day as a follow-up);
4. follow-ups due: the next follow-up date is today or past (`due_for_follow_up`, the queue's
   "follow-up due" filter), whatever the last attempt's outcome;
5. missed a visit: their latest visit marked missed, and since then nobody has logged a
   contact attempt nor booked that visit again (recruitment.visits), soonest missed first;
6. not reached: at least the study's number of unanswered attempts, still open (`not_reached`,
   the queue's "not reached" filter).

The staff dashboard's "To do today" counts these same groups (`calls_by_study`), so the two
pages always agree. One query per group over every study the user works on (window functions
keep the first `limit` rows of each study and count them all; the last two groups share one
query, partitioned by group too), and one for the studies.
"""

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Case, Count, Exists, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.expressions import Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from recruitment.calls.working_days import working_days_after, working_days_between
from recruitment.contact import format_phone
from recruitment.models import (
    BestTime,
    ContactMethod,
    ContactOutcome,
    DuplicateReview,
    Outcome,
    Participant,
    Status,
    Visit,
    VisitStatus,
)
from recruitment.selectors import StudyProgress, study_progress_list

# Rows listed per group and study on the call list (the totals are always shown; the queue's
# filters list the rest).
CALL_LIST_LIMIT = 50

NEW = "new"
WAITLIST = "waitlist"
CALL_BACK = "call_back"
FOLLOW_UP = "follow_up"
MISSED_VISIT = "missed_visit"
NOT_REACHED = "not_reached"
GROUP_TITLES = {
    NEW: _("New, not contacted yet"),
    WAITLIST: _("Waitlisted: a slot is free"),
    CALL_BACK: _("Asked to call back"),
    FOLLOW_UP: _("Follow-ups due"),
    MISSED_VISIT: _("Missed a visit"),
    NOT_REACHED: _("Not reached"),
}
GROUPS = tuple(GROUP_TITLES)

# Read for every row; the identifying ones only for staff who may see identities.
ROW_FIELDS = (
    "pk",
    "study_id",
    "screening_number",
    "status",
    "outcome",
    "eligible_from",
    "eligible_at",
    "created_at",
    "next_follow_up_on",
    "unanswered_attempts",
    "duplicate_review",
)
IDENTIFYING_ROW_FIELDS = (
    "first_name",
    "last_name",
    "phone",
    "phone_normalised",
    "preferred_contact",
    "best_time",
)


@dataclass(frozen=True)
class Promise:
    """Where the "we contact you within N working days" promise stands for one applicant."""

    due_on: date
    days_left: int  # working days after today up to `due_on`; 0 on the day, negative after
    overdue: bool


def promise_for(*, applied_on: date, working_days: int, today: date) -> Promise:
    due_on = working_days_after(applied_on, working_days)
    return Promise(due_on, working_days_between(today, due_on), today > due_on)


def last_applied_on_overdue(*, working_days: int, today: date) -> date:
    """The latest application date whose promise ran out before today: an applicant is
    overdue when they applied on or before it (the due date only grows with the date)."""
    day = today
    while working_days_after(day, working_days) >= today:
        day -= timedelta(days=1)
    return day


@dataclass(frozen=True)
class CallRow:
    """One person to contact. Names, phone and how they like to be reached are empty for
    staff who may not see identities."""

    pk: int
    screening_number: str
    status: str
    outcome: str
    eligible_from: date | None
    applied_on: date
    eligible_at: datetime | None
    follow_up_on: date | None
    unanswered_attempts: int
    possible_duplicate: bool
    name: str = ""
    phone: str = ""
    phone_digits: str = ""  # the 10 digits of a US number (contact.normalise_phone)
    preferred_contact: str = ""
    best_time: str = ""
    last_attempt_at: datetime | None = None
    last_outcome: str = ""
    promise: Promise | None = None
    missed_at: datetime | None = None  # when their missed visit was marked missed
    missed_visit: str = ""  # the planned visit's name

    @property
    def tel(self) -> str:
        """The phone as a `tel:` link dials it: +1 and the ten digits."""
        return f"tel:+1{self.phone_digits}" if len(self.phone_digits) == 10 else ""

    @property
    def status_label(self) -> str:
        return str(Status(self.status).label)

    @property
    def outcome_label(self) -> str:
        return str(Outcome(self.outcome).label) if self.outcome in Outcome.values else ""

    @property
    def preferred_contact_label(self) -> str:
        return _label(ContactMethod, self.preferred_contact)

    @property
    def best_time_label(self) -> str:
        return _label(BestTime, self.best_time)

    @property
    def last_outcome_label(self) -> str:
        return _label(ContactOutcome, self.last_outcome)


def _label(choices, value: str) -> str:
    return str(choices(value).label) if value in choices.values else ""


@dataclass(frozen=True)
class CallGroup:
    key: str
    rows: tuple[CallRow, ...] = ()
    total: int = 0
    overdue: int = 0  # new applicants past the promise (the first rows: oldest first)

    @property
    def title(self) -> str:
        return str(GROUP_TITLES[self.key])

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


@dataclass(frozen=True)
class StudyCalls:
    progress: StudyProgress
    groups: dict[str, CallGroup] = field(default_factory=dict)

    @property
    def study(self):
        return self.progress.study

    @property
    def total(self) -> int:
        return sum(group.total for group in self.groups.values())

    def group(self, key: str) -> CallGroup:
        return self.groups.get(key) or CallGroup(key)

    @property
    def ordered(self) -> list[CallGroup]:
        return [self.group(key) for key in GROUPS]


# ---------------------------------------------------------------------------------------------
# The selectors
# ---------------------------------------------------------------------------------------------
def call_list(
    *, user, today: date, identify: bool, limit: int = CALL_LIST_LIMIT
) -> list[StudyCalls]:
    """Who to contact now in every study the user works on (6 queries at most)."""
    progress = study_progress_list(user=user)
    calls = calls_by_study(progress=progress, today=today, identify=identify, limit=limit)
    return [calls[p.study.pk] for p in progress]


def calls_by_study(
    *,
    progress: Sequence[StudyProgress],
    today: date,
    identify: bool,
    limit: int = CALL_LIST_LIMIT,
    listed: Collection[str] = GROUPS,
) -> dict[int, StudyCalls]:
    """The call list's groups of the given studies (5 queries at most, none without studies;
    the waitlist's only when a study has a free slot). The groups not in `listed` are
    counted only, with no rows (the dashboard shows their totals)."""
    if not progress:
        return {}
    studies = {p.study.pk: p.study for p in progress}
    base = Participant.objects.filter(study_id__in=list(studies))
    fields = ROW_FIELDS + (IDENTIFYING_ROW_FIELDS if identify else ())
    groups: dict[int, dict[str, CallGroup]] = defaultdict(dict)

    def collect(key, queryset, order_by, *, extra=(), overdue=None):
        if key in listed:
            found = _first_rows(
                key, queryset, order_by, fields + extra, limit, studies, today, overdue
            )
        else:
            found = _counted(key, queryset, overdue)
        for study_id, group in found.items():
            groups[study_id][key] = group

    # 1. New, not contacted yet: oldest first, those past the promise counted.
    cutoffs = {
        pk: _local_midnight(
            last_applied_on_overdue(working_days=s.call_within_working_days, today=today)
            + timedelta(days=1)
        )
        for pk, s in studies.items()
    }
    overdue = Case(
        *(
            When(study_id=pk, created_at__lt=cutoff, then=Value(1))
            for pk, cutoff in cutoffs.items()
        ),
        default=Value(0),
    )
    collect(
        NEW,
        base.not_contacted(),
        [F("created_at").asc(), F("screening_seq").asc()],
        overdue=overdue,
    )

    # 2. Waitlisted while a slot is free: as many, in waitlist order, as there are free slots.
    free = {p.study.pk: p.free for p in progress if p.free > 0}
    taken: list[int] = []
    if free:
        waiting = _first_rows(
            WAITLIST,
            base.filter(study_id__in=list(free)).waitlist(),
            [F("eligible_at").asc(), F("screening_seq").asc()],
            fields,
            max(free.values()),
            studies,
            today,
        )
        for study_id, group in waiting.items():
            rows = group.rows[: free[study_id]]
            groups[study_id][WAITLIST] = CallGroup(WAITLIST, rows, len(rows))
            taken += [row.pk for row in rows]

    # 3-5. Those who have been contacted: what their latest attempt said decides (kept on the
    # participant by the contact-attempt service).
    contacted = base.open().exclude(pk__in=taken)
    last = ("last_attempt_outcome", "last_attempt_at")
    asked = Q(last_attempt_outcome=ContactOutcome.CALL_BACK, next_follow_up_on__isnull=True)
    collect(
        CALL_BACK,
        contacted.filter(asked),
        [F("last_attempt_at").asc(), F("screening_seq").asc()],
        extra=last,
    )
    collect(
        FOLLOW_UP,
        contacted.due_for_follow_up(today),
        [F("next_follow_up_on").asc(), F("screening_seq").asc()],
        extra=last,
    )
    # 5-6. Missed a visit, then not reached: one query, partitioned by group as well. A
    # missed visit is followed up by a contact attempt logged since, or by that planned visit
    # booked again since (and not cancelled).
    latest_missed = Visit.objects.filter(
        participant=OuterRef("pk"), status=VisitStatus.MISSED
    ).order_by("-outcome_at", "-pk")
    booked_again = Visit.objects.filter(
        participant=OuterRef("pk"),
        planned_visit=OuterRef("missed_planned_visit"),
        booked_at__gt=OuterRef("missed_at"),
        status__in=(VisitStatus.BOOKED, VisitStatus.ATTENDED),
    )
    missed = (
        Q(missed_at__isnull=False)
        & (Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lt=F("missed_at")))
        & Q(booked_again=False)
    )
    unreached = Q(unanswered_attempts__gte=F("study__not_reached_after"))
    # The candidates, as one uncorrelated set of ids: those who ever missed a visit, and
    # each study's participants with its number of unanswered attempts or more (a range of
    # the (study, attempts) index). Written as an OR on the participant, the test ran on
    # every open participant (a scan of the table).
    ever_missed = (
        Visit.objects.filter(status=VisitStatus.MISSED).order_by().values("participant_id")
    )
    attempts = Q()
    for pk, study in studies.items():
        attempts |= Q(study_id=pk, unanswered_attempts__gte=study.not_reached_after)
    candidates = ever_missed.union(
        Participant.objects.filter(attempts).order_by().values("pk"), all=True
    )
    last_two = (
        contacted.exclude(asked)
        .exclude(next_follow_up_on__lte=today)
        .filter(pk__in=candidates)
        .annotate(
            missed_at=Subquery(latest_missed.values("outcome_at")[:1]),
            missed_planned_visit=Subquery(latest_missed.values("planned_visit_id")[:1]),
            missed_visit=Subquery(latest_missed.values("planned_visit__name")[:1]),
        )
        .annotate(booked_again=Exists(booked_again))
        .filter(missed | unreached)
        .annotate(
            call_group=Case(When(missed, then=Value(MISSED_VISIT)), default=Value(NOT_REACHED))
        )
    )
    for (study_id, key), group in _first_rows(
        None,
        last_two,
        [
            Case(
                When(call_group=MISSED_VISIT, then=F("missed_at")),
                default=F("last_attempt_at"),
            ).asc(),
            F("screening_seq").asc(),
        ],
        fields + last + ("missed_at", "missed_visit", "call_group"),
        limit,
        studies,
        today,
        partition="call_group",
    ).items():
        groups[study_id][key] = group
    return {pk: StudyCalls(p, dict(groups[pk])) for p in progress for pk in [p.study.pk]}


def _first_rows(
    key, queryset, order_by, fields, limit, studies, today, overdue=None, partition=None
):
    """The first `limit` rows per study in `order_by` order, each study's total and, given an
    `overdue` expression (1 or 0 a row), how many are overdue (1 query). With `partition`
    (an annotation naming each row's group), per study and group, keyed (study, group)."""
    by = [F("study_id"), *([F(partition)] if partition else [])]
    windows = {
        "row": Window(RowNumber(), partition_by=by, order_by=order_by),
        "total": Window(Count("pk"), partition_by=by),
    }
    if overdue is not None:
        windows["overdue_total"] = Window(Sum(overdue), partition_by=by)
    rows = queryset.order_by().annotate(**windows).filter(row__lte=limit).values(*fields, *windows)
    listed: dict = defaultdict(list)
    totals: dict = {}
    for row in sorted(rows, key=lambda r: (r["study_id"], r.get(partition or "", ""), r["row"])):
        study = studies[row["study_id"]]
        group = (row["study_id"], row[partition]) if partition else row["study_id"]
        row_key = row[partition] if partition else key
        listed[group].append(_call_row(row, study=study, key=row_key, today=today))
        totals[group] = (row["total"], row.get("overdue_total") or 0)
    return {
        group: CallGroup(group[1] if partition else key, tuple(rows), *totals[group])
        for group, rows in listed.items()
    }


def _counted(key, queryset, overdue=None) -> dict[int, CallGroup]:
    """Each study's total and, given an `overdue` expression, how many are overdue (1 query,
    no rows)."""
    sums = {"total": Count("*")}  # not Count("pk"): the indexes answer without the table
    if overdue is not None:
        sums["overdue_total"] = Sum(overdue)
    rows = queryset.order_by().values("study_id").annotate(**sums)
    return {
        row["study_id"]: CallGroup(key, (), row["total"], row.get("overdue_total") or 0)
        for row in rows
    }


def _call_row(row: dict, *, study, key: str, today: date) -> CallRow:
    applied_on = timezone.localdate(row["created_at"])
    promise = None
    if key == NEW:
        promise = promise_for(
            applied_on=applied_on, working_days=study.call_within_working_days, today=today
        )
    name = " ".join(part for part in (row.get("first_name"), row.get("last_name")) if part)
    return CallRow(
        pk=row["pk"],
        screening_number=row["screening_number"],
        status=row["status"],
        outcome=row["outcome"],
        eligible_from=row["eligible_from"],
        applied_on=applied_on,
        eligible_at=row["eligible_at"],
        follow_up_on=row["next_follow_up_on"],
        unanswered_attempts=row["unanswered_attempts"],
        possible_duplicate=row["duplicate_review"] == DuplicateReview.PENDING,
        name=name,
        phone=format_phone(row.get("phone") or ""),
        phone_digits=row.get("phone_normalised") or "",
        preferred_contact=row.get("preferred_contact") or "",
        best_time=row.get("best_time") or "",
        last_attempt_at=row.get("last_attempt_at"),
        last_outcome=row.get("last_attempt_outcome") or "",
        promise=promise,
        missed_at=row.get("missed_at"),
        missed_visit=row.get("missed_visit") or "",
    )


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
