"""The CONSORT enrolment box: assessed for eligibility, excluded (not meeting criteria at
screening by criterion, excluded after the lab values, excluded after the run-in, declined by
reason, other), enrolled; every participant in exactly one box. One aggregate query over all
the studies asked for, whatever their size."""

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Count, F, FilteredRelation, Q
from django.utils.translation import gettext_lazy as _

from recruitment.models import (
    AnsweredBy,
    CriterionVerdict,
    Participant,
    Status,
    StatusChange,
    StatusReason,
    Study,
    Verdict,
)

# The CONSORT box's top-level buckets; every status belongs to exactly one (the other two are
# `Status.in_progress()` and `Status.holding_participant_id()`).
NOT_MEETING_STATUSES = (Status.INELIGIBLE,)
DECLINED_STATUSES = (Status.DECLINED,)
# A confirmed duplicate is closed as declined with this reason; it is a second record of
# someone already counted, not a person who declined, so CONSORT counts it under "other".
DUPLICATE_REASON = str(StatusReason.DUPLICATE)

NO_REASON_LABEL = _("Reason not recorded")
DUPLICATE_LABEL = _("Duplicate record")


@dataclass(frozen=True)
class LabelledCount:
    label: str
    count: int
    key: str = ""


@dataclass
class StatusTally:
    """A study's participants per status, and how many ineligible ones have at least one
    criterion the patient answers marked not met."""

    by_status: Counter = field(default_factory=Counter)
    ineligible_failing_a_criterion: int = 0
    by_referral_source: Counter = field(default_factory=Counter)


def status_tallies(*, study_ids: Sequence[int]) -> dict[int, StatusTally]:
    """Each study's `StatusTally` (1 query).

    The participants who failed a criterion are an uncorrelated `IN` (PostgreSQL hashes it
    once, from the partial index of not-met verdicts), not an `EXISTS` per participant, which
    probed the verdicts once per ineligible person: 0.9 s at 100,000 participants."""
    failed = CriterionVerdict.objects.filter(
        verdict=Verdict.NOT_MET, criterion__answered_by=AnsweredBy.PATIENT
    ).values("participant_id")
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


@dataclass(frozen=True)
class ConsortCounts:
    """The CONSORT 2010 enrolment box, live. Every participant is in exactly one top-level
    bucket: `assessed == excluded + enrolled + in_progress`, where `excluded ==
    not_meeting_criteria + excluded_after_labs + excluded_after_run_in + declined + other`.

    Ineligible participants are split by the reason they were closed with: "did not complete
    the run-in" (after the run-in), "fails a criterion" naming a staff-assessed criterion
    (after the lab values, by criterion), anything else (not meeting criteria at screening).
    The screening box's by-criterion breakdown counts participants per criterion the patient
    answers that their verdicts mark not met; one participant may fail several, so it can add
    up to more than `not_meeting_criteria`.
    """

    assessed: int
    not_meeting_criteria: int
    not_meeting_by_criterion: tuple[LabelledCount, ...]
    # Not meeting criteria at screening, with no patient-answered criterion marked "not met".
    not_meeting_no_criterion: int
    excluded_after_labs: int
    excluded_after_labs_by_criterion: tuple[LabelledCount, ...]
    excluded_after_run_in: int
    declined: int
    declined_by_reason: tuple[LabelledCount, ...]
    other: int
    other_by_reason: tuple[LabelledCount, ...]
    # Enrolled at some point: still on study, completed or withdrawn.
    enrolled: int
    on_study: int
    completed: int
    withdrawn: int
    # Not yet at a terminal outcome (new, screening, eligible, waitlisted, consented, run-in).
    in_progress: int
    in_progress_by_status: tuple[LabelledCount, ...]

    @property
    def excluded(self) -> int:
        return (
            self.not_meeting_criteria
            + self.excluded_after_labs
            + self.excluded_after_run_in
            + self.declined
            + self.other
        )

    @property
    def adds_up(self) -> bool:
        return (
            self.assessed == self.excluded + self.enrolled + self.in_progress
            and self.declined == sum(item.count for item in self.declined_by_reason)
            and self.excluded_after_labs
            == sum(item.count for item in self.excluded_after_labs_by_criterion)
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
    exits = _exit_reasons(study_ids)
    failures = _failures_by_criterion(study_ids)
    return {
        study_id: _consort(
            tallies.get(study_id, StatusTally()),
            exits.get(study_id, Exits()),
            failures.get(study_id, []),
        )
        for study_id in study_ids
    }


def _consort(tally: StatusTally, exits: "Exits", failures: list[LabelledCount]) -> ConsortCounts:
    counts = tally.by_status
    declined_by: Counter = Counter()
    other_by: Counter = Counter()
    labels: dict[str, str] = {}
    recorded = 0
    for code, n in exits.declined:
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

    after_labs = sum(exits.after_labs.values())
    at_screening = counts[Status.INELIGIBLE] - after_labs - exits.after_run_in
    return ConsortCounts(
        assessed=sum(counts.values()),
        not_meeting_criteria=at_screening,
        not_meeting_by_criterion=tuple(failures),
        not_meeting_no_criterion=max(0, at_screening - tally.ineligible_failing_a_criterion),
        excluded_after_labs=after_labs,
        excluded_after_labs_by_criterion=_ranked(
            exits.after_labs, {key: key for key in exits.after_labs}
        ),
        excluded_after_run_in=exits.after_run_in,
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


@dataclass
class Exits:
    """How one study's closed participants left, from their move into a final status:
    declined ones by reason code, ineligible ones after the lab values (by the staff-assessed
    criterion's title) and after the run-in."""

    declined: list[tuple[str | None, int]] = field(default_factory=list)
    after_labs: Counter = field(default_factory=Counter)
    after_run_in: int = 0


def _exit_reasons(study_ids: Sequence[int]) -> dict[int, Exits]:
    """Declined and ineligible participants per study and the reason of their move there (1
    query).

    One join of the moves into `declined` and `ineligible` with the participants still there,
    grouped on the code: both are final, so the status machine writes that move once per
    participant (a subquery per declined participant cost 0.3 s at 100,000 participants).
    A "fails a criterion" reason is matched with the study's staff-assessed criteria by a
    join (a criterion's code is unique in its study), not by a subquery: grouped on, a
    subquery ran once per move, before the grouping."""
    rows = (
        StatusChange.objects.filter(
            to_status__in=(Status.DECLINED, Status.INELIGIBLE),
            participant__status=F("to_status"),
            participant__study_id__in=study_ids,
        )
        .annotate(
            staff_criterion=FilteredRelation(
                "participant__study__criteria",
                condition=Q(
                    participant__study__criteria__code=F("reason_criterion"),
                    participant__study__criteria__answered_by=AnsweredBy.STAFF,
                ),
            )
        )
        .order_by()
        .values(
            "participant__study_id",
            "to_status",
            "reason_code",
            "reason_criterion",
            "staff_criterion__title",
        )
        .annotate(n=Count("participant_id"))
    )
    exits: dict[int, Exits] = defaultdict(Exits)
    for row in rows:
        study_exits = exits[row["participant__study_id"]]
        staff_title = row["staff_criterion__title"]
        if row["to_status"] == Status.DECLINED:
            study_exits.declined.append((row["reason_code"], row["n"]))
        elif row["reason_code"] == StatusReason.RUN_IN_FAILED:
            study_exits.after_run_in += row["n"]
        elif row["reason_code"] == StatusReason.FAILS_CRITERION and staff_title is not None:
            study_exits.after_labs[staff_title] += row["n"]
    return exits


def _failures_by_criterion(study_ids: Sequence[int]) -> dict[int, list[LabelledCount]]:
    """Ineligible participants per criterion the patient answers that their stored verdicts
    mark not met, most frequent first (1 query)."""
    rows = (
        CriterionVerdict.objects.filter(
            participant__study_id__in=study_ids,
            participant__status=Status.INELIGIBLE,
            verdict=Verdict.NOT_MET,
            criterion__answered_by=AnsweredBy.PATIENT,
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
