"""The submission's duplicate, token and person lookup is built by the ORM once per shape of
submission and bound to each submission's own values: the statement run is exactly the one
the ORM builds for that submission, and it finds the same rows."""

import uuid
from datetime import date

import pytest

from recruitment.intake import submission_match as lookup
from recruitment.intake.services import participant_submit
from recruitment.models import Participant
from tests.factories import StudyFactory, contact_details

pytestmark = pytest.mark.django_db

GIVEN = {
    "first_name": "Ana",
    "last_name": "Gómez",
    "name_normalised": "ana gómez",
    "email": "Ana@Example.org",
    "email_normalised": "ana@example.org",
    "phone": "+12055550101",
    "phone_normalised": "+12055550101",
    "date_of_birth": date(1970, 5, 17),
    "zip_code": "35294",
    "language": "es",
}
SHAPES = [
    pytest.param({}, id="everything given"),
    pytest.param({"phone": "", "phone_normalised": ""}, id="no phone"),
    pytest.param({"email": "", "email_normalised": ""}, id="no email"),
    pytest.param({"date_of_birth": None}, id="no date of birth"),
    pytest.param({"zip_code": "", "language": ""}, id="details left empty"),
    # A patient may type anything, the lookup's own stand-in values included.
    pytest.param({"first_name": "\ue000stand-in-7\ue000", "zip_code": "0001-01-05"}, id="odd"),
]


def unsaved(study, **overrides) -> Participant:
    return Participant(study=study, **{**GIVEN, **overrides})


@pytest.mark.parametrize("token", [uuid.uuid4(), None], ids=["token", "no token"])
@pytest.mark.parametrize("overrides", SHAPES)
def test_the_bound_statement_is_the_one_the_orm_builds(overrides, token):
    participant = unsaved(StudyFactory(), **overrides)
    # A first submission of the same shape with other values builds the statement.
    other = {**overrides, "last_name": "Other", "name_normalised": "ana other"}
    lookup.submission_match(unsaved(participant.study, **other), token and uuid.uuid4())

    statement = lookup.match_statement(participant, token)

    expected = lookup.match_queryset(participant, token).query.sql_with_params()
    assert statement is not None
    assert (statement.sql, statement.params(participant, token)) == (
        expected[0],
        list(expected[1]),
    )


def test_one_statement_serves_every_submission_of_a_shape():
    study = StudyFactory()

    first = lookup.match_statement(unsaved(study), uuid.uuid4())
    second = lookup.match_statement(
        unsaved(study, **{"last_name": "Ruiz", "zip_code": "35205"}), None
    )
    third = lookup.match_statement(unsaved(study, first_name="Bea"), uuid.uuid4())

    assert first is third
    assert second is not first  # no token: another shape


@pytest.mark.parametrize("same_form", [True, False])
def test_the_bound_statement_finds_the_duplicate_the_person_and_the_saved_form(same_form):
    study = StudyFactory()
    token = uuid.uuid4()
    first = participant_submit(
        study=study,
        contact=contact_details(email="ana@example.org", first_name="Ana"),
        answers={},
        token=token,
    )
    study.refresh_from_db()
    again = unsaved(study, email="ANA@example.org", email_normalised="ana@example.org")

    found = lookup.submission_match(again, token if same_form else uuid.uuid4())

    assert found.saved_already is same_form
    assert found.duplicate_of_id == first.pk
    assert found.person_id == first.person_id
    assert found.numbering["last_screening_seq"] == study.last_screening_seq


def test_a_shape_whose_values_cannot_be_found_is_run_as_the_orm_builds_it(monkeypatch):
    study = StudyFactory()
    first = participant_submit(
        study=study, contact=contact_details(email="ana@example.org"), answers={}
    )
    monkeypatch.setattr(lookup, "_same", lambda value, param: False)  # no stand-in found
    lookup.statements_forget()
    again = unsaved(study, zip_code="35205")

    assert lookup.match_statement(again, None) is None
    found = lookup.submission_match(again, None)

    assert found.duplicate_of_id == first.pk
    assert found.person_id == first.person_id
