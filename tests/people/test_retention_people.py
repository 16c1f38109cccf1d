"""Retention covers people: a person's details (name, contact details, date of birth) are
erased once every application of theirs was erased, and kept while any application is still
open, enrolled, or in its retention period."""

import datetime as dt

import pytest

from recruitment.models import Person, Status
from recruitment.screening.retention import participants_erase_expired
from tests.factories import StudyFactory, applicant, walk

pytestmark = pytest.mark.django_db

JAN_10 = dt.datetime(2026, 1, 10, 18, tzinfo=dt.UTC)
LATER = JAN_10 + dt.timedelta(days=31)


@pytest.fixture(autouse=True)
def now(time_machine):
    time_machine.move_to(JAN_10, tick=False)


@pytest.fixture
def short():
    return StudyFactory(retention_days=30)


@pytest.fixture
def long():
    return StudyFactory(retention_days=365)


def declined(study, coordinator, **contact):
    return walk(applicant(study, **contact), Status.DECLINED, by=coordinator)


def erase(time_machine, *, dry_run=False):
    time_machine.move_to(LATER, tick=False)
    return participants_erase_expired(dry_run=dry_run)


def test_a_person_whose_every_application_was_erased_is_erased_history_included(
    short, coordinator, time_machine
):
    participant = declined(
        short,
        coordinator,
        first_name="Canaryfirst",
        email="canary@example.com",
        phone="205-555-0199",
        registry_consent=True,
    )

    result = erase(time_machine)

    person = Person.objects.get(pk=participant.person_id)
    assert result.people == 1
    assert person.erased_at == LATER
    assert (person.first_name, person.email, person.phone, person.date_of_birth) == (
        "",
        "",
        "",
        None,
    )
    assert (person.zip_code, person.registry_nonce) == ("", "")
    assert not Person.objects.in_registry().exists()
    for version in person.history.all():
        assert "Canary" not in f"{version.first_name}{version.email}"
        assert version.email == "" and version.date_of_birth is None
    assert person.history.first().history_change_reason.startswith("Personal data erased")


def test_a_person_keeps_their_details_while_another_application_is_open(
    short, long, coordinator, time_machine
):
    gone = declined(short, coordinator, email="ann@example.com")
    open_one = applicant(long, email="ann@example.com")
    assert open_one.person_id == gone.person_id

    result = erase(time_machine)

    person = Person.objects.get(pk=gone.person_id)
    assert result.people == 0
    assert (person.email, person.erased_at) == ("ann@example.com", None)


def test_a_person_keeps_their_details_while_an_application_is_in_its_retention_period(
    short, long, coordinator, time_machine
):
    gone = declined(short, coordinator, email="ann@example.com")
    declined(long, coordinator, email="ann@example.com")

    erase(time_machine)

    assert Person.objects.get(pk=gone.person_id).erased_at is None


def test_a_person_keeps_their_details_while_an_application_is_enrolled(
    short, long, coordinator, time_machine
):
    gone = declined(short, coordinator, email="ann@example.com")
    walk(applicant(long, email="ann@example.com"), Status.ENROLLED, by=coordinator)

    erase(time_machine)

    assert Person.objects.get(pk=gone.person_id).erased_at is None


def test_a_person_with_no_application_is_left_alone(short, time_machine):
    Person.objects.create(first_name="Front", last_name="Door", email="front@example.com")

    assert erase(time_machine).people == 0
    assert Person.objects.get().erased_at is None


def test_a_dry_run_counts_the_people_it_would_erase_and_changes_nothing(
    short, coordinator, time_machine
):
    participant = declined(short, coordinator)

    result = erase(time_machine, dry_run=True)

    assert result.people == 1
    assert Person.objects.get(pk=participant.person_id).erased_at is None
