"""A submission of the interest form costs a fixed, small number of queries, however many
people have applied. The study-row lock is taken by the one UPDATE that
numbers the participant, after everything that needs no lock."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from recruitment.models import Participant, Study
from tests.factories import LDN_ELIGIBLE_ANSWERS, ldn_form_data, participants_bulk, submit

pytestmark = pytest.mark.django_db

FORM_URL = reverse("recruitment:interest", args=["ldn-mecfs"])

# Criteria (1), the number (1 UPDATE ... RETURNING), duplicate and token lookup (1), then one
# INSERT each: participant, answers, verdicts, history (4); plus the test's savepoint pair.
SUBMIT_QUERIES = 9


@pytest.mark.parametrize("already", [3, 300])
def test_a_submission_takes_the_same_few_queries_at_3_and_300_participants(
    ldn_study, already, django_assert_max_num_queries
):
    participants_bulk(ldn_study, already)

    with django_assert_max_num_queries(SUBMIT_QUERIES):
        participant = submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS, email="new@example.com")

    assert participant.screening_seq == already + 1
    assert Participant.objects.count() == already + 1


def test_a_duplicate_costs_no_extra_query(ldn_study, django_assert_max_num_queries):
    first = submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)

    with django_assert_max_num_queries(SUBMIT_QUERIES):
        again = submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)

    assert again.duplicate_of_id == first.pk


def test_the_study_row_is_locked_only_from_the_numbering_update_on(ldn_study):
    """Reads, validation and the evaluation come first; the UPDATE that takes the number (and
    the row lock) is followed only by the lookup and inserts of this participant."""
    with CaptureQueriesContext(connection) as queries:
        submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)

    sql = [q["sql"] for q in queries.captured_queries]
    study_table = Study._meta.db_table
    numbering = [i for i, s in enumerate(sql) if s.startswith(f'UPDATE "{study_table}"')]
    assert len(numbering) == 1
    after = [s.split()[0] for s in sql[numbering[0] + 1 :]]
    assert set(after) <= {"SELECT", "INSERT", "RELEASE"}
    assert after.count("SELECT") == 1
    assert not any("FOR UPDATE" in s for s in sql)


# The page's share (session, study, the form's criteria, the session save) plus the service's.
FORM_POST_QUERIES = 15


@pytest.mark.parametrize("already", [3, 300])
def test_posting_the_form_takes_the_same_few_queries_at_3_and_300_participants(
    client, ldn_study, already, django_assert_max_num_queries
):
    participants_bulk(ldn_study, already)
    client.get(FORM_URL)  # a session, as a browser has after opening the form

    with django_assert_max_num_queries(FORM_POST_QUERIES):
        response = client.post(FORM_URL, ldn_form_data(email="new@example.com"))

    assert response.status_code == 302
    assert Participant.objects.count() == already + 1
