"""The database itself refuses what must never be true, even to code that skips the services."""

import pytest
from django.db import IntegrityError, transaction

from recruitment.models import EnrolmentSlot, Participant, Status
from tests.factories import StudyFactory, participants_bulk, submit

pytestmark = pytest.mark.django_db


def _refused(match=None, **changes):
    """The last participant cannot be updated so; `match` names the constraint that refuses
    (SQLite and PostgreSQL both quote a check constraint's name, and a unique one's column)."""
    participant = Participant.objects.order_by("pk").last()
    with pytest.raises(IntegrityError, match=match), transaction.atomic():
        Participant.objects.filter(pk=participant.pk).update(**changes)


@pytest.fixture
def two_participants():
    study = StudyFactory(prefix="LDN")
    return study, submit(study), submit(study, email="b@example.com", phone="205-555-0111")


def test_a_screening_number_cannot_be_given_twice(two_participants):
    _refused(screening_number="LDN-S-0001")


def test_a_screening_sequence_cannot_repeat_within_a_study(two_participants):
    _refused(screening_seq=1)


def _slot(study, number):
    return EnrolmentSlot.objects.get(study=study, number=number)


def test_a_participant_id_cannot_be_given_twice_in_a_study(two_participants):
    study, first, _second = two_participants
    Participant.objects.filter(pk=first.pk).update(
        status=Status.ENROLLED, participant_id="LDN-001", slot=_slot(study, 1)
    )

    _refused(
        "participant_id", status=Status.ENROLLED, participant_id="LDN-001", slot=_slot(study, 2)
    )


@pytest.mark.parametrize(
    "status", [s for s in Status if s not in ("enrolled", "completed", "withdrawn")]
)
def test_only_enrolled_participants_hold_a_participant_id(two_participants, status):
    _refused("participant_id_iff_enrolled", status=status, participant_id="LDN-002")


def test_an_enrolled_participant_must_hold_a_participant_id(two_participants):
    study, _first, _second = two_participants

    _refused("participant_id_iff_enrolled", status=Status.ENROLLED, slot=_slot(study, 1))


def test_an_unknown_status_is_refused(two_participants):
    _refused(status="approved")


def test_consent_to_be_contacted_is_required(two_participants):
    _refused(contact_consent=False)


def test_a_participant_cannot_be_a_duplicate_of_itself(two_participants):
    _study, _first, second = two_participants
    _refused(duplicate_of=second.pk)


# -- the enrolment cap's backstop: fixed slot rows, one participant per slot -------------------
def test_a_study_has_one_slot_row_per_place_in_its_target(two_participants):
    study, _first, _second = two_participants

    assert list(study.slots.values_list("number", flat=True)) == list(range(1, 21))


@pytest.mark.parametrize("status", ["enrolled", "completed"])
def test_an_enrolled_or_completed_participant_must_hold_a_slot(two_participants, status):
    _refused("slot_iff_enrolled", status=status, participant_id="LDN-002")


@pytest.mark.parametrize(
    "status", [s for s in Status if s not in ("enrolled", "completed", "withdrawn")]
)
def test_only_enrolled_completed_or_withdrawn_participants_hold_a_slot(two_participants, status):
    study, _first, _second = two_participants

    _refused("slot_iff_enrolled", status=status, slot=_slot(study, 1))


@pytest.mark.parametrize("keeps_slot", [True, False], ids=["keeps its slot", "slot freed"])
def test_a_withdrawn_participant_may_keep_or_free_their_slot(two_participants, keeps_slot):
    study, _first, second = two_participants
    slot = _slot(study, 1) if keeps_slot else None

    Participant.objects.filter(pk=second.pk).update(
        status=Status.WITHDRAWN, participant_id="LDN-001", slot=slot
    )

    assert Participant.objects.get(pk=second.pk).slot == slot


def test_two_participants_cannot_hold_the_same_slot(two_participants):
    study, first, _second = two_participants
    Participant.objects.filter(pk=first.pk).update(
        status=Status.ENROLLED, participant_id="LDN-001", slot=_slot(study, 1)
    )

    _refused("slot_id", status=Status.ENROLLED, participant_id="LDN-002", slot=_slot(study, 1))


def test_a_full_study_cannot_take_one_more_enrolment_even_bypassing_the_services():
    study = StudyFactory(prefix="LDN", target_enrolment=3)
    participants_bulk(study, 3, status=Status.ENROLLED)
    newcomer = submit(study)

    for slot in study.slots.all():
        with pytest.raises(IntegrityError, match="slot_id"), transaction.atomic():
            Participant.objects.filter(pk=newcomer.pk).update(
                status=Status.ENROLLED, participant_id="LDN-004", slot=slot
            )

    assert Participant.objects.filter(study=study, status=Status.ENROLLED).count() == 3


def test_a_slot_number_cannot_repeat_within_a_study():
    study = StudyFactory(target_enrolment=2)

    with pytest.raises(IntegrityError, match="number"), transaction.atomic():
        EnrolmentSlot.objects.create(study=study, number=2)


def test_the_same_slot_number_may_exist_in_two_studies():
    StudyFactory(target_enrolment=1)
    other = StudyFactory(target_enrolment=1)

    assert EnrolmentSlot.objects.filter(number=1).count() == 2
    assert other.slots.get().number == 1


def test_a_slot_number_starts_at_one():
    study = StudyFactory(slots=False)

    with pytest.raises(IntegrityError, match="slot_number_positive"), transaction.atomic():
        EnrolmentSlot.objects.create(study=study, number=0)


def test_a_participant_is_shown_by_screening_number_never_by_name(two_participants):
    _study, first, _second = two_participants

    assert str(first) == "LDN-S-0001"
    assert "Ann" not in str(first)
