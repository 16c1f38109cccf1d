"""The migration that introduced people builds one person per human from the applications
already there (the same email, or the same name and date of birth, and confirmed
duplicates), never joins two that staff said are different people, and loses no row and no
history."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from recruitment.models import Participant, Person, Status
from recruitment.screening.duplicates import duplicate_confirm, duplicate_dismiss
from recruitment.screening.retention import participants_erase_expired
from tests.factories import StudyFactory, submit, walk

BEFORE = [("recruitment", "0020_us_english_labels")]


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def head() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.fixture
def applications(ldn_study, coordinator):
    """Applications to two studies, as they were before people existed."""
    other = StudyFactory()
    made = {
        "ann": submit(ldn_study, email="ann@example.com"),
        # The same email typed differently, in another study: the same person.
        "ann_other_study": submit(
            other, email=" ANN@example.com", phone="205-555-0101", first_name="Annie"
        ),
        # The same name and date of birth, another email: the same person.
        "ann_new_email": submit(
            other, email="ann.lee@work.example.com", phone="", first_name="ANN", last_name="lee"
        ),
        "cara": submit(
            ldn_study, email="cara@example.com", phone="205-555-0177", first_name="Cara"
        ),
        # Only the phone in common, and staff confirmed the duplicate.
        "cara_again": submit(
            ldn_study, email="c.m@example.com", phone="205-555-0177", first_name="Carol"
        ),
        "dan": submit(ldn_study, email="family@example.com", phone="", first_name="Dan"),
        # A family's shared email, and staff dismissed the match: two people.
        "dina": submit(ldn_study, email="family@example.com", phone="", first_name="Dina"),
        "eve": submit(ldn_study, email="eve@example.com", phone="", first_name="Eve"),
    }
    duplicate_confirm(participant=made["cara_again"], by=coordinator)
    duplicate_dismiss(participant=made["dina"], by=coordinator)
    walk(made["eve"], Status.DECLINED, by=coordinator)
    participants_erase_expired(now=timezone.now() + dt.timedelta(days=1000))
    return {name: p.pk for name, p in made.items()}


@pytest.mark.django_db(transaction=True)
def test_people_are_built_from_the_applications_already_there(applications):
    history = Participant.history.model
    versions_before = {pk: history.objects.filter(id=pk).count() for pk in applications.values()}
    try:
        migrate(BEFORE)
    finally:
        migrate(head())

    person = {name: Participant.objects.get(pk=pk).person_id for name, pk in applications.items()}
    assert person["ann"] == person["ann_other_study"] == person["ann_new_email"]
    assert person["cara"] == person["cara_again"]
    assert person["dan"] != person["dina"]
    assert len(set(person.values())) == Person.objects.count() == 5
    assert Participant.objects.count() == len(applications)

    # Each person has the details of their latest application not erased.
    ann = Person.objects.get(pk=person["ann"])
    assert (ann.email, ann.first_name, ann.erased_at) == ("ann.lee@work.example.com", "ANN", None)
    cara = Person.objects.get(pk=person["cara"])
    assert cara.email == "cara@example.com"  # her duplicate was erased after it was closed
    eve = Person.objects.get(pk=person["eve"])
    assert eve.erased_at is not None
    assert (eve.first_name, eve.email, eve.date_of_birth) == ("", "", None)
    assert not Person.objects.in_registry().exists()

    # No history lost: each application keeps every version and gains one naming its person.
    for name, pk in applications.items():
        versions = history.objects.filter(id=pk)
        assert versions.count() == versions_before[pk] + 1
        linked = versions.get(history_change_reason__startswith="Linked to its person")
        assert (linked.person_id, linked.history_type) == (person[name], "~")
    built = Person.history.filter(history_type="+")
    assert sorted(built.values_list("id", flat=True)) == sorted(set(person.values()))
