"""The database itself refuses what must never be true, even to code that skips the services."""

import pytest
from django.db import IntegrityError, transaction

from recruitment.models import FHIR_STATUS, Participant, Status
from tests.factories import StudyFactory, submit

pytestmark = pytest.mark.django_db


def _refused(**changes):
    participant = Participant.objects.order_by("pk").last()
    with pytest.raises(IntegrityError), transaction.atomic():
        Participant.objects.filter(pk=participant.pk).update(**changes)


@pytest.fixture
def two_participants():
    study = StudyFactory(prefix="LDN")
    return study, submit(study), submit(study, email="b@example.com", phone="205-555-0111")


def test_a_screening_number_cannot_be_given_twice(two_participants):
    _refused(screening_number="LDN-S-0001")


def test_a_screening_sequence_cannot_repeat_within_a_study(two_participants):
    _refused(screening_seq=1)


def test_a_participant_id_cannot_be_given_twice_in_a_study(two_participants):
    study, first, _second = two_participants
    Participant.objects.filter(pk=first.pk).update(status=Status.ENROLLED, participant_id="LDN-001")

    _refused(status=Status.ENROLLED, participant_id="LDN-001")


@pytest.mark.parametrize(
    "status", [s for s in Status if s not in ("enrolled", "completed", "withdrawn")]
)
def test_only_enrolled_participants_hold_a_participant_id(two_participants, status):
    _refused(status=status, participant_id="LDN-002")


def test_an_enrolled_participant_must_hold_a_participant_id(two_participants):
    _refused(status=Status.ENROLLED)


def test_an_unknown_status_is_refused(two_participants):
    _refused(status="approved")


def test_consent_to_be_contacted_is_required(two_participants):
    _refused(contact_consent=False)


def test_a_participant_cannot_be_a_duplicate_of_itself(two_participants):
    _study, _first, second = two_participants
    _refused(duplicate_of=second.pk)


def test_every_status_has_its_fhir_research_subject_code():
    assert FHIR_STATUS == {
        "new": "potential-candidate",
        "screening": "screening",
        "eligible": "eligible",
        "ineligible": "ineligible",
        "waitlisted": "eligible",
        "consented": "pending-on-study",
        "enrolled": "on-study",
        "completed": "off-study",
        "withdrawn": "off-study",
        "declined": "not-registered",
    }
