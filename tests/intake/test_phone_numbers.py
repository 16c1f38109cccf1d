"""Phone numbers are read with `phonenumbers` (US by default) and stored in E.164, wherever
they come in: the public form, a coordinator's entry, an import, a staff edit. A number that
is not a US one gets a clear message next to its field; duplicates still match however the
number was written; the migration converts the numbers stored before."""

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse

from recruitment.contact import (
    PHONE_INVALID,
    format_phone,
    normalise_phone,
    phone_e164,
    phone_of_key,
)
from recruitment.intake.importer import interest_list_import
from recruitment.models import Participant
from tests.factories import ldn_form_data, submit
from tests.intake.test_import import csv_bytes, person

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "typed",
    [
        "205-555-0134",
        "(205) 555-0134",
        "205.555.0134",
        "+1 205 555 0134",
        "1-205-555-0134",
        "２０５-５５５-０１３４",
    ],
)
def test_a_us_number_however_written_is_stored_in_e164(typed):
    assert phone_e164(typed) == "+12055550134"
    assert normalise_phone(typed) == "2055550134"
    assert phone_of_key(normalise_phone(typed)) == phone_e164(typed)  # what a submission stores


@pytest.mark.parametrize(
    "typed", ["555-0134", "12345", "205-155-0134", "+44 20 7946 0958", "call me", "205-555-01345"]
)
def test_what_is_not_a_us_number_is_refused_with_the_example_of_one(typed):
    with pytest.raises(ValidationError) as refused:
        phone_e164(typed)

    assert refused.value.messages == [str(PHONE_INVALID)]
    assert str(PHONE_INVALID) == "Enter a US phone number, like 205-555-0100."


def test_a_stored_number_reads_as_people_write_it():
    assert format_phone("+12055550134") == "205-555-0134"
    assert format_phone("2055550134") == "205-555-0134"
    assert format_phone("ext 12") == "ext 12"  # an old value that could not be read


def test_the_interest_form_stores_e164_and_a_bad_number_is_explained_next_to_its_field(
    client, ldn_study
):
    url = reverse("recruitment:interest", args=[ldn_study.slug])

    refused = client.post(url, ldn_form_data(phone="205-555-01"))

    assert refused.status_code == 200
    page = refused.content.decode()
    assert 'id="id_phone_error"' in page
    assert str(PHONE_INVALID) in page
    assert 'value="205-555-01"' in page  # what was typed stays
    assert not Participant.objects.exists()

    assert client.post(url, ldn_form_data(phone="(205) 555-0134")).status_code == 302
    stored = Participant.objects.get()
    assert (stored.phone, stored.phone_normalised) == ("+12055550134", "2055550134")


def test_a_coordinators_entry_stores_e164_and_refuses_a_bad_number(coord_client, ldn_study):
    data = ldn_form_data(token="", entry_source="phone", language="en")
    add = "/admin/recruitment/participant/add/"

    refused = coord_client.post(add, {**data, "phone": "555-0134"})
    assert refused.status_code == 200
    assert str(PHONE_INVALID) in refused.content.decode()

    coord_client.post(add, {**data, "phone": "205.555.0177"})
    assert Participant.objects.get().phone == "+12055550177"


def test_an_import_stores_e164_and_names_the_row_of_a_bad_number(ldn_study):
    report = interest_list_import(
        study=ldn_study,
        data=csv_bytes([person(1, phone="12345"), person(2, phone="(205) 555-0142")]),
        dry_run=True,
    )
    # The import's own staff wording of the same refusal.
    assert [str(e) for e in report.errors] == [
        "Row 2, phone: “12345” is not a US phone number (10 digits)."
    ]

    interest_list_import(
        study=ldn_study, data=csv_bytes([person(2, phone="(205) 555-0142")]), dry_run=False
    )
    assert Participant.objects.get().phone == "+12055550142"


def test_duplicates_still_match_on_the_phone_however_it_was_written(ldn_study):
    first = submit(ldn_study, phone="205-555-0134", email="a@example.com", first_name="A")
    second = submit(ldn_study, phone="+1 (205) 555 0134", email="b@example.com", first_name="B")

    assert second.duplicate_of == first
    assert first.phone == second.phone == "+12055550134"


def test_the_migration_converts_the_numbers_it_can_read_and_leaves_the_others(ldn_study):
    readable = submit(ldn_study, email="a@example.com", first_name="A")
    unreadable = submit(ldn_study, email="b@example.com", first_name="B", phone="")
    Participant.objects.filter(pk=readable.pk).update(phone="(205) 555-0199")
    Participant.objects.filter(pk=unreadable.pk).update(phone="555-0199 ext 4")
    migration = importlib.import_module("recruitment.migrations.0027_texts_and_reminders")

    migration.phones_to_e164(apps, None)

    readable.refresh_from_db()
    unreadable.refresh_from_db()
    assert (readable.phone, readable.phone_normalised) == ("+12055550199", "2055550199")
    assert unreadable.phone == "555-0199 ext 4"
