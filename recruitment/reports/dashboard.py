"""The staff dashboard's numbers, computed in the database with a fixed number of queries.

Every report here takes the studies it covers and, where the date matters, `today`; each one
is one aggregate query over all those studies at once, so the dashboard costs the same number
of queries for 3 participants as for 100,000, and for one study as for ten.

`consort_counts()` is the CONSORT enrolment box for one study; exports use it too.
"""

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, F, Q, Subquery
from django.db.models.expressions import Window
from django.db.models.functions import RowNumber, TruncWeek
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from recruitment import selectors
from recruitment.models import (
    CriterionVerdict,
    Participant,
    ReferralSource,
    Status,
    StatusChange,
    StatusReason,
    Study,
    Verdict,
)

# Weeks shown in the applications and enrolments chart (the current week is the last one).
CHART_WEEKS = 12
# Weeks of enrolments the projection's rate is measured over.
RATE_WEEKS = 8
# Rows listed for follow-ups due and the waitlist (the totals are always shown).
LIST_LIMIT = 25

# The CONSORT box's top-level buckets; every status belongs to exactly one (the other two are
# `Status.in_progress()` and `Status.holding_participant_id()`).
NOT_MEETING_STATUSES = (Status.INELIGIBLE,)
DECLINED_STATUSES = (Status.DECLINED,)
# A confirmed duplicate is closed as declined with this reason; it is a second record of
# someone already counted, not a person who declined, so CONSORT counts it under "other".
DUPLICATE_REASON = str(StatusReason.DUPLICATE)

NO_REASON_LABEL = _("Reason not recorded")
DUPLICATE_LABEL = _("Duplicate record")
NO_REFERRAL_LABEL = _("Not given")


@dataclass(frozen=True)
class LabelledCount:
    label: str
    count: int
    key: str = ""


@dataclass
class StatusTally:
    """A study's participants per status, and how many ineligible ones have at least one
    criterion marked not met."""

    by_status: Counter = field(default_factory=Counter)
    ineligible_failing_a_criterion: int = 0
    by_referral_source: Counter = field(default_factory=Counter)


def status_tallies(*, study_ids: Sequence[int]) -> dict[int, StatusTally]:
    """Each study's `StatusTally` (1 query).

    The participants who failed a criterion are an uncorrelated `IN` (PostgreSQL hashes it
    once, from the partial index of not-met verdicts), not an `EXISTS` per participant, which
    probed the verdicts once per ineligible person: 0.9 s at 100,000 participants."""
    failed = CriterionVerdict.objects.filter(verdict=Verdict.NOT_MET).values("participant_id")
    rows = (
        Participant.objects.filter(study_id__in=study_ids)
        .order_by()
        .values("study_id", "status", "referral_source")
        .annotate(
            n=Count("pk"),
            # The cheap status test first: PostgreSQL keeps this order inside FILTER, and
            # probing the not-met set for every participant tripled the query's time.
            failed_any=Count("pk", filter=Q(status=Status.INELIGIBLE) & Q(pk__in=failed)),
        )
    )
    tallies: dict[int, StatusTally] = defaultdict(StatusTally)
    for row in rows:
        tally = tallies[row["study_id"]]
        tally.by_status[row["status"]] += row["n"]
        tally.ineligible_failing_a_criterion += row["failed_any"]
        tally.by_referral_source[row["referral_source"] or ""] += row["n"]
    return dict(tallies)


# ---------------------------------------------------------------------------------------------
# CONSORT enrolment box
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConsortCounts:
    """The CONSORT 2010 enrolment box, live. Every participant is in exactly one top-level
    bucket: `assessed == excluded + enrolled + in_progress`, where
    `excluded == not_meeting_criteria + declined + other`.

    The by-criterion breakdown counts participants per criterion they failed; one participant
    may fail several, so it can add up to more than `not_meeting_criteria`.
    """

    assessed: int
    not_meeting_criteria: int
    not_meeting_by_criterion: tuple[LabelledCount, ...]
    # Ineligible participants whose stored verdicts mark no criterion "not met".
    not_meeting_no_criterion: int
    declined: int
    declined_by_reason: tuple[LabelledCount, ...]
    other: int
    other_by_reason: tuple[LabelledCount, ...]
    # Enrolled at some point: still on study, completed or withdrawn.
    enrolled: int
    on_study: int
    completed: int
    withdrawn: int
    # Not yet at a terminal outcome (new, screening, eligible, waitlisted, consented).
    in_progress: int
    in_progress_by_status: tuple[LabelledCount, ...]

    @property
    def excluded(self) -> int:
        return self.not_meeting_criteria + self.declined + self.other

    @property
    def adds_up(self) -> bool:
        return (
            self.assessed == self.excluded + self.enrolled + self.in_progress
            and self.declined == sum(item.count for item in self.declined_by_reason)
            and self.other == sum(item.count for item in self.other_by_reason)
            and self.enrolled == self.on_study + self.completed + self.withdrawn
            and self.in_progress == sum(item.count for item in self.in_progress_by_status)
        )


def consort_counts(*, study: Study) -> ConsortCounts:
    """The CONSORT enrolment box of one study (3 queries)."""
    return consort_counts_by_study(study_ids=[study.pk])[study.pk]


def consort_counts_by_study(
    *, study_ids: Sequence[int], tallies: dict[int, StatusTally] | None = None
) -> dict[int, ConsortCounts]:
    """The CONSORT box of each study (3 queries, 2 when the status tallies are given)."""
    if tallies is None:
        tallies = status_tallies(study_ids=study_ids)
    decline_reasons = _decline_reasons(study_ids)
    failures = _failures_by_criterion(study_ids)
    return {
        study_id: _consort(
            tallies.get(study_id, StatusTally()),
            decline_reasons.get(study_id, []),
            failures.get(study_id, []),
        )
        for study_id in study_ids
    }


def _consort(
    tally: StatusTally, reasons: list[tuple[str | None, int]], failures: list[LabelledCount]
) -> ConsortCounts:
    counts = tally.by_status
    declined_by: Counter = Counter()
    other_by: Counter = Counter()
    labels: dict[str, str] = {}
    recorded = 0
    for code, n in reasons:
        key = code or ""
        recorded += n
        if key == DUPLICATE_REASON:
            other_by[key] += n
            labels[key] = str(DUPLICATE_LABEL)
            continue
        declined_by[key] += n
        labels.setdefault(key, _reason_label(key))
    # Declined participants with no status change (imported, or erased history).
    missing = counts[Status.DECLINED] - recorded
    if missing > 0:
        declined_by[""] += missing
    labels[""] = str(NO_REASON_LABEL)

    known = {
        *NOT_MEETING_STATUSES,
        *DECLINED_STATUSES,
        *Status.in_progress(),
        *Status.holding_participant_id(),
    }
    for status, n in counts.items():
        if status not in known:
            other_by[status] += n
            labels[status] = status.replace("_", " ").capitalize()

    ineligible = counts[Status.INELIGIBLE]
    return ConsortCounts(
        assessed=sum(counts.values()),
        not_meeting_criteria=ineligible,
        not_meeting_by_criterion=tuple(failures),
        not_meeting_no_criterion=ineligible - tally.ineligible_failing_a_criterion,
        declined=sum(declined_by.values()),
        declined_by_reason=_ranked(declined_by, labels),
        other=sum(other_by.values()),
        other_by_reason=_ranked(other_by, labels),
        enrolled=sum(counts[s] for s in Status.holding_participant_id()),
        on_study=counts[Status.ENROLLED],
        completed=counts[Status.COMPLETED],
        withdrawn=counts[Status.WITHDRAWN],
        in_progress=sum(counts[s] for s in Status.in_progress()),
        in_progress_by_status=tuple(
            LabelledCount(str(s.label), counts[s], s.value) for s in Status.in_progress()
        ),
    )


def _reason_label(code: str) -> str:
    """The code's label, never the words staff wrote beside it: those may quote the person,
    and the dashboard is open to every role."""
    if code in StatusReason.values:
        return str(StatusReason(code).label)
    return str(NO_REASON_LABEL)


def _ranked(counter: Counter, labels: dict[str, str]) -> tuple[LabelledCount, ...]:
    items = [LabelledCount(labels[key], n, key) for key, n in counter.items() if n]
    return tuple(sorted(items, key=lambda item: (-item.count, item.label)))


def _decline_reasons(study_ids: Sequence[int]) -> dict[int, list[tuple[str | None, int]]]:
    """Declined participants per study and the reason code of their move to `declined` (1
    query).

    One join of the moves to `declined` with the declined participants, grouped on the code:
    `declined` is final, so the status machine writes that move once per participant (a
    subquery per declined participant cost 0.3 s at 100,000 participants)."""
    rows = (
        StatusChange.objects.filter(
            to_status=Status.DECLINED,
            participant__status=Status.DECLINED,
            participant__study_id__in=study_ids,
        )
        .order_by()
        .values("participant__study_id", "reason_code")
        .annotate(n=Count("participant_id"))
    )
    reasons: dict[int, list] = defaultdict(list)
    for row in rows:
        reasons[row["participant__study_id"]].append((row["reason_code"], row["n"]))
    return reasons


def _failures_by_criterion(study_ids: Sequence[int]) -> dict[int, list[LabelledCount]]:
    """Ineligible participants per criterion their stored verdicts mark not met, most
    frequent first (1 query)."""
    rows = (
        CriterionVerdict.objects.filter(
            participant__study_id__in=study_ids,
            participant__status=Status.INELIGIBLE,
            verdict=Verdict.NOT_MET,
        )
        .order_by()
        .values("participant__study_id", "criterion_id", "criterion__title", "criterion__order")
        # One verdict per participant and criterion (a unique constraint): a plain count is
        # the number of people, without the sort a DISTINCT count needs (and from the index).
        .annotate(n=Count("participant_id"))
    )
    failures: dict[int, list] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (-r["n"], r["criterion__order"], r["criterion_id"])):
        failures[row["participant__study_id"]].append(
            LabelledCount(row["criterion__title"], row["n"], str(row["criterion_id"]))
        )
    return failures


# ---------------------------------------------------------------------------------------------
# Weekly series and the projection
# ---------------------------------------------------------------------------------------------
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


def _as_local_date(value) -> date:
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
        applied[row["study_id"], _as_local_date(row["week"])] += row["n"]
    enrolled: Counter = Counter()
    for row in enrolments:
        enrolled[row["participant__study_id"], _as_local_date(row["week"])] += row["n"]
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


# ---------------------------------------------------------------------------------------------
# Lists: referral sources, follow-ups due, waitlist
# ---------------------------------------------------------------------------------------------
def referral_sources_by_study(
    *, study_ids: Sequence[int], tallies: dict[int, StatusTally] | None = None
) -> dict[int, tuple[LabelledCount]]:
    """Participants per referral source, most frequent first (1 query, none when the status
    tallies, which count them too, are given)."""
    if tallies is None:
        tallies = status_tallies(study_ids=study_ids)
    labels = dict(ReferralSource.choices)
    sources: dict[int, list] = defaultdict(list)
    for study_id, tally in tallies.items():
        for key, n in tally.by_referral_source.items():
            label = str(labels.get(key, key)) if key else str(NO_REFERRAL_LABEL)
            sources[study_id].append(LabelledCount(label, n, key))
    return {
        study_id: tuple(sorted(sources.get(study_id, []), key=lambda i: (-i.count, i.label)))
        for study_id in study_ids
    }


@dataclass(frozen=True)
class ListedParticipant:
    """A participant as the dashboard lists them: a screening number, never a name."""

    pk: int
    screening_number: str
    on: date | None


def _first_rows(queryset, *, order_by: list, date_field: str, limit: int):
    """The first `limit` rows per study in `order_by` order, and each study's total (1 query,
    window functions)."""
    rows = (
        queryset.order_by()
        .annotate(
            row=Window(RowNumber(), partition_by=[F("study_id")], order_by=order_by),
            total=Window(Count("pk"), partition_by=[F("study_id")]),
        )
        .filter(row__lte=limit)
        .values("pk", "study_id", "screening_number", date_field, "row", "total")
    )
    listed: dict[int, list] = defaultdict(list)
    totals: dict[int, int] = {}
    for row in sorted(rows, key=lambda r: (r["study_id"], r["row"])):
        listed[row["study_id"]].append(
            ListedParticipant(row["pk"], row["screening_number"], _as_local_date(row[date_field]))
        )
        totals[row["study_id"]] = row["total"]
    return listed, totals


def follow_ups_due_by_study(*, study_ids: Sequence[int], today: date, limit: int = LIST_LIMIT):
    """Open participants whose next follow-up is today or overdue, oldest date first (1 query)."""
    return _first_rows(
        Participant.objects.filter(study_id__in=study_ids).due_for_follow_up(today),
        order_by=[F("next_follow_up_on").asc(), F("screening_seq").asc()],
        date_field="next_follow_up_on",
        limit=limit,
    )


def waitlist_by_study(*, study_ids: Sequence[int], limit: int = LIST_LIMIT):
    """The waitlist in order: by the time each person became eligible (1 query)."""
    return _first_rows(
        Participant.objects.filter(study_id__in=study_ids).waitlist(),
        order_by=[F("eligible_at").asc(), F("screening_seq").asc()],
        date_field="eligible_at",
        limit=limit,
    )


def not_reached_by_study(*, study_ids: Sequence[int]) -> Counter:
    """Open participants with the study's number of unanswered attempts (1 query)."""
    rows = (
        Participant.objects.filter(study_id__in=study_ids)
        .not_reached()
        .order_by()
        .values("study_id")
        .annotate(n=Count("pk"))
    )
    return Counter({row["study_id"]: row["n"] for row in rows})


# ---------------------------------------------------------------------------------------------
# The dashboard
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StudyDashboard:
    study: Study
    today: date
    enrolled: int  # slots taken: what counts toward the target
    free: int
    next_waitlisted: str | None
    next_waitlisted_pk: int | None
    funnel: tuple[LabelledCount, ...]
    consort: ConsortCounts
    weeks: tuple[WeekCount, ...]
    referral_sources: tuple[LabelledCount, ...]
    follow_ups_due: tuple[ListedParticipant, ...]
    follow_ups_due_total: int
    not_reached: int
    waitlist: tuple[ListedParticipant, ...]
    waitlist_total: int
    projection: Projection

    @property
    def target(self) -> int:
        return self.study.target_enrolment

    @property
    def screen_failures(self) -> tuple[LabelledCount, ...]:
        """Top reasons for screen failure: criteria marked not met among the ineligible."""
        return self.consort.not_meeting_by_criterion


def dashboard_list(*, user, today: date) -> list[StudyDashboard]:
    """The dashboard of every study the user may see, in a fixed number of queries (11, or 6
    when the counts over every participant come from the cache: see `_counted`)."""
    progress = selectors.study_progress_list(user=user)
    ids = [p.study.pk for p in progress]
    if not ids:
        return []
    counted = _counted(studies=[p.study for p in progress], today=today)
    recent = recent_enrolments_by_study(study_ids=ids, today=today)
    due, due_totals = follow_ups_due_by_study(study_ids=ids, today=today)
    waiting, waiting_totals = waitlist_by_study(study_ids=ids)
    not_reached = not_reached_by_study(study_ids=ids)
    return [
        StudyDashboard(
            study=p.study,
            today=today,
            enrolled=p.taken,
            free=p.free,
            next_waitlisted=p.next_waitlisted,
            next_waitlisted_pk=p.next_waitlisted_pk,
            funnel=counted.funnels[p.study.pk],
            consort=counted.consort[p.study.pk],
            weeks=counted.weeks[p.study.pk],
            referral_sources=counted.referrals[p.study.pk],
            follow_ups_due=tuple(due.get(p.study.pk, ())),
            follow_ups_due_total=due_totals.get(p.study.pk, 0),
            not_reached=not_reached[p.study.pk],
            waitlist=tuple(waiting.get(p.study.pk, ())),
            waitlist_total=waiting_totals.get(p.study.pk, 0),
            projection=project(
                remaining=p.target - p.taken, recent_enrolments=recent[p.study.pk], today=today
            ),
        )
        for p in progress
    ]


# ---------------------------------------------------------------------------------------------
# The counts over every participant, cached while the data they count is unchanged
# ---------------------------------------------------------------------------------------------
# At 100,000 participants the funnel, CONSORT box, referral sources and weekly chart are five
# aggregate queries over every row (about 90 ms on PostgreSQL); the rest of the dashboard is
# index lookups. Those counts are kept in the cache under a key made of what they are counted
# from, so a change shows on the next page view and nothing needs to be invalidated:
# - the newest participant history row, status change and verdict (one query of three index
#   lookups): every change to a participant is saved through the audit history, a status
#   change writes a StatusChange, and a re-evaluation writes new verdicts;
# - each study's criteria version (criterion titles label the screen failures);
# - today (the weekly chart) and the language (the labels).
# A write whose id was taken before, but committed after, a newer one the dashboard already
# counted would not change the key: settings.DASHBOARD_COUNTS_CACHE_SECONDS (60) bounds that
# case, and any change made outside the app (a restore, SQL by hand); 0 counts every view.


@dataclass(frozen=True)
class Counted:
    funnels: dict[int, tuple[LabelledCount, ...]]
    consort: dict[int, ConsortCounts]
    weeks: dict[int, tuple[WeekCount, ...]]
    referrals: dict[int, tuple[LabelledCount, ...]]


def _counted(*, studies: Sequence[Study], today: date) -> Counted:
    """The counts over every participant of `studies`: from the cache (1 query) or counted
    (6 queries)."""
    ids = [study.pk for study in studies]
    seconds = settings.DASHBOARD_COUNTS_CACHE_SECONDS
    if seconds <= 0:
        return count_participants(study_ids=ids, today=today)
    key = ":".join(
        [
            "dashboard-counts:2",  # 2: declines counted by reason code
            get_language() or "",
            today.isoformat(),
            ",".join(f"{study.pk}.{study.criteria_version}" for study in studies),
            _data_version(ids[0]),
        ]
    )
    counted = cache.get(key)
    if counted is None:
        counted = count_participants(study_ids=ids, today=today)
        cache.set(key, counted, seconds)
    return counted


def count_participants(*, study_ids: Sequence[int], today: date) -> Counted:
    """The funnel, CONSORT box, referral sources and weekly series, counted (5 queries)."""
    tallies = status_tallies(study_ids=study_ids)
    return Counted(
        funnels={
            study_id: funnel(tallies.get(study_id, StatusTally()).by_status)
            for study_id in study_ids
        },
        consort=consort_counts_by_study(study_ids=study_ids, tallies=tallies),
        weeks=weekly_series_by_study(study_ids=study_ids, today=today),
        referrals=referral_sources_by_study(study_ids=study_ids, tallies=tallies),
    )


def _data_version(study_id: int) -> str:
    """The newest participant history row, status change and verdict ids (1 query, one
    backward index step each; `study_id` only anchors the query's single row)."""

    def newest(model) -> Subquery:
        return Subquery(model.objects.order_by("-pk").values("pk")[:1])

    row = (
        Study.objects.filter(pk=study_id)
        .annotate(
            history=newest(Participant.history.model),
            change=newest(StatusChange),
            verdict=newest(CriterionVerdict),
        )
        .values_list("history", "change", "verdict")
    )
    return ".".join(str(value or 0) for value in row.get())


def funnel(counts: Counter | dict) -> tuple[LabelledCount, ...]:
    """Participants per status, in the status machine's order (zeros included)."""
    return tuple(LabelledCount(str(s.label), counts.get(s, 0), s.value) for s in Status)


def _enrolments_between(study_ids, since, until):
    """Moves to enrolled in [since, until), unordered, ready to group."""
    return StatusChange.objects.filter(
        participant__study_id__in=study_ids,
        to_status=Status.ENROLLED,
        at__gte=since,
        at__lt=until,
    ).order_by()
