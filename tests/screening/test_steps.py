"""The next right steps: what the page offers matches what the services allow, the others are
explained in words; marking eligible in a full study waitlists in the same step; consent keeps
a waitlisted participant's place in line; enrollment from the waitlist."""

import datetime as dt

import pytest
from django.db import transaction

from recruitment.errors import ReasonRequired, RecruitmentError, StudyFull
from recruitment.models import ConsentRecord, Participant, Status, StatusChange
from recruitment.screening import services as screening
from recruitment.screening.steps import Gates, move_refusal, participant_steps
from recruitment.screening.waitlist import (
    CONSENTED_FROM_WAITLIST,
    WAITLISTED_WHEN_ELIGIBLE,
    participant_enrol,
    participant_mark_eligible,
    participant_move,
    waitlist_place,
)
from recruitment.studies.services import study_slots_sync
from tests.factories import (
    LDN_ELIGIBLE_ANSWERS,
    StaffFactory,
    StudyFactory,
    applicant,
    participants_bulk,
    walk,
)

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 11, 25, 18, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def now(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


@pytest.fixture
def staff_user():
    return StaffFactory(username="coordinator", password=None)


@pytest.fixture
def study():
    """No criteria (every pre-screen is all met) and two places."""
    return StudyFactory(prefix="LDN", target_enrolment=2)


def fresh(participant):
    return Participant.objects.get(pk=participant.pk)


def fill(study, count=2):
    participants_bulk(study, count, status=Status.ENROLLED)


def free_one_slot(study):
    study.target_enrolment += 1
    study.save()
    study_slots_sync(study=study)


def keys(steps, *, possible):
    return [step.key for step in steps if step.possible == possible]


def steps_of(participant, user, *, staff_criteria=False):
    return participant_steps(
        participant=fresh(participant),
        user=user,
        can_change=True,
        has_staff_criteria=staff_criteria,
    )


def refused(steps, key):
    (step,) = [s for s in steps if s.key == key and not s.possible]
    return step.sentence


# ---------------------------------------------------------------------------------------------
# Marking eligible in a full study: the waitlist in the same step
# ---------------------------------------------------------------------------------------------
def test_marking_eligible_in_a_full_study_waitlists_in_the_same_step(study, staff_user):
    fill(study)
    person = walk(applicant(study), Status.SCREENING, by=staff_user)

    person = participant_mark_eligible(participant=person, by=staff_user)

    assert fresh(person).status == Status.WAITLISTED
    changes = list(
        StatusChange.objects.filter(participant=person)
        .order_by("at", "pk")
        .values_list("from_status", "to_status", "reason", "by")
    )
    assert changes[-2:] == [
        ("screening", "eligible", "", staff_user.pk),
        ("eligible", "waitlisted", WAITLISTED_WHEN_ELIGIBLE, staff_user.pk),
    ]
    assert fresh(person).eligible_at == START


def test_marking_eligible_with_a_free_slot_only_marks_eligible(study, staff_user):
    person = walk(applicant(study), Status.SCREENING, by=staff_user)

    person = participant_mark_eligible(participant=person, by=staff_user)

    assert fresh(person).status == Status.ELIGIBLE
    assert not StatusChange.objects.filter(participant=person, to_status="waitlisted").exists()


def test_a_refused_eligibility_writes_nothing_in_a_full_study(ldn_study, coordinator):
    participants_bulk(ldn_study, 20, status=Status.ENROLLED)
    person = walk(applicant(ldn_study, answers=LDN_ELIGIBLE_ANSWERS), "screening", by=coordinator)
    changes = StatusChange.objects.count()

    with pytest.raises(RecruitmentError):
        participant_mark_eligible(participant=person, by=coordinator)

    assert fresh(person).status == Status.SCREENING
    assert StatusChange.objects.count() == changes


# ---------------------------------------------------------------------------------------------
# Consent keeps a waitlisted participant's place in line
# ---------------------------------------------------------------------------------------------
def waitlisted_in_order(study, staff_user, now, count=2):
    fill(study)
    people = []
    for minutes in range(count):
        now.move_to(START + dt.timedelta(minutes=minutes), tick=False)
        people.append(walk(applicant(study), Status.WAITLISTED, by=staff_user))
    return people


def consent(person, staff_user):
    return screening.consent_record(
        participant=fresh(person),
        consented_on=START.date(),
        form_version="ICF v2.0",
        obtained_by=staff_user,
        by=staff_user,
    )


def test_consent_keeps_a_waitlisted_participants_place_in_line(study, staff_user, now):
    first, second = waitlisted_in_order(study, staff_user, now)
    assert [waitlist_place(fresh(p)) for p in (first, second)] == [1, 2]

    consent(first, staff_user)

    assert fresh(first).status == Status.WAITLISTED
    assert list(Participant.objects.filter(study=study).waitlist()) == [first, second]
    assert waitlist_place(fresh(first)) == 1
    # When a slot frees, the second in line cannot go first without a reason.
    free_one_slot(study)
    consent(second, staff_user)
    with pytest.raises(ReasonRequired):
        participant_enrol(participant=fresh(second), by=staff_user)


def test_a_waitlisted_participant_with_consent_is_enrolled_from_the_waitlist(
    study, staff_user, now
):
    first, _second = waitlisted_in_order(study, staff_user, now)
    consent(first, staff_user)
    free_one_slot(study)

    enrolled = participant_enrol(participant=fresh(first), by=staff_user)

    assert (enrolled.status, enrolled.participant_id) == (Status.ENROLLED, "LDN-003")
    assert list(
        StatusChange.objects.filter(participant=first)
        .order_by("at", "pk")
        .values_list("to_status", "reason")
    )[-2:] == [("consented", CONSENTED_FROM_WAITLIST), ("enrolled", "")]


def test_enrolling_from_the_waitlist_in_a_full_study_leaves_them_where_they_were(
    study, staff_user, now
):
    first, _second = waitlisted_in_order(study, staff_user, now)
    consent(first, staff_user)
    changes = StatusChange.objects.count()

    with pytest.raises(StudyFull):
        participant_enrol(participant=fresh(first), by=staff_user)

    assert fresh(first).status == Status.WAITLISTED
    assert StatusChange.objects.count() == changes
    assert ConsentRecord.objects.filter(participant=first).exists()


# ---------------------------------------------------------------------------------------------
# The steps offered and explained
# ---------------------------------------------------------------------------------------------
def test_a_consented_participant_in_a_full_study_is_told_to_waitlist_instead_of_enrolling(
    study, staff_user
):
    person = walk(applicant(study), Status.CONSENTED, by=staff_user)
    fill(study)

    steps = steps_of(person, staff_user)

    assert refused(steps, "enrolled") == "Enroll: the study is full; add to the waitlist instead."
    assert "waitlisted" in keys(steps, possible=True)


def test_with_a_free_slot_the_waitlist_is_explained_and_enrollment_offered(study, staff_user):
    person = walk(applicant(study), Status.CONSENTED, by=staff_user)

    steps = steps_of(person, staff_user)

    assert "enrolled" in keys(steps, possible=True)
    assert refused(steps, "waitlisted") == (
        "Add to the waitlist: the study has a free slot; enroll instead."
    )


def test_marking_eligible_in_a_full_study_is_offered_with_what_it_will_do(study, staff_user):
    person = walk(applicant(study), Status.SCREENING, by=staff_user)
    fill(study)

    (eligible,) = [s for s in steps_of(person, staff_user) if s.key == "eligible"]

    assert eligible.possible
    assert eligible.post_to == "eligible"
    assert "puts them on the waitlist in the same step" in eligible.note


def test_a_criterion_not_met_explains_why_eligibility_and_consent_wait(ldn_study, coordinator):
    person = walk(
        applicant(ldn_study, answers={**LDN_ELIGIBLE_ANSWERS, "liver": "yes"}),
        Status.SCREENING,
        by=coordinator,
    )

    steps = steps_of(person, coordinator, staff_criteria=True)

    assert refused(steps, "eligible").startswith(
        "Mark eligible: the pre-screen has a criterion not met or not yet known "
        "(No liver disease or hepatitis, hs-CRP under 3 mg/L"
    )
    assert "lab_values" in keys(steps, possible=True)


def test_a_waitlisted_participant_is_told_consent_keeps_their_place(study, staff_user, now):
    _first, second = waitlisted_in_order(study, staff_user, now)

    steps = steps_of(second, staff_user)

    (consent_step,) = [s for s in steps if s.key == "consented"]
    assert consent_step.note == (
        "The study is full: they keep their place on the waitlist (number 2) after consent."
    )
    assert refused(steps, "enrolled") == (
        "Enroll: the study is full; they keep their place on the waitlist (number 2) until a "
        "slot frees."
    )


def test_a_final_status_offers_only_the_contact_log(study, staff_user):
    person = walk(applicant(study), Status.DECLINED, by=staff_user)

    steps = steps_of(person, staff_user)

    assert keys(steps, possible=True) == ["contact"]
    assert refused(steps, "status") == (
        "Change status: “Declined” is a final status: nothing more can change."
    )


def test_staff_who_may_not_change_get_no_steps(study, staff_user):
    person = applicant(study)

    assert (
        participant_steps(
            participant=person, user=staff_user, can_change=False, has_staff_criteria=False
        )
        == []
    )


class Undo(Exception):
    """Raised to roll a tried move back."""


def service_allows(participant, to, user) -> bool:
    try:
        with transaction.atomic():
            participant_move(participant=fresh(participant), to=to, by=user, reason="Tried")
            raise Undo
    except Undo:
        return True
    except RecruitmentError:
        return False


@pytest.mark.parametrize("full", [False, True], ids=["free-slot", "full"])
@pytest.mark.parametrize(
    "start", [Status.NEW, Status.SCREENING, Status.ELIGIBLE, Status.CONSENTED, Status.ENROLLED]
)
def test_the_page_and_the_services_agree_on_every_move(study, staff_user, start, full):
    """For each status and target, the step is possible exactly when the service moves."""
    person = walk(applicant(study), start, by=staff_user)
    if full:
        participants_bulk(study, len(list(study.slots.free())), status=Status.ENROLLED)
    gates = Gates(fresh(person))
    for to in (Status.SCREENING, Status.ELIGIBLE, Status.WAITLISTED, Status.CONSENTED):
        if to == Status.CONSENTED:
            continue  # consent is its own service, with its form
        assert (move_refusal(fresh(person), to, gates) == "") == service_allows(
            person, to, staff_user
        ), to
    assert (move_refusal(fresh(person), Status.ENROLLED, gates) == "") == service_allows(
        person, Status.ENROLLED, staff_user
    )
