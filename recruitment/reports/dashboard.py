"""The staff dashboard's numbers, computed in the database with a fixed number of queries.

Every report here takes the studies it covers and, where the date matters, `today`; each one
is one aggregate query over all those studies at once, so the dashboard costs the same number
of queries for 3 participants as for 100,000, and for one study as for ten.

The CONSORT box is in `recruitment.reports.consort`.
"""

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, F, Subquery
from django.db.models.expressions import Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from recruitment import selectors
from recruitment.allocation import access as allocation_access
from recruitment.allocation.selectors import Remaining, remaining_by_study, unblinding_counts
from recruitment.calls.selectors import FOLLOW_UP, NOT_REACHED, StudyCalls, calls_by_study
from recruitment.models import (
    Participant,
    ReferralSource,
    Status,
    StatusChange,
    Study,
)
from recruitment.reports.consort import (
    ConsortCounts,
    LabelledCount,
    StatusTally,
    consort_counts_by_study,
    status_tallies,
)
from recruitment.reports.progress import (
    Projection,
    WeekCount,
    as_local_date,
    project,
    recent_enrolments_by_study,
    weekly_series_by_study,
)
from recruitment.reports.run_in_list import RunInLine, run_in_by_study
from recruitment.visits.selectors import visits_this_week_by_study

# Rows listed for follow-ups due and the waitlist (the totals are always shown).
LIST_LIMIT = 25
NO_REFERRAL_LABEL = _("Not given")


# ---------------------------------------------------------------------------------------------
# Lists: referral sources, waitlist (the follow-ups due are the call list's)
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
            ListedParticipant(row["pk"], row["screening_number"], as_local_date(row[date_field]))
        )
        totals[row["study_id"]] = row["total"]
    return listed, totals


def waitlist_by_study(*, study_ids: Sequence[int], limit: int = LIST_LIMIT):
    """The waitlist in order: by the time each person became eligible (1 query)."""
    return _first_rows(
        Participant.objects.filter(study_id__in=study_ids).waitlist(),
        order_by=[F("eligible_at").asc(), F("screening_seq").asc()],
        date_field="eligible_at",
        limit=limit,
    )


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
    calls: StudyCalls  # "To do today": the call list's groups
    waitlist: tuple[ListedParticipant, ...]
    waitlist_total: int
    projection: Projection
    visits_this_week: int = 0  # booked or held Monday to Sunday, cancelled ones aside
    run_in: tuple[RunInLine, ...] = ()
    run_in_total: int = 0
    # Concealed allocation: the list's rows per stratum (per arm only for the unblinded role),
    # empty without a list; the emergency unblindings, None for staff who may not see them.
    allocation: tuple[Remaining, ...] = ()
    allocation_by_arm: bool = False
    unblindings: int | None = None
    # When the funnel, CONSORT box, chart and referral sources were counted, and whether a
    # recount is under way (they predate the latest change).
    counted_at: datetime | None = None
    counts_stale: bool = False

    @property
    def allocation_unused(self) -> int:
        return sum(row.unused for row in self.allocation)

    @property
    def target(self) -> int:
        return self.study.target_enrolment

    @property
    def follow_ups_due(self) -> tuple[ListedParticipant, ...]:
        return tuple(
            ListedParticipant(row.pk, row.screening_number, row.follow_up_on)
            for row in self.calls.group(FOLLOW_UP).rows
        )

    @property
    def follow_ups_due_total(self) -> int:
        return self.calls.group(FOLLOW_UP).total

    @property
    def not_reached(self) -> int:
        return self.calls.group(NOT_REACHED).total

    @property
    def screen_failures(self) -> tuple[LabelledCount, ...]:
        """Top reasons for screen failure: criteria marked not met among the ineligible."""
        return self.consort.not_meeting_by_criterion


def dashboard_list(*, user, today: date) -> list[StudyDashboard]:
    """The dashboard of every study the user may see, in a fixed number of queries (12 when
    the counts over every participant come from the cache, a few more when they are counted
    or a recount is queued: see `_counted`; one more for the unblindings' count, for staff
    who may see them)."""
    progress = selectors.study_progress_list(user=user)
    ids = [p.study.pk for p in progress]
    if not ids:
        return []
    counted = _counted(studies=[p.study for p in progress], today=today)
    recent = recent_enrolments_by_study(study_ids=ids, today=today)
    # Only the follow-ups due are listed here; the other groups of the call list are counted.
    calls = calls_by_study(
        progress=progress, today=today, identify=False, limit=LIST_LIMIT, listed=(FOLLOW_UP,)
    )
    waiting, waiting_totals = waitlist_by_study(study_ids=ids)
    visits = visits_this_week_by_study(study_ids=ids, today=today)
    in_run_in, run_in_totals = run_in_by_study(study_ids=ids, today=today, limit=LIST_LIMIT)
    by_arm = allocation_access.may_see_arms(user)
    allocation = remaining_by_study(study_ids=ids, by_arm=by_arm)
    may_see_unblindings = allocation_access.holds(user, allocation_access.VIEW_UNBLINDING)
    unblindings = unblinding_counts(study_ids=ids) if may_see_unblindings else {}
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
            calls=calls[p.study.pk],
            waitlist=tuple(waiting.get(p.study.pk, ())),
            waitlist_total=waiting_totals.get(p.study.pk, 0),
            projection=project(
                remaining=p.target - p.taken, recent_enrolments=recent[p.study.pk], today=today
            ),
            visits_this_week=visits.get(p.study.pk, 0),
            run_in=tuple(in_run_in.get(p.study.pk, ())),
            run_in_total=run_in_totals.get(p.study.pk, 0),
            allocation=tuple(allocation.get(p.study.pk, ())),
            allocation_by_arm=by_arm,
            unblindings=unblindings.get(p.study.pk, 0) if may_see_unblindings else None,
            counted_at=counted.counted_at,
            counts_stale=counted.stale,
        )
        for p in progress
    ]


# ---------------------------------------------------------------------------------------------
# The counts over every participant, kept in the cache and recounted in the background
# ---------------------------------------------------------------------------------------------
# At 100,000 participants the funnel, CONSORT box, referral sources and weekly chart are five
# aggregate queries over every row (their cost is in bench/README.md); the rest of the
# dashboard is index lookups. Those counts are kept in the cache under a key made of what they
# are counted from, so nothing needs to be invalidated:
# - the newest participant history row, status change and verdict (one query of three index
#   lookups): every change to a participant is saved through the audit history, a status
#   change writes a StatusChange, and a re-evaluation writes new verdicts;
# - each study's criteria version (criterion titles label the screen failures);
# - today (the weekly chart) and the language (the labels).
# When the key has changed (something was counted since), the page shows the latest counts
# kept for the same studies and language, says when they were counted, and queues one
# recount (`dashboard_counts_task`, run by the task worker): no page view waits for the
# counting, except the first one, when nothing is kept yet.
# A write whose id was taken before, but committed after, a newer one the dashboard already
# counted would not change the key: settings.DASHBOARD_COUNTS_CACHE_SECONDS (60) bounds that
# case, and any change made outside the app (a restore, SQL by hand); 0 counts every view in
# the request, nothing kept.
COUNTS_KEY_VERSION = "4"  # 4: the latest counts kept beside each key
# How long the latest counts of a set of studies are kept for the next change's views: a day.
LATEST_COUNTS_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class Counted:
    funnels: dict[int, tuple[LabelledCount, ...]]
    consort: dict[int, ConsortCounts]
    weeks: dict[int, tuple[WeekCount, ...]]
    referrals: dict[int, tuple[LabelledCount, ...]]
    counted_at: datetime | None = None
    # Shown while a recount is queued: counts from before the latest change (or day).
    stale: bool = False


def counts_key(*, studies: Sequence[Study], today: date, version: str) -> str:
    """The cache key of the counts of `studies` on `today`, in the active language, at the
    data version `version` (`data_version`)."""
    return ":".join(
        [
            f"dashboard-counts:{COUNTS_KEY_VERSION}",
            get_language() or "",
            today.isoformat(),
            ",".join(f"{study.pk}.{study.criteria_version}" for study in studies),
            version,
        ]
    )


def _latest_key(study_ids: Sequence[int]) -> str:
    """Where the latest counts of these studies in the active language are kept."""
    ids = ",".join(str(pk) for pk in sorted(study_ids))
    return f"dashboard-counts-latest:{COUNTS_KEY_VERSION}:{get_language() or ''}:{ids}"


def _counted(*, studies: Sequence[Study], today: date) -> Counted:
    """The counts over every participant of `studies`: from the cache (2 queries), the latest
    ones kept with a recount queued (2 queries, and the queue's on the first view after a
    change), or counted when nothing is kept (8 queries: the counting's 5 and the cache's)."""
    ids = [study.pk for study in studies]
    seconds = settings.DASHBOARD_COUNTS_CACHE_SECONDS
    if seconds <= 0:
        return count_participants(study_ids=ids, today=today)
    key = counts_key(studies=studies, today=today, version=data_version(ids[0]))
    latest_key, queued_key = _latest_key(ids), f"{key}:queued"
    kept = cache.get_many([key, latest_key, queued_key])
    if key in kept:
        return kept[key]
    latest = kept.get(latest_key)
    if latest is None:
        return counts_keep(studies=studies, today=today, key=key, latest_key=latest_key)
    # Queued once per key, whichever gunicorn worker or view sees the change first.
    if queued_key not in kept and cache.add(queued_key, True, seconds):
        dashboard_counts_enqueue(study_ids=ids, today=today)
    return replace(latest, stale=True)


def counts_keep(*, studies: Sequence[Study], today: date, key: str, latest_key: str) -> Counted:
    """Count, and keep the counts under `key` and as the latest of these studies."""
    counted = count_participants(study_ids=[study.pk for study in studies], today=today)
    cache.set(key, counted, settings.DASHBOARD_COUNTS_CACHE_SECONDS)
    cache.set(latest_key, counted, LATEST_COUNTS_SECONDS)
    return counted


def dashboard_counts_recount(
    *, study_ids: Sequence[int], today: date, queued_at: datetime | None = None
) -> Counted | None:
    """Count the dashboard of these studies now and keep it (the background task's work): the
    data version is read first, so the counts are at least as new as their key. None, and
    nothing counted, when the latest counts kept were begun after `queued_at` (a recount
    queued for an earlier change of a burst: the one before it counted them all)."""
    studies = list(Study.objects.filter(pk__in=study_ids).order_by("title"))
    if not studies:
        return None
    ids = [study.pk for study in studies]
    if queued_at is not None:
        latest = cache.get(_latest_key(ids))
        if latest is not None and latest.counted_at is not None and latest.counted_at > queued_at:
            return None
    key = counts_key(studies=studies, today=today, version=data_version(ids[0]))
    return counts_keep(studies=studies, today=today, key=key, latest_key=_latest_key(ids))


def dashboard_counts_enqueue(*, study_ids: Sequence[int], today: date) -> None:
    """Queue a recount of these studies' dashboard in the active language."""
    from recruitment.reports.tasks import dashboard_counts_task  # it imports this module

    dashboard_counts_task.enqueue(
        study_ids=list(study_ids),
        today=today.isoformat(),
        language=get_language() or "",
        queued_at=timezone.now().isoformat(),
    )


def count_participants(*, study_ids: Sequence[int], today: date) -> Counted:
    """The funnel, CONSORT box, referral sources and weekly series, counted (5 queries);
    `counted_at` is when the counting began: every change committed before is counted."""
    started = timezone.now()
    tallies = status_tallies(study_ids=study_ids)
    return Counted(
        counted_at=started,
        funnels={
            study_id: funnel(tallies.get(study_id, StatusTally()).by_status)
            for study_id in study_ids
        },
        consort=consort_counts_by_study(study_ids=study_ids, tallies=tallies),
        weeks=weekly_series_by_study(study_ids=study_ids, today=today),
        referrals=referral_sources_by_study(study_ids=study_ids, tallies=tallies),
    )


def data_version(study_id: int) -> str:
    """The newest participant history row and status change ids (1 query, one backward index
    step each; `study_id` only anchors the query's single row). Verdicts need no id of their
    own here: every service that writes them (a submission, a re-evaluation, an erasure)
    writes the participant's history in the same transaction."""

    def newest(model) -> Subquery:
        return Subquery(model.objects.order_by("-pk").values("pk")[:1])

    row = (
        Study.objects.filter(pk=study_id)
        .annotate(
            history=newest(Participant.history.model),
            change=newest(StatusChange),
        )
        .values_list("history", "change")
    )
    return ".".join(str(value or 0) for value in row.get())


def funnel(counts: Counter | dict) -> tuple[LabelledCount, ...]:
    """Participants per status, in the status machine's order (zeros included)."""
    return tuple(LabelledCount(str(s.label), counts.get(s, 0), s.value) for s in Status)
