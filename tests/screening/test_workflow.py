"""The screening workflow's rules, proved through the services: the status machine, enrolment
and its slots, the waitlist, consent, contact attempts, staff-assessed values, duplicates and
the audit trail."""

import datetime as dt

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError

from recruitment.errors import (
    AlreadyEnrolled,
    CriteriaNotMet,
    InvalidTransition,
    ReasonRequired,
    RecruitmentError,
    StudyFull,
)
from recruitment.models import (
    ALLOWED_TRANSITIONS,
    Answer,
    ConsentRecord,
    ContactAttempt,
    EnrolmentSlot,
    Participant,
    RunIn,
    Status,
    StatusChange,
    Study,
)
from recruitment.screening import duplicates
from recruitment.screening import services as screening
from recruitment.studies.services import TARGET_BELOW_ENROLLED, study_slots_sync
from tests.dates import NOV_25, TODAY
from tests.factories import (
    LDN_ELIGIBLE_ANSWERS,
    StaffFactory,
    StudyFactory,
    applicant,
    free_slot_count,
    overrides_ensure,
    participants_bulk,
    submit,
    walk,
)

pytestmark = pytest.mark.django_db

# The LDN study's staff-assessed criteria, every value in range.
NORMAL_LABS = {"hs-crp": 1.2, "esr": 12, "rf": "negative", "ana": "negative", "thyroid": "in_range"}


@pytest.fixture(autouse=True)
def now(time_machine):
    """Every test starts at noon on 25 November 2026, with the clock stopped."""
    time_machine.move_to(NOV_25, tick=False)
    return NOV_25


@pytest.fixture
def study():
    """A study with no criteria (so every pre-screen is `all_met`) and two places."""
    return StudyFactory(prefix="LDN", target_enrolment=2)


@pytest.fixture
def staff_study():
    """The role fixtures' users (tests/conftest.py) are members of no study: the services check
    no membership, and the tests here make their own studies."""
    return None


def fresh(participant):
    return Participant.objects.get(pk=participant.pk)


def footprint(participant) -> dict:
    """Everything a workflow step could write, to prove that a refusal wrote nothing."""
    row = fresh(participant)
    study = Study.objects.get(pk=row.study_id)
    return {
        "participant": (
            row.status,
            row.participant_id,
            row.slot_id,
            row.eligible_at,
            row.duplicate_review,
            row.updated_at,
        ),
        "status changes": StatusChange.objects.count(),
        "participant history": Participant.history.count(),
        "consent record history": ConsentRecord.history.count(),
        "answer history": Answer.history.count(),
        "contact attempts": ContactAttempt.objects.count(),
        "study counters": (study.last_screening_seq, study.last_participant_seq),
        "free slots": free_slot_count(study),
        "emails": len(mail.outbox),
    }


def record_consent(participant, *, by, on=TODAY, obtained_by=None, version="ICF v2.0"):
    return screening.consent_record(
        participant=participant,
        consented_on=on,
        form_version=version,
        obtained_by=obtained_by or by,
        by=by,
    )


# =============================================================================================
# 1. The transition matrix
# =============================================================================================
# The status machine as the product defines it, written out here so that a change to the
# model's table fails a test.
EXPECTED_TRANSITIONS = {
    # New to ineligible only to rule out a likely-ineligible pre-screen (test_rule_out.py).
    "new": {"screening", "ineligible", "declined"},
    "screening": {"eligible", "ineligible", "declined"},
    "eligible": {"consented", "waitlisted", "ineligible", "declined"},
    "waitlisted": {"consented", "ineligible", "declined"},
    "consented": {"run_in", "enrolled", "waitlisted", "declined"},
    "run_in": {"enrolled", "waitlisted", "ineligible", "declined"},
    "enrolled": {"completed", "withdrawn"},
    "ineligible": set(),
    "completed": set(),
    "withdrawn": set(),
    "declined": set(),
}
PAIRS = [(current, target) for current in Status.values for target in Status.values]
ALLOWED_PAIRS = [(c, t) for c, t in PAIRS if t in EXPECTED_TRANSITIONS[c]]
REFUSED_PAIRS = [(c, t) for c, t in PAIRS if t not in EXPECTED_TRANSITIONS[c]]
# Allowed by the table, with a rule of its own (a likely-ineligible pre-screen, the criterion
# it found not met): tests/screening/test_rule_out.py proves it.
RULE_OUT_PAIR = ("new", "ineligible")
MATRIX_PAIRS = [pair for pair in ALLOWED_PAIRS if pair != RULE_OUT_PAIR]


def pair_id(pair):
    return f"{pair[0]}->{pair[1]}"


def test_the_transition_table_is_the_one_product_md_describes():
    assert {status: set(targets) for status, targets in ALLOWED_TRANSITIONS.items()} == (
        EXPECTED_TRANSITIONS
    )
    assert (len(ALLOWED_PAIRS), len(REFUSED_PAIRS)) == (23, 98)


def test_can_transition_to_answers_every_pair_without_touching_the_database(
    django_assert_num_queries,
):
    participants = {status: Participant(status=status) for status in Status.values}

    with django_assert_num_queries(0):
        answers = {(c, t): participants[c].can_transition_to(t) for c, t in PAIRS}

    assert answers == {(c, t): t in EXPECTED_TRANSITIONS[c] for c, t in PAIRS}


def fill(study, *, by):
    """Enrol other participants, through the services, until no slot is free (in a study with
    a run-in, straight into `enrolled`: the run-in's own tests walk it)."""
    if study.run_in_days:
        participants_bulk(study, free_slot_count(study), status=Status.ENROLLED, by=by)
        return
    while free_slot_count(study):
        walk(applicant(study), Status.ENROLLED, by=by)


def participant_ready_for(current, target, *, study, by):
    """A participant in `current`, reached through the services (`walk`), with the target's
    own rules already met, so that only the status machine can refuse the move:

    - `consented` needs informed consent on file. `consent_record` would itself make the move
      under test, so that ConsentRecord row is created directly.
    - `waitlisted` needs a full study: other participants are enrolled through the services
      (before the subject is waitlisted, or after it reached `current`).
    - `enrolled` needs a free slot and nobody ahead on the waitlist: true in a fresh study.
    - `run_in` needs a study with a run-in (given to it for these moves only) and the run-in's
      record (`run_in_start` would itself make the move, so it is created directly); enrolling
      or waitlisting from the run-in needs it passed (its record is set to 28 days, all
      completed).
    """
    if current == Status.RUN_IN or (current, target) == (Status.CONSENTED, Status.RUN_IN):
        Study.objects.filter(pk=study.pk).update(run_in_days=28, run_in_min_adherence=80)
        study.refresh_from_db()
    if current == Status.WAITLISTED:
        fill(study, by=by)
    subject = walk(applicant(study), current, by=by)
    if current == Status.RUN_IN and target in (Status.ENROLLED, Status.WAITLISTED):
        RunIn.objects.filter(participant=subject).update(
            started_on=TODAY - dt.timedelta(days=28),
            days_completed=28,
            adherence_as_of=TODAY - dt.timedelta(days=1),
        )
    if target == Status.WAITLISTED:
        fill(study, by=by)
    if target == Status.CONSENTED and not hasattr(subject, "consent"):
        ConsentRecord.objects.create(
            participant=subject,
            consented_on=TODAY,
            form_version="ICF v2.0",
            obtained_by=by,
            recorded_by=by,
        )
    if target == Status.RUN_IN and current == Status.CONSENTED:
        RunIn.objects.create(
            participant=subject, started_on=TODAY, started_by=by, days=28, min_adherence=80
        )
    return subject


@pytest.mark.parametrize(("current", "target"), MATRIX_PAIRS, ids=map(pair_id, MATRIX_PAIRS))
def test_an_allowed_transition_moves_the_participant_and_records_who_when_from_to_and_why(
    current, target, study, coordinator, time_machine
):
    subject = participant_ready_for(current, target, study=study, by=coordinator)
    changes_before = StatusChange.objects.filter(participant=subject).count()
    history_before = subject.history.count()
    reason = (
        "Checked by the matrix test" if target in ("ineligible", "withdrawn", "declined") else ""
    )
    later = NOV_25 + dt.timedelta(hours=2)
    time_machine.move_to(later, tick=False)

    moved = screening.participant_transition(
        participant=subject, to=target, by=coordinator, reason=reason
    )

    assert moved.status == target
    assert fresh(subject).status == target
    assert StatusChange.objects.filter(participant=subject).count() == changes_before + 1
    change = StatusChange.objects.filter(participant=subject).latest("at", "pk")
    assert (change.from_status, change.to_status, change.reason, change.by, change.at) == (
        current,
        target,
        reason,
        coordinator,
        later,
    )
    assert subject.history.count() == history_before + 1
    row = subject.history.first()
    assert (row.status, row.history_user, row.history_date) == (target, coordinator, later)
    assert row.history_change_reason == f"Status {current} → {target}" + (
        f": {reason}" if reason else ""
    )


@pytest.mark.parametrize(("current", "target"), REFUSED_PAIRS, ids=map(pair_id, REFUSED_PAIRS))
def test_a_refused_transition_raises_invalid_transition_and_writes_nothing(
    current, target, study, coordinator, django_capture_on_commit_callbacks
):
    subject = participant_ready_for(current, target, study=study, by=coordinator)
    before = footprint(subject)

    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(InvalidTransition) as refused,
    ):
        screening.participant_transition(
            participant=subject, to=target, by=coordinator, reason="A reason, to rule that out"
        )

    number = subject.screening_number
    if current == target == Status.ENROLLED:
        assert type(refused.value) is AlreadyEnrolled
        assert str(refused.value) == screening.ALREADY_ENROLLED.format(number=number)
    else:
        assert type(refused.value) is InvalidTransition
        assert str(refused.value) == screening.TRANSITION_NOT_ALLOWED.format(
            number=number, current=Status(current).label, target=Status(target).label
        )
    assert footprint(subject) == before
    assert callbacks == []


# =============================================================================================
# 2. Reasons, and the audit rows every transition writes
# =============================================================================================
@pytest.mark.parametrize(
    ("current", "target"),
    [("screening", "ineligible"), ("enrolled", "withdrawn"), ("new", "declined")],
    ids=pair_id,
)
@pytest.mark.parametrize("reason", ["", "   "], ids=["no reason", "blank reason"])
def test_ineligible_withdrawn_and_declined_need_a_reason(
    current, target, reason, study, coordinator
):
    subject = walk(applicant(study), current, by=coordinator)
    before = footprint(subject)

    with pytest.raises(ReasonRequired) as refused:
        screening.participant_transition(
            participant=subject, to=target, by=coordinator, reason=reason
        )

    assert str(refused.value) == screening.REASON_NEEDED.format(
        number=subject.screening_number, target=Status(target).label
    )
    assert footprint(subject) == before


@pytest.mark.parametrize(
    ("outcome", "changed_answers"),
    [
        ("likely_eligible", {}),
        ("needs_review", {"allergy": "unsure"}),
        ("likely_ineligible", {"allergy": "yes"}),
        ("eligible_from", {"opioids": {"taken": "yes", "last": "2026-10-20"}}),
    ],
    ids=["likely eligible", "needs review", "likely ineligible", "eligible from"],
)
def test_marking_eligible_is_refused_unless_every_criterion_is_met_or_overridden(
    ldn_study, coordinator, outcome, changed_answers
):
    answers = {**LDN_ELIGIBLE_ANSWERS, **changed_answers}
    subject = walk(submit(ldn_study, answers=answers), Status.SCREENING, by=coordinator)
    assert subject.outcome == outcome
    before = footprint(subject)

    # A coordinator's reason is no longer enough: only an investigator's override is.
    with pytest.raises(CriteriaNotMet) as refused:
        screening.participant_transition(
            participant=subject, to=Status.ELIGIBLE, by=coordinator, reason="Looks fine to me"
        )

    assert str(refused.value).startswith(f"{subject.screening_number} does not meet every")
    assert footprint(subject) == before

    overrides_ensure(subject)
    moved = screening.participant_transition(
        participant=subject, to=Status.ELIGIBLE, by=coordinator
    )

    assert moved.status == "eligible"


def test_a_participant_with_every_criterion_met_is_marked_eligible_without_a_reason(
    ldn_study, coordinator
):
    subject = walk(submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS), "screening", by=coordinator)
    screening.lab_values_record(participant=subject, values=NORMAL_LABS, by=coordinator)

    moved = screening.participant_transition(participant=subject, to="eligible", by=coordinator)

    assert (moved.status, moved.outcome, moved.eligible_at) == ("eligible", "all_met", NOV_25)
    assert moved.status_changes.get(to_status="eligible").reason == ""


def test_a_long_reason_is_kept_whole_in_the_status_change_and_the_history(study, coordinator):
    subject = walk(applicant(study), Status.ENROLLED, by=coordinator)
    reason = "Moved out of state for a new job; " * 10

    screening.participant_transition(
        participant=subject, to=Status.WITHDRAWN, by=coordinator, reason=reason
    )

    assert subject.status_changes.get(to_status="withdrawn").reason == reason.strip()
    assert subject.history.first().history_change_reason == (
        f"Status enrolled → withdrawn: {reason.strip()}"
    )


def test_a_transition_whose_audit_row_cannot_be_written_leaves_the_status_unchanged(
    study, coordinator
):
    subject = walk(applicant(study), Status.SCREENING, by=coordinator)
    before = footprint(subject)
    unsaved_user = get_user_model()(username="nobody")

    with pytest.raises(ValueError, match="unsaved related object"):
        screening.participant_transition(participant=subject, to="eligible", by=unsaved_user)

    assert footprint(subject) == before


def test_the_services_walk_writes_one_status_change_and_one_history_row_per_step(
    study, coordinator
):
    subject = walk(applicant(study), Status.COMPLETED, by=coordinator)

    steps = list(subject.status_changes.values_list("from_status", "to_status", "by__username"))
    assert steps == [
        ("new", "screening", "coordinator"),
        ("screening", "eligible", "coordinator"),
        ("eligible", "consented", "coordinator"),
        ("consented", "enrolled", "coordinator"),
        ("enrolled", "completed", "coordinator"),
    ]
    reasons = list(subject.history.order_by("history_id").values_list("history_change_reason"))
    assert [r for (r,) in reasons if r.startswith("Status")] == [
        "Status new → screening",
        "Status screening → eligible",
        "Status eligible → consented",
        "Status consented → enrolled",
        "Status enrolled → completed",
    ]


# =============================================================================================
# 3. Enrolment: consent, slots, participant IDs
# =============================================================================================
def enrol(participant, *, by, reason=""):
    return screening.participant_transition(
        participant=participant, to=Status.ENROLLED, by=by, reason=reason
    )


def test_consent_is_needed_to_move_to_consented(study, coordinator):
    subject = walk(applicant(study), Status.ELIGIBLE, by=coordinator)
    before = footprint(subject)

    with pytest.raises(InvalidTransition) as refused:
        screening.participant_transition(participant=subject, to="consented", by=coordinator)

    assert str(refused.value) == screening.CONSENT_NEEDED.format(number=subject.screening_number)
    assert footprint(subject) == before


def test_enrolment_is_refused_without_a_consent_record(study, coordinator):
    subject = walk(applicant(study), Status.CONSENTED, by=coordinator)
    # A consent record removed behind the services' back: enrolment checks again.
    ConsentRecord.objects.filter(participant=subject).delete()
    before = footprint(subject)

    with pytest.raises(InvalidTransition) as refused:
        enrol(subject, by=coordinator)

    assert str(refused.value) == screening.CONSENT_NEEDED.format(number=subject.screening_number)
    assert footprint(subject) == before


def test_enrolment_assigns_participant_ids_and_slots_in_order(coordinator):
    study = StudyFactory(prefix="LDN", target_enrolment=3)

    enrolled = [walk(applicant(study), Status.ENROLLED, by=coordinator) for _ in range(3)]

    assert [(p.participant_id, p.slot.number) for p in enrolled] == [
        ("LDN-001", 1),
        ("LDN-002", 2),
        ("LDN-003", 3),
    ]
    assert Study.objects.get(pk=study.pk).last_participant_seq == 3


def test_a_full_study_refuses_enrolment_with_study_full_and_writes_nothing(study, coordinator):
    participants_bulk(study, 2, status=Status.ENROLLED)
    subject = participants_bulk(study, 1, status=Status.CONSENTED, by=coordinator)[0]
    before = footprint(subject)

    with pytest.raises(StudyFull) as refused:
        enrol(subject, by=coordinator)

    assert str(refused.value) == screening.STUDY_FULL.format(
        target=2, number=subject.screening_number
    )
    assert footprint(subject) == before


def test_enrolling_the_same_participant_twice_raises_already_enrolled(study, coordinator):
    subject = walk(applicant(study), Status.CONSENTED, by=coordinator)
    enrol(subject, by=coordinator)
    before = footprint(subject)

    with pytest.raises(AlreadyEnrolled) as refused:
        enrol(subject, by=coordinator)

    assert str(refused.value) == screening.ALREADY_ENROLLED.format(number=subject.screening_number)
    assert footprint(subject) == before
    assert fresh(subject).participant_id == "LDN-001"


def test_a_withdrawal_that_frees_a_slot_gives_it_to_the_next_enrolment_with_a_new_id(
    coordinator,
):
    study = StudyFactory(prefix="LDN", target_enrolment=20, withdrawal_frees_slot=True)
    enrolled = [walk(applicant(study), Status.ENROLLED, by=coordinator) for _ in range(20)]
    assert [p.participant_id for p in enrolled] == [f"LDN-{n:03d}" for n in range(1, 21)]
    newcomer = walk(applicant(study), Status.CONSENTED, by=coordinator)
    with pytest.raises(StudyFull):
        enrol(newcomer, by=coordinator)

    leaver = screening.participant_transition(
        participant=enrolled[6], to=Status.WITHDRAWN, by=coordinator, reason="Moved away"
    )
    newcomer = enrol(newcomer, by=coordinator)

    assert (leaver.participant_id, leaver.slot) == ("LDN-007", None)
    assert (newcomer.participant_id, newcomer.slot.number) == ("LDN-021", 7)
    assert Participant.objects.filter(study=study, status="enrolled").count() == 20
    assert free_slot_count(study) == 0
    ids = Participant.objects.filter(study=study).exclude(participant_id=None)
    assert sorted(ids.values_list("participant_id", flat=True)) == [
        f"LDN-{n:03d}" for n in range(1, 22)
    ]


def test_a_withdrawal_keeps_its_slot_when_the_study_does_not_free_it(study, coordinator):
    first, _second = (walk(applicant(study), Status.ENROLLED, by=coordinator) for _ in range(2))
    newcomer = walk(applicant(study), Status.CONSENTED, by=coordinator)

    leaver = screening.participant_transition(
        participant=first, to=Status.WITHDRAWN, by=coordinator, reason="Side effects"
    )

    assert (leaver.participant_id, leaver.slot.number) == ("LDN-001", 1)
    with pytest.raises(StudyFull):
        enrol(newcomer, by=coordinator)
    assert free_slot_count(study) == 0


@pytest.mark.parametrize("frees", [True, False], ids=["withdrawals free", "withdrawals keep"])
def test_completing_the_study_never_frees_a_slot(coordinator, frees):
    study = StudyFactory(prefix="LDN", target_enrolment=1, withdrawal_frees_slot=frees)
    finisher = walk(applicant(study), Status.COMPLETED, by=coordinator)
    newcomer = walk(applicant(study), Status.CONSENTED, by=coordinator)

    with pytest.raises(StudyFull):
        enrol(newcomer, by=coordinator)

    assert (finisher.participant_id, finisher.slot.number) == ("LDN-001", 1)


# (withdrawal frees a slot, enrolled, completed, withdrawn, free slots) with a target of 6
SLOT_MIXES = [
    (False, 2, 1, 1, 2),
    (True, 2, 1, 1, 3),
    (False, 0, 0, 3, 3),
    (True, 0, 0, 3, 6),
    (True, 1, 2, 3, 3),
    (False, 3, 3, 0, 0),
]


@pytest.mark.parametrize(
    ("frees", "enrolled", "completed", "withdrawn", "free"),
    SLOT_MIXES,
    ids=[
        f"{'frees' if f else 'keeps'} {e} enrolled {c} completed {w} withdrawn"
        for f, e, c, w, _free in SLOT_MIXES
    ],
)
def test_free_slots_are_the_target_minus_enrolled_completed_and_withdrawn_holding_one(
    coordinator, frees, enrolled, completed, withdrawn, free
):
    study = StudyFactory(prefix="LDN", target_enrolment=6, withdrawal_frees_slot=frees)
    for status, count in [
        ("withdrawn", withdrawn),
        ("completed", completed),
        ("enrolled", enrolled),
    ]:
        for _ in range(count):
            walk(applicant(study), status, by=coordinator)
    waiting = [walk(applicant(study), Status.CONSENTED, by=coordinator) for _ in range(free + 1)]

    assert free_slot_count(study) == free
    for participant in waiting[:free]:
        enrol(participant, by=coordinator)
    with pytest.raises(StudyFull):
        enrol(waiting[free], by=coordinator)
    assert Participant.objects.filter(study=study, slot__isnull=False).count() == 6


def test_raising_the_target_adds_free_slots(study, coordinator):
    participants_bulk(study, 2, status=Status.ENROLLED)
    study.target_enrolment = 4
    study.save()

    study_slots_sync(study=study)

    assert list(study.slots.values_list("number", flat=True)) == [1, 2, 3, 4]
    assert free_slot_count(study) == 2


def test_lowering_the_target_drops_free_slots_only(coordinator):
    study = StudyFactory(prefix="LDN", target_enrolment=5)
    participants_bulk(study, 2, status=Status.ENROLLED)
    study.target_enrolment = 3
    study.save()

    study_slots_sync(study=study)

    assert list(study.slots.values_list("number", "participant__participant_id")) == [
        (1, "LDN-001"),
        (2, "LDN-002"),
        (3, None),
    ]


def test_lowering_the_target_below_the_slots_taken_is_refused(coordinator):
    study = StudyFactory(prefix="LDN", target_enrolment=3)
    participants_bulk(study, 2, status=Status.ENROLLED)
    study.target_enrolment = 1

    with pytest.raises(RecruitmentError) as refused:
        study_slots_sync(study=study)

    assert str(refused.value) == TARGET_BELOW_ENROLLED.format(taken=2)
    assert EnrolmentSlot.objects.filter(study=study).count() == 3


# =============================================================================================
# 4. The waitlist
# =============================================================================================
def mark_eligible(participant, *, by):
    return screening.participant_transition(participant=participant, to=Status.ELIGIBLE, by=by)


def waitlist(participant, *, by):
    return screening.participant_transition(participant=participant, to=Status.WAITLISTED, by=by)


def test_waitlisting_is_refused_while_a_slot_is_free(study, coordinator):
    participants_bulk(study, 1, status=Status.ENROLLED)
    subject = walk(applicant(study), Status.ELIGIBLE, by=coordinator)
    before = footprint(subject)

    with pytest.raises(InvalidTransition) as refused:
        waitlist(subject, by=coordinator)

    assert str(refused.value) == screening.WAITLIST_NOT_FULL.format(number=subject.screening_number)
    assert footprint(subject) == before


def test_the_waitlist_is_in_the_order_participants_became_eligible(
    study, coordinator, time_machine
):
    participants_bulk(study, 2, status=Status.ENROLLED)
    first, second, third = (walk(applicant(study), "screening", by=coordinator) for _ in range(3))
    for participant, hour in [(third, 9), (first, 10), (second, 11)]:
        time_machine.move_to(dt.datetime(2026, 11, 26, hour, tzinfo=dt.UTC), tick=False)
        waitlist(mark_eligible(participant, by=coordinator), by=coordinator)

    waiting = Participant.objects.filter(study=study).waitlist()

    assert [(p.pk, p.eligible_at.hour) for p in waiting] == [
        (third.pk, 9),
        (first.pk, 10),
        (second.pk, 11),
    ]


@pytest.fixture
def freed_slot_with_a_waitlist(coordinator, time_machine):
    """A one-place study whose only participant withdrew (freeing the slot) while `early`,
    eligible since 9:00, waits; `late` became eligible at 10:00 and is consented."""
    study = StudyFactory(prefix="LDN", target_enrolment=1, withdrawal_frees_slot=True)
    enrolled = walk(applicant(study), Status.ENROLLED, by=coordinator)
    early, late = (walk(applicant(study), "screening", by=coordinator) for _ in range(2))
    time_machine.move_to(dt.datetime(2026, 11, 26, 9, tzinfo=dt.UTC), tick=False)
    early = waitlist(mark_eligible(early, by=coordinator), by=coordinator)
    time_machine.move_to(dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC), tick=False)
    late = mark_eligible(late, by=coordinator)
    screening.participant_transition(
        participant=enrolled, to=Status.WITHDRAWN, by=coordinator, reason="Moved away"
    )
    late = record_consent(late, by=coordinator, on=dt.date(2026, 11, 26))
    return study, early, late


def test_enrolling_ahead_of_someone_who_waits_longer_needs_a_reason(
    freed_slot_with_a_waitlist, coordinator
):
    _study, early, late = freed_slot_with_a_waitlist
    before = footprint(late)

    with pytest.raises(ReasonRequired) as refused:
        enrol(late, by=coordinator)

    assert str(refused.value) == screening.OUT_OF_ORDER.format(
        next=early.screening_number, number=late.screening_number
    )
    assert footprint(late) == before

    late = enrol(late, by=coordinator, reason="The earlier patient cannot start until March")

    assert (late.status, late.participant_id) == ("enrolled", "LDN-002")
    assert late.status_changes.get(to_status="enrolled").reason == (
        "The earlier patient cannot start until March"
    )


def test_the_first_on_the_waitlist_enrols_without_a_reason(freed_slot_with_a_waitlist, coordinator):
    _study, early, _late = freed_slot_with_a_waitlist
    early = record_consent(early, by=coordinator, on=dt.date(2026, 11, 26))

    early = enrol(early, by=coordinator)

    assert (early.status, early.participant_id) == ("enrolled", "LDN-002")


def test_someone_eligible_before_everyone_waiting_enrols_without_a_reason(
    coordinator, time_machine
):
    study = StudyFactory(prefix="LDN", target_enrolment=1, withdrawal_frees_slot=True)
    enrolled = walk(applicant(study), Status.ENROLLED, by=coordinator)
    first = walk(applicant(study), Status.ELIGIBLE, by=coordinator)  # eligible at noon
    time_machine.move_to(NOV_25 + dt.timedelta(hours=1), tick=False)
    waitlist(walk(applicant(study), Status.ELIGIBLE, by=coordinator), by=coordinator)
    screening.participant_transition(
        participant=enrolled, to=Status.WITHDRAWN, by=coordinator, reason="Moved away"
    )
    first = record_consent(first, by=coordinator)

    assert enrol(first, by=coordinator).participant_id == "LDN-002"


def test_a_withdrawal_that_frees_a_slot_emails_the_coordinators_who_is_next(
    coordinator, django_capture_on_commit_callbacks
):
    study = StudyFactory(
        prefix="LDN", target_enrolment=1, withdrawal_frees_slot=True, short_title="LDN ME/CFS"
    )
    enrolled = walk(applicant(study, last_name="Okafor"), Status.ENROLLED, by=coordinator)
    nxt = waitlist(
        walk(applicant(study, last_name="Nguyen"), "eligible", by=coordinator), by=coordinator
    )
    waitlist(walk(applicant(study, last_name="Garcia"), "eligible", by=coordinator), by=coordinator)

    with django_capture_on_commit_callbacks() as callbacks:
        screening.participant_transition(
            participant=enrolled, to=Status.WITHDRAWN, by=coordinator, reason="Moved away"
        )
    assert (len(callbacks), mail.outbox) == (1, [])
    callbacks[0]()

    (email,) = mail.outbox
    assert email.to == ["coordinators@example.edu"]
    assert email.subject == "A slot is free in LDN ME/CFS"
    assert f"Next on the waitlist: {nxt.screening_number}." in email.body
    people = Participant.objects.filter(study=study)
    for private in [
        *people.values_list("first_name", flat=True),
        *people.values_list("last_name", flat=True),
        *people.values_list("email", flat=True),
        "@example.com",
        "1980",
        "35203",
        "Moved away",
        "LDN-001",
    ]:
        assert private not in email.body
        assert private not in email.subject


def test_a_withdrawal_that_keeps_its_slot_sends_no_email(
    study, coordinator, django_capture_on_commit_callbacks
):
    enrolled = walk(applicant(study), Status.ENROLLED, by=coordinator)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        screening.participant_transition(
            participant=enrolled, to=Status.WITHDRAWN, by=coordinator, reason="Moved away"
        )

    assert (callbacks, mail.outbox) == ([], [])


# =============================================================================================
# 5. Informed consent
# =============================================================================================
def test_recording_consent_stores_it_and_moves_the_participant_to_consented(
    study, coordinator, time_machine
):
    investigator = StaffFactory(username="investigator", password=None)
    subject = walk(applicant(study), Status.ELIGIBLE, by=coordinator)
    time_machine.move_to(dt.datetime(2026, 11, 27, 15, tzinfo=dt.UTC), tick=False)

    subject = record_consent(
        subject,
        by=coordinator,
        obtained_by=investigator,
        on=dt.date(2026, 11, 26),
        version="  ICF v2.0 (2026-10-01)  ",
    )

    assert subject.status == "consented"
    record = ConsentRecord.objects.get(participant=subject)
    assert (
        record.consented_on,
        record.form_version,
        record.obtained_by,
        record.recorded_by,
        record.recorded_at,
    ) == (
        dt.date(2026, 11, 26),
        "ICF v2.0 (2026-10-01)",
        investigator,
        coordinator,
        dt.datetime(2026, 11, 27, 15, tzinfo=dt.UTC),
    )
    change = subject.status_changes.get(to_status="consented")
    assert (change.from_status, change.by) == ("eligible", coordinator)
    assert record.history.get().history_user == coordinator


def test_a_waitlisted_participant_may_consent_and_stays_waitlisted_while_the_study_is_full(
    study, coordinator
):
    participants_bulk(study, 2, status=Status.ENROLLED)
    subject = walk(applicant(study), Status.WAITLISTED, by=coordinator)

    subject = record_consent(subject, by=coordinator)

    assert subject.status == "waitlisted"
    assert ConsentRecord.objects.filter(participant=subject).exists()
    assert not subject.status_changes.filter(to_status="consented").exists()
    assert subject.history.first().history_change_reason == (
        "Informed consent recorded; stays on the waitlist"
    )


def test_a_waitlisted_participant_consenting_when_a_slot_is_free_becomes_consented(
    study, coordinator
):
    participants_bulk(study, 2, status=Status.ENROLLED)
    subject = walk(applicant(study), Status.WAITLISTED, by=coordinator)
    study.target_enrolment = 3
    study.save()
    study_slots_sync(study=study)

    assert record_consent(subject, by=coordinator).status == "consented"


def test_consent_dated_in_the_future_is_refused(study, coordinator):
    subject = walk(applicant(study), Status.ELIGIBLE, by=coordinator)
    before = footprint(subject)

    with pytest.raises(RecruitmentError) as refused:
        record_consent(subject, by=coordinator, on=dt.date(2026, 11, 26))

    assert str(refused.value) == screening.CONSENT_IN_FUTURE
    assert footprint(subject) == before


def test_consent_dated_before_the_person_applied_is_refused(study, coordinator):
    subject = walk(applicant(study), Status.ELIGIBLE, by=coordinator)
    before = footprint(subject)

    with pytest.raises(RecruitmentError) as refused:
        record_consent(subject, by=coordinator, on=dt.date(2026, 11, 24))

    assert str(refused.value) == screening.CONSENT_BEFORE_APPLYING
    assert footprint(subject) == before


def test_consent_without_a_form_version_is_refused(study, coordinator):
    subject = walk(applicant(study), Status.ELIGIBLE, by=coordinator)
    before = footprint(subject)

    with pytest.raises(ValidationError) as refused:
        record_consent(subject, by=coordinator, version="   ")

    assert list(refused.value.message_dict) == ["form_version"]
    assert footprint(subject) == before


@pytest.mark.parametrize(
    "status",
    [
        "new",
        "screening",
        "ineligible",
        "consented",
        "enrolled",
        "completed",
        "withdrawn",
        "declined",
    ],
)
def test_consent_is_recorded_only_for_eligible_or_waitlisted_participants(
    study, coordinator, status
):
    subject = walk(applicant(study), status, by=coordinator)
    before = footprint(subject)

    with pytest.raises(InvalidTransition) as refused:
        record_consent(subject, by=coordinator, version="ICF v3.0")

    assert str(refused.value) == screening.CONSENT_STATUS
    assert footprint(subject) == before
    assert not ConsentRecord.objects.filter(form_version="ICF v3.0").exists()


# =============================================================================================
# 6. Contact attempts
# =============================================================================================
def attempt(participant, outcome, *, by, at=None, follow_up_on=None, method="phone"):
    return screening.contact_attempt_record(
        participant=participant,
        by=by,
        method=method,
        outcome=outcome,
        at=at,
        follow_up_on=follow_up_on,
    )


@pytest.mark.parametrize("answered", ["reached", "call_back"])
def test_unanswered_attempts_count_up_and_reset_when_the_person_answers(
    study, coordinator, answered
):
    subject = applicant(study)
    counts = []
    for outcome in ["voicemail", "no_answer", "wrong_number", answered, "no_answer"]:
        attempt(subject, outcome, by=coordinator)
        counts.append(fresh(subject).unanswered_attempts)

    assert counts == [1, 2, 3, 0, 1]
    assert subject.contact_attempts.count() == 5


def test_an_attempt_records_when_who_how_what_and_the_next_follow_up(study, coordinator):
    subject = applicant(study)
    at = NOV_25 - dt.timedelta(hours=3)

    logged = screening.contact_attempt_record(
        participant=subject,
        by=coordinator,
        method="email",
        outcome="reached",
        at=at,
        note="  Will call back after her appointment. ",
        follow_up_on=dt.date(2026, 11, 30),
    )

    saved = ContactAttempt.objects.get(pk=logged.pk)
    assert (saved.at, saved.by, saved.method, saved.outcome, saved.note, saved.follow_up_on) == (
        at,
        coordinator,
        "email",
        "reached",
        "Will call back after her appointment.",
        dt.date(2026, 11, 30),
    )
    row = subject.history.first()
    assert (row.history_user, row.history_change_reason) == (
        coordinator,
        "Contact attempt: Reached",
    )


@pytest.mark.parametrize(("threshold", "shown_after"), [(3, 3), (2, 2)])
def test_a_participant_is_not_reached_after_the_studys_number_of_unanswered_attempts(
    coordinator, threshold, shown_after
):
    study = StudyFactory(not_reached_after=threshold)
    subject = applicant(study)
    shown = []
    for _ in range(4):
        attempt(subject, "no_answer", by=coordinator)
        shown.append(Participant.objects.not_reached().filter(pk=subject.pk).exists())

    assert shown == [n >= shown_after for n in range(1, 5)]


def test_the_default_not_reached_threshold_is_three():
    assert StudyFactory().not_reached_after == 3


def test_each_study_uses_its_own_not_reached_threshold(coordinator):
    strict, lenient = StudyFactory(not_reached_after=2), StudyFactory()
    in_strict, in_lenient = applicant(strict), applicant(lenient)
    for participant in (in_strict, in_lenient):
        attempt(participant, "voicemail", by=coordinator)
        attempt(participant, "voicemail", by=coordinator)

    assert list(Participant.objects.not_reached()) == [in_strict]


def test_a_closed_participant_is_no_longer_listed_as_not_reached(study, coordinator):
    subject = applicant(study)
    for _ in range(3):
        attempt(subject, "no_answer", by=coordinator)

    screening.participant_transition(
        participant=subject, to="declined", by=coordinator, reason="not reached"
    )

    assert list(Participant.objects.not_reached()) == []


def test_follow_ups_fall_due_on_the_latest_attempts_date(study, coordinator):
    subject, other = applicant(study), applicant(study)
    attempt(subject, "voicemail", by=coordinator, follow_up_on=dt.date(2026, 11, 27))
    attempt(
        subject,
        "call_back",
        by=coordinator,
        at=NOV_25 + dt.timedelta(minutes=1),
        follow_up_on=dt.date(2026, 12, 1),
    )
    # An older attempt logged late does not move the follow-up.
    attempt(
        subject,
        "no_answer",
        by=coordinator,
        at=NOV_25 - dt.timedelta(days=1),
        follow_up_on=dt.date(2026, 11, 26),
    )
    attempt(other, "reached", by=coordinator)

    def due(day):
        return list(Participant.objects.due_for_follow_up(day))

    assert fresh(subject).next_follow_up_on == dt.date(2026, 12, 1)
    assert (due(dt.date(2026, 11, 30)), due(dt.date(2026, 12, 1))) == ([], [subject])
    assert due(dt.date(2026, 12, 2)) == [subject]


def test_an_attempt_without_a_follow_up_clears_the_earlier_one(study, coordinator):
    subject = applicant(study)
    attempt(subject, "voicemail", by=coordinator, follow_up_on=dt.date(2026, 11, 27))

    attempt(subject, "reached", by=coordinator, at=NOV_25 + dt.timedelta(minutes=1))

    assert list(Participant.objects.due_for_follow_up(dt.date(2026, 12, 31))) == []


def test_an_attempt_in_the_future_is_refused(study, coordinator):
    subject = applicant(study)
    before = footprint(subject)

    with pytest.raises(RecruitmentError) as refused:
        attempt(subject, "reached", by=coordinator, at=NOV_25 + dt.timedelta(hours=1))

    assert str(refused.value) == screening.CONTACT_IN_FUTURE
    assert footprint(subject) == before


def test_a_follow_up_before_the_attempt_is_refused(study, coordinator):
    subject = applicant(study)
    before = footprint(subject)

    with pytest.raises(RecruitmentError) as refused:
        attempt(subject, "voicemail", by=coordinator, follow_up_on=dt.date(2026, 11, 24))

    assert str(refused.value) == screening.FOLLOW_UP_BEFORE_ATTEMPT
    assert footprint(subject) == before


def test_an_unknown_contact_outcome_is_refused(study, coordinator):
    subject = applicant(study)
    before = footprint(subject)

    with pytest.raises(ValidationError) as refused:
        attempt(subject, "ghosted", by=coordinator)

    assert list(refused.value.message_dict) == ["outcome"]
    assert footprint(subject) == before


# =============================================================================================
# 7. Staff-assessed values
# =============================================================================================
STAFF_CODES = ["hs-crp", "esr", "rf", "ana", "thyroid"]


def test_lab_values_in_range_give_all_met_as_staff_verified(screened, coordinator):
    assert screened.outcome == "likely_eligible"

    subject = screening.lab_values_record(participant=screened, values=NORMAL_LABS, by=coordinator)

    assert fresh(subject).outcome == "all_met"
    verdicts = screened.verdicts.filter(criterion__code__in=STAFF_CODES)
    assert {v.criterion.code: (v.verdict, v.provenance) for v in verdicts} == dict.fromkeys(
        STAFF_CODES, ("met", "staff_verified")
    )
    assert verdicts.get(criterion__code="hs-crp").reason == (
        "hs-CRP under 3 mg/L 1.2 mg/L; needs under 3 mg/L."
    )
    answers = Answer.objects.filter(participant=screened, criterion__code__in=STAFF_CODES)
    assert {a.criterion.code: (a.value, a.answered_by, a.recorded_by) for a in answers} == {
        code: (value, "staff", coordinator) for code, value in NORMAL_LABS.items()
    }


def test_a_staff_value_out_of_range_makes_the_participant_likely_ineligible(screened, coordinator):
    screening.lab_values_record(
        participant=screened, values={**NORMAL_LABS, "hs-crp": 4.5}, by=coordinator
    )

    assert fresh(screened).outcome == "likely_ineligible"
    crp = screened.verdicts.get(criterion__code="hs-crp")
    assert (crp.verdict, crp.provenance, crp.reason) == (
        "not_met",
        "staff_verified",
        "hs-CRP under 3 mg/L 4.5 mg/L; needs under 3 mg/L.",
    )


@pytest.mark.parametrize("code", ["hs-crp-typo", "allergy"], ids=["unknown", "patient's"])
def test_only_the_studys_staff_assessed_criteria_take_lab_values(screened, coordinator, code):
    before = footprint(screened)
    evaluated_at = fresh(screened).evaluated_at

    with pytest.raises(RecruitmentError) as refused:
        screening.lab_values_record(
            participant=screened, values={"esr": 12, code: "no"}, by=coordinator
        )

    assert str(refused.value) == screening.NOT_STAFF_ASSESSED.format(code=code)
    assert footprint(screened) == before
    assert fresh(screened).evaluated_at == evaluated_at


def test_the_answer_history_keeps_each_staff_value_with_who_and_why(
    screened, coordinator, time_machine
):
    screening.lab_values_record(participant=screened, values={"hs-crp": 4.5}, by=coordinator)
    corrector = StaffFactory(username="investigator", password=None)
    time_machine.move_to(NOV_25 + dt.timedelta(hours=1), tick=False)

    screening.lab_values_record(
        participant=screened,
        values={"hs-crp": 1.2},
        by=corrector,
        reason="Lab corrected a transcription error",
    )

    answer = Answer.objects.get(participant=screened, criterion__code="hs-crp")
    new, old = answer.history.all()
    assert [(c.field, c.old, c.new) for c in new.diff_against(old).changes] == [
        ("recorded_by", coordinator.pk, corrector.pk),
        ("value", 4.5, 1.2),
    ]
    assert (old.recorded_at, new.recorded_at) == (NOV_25, NOV_25 + dt.timedelta(hours=1))
    assert (old.history_user, old.history_change_reason) == (
        coordinator,
        "Entered by staff at screening",
    )
    assert (new.history_user, new.history_change_reason) == (
        corrector,
        "Lab corrected a transcription error",
    )


# =============================================================================================
# 8. Duplicates
# =============================================================================================
@pytest.fixture
def duplicate(study):
    """Two forms from the same person (same email): the second is a pending duplicate."""
    first = submit(study)
    second = submit(study, phone="205-555-0199", first_name="Annie")
    assert (second.duplicate_of, second.duplicate_review) == (first, "pending")
    return first, second


def test_confirming_a_duplicate_closes_it_as_declined_with_reason_duplicate(duplicate, coordinator):
    first, second = duplicate

    closed = duplicates.duplicate_confirm(participant=second, by=coordinator)

    closed = fresh(closed)
    assert (closed.status, closed.duplicate_review, closed.duplicate_of) == (
        "declined",
        "confirmed",
        first,
    )
    change = closed.status_changes.get()
    assert (change.from_status, change.to_status, change.reason, change.by) == (
        "new",
        "declined",
        "duplicate",
        coordinator,
    )
    assert fresh(first).status == "new"


def test_dismissing_a_duplicate_keeps_the_link_and_the_status(duplicate, coordinator):
    first, second = duplicate

    duplicates.duplicate_dismiss(participant=second, by=coordinator, reason="Twin sister")

    kept = fresh(second)
    assert (kept.status, kept.duplicate_review, kept.duplicate_of) == ("new", "dismissed", first)
    row = kept.history.first()
    assert (row.history_user, row.history_change_reason) == (
        coordinator,
        "Duplicate dismissed: Twin sister",
    )


@pytest.mark.parametrize("review", ["confirm", "dismiss"])
@pytest.mark.parametrize("which", ["original", "dismissed", "confirmed"])
def test_only_a_pending_duplicate_can_be_confirmed_or_dismissed(
    duplicate, coordinator, review, which
):
    first, second = duplicate
    subject = first
    if which == "dismissed":
        subject = duplicates.duplicate_dismiss(participant=second, by=coordinator)
    elif which == "confirmed":
        subject = duplicates.duplicate_confirm(participant=second, by=coordinator)
    before = footprint(subject)

    with pytest.raises(RecruitmentError) as refused:
        getattr(duplicates, f"duplicate_{review}")(participant=fresh(subject), by=coordinator)

    assert str(refused.value) == duplicates.NOT_A_DUPLICATE.format(number=subject.screening_number)
    assert footprint(subject) == before


def test_confirming_an_enrolled_duplicate_is_refused_and_writes_nothing(duplicate, coordinator):
    _first, second = duplicate
    second = walk(second, Status.ENROLLED, by=coordinator)
    before = footprint(second)

    with pytest.raises(InvalidTransition) as refused:
        duplicates.duplicate_confirm(participant=second, by=coordinator)

    assert str(refused.value) == screening.TRANSITION_NOT_ALLOWED.format(
        number=second.screening_number, current="Enrolled", target="Declined"
    )
    assert footprint(second) == before
    assert fresh(second).duplicate_review == "pending"


# =============================================================================================
# 9. Audit of staff edits
# =============================================================================================
@pytest.mark.parametrize("reason", ["", "  "])
def test_an_edit_needs_a_reason(study, coordinator, reason):
    subject = applicant(study)
    before = footprint(subject)

    with pytest.raises(RecruitmentError) as refused:
        screening.participant_update(
            participant=subject, data={"last_name": "Lee-Smith"}, by=coordinator, reason=reason
        )

    assert str(refused.value) == screening.EDIT_NEEDS_REASON
    assert footprint(subject) == before
    assert fresh(subject).last_name == "Lee"


def test_an_edit_records_who_why_and_the_old_and_new_values(study, coordinator, time_machine):
    subject = applicant(study)
    time_machine.move_to(NOV_25 + dt.timedelta(days=1), tick=False)

    screening.participant_update(
        participant=subject,
        data={"last_name": "Lee-Smith", "phone": "205 555 0142", "first_name": subject.first_name},
        by=coordinator,
        reason="Married; new phone number given on the call",
    )

    new, old = subject.history.all()[:2]
    assert (new.history_user, new.history_change_reason, new.history_date) == (
        coordinator,
        "Married; new phone number given on the call",
        NOV_25 + dt.timedelta(days=1),
    )
    changes = {c.field: (c.old, c.new) for c in new.diff_against(old).changes}
    assert changes == {"last_name": ("Lee", "Lee-Smith"), "phone": ("", "+12055550142")}
    edited = fresh(subject)  # the match keys follow the edit (the history does not copy them)
    assert (edited.name_normalised, edited.phone_normalised) == (
        f"{subject.first_name.lower()} lee-smith",
        "2055550142",
    )


def test_an_edit_that_changes_nothing_writes_nothing(study, coordinator):
    subject = applicant(study)
    before = footprint(subject)

    screening.participant_update(
        participant=subject, data={"last_name": "Lee"}, by=coordinator, reason="Checked"
    )

    assert footprint(subject) == before


@pytest.mark.parametrize(
    ("change", "criterion", "reason"),
    [
        ({"date_of_birth": dt.date(1956, 4, 28)}, "age", "Age 70 on 2026-11-25; needs 18 to 65."),
        ({"zip_code": "90210"}, "lives-nearby", None),
    ],
    ids=["date of birth", "ZIP code"],
)
def test_a_new_date_of_birth_or_zip_code_re_runs_the_pre_screen(
    ldn_study, coordinator, change, criterion, reason
):
    subject = submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)
    assert subject.verdicts.get(criterion__code=criterion).verdict == "met"

    screening.participant_update(
        participant=subject, data=change, by=coordinator, reason="Corrected on the phone"
    )

    assert fresh(subject).outcome == "likely_ineligible"
    verdict = subject.verdicts.get(criterion__code=criterion)
    assert verdict.verdict == "not_met"
    if reason:
        assert verdict.reason == reason


def test_an_edit_of_contact_details_does_not_re_run_the_pre_screen(
    ldn_study, coordinator, time_machine
):
    subject = submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)
    time_machine.move_to(NOV_25 + dt.timedelta(days=1), tick=False)

    screening.participant_update(
        participant=subject, data={"email": "ann@example.org"}, by=coordinator, reason="Typo"
    )

    assert fresh(subject).evaluated_at == NOV_25


def test_an_edit_from_an_out_of_date_copy_does_not_undo_a_status_change(study, coordinator):
    copy = applicant(study)
    screening.participant_transition(participant=copy, to="screening", by=coordinator)

    screening.participant_update(
        participant=copy, data={"last_name": "Lee-Smith"}, by=coordinator, reason="Married"
    )

    current = fresh(copy)
    assert (current.status, current.last_name) == ("screening", "Lee-Smith")
    assert current.history.first().status == "screening"


def test_lab_values_entered_from_an_out_of_date_copy_keep_the_current_status(screened, coordinator):
    copy = fresh(screened)
    overrides_ensure(screened)
    screening.participant_transition(participant=screened, to="eligible", by=coordinator)

    screening.lab_values_record(participant=copy, values=NORMAL_LABS, by=coordinator)

    current = fresh(screened)
    assert (current.status, current.outcome) == ("eligible", "all_met")
    assert current.history.first().status == "eligible"


def test_a_duplicate_confirmed_meanwhile_cannot_be_dismissed_from_an_out_of_date_copy(
    duplicate, coordinator
):
    _first, second = duplicate
    copy = fresh(second)
    duplicates.duplicate_confirm(participant=second, by=coordinator)
    before = footprint(second)

    with pytest.raises(RecruitmentError):
        duplicates.duplicate_dismiss(participant=copy, by=coordinator)

    assert footprint(second) == before
    assert fresh(second).duplicate_review == "confirmed"


def test_the_admin_log_names_a_participant_by_screening_number_only(study, coordinator):
    subject = applicant(study, first_name="Zoë", last_name="Núñez")

    (entry,) = LogEntry.objects.log_actions(
        user_id=coordinator.pk, queryset=[subject], action_flag=CHANGE, single_object=False
    )

    assert str(subject) == subject.screening_number == "LDN-S-0001"
    assert LogEntry.objects.get(pk=entry.pk).object_repr == "LDN-S-0001"
