"""A submission of the interest form costs a fixed, small number of statements and one commit,
however many people have applied. The study-row lock is taken by the one UPDATE that numbers
the participant, after everything that needs no lock."""

import pytest
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from recruitment.models import Participant, Study
from tests.factories import (
    LDN_ELIGIBLE_ANSWERS,
    StudyFactory,
    ldn_form_data,
    participants_bulk,
    submit,
)

pytestmark = pytest.mark.django_db

FORM_URL = reverse("recruitment:interest", args=["ldn-mecfs"])

# Criteria (1), the number (UPDATE: 1), the number read back with the duplicate, token and
# person lookup (1), then one INSERT each: person (when new), participant, answers, verdicts,
# history (4 or 5); plus the test's savepoint pair. A person outside the registry keeps no
# shared answers (a registry member's are two more statements:
# tests/registry/test_shared_answers.py). The criterion versions are looked up once per
# process (the first submission here). A known person whose form gives other details (a new
# email, phone, name or language) costs three more: the person locked, updated and its
# history row (tests/people/test_person_details.py).
SUBMIT_QUERIES = 9


@pytest.mark.parametrize("already", [10, 1000])
def test_a_submission_takes_the_same_few_queries_at_10_and_1000_participants(
    ldn_study, already, django_assert_max_num_queries
):
    participants_bulk(ldn_study, already)
    submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS, email="first@example.com", first_name="Bo")
    # The same person applied to another study with the same details: found, not changed.
    submit(StudyFactory(), email="new@example.com")

    with django_assert_max_num_queries(SUBMIT_QUERIES):
        participant = submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS, email="new@example.com")

    assert participant.screening_seq == already + 2
    assert Participant.objects.filter(study=ldn_study).count() == already + 2


def test_a_duplicate_costs_no_extra_query(ldn_study, django_assert_max_num_queries):
    first = submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)

    with django_assert_max_num_queries(SUBMIT_QUERIES):
        again = submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)

    assert again.duplicate_of_id == first.pk


def test_the_study_row_is_locked_only_from_the_numbering_update_on(ldn_study):
    """Reads, validation and the evaluation come first; the UPDATE that takes the number (and
    the row lock) is followed only by one read (the number taken, with the lookup) and the
    inserts of this participant."""
    with CaptureQueriesContext(connection) as queries:
        submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)

    sql = [q["sql"] for q in queries.captured_queries]
    study_table = Study._meta.db_table
    numbering = [i for i, s in enumerate(sql) if s.startswith(f'UPDATE "{study_table}"')]
    assert len(numbering) == 1
    after = sql[numbering[0] + 1 :]
    assert {s.split()[0] for s in after} <= {"SELECT", "INSERT", "RELEASE"}
    assert f'FROM "{study_table}"' in after[0]  # the number just taken, with the lookup
    assert '"last_screening_seq"' in after[0]
    assert sum(s.startswith("SELECT") for s in after) == 1
    assert not any("FOR UPDATE" in s for s in sql)


# The page's share (one small read: the study's version and the criteria's change stamp; the
# study and its criteria are kept in the process under them) plus the service's (the number: 1,
# the lookup that reads it back: 1, the inserts: 4, the emails' task: 1, queued in the same
# transaction), plus the new person's INSERT (someone applying for the first time; their person
# is found by the same lookup otherwise). No session is read or written.
FORM_POST_STATEMENTS = 9
TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}


class CommitCounter:
    """Counts the commits that write: each write outside a transaction is one, and each
    transaction that writes is one (counted when it commits)."""

    def __init__(self):
        self.commits = 0
        self.pending = False

    def __call__(self, execute, sql, params, many, context):
        if sql.lstrip().split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            if not connection.in_atomic_block:
                self.commits += 1
            elif not self.pending:
                self.pending = True
                transaction.on_commit(self._committed)
        return execute(sql, params, many, context)

    def _committed(self):
        self.commits += 1
        self.pending = False


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("already", [10, 1000])
def test_posting_the_form_takes_nine_statements_and_one_commit_at_10_and_1000_participants(
    client, ldn_study, already
):
    participants_bulk(ldn_study, already)
    client.get(FORM_URL)  # as a browser has after opening the form
    first = client.post(FORM_URL, ldn_form_data(email="first@example.com"))
    assert first.status_code == 302  # the fields and criterion versions are built once

    counter = CommitCounter()
    with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(counter):
        response = client.post(FORM_URL, ldn_form_data(email="new@example.com", last_name="Ng"))

    assert response.status_code == 302
    logged = [q["sql"] for q in queries.captured_queries]
    statements = [s for s in logged if s.split()[0] not in TRANSACTION_CONTROL]
    assert len(statements) == FORM_POST_STATEMENTS, "\n".join(statements)
    assert logged.count("COMMIT") <= 1
    assert counter.commits == 1
    assert Participant.objects.count() == already + 2
    assert not Session.objects.exists()
