"""A person and their applications: a new submission joins the person it shares an email (or
a name and date of birth) with, in any study, else creates one; the registry's box is
recorded on the person."""

import datetime as dt

import pytest
from django.utils import timezone

from recruitment.models import DuplicateReview, Participant, Person
from recruitment.people import REGISTRY_CONSENT_VERSION
from recruitment.screening.duplicates import duplicate_confirm
from tests.factories import StudyFactory, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_study():
    return StudyFactory()


def test_a_first_application_creates_a_person_with_its_contact_details(ldn_study):
    participant = submit(ldn_study, email="Ann.Lee@Example.com", phone="(205) 555-0134")

    person = participant.person
    assert (person.first_name, person.last_name, person.email) == (
        "Ann",
        "Lee",
        "Ann.Lee@Example.com",
    )
    assert (person.email_normalised, person.phone_normalised) == (
        "ann.lee@example.com",
        "2055550134",
    )
    assert (person.date_of_birth, person.zip_code, person.language) == (
        dt.date(1980, 4, 28),
        "35203",
        "en",
    )
    assert list(person.applications.all()) == [participant]


def test_an_application_to_another_study_with_the_same_email_joins_the_same_person(
    ldn_study, other_study
):
    first = submit(ldn_study, email="ann@example.com")
    second = submit(other_study, email=" ANN@example.com ", phone="", first_name="Annie")

    assert second.person_id == first.person_id
    assert Person.objects.count() == 1
    assert second.duplicate_of is None  # a possible duplicate is matched within one study


def test_the_same_name_and_date_of_birth_with_another_email_joins_the_same_person(
    ldn_study, other_study
):
    first = submit(ldn_study, email="ann@example.com")
    second = submit(other_study, email="ann@work.example.com", phone="", first_name=" ANN ")

    assert second.person_id == first.person_id


def test_a_shared_phone_alone_makes_a_possible_duplicate_but_another_person(ldn_study):
    first = submit(ldn_study, email="dan@example.com", first_name="Dan")
    second = submit(ldn_study, email="dina@example.com", first_name="Dina")

    assert second.duplicate_of_id == first.pk
    assert second.duplicate_review == DuplicateReview.PENDING
    assert second.person_id != first.person_id


def test_a_duplicate_in_the_same_study_joins_the_person_of_the_first(ldn_study):
    first = submit(ldn_study)
    again = submit(ldn_study)

    assert again.duplicate_of_id == first.pk
    assert again.person_id == first.person_id


def test_an_erased_person_is_never_joined(ldn_study, other_study):
    first = submit(ldn_study, email="ann@example.com")
    Person.objects.filter(pk=first.person_id).update(erased_at=timezone.now())

    second = submit(other_study, email="ann@example.com")

    assert second.person_id != first.person_id


def test_the_registry_box_left_unticked_records_no_consent(ldn_study):
    person = submit(ldn_study).person

    assert (person.registry_consent, person.registry_consent_at) == (False, None)
    assert not Person.objects.in_registry().exists()


def test_ticking_the_registry_box_records_its_version_and_time_on_the_person(
    ldn_study, time_machine
):
    time_machine.move_to(dt.datetime(2026, 12, 7, 15, tzinfo=dt.UTC), tick=False)

    person = submit(ldn_study, registry_consent=True).person

    assert person.registry_consent is True
    assert person.registry_consent_version == REGISTRY_CONSENT_VERSION
    assert person.registry_consent_at == timezone.now()
    assert list(Person.objects.in_registry()) == [person]


def test_ticking_the_box_on_a_later_application_adds_an_existing_person_to_the_registry(
    ldn_study, other_study
):
    first = submit(ldn_study, email="ann@example.com")

    second = submit(other_study, email="ann@example.com", registry_consent=True)

    assert second.person_id == first.person_id
    person = Person.objects.get(pk=first.person_id)
    assert person.in_registry
    assert person.history.first().history_change_reason.startswith(
        "Agreed to be contacted about other studies"
    )


def test_confirming_a_duplicate_matched_by_phone_joins_the_kept_persons_record(
    ldn_study, coordinator
):
    kept = submit(ldn_study, email="dan@example.com", first_name="Dan")
    again = submit(ldn_study, email="dan.w@example.com", first_name="Daniel", registry_consent=True)
    left = again.person_id
    assert left != kept.person_id

    duplicate_confirm(participant=again, by=coordinator)

    moved = Participant.objects.get(pk=again.pk)
    assert moved.person_id == kept.person_id
    version = moved.history.first()
    assert (version.history_user, version.person_id) == (coordinator, kept.person_id)
    assert version.history_change_reason.startswith(f"Joined to person {kept.person_id}")
    gone = Person.objects.get(pk=left)
    assert gone.erased_at is not None and gone.email == ""
    assert not any(v.email for v in gone.history.all())
    # The consent to be contacted about other studies went along with the application.
    assert list(Person.objects.in_registry()) == [Person.objects.get(pk=kept.person_id)]


def test_confirming_a_duplicate_of_the_same_person_changes_no_person(ldn_study, coordinator):
    kept = submit(ldn_study)
    again = submit(ldn_study)

    duplicate_confirm(participant=again, by=coordinator)

    assert Participant.objects.get(pk=again.pk).person_id == kept.person_id
    assert Person.objects.count() == 1
    assert Person.objects.get().erased_at is None
