"""A person's details kept current: a later application giving other details makes them the
person's, audited with the reason "Details from a later application"; a staff edit of an
application's details carries a correction to its person when the person still held the old
value."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from recruitment.intake.services import participant_submit
from recruitment.models import Person
from recruitment.people.services import persons_erase
from recruitment.screening.services import participant_update
from tests.factories import StudyFactory, contact_details, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_study():
    return StudyFactory()


def versions(person) -> list[tuple[str, str | None]]:
    return [
        (h.history_type, h.history_change_reason)
        for h in Person.history.filter(id=person.pk).order_by("history_date", "history_id")
    ]


def test_a_later_application_s_new_name_phone_email_and_language_become_the_person_s(
    ldn_study, other_study
):
    first = submit(ldn_study, email="ann@example.com", phone="205-555-0134")
    later = participant_submit(
        study=other_study,
        contact=contact_details(
            first_name="Annie", last_name="Lee", email="ann@example.com", phone="205-555-0199"
        ),
        answers={},
        language="es",
        site_url="http://testserver/",
    )

    person = Person.objects.get()
    assert later.person_id == first.person_id == person.pk
    assert (person.first_name, person.phone, person.language) == ("Annie", "+12055550199", "es")
    assert (person.name_normalised, person.phone_normalised) == ("annie lee", "2055550199")
    assert versions(person) == [
        ("~", f"Details from a later application ({later.screening_number})")
    ]
    assert first.first_name == "Ann"  # the first application keeps its own copy


def test_a_later_application_found_by_name_and_birth_date_gives_its_new_email(
    ldn_study, other_study
):
    first = submit(ldn_study, email="ann@example.com")
    submit(other_study, email="ann.lee@work.example.com")

    person = Person.objects.get(pk=first.person_id)
    assert (person.email, person.email_normalised) == (
        "ann.lee@work.example.com",
        "ann.lee@work.example.com",
    )


def test_a_later_application_with_the_same_details_writes_nothing_to_the_person(
    ldn_study, other_study
):
    first = submit(ldn_study, email="ann@example.com")
    before = Person.objects.values().get()

    with CaptureQueriesContext(connection) as queries:
        submit(other_study, email="ann@example.com")

    assert Person.objects.values().get() == before
    assert versions(first.person) == []
    assert not [q for q in queries if 'UPDATE "recruitment_person"' in q["sql"]]


def test_a_blank_phone_on_a_later_form_keeps_the_person_s_phone(ldn_study, other_study):
    first = submit(ldn_study, email="ann@example.com", phone="205-555-0134")
    submit(other_study, email="ann@example.com", phone="", first_name="Annie")

    person = Person.objects.get(pk=first.person_id)
    assert (person.first_name, person.phone) == ("Annie", "+12055550134")


def test_an_imported_application_dated_before_the_person_s_last_change_does_not_refresh(
    ldn_study, other_study
):
    first = submit(ldn_study, email="ann@example.com", phone="205-555-0134")
    old = timezone.now() - dt.timedelta(days=400)
    participant_submit(
        study=other_study,
        contact=contact_details(email="ann@example.com", phone="205-555-0111", applied_at=old),
        answers={},
        site_url="http://testserver/",
    )

    assert Person.objects.get(pk=first.person_id).phone == "+12055550134"


def test_a_staff_correction_of_the_person_s_current_phone_reaches_the_person(
    ldn_study, coordinator
):
    applied = submit(ldn_study, email="ann@example.com", phone="205-555-0134")

    participant_update(
        participant=applied,
        data={"phone": "205-555-0177", "note": "asked to call in the morning"},
        by=coordinator,
        reason="Wrong digit, confirmed on the call",
    )

    person = Person.objects.get(pk=applied.person_id)
    assert (person.phone, person.phone_normalised) == ("+12055550177", "2055550177")
    [version] = Person.history.filter(id=person.pk)
    assert version.history_user == coordinator
    assert version.history_change_reason == (
        f"Staff edit of {applied.screening_number}: Wrong digit, confirmed on the call"
    )


def test_a_staff_edit_of_an_older_application_keeps_the_person_s_newer_details(
    ldn_study, other_study, coordinator
):
    first = submit(ldn_study, email="ann@example.com", phone="205-555-0134")
    submit(other_study, email="ann@example.com", phone="205-555-0199")

    participant_update(
        participant=first,
        data={"phone": "205-555-0135", "zip_code": "35209"},
        by=coordinator,
        reason="Typo on the old form",
    )

    person = Person.objects.get(pk=first.person_id)
    assert person.phone == "+12055550199"  # newer, from the later application
    assert person.zip_code == "35209"  # the person still held the old ZIP code


def test_a_staff_edit_never_writes_an_erased_person_s_details_back(ldn_study, coordinator):
    applied = submit(ldn_study, email="ann@example.com")
    persons_erase(pks=[applied.person_id], now=timezone.now(), reason="test")

    participant_update(
        participant=applied, data={"first_name": "Anna"}, by=coordinator, reason="Spelling"
    )

    assert Person.objects.get(pk=applied.person_id).first_name == ""
