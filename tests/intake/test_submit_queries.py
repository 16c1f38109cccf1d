"""A submission of the interest form costs a fixed, small number of statements and one commit,
however many people have applied. The study-row lock is taken by the one UPDATE that numbers
the participant, after everything that needs no lock."""

import pytest
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from recruitment.intake.inbox import sent_form_take_in, sent_forms_take_in
from recruitment.models import Participant, SentForm, Study
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


# The request's statements: the page's share (one small read: the study's version and the
# criteria's change stamp; the study and its criteria are kept in the process under them),
# then the number (UPDATE: 1), read back (1), the form as sent (INSERT: 1) and its take-in task
# (INSERT: 1), in one transaction. No session is
# read or written, and nothing is evaluated, matched or written for the participant yet.
FORM_POST_STATEMENTS = 5
# The worker's take-in of that form: in one transaction, the sent form locked (1), the study
# and its criteria read (2), then the study's row locked (1), the lookup (1), and one INSERT each
# for the person (someone applying for the first time), participant, answers, verdicts and
# history (5); then the emails' read of the participant (1) and the sent form marked taken in
# (UPDATE: 1). The criterion versions are looked up once per process (the first form taken in
# here).
TAKE_IN_STATEMENTS = 12
TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


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


def counted(run) -> tuple[list[str], int]:
    """The statements `run()` sends (transaction control left out) and its commits (each
    transaction that writes, and each write outside one)."""
    counter = CommitCounter()
    with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(counter):
        run()
    logged = [q["sql"] for q in queries.captured_queries]
    return [s for s in logged if s.split()[0] not in TRANSACTION_CONTROL], counter.commits


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("already", [10, 1000])
def test_posting_the_form_takes_five_statements_and_one_commit_and_its_take_in_twelve(
    client, ldn_study, settings, already
):
    settings.TASKS = DATABASE_TASKS  # as in production: the worker takes the form in
    participants_bulk(ldn_study, already)
    client.get(FORM_URL)  # as a browser has after opening the form
    assert client.post(FORM_URL, ldn_form_data(email="first@example.com")).status_code == 302
    sent_forms_take_in()  # the fields and criterion versions are built once per process

    responses = []
    statements, commits = counted(
        lambda: responses.append(
            client.post(FORM_URL, ldn_form_data(email="new@example.com", last_name="Ng"))
        )
    )

    assert responses[0].status_code == 302
    assert len(statements) == FORM_POST_STATEMENTS, "\n".join(statements)
    assert commits == 1
    assert Participant.objects.count() == already + 1
    assert not Session.objects.exists()
    sent = SentForm.objects.waiting().get()

    statements, commits = counted(lambda: sent_form_take_in(sent_form_id=sent.pk))

    assert len(statements) == TAKE_IN_STATEMENTS, "\n".join(statements)
    assert commits == 2  # the participant's transaction, then the sent form's UPDATE
    assert Participant.objects.count() == already + 2
    assert not SentForm.objects.waiting().exists()


@pytest.mark.django_db(transaction=True)
def test_the_request_locks_the_study_row_only_from_its_numbering_update_on(
    client, ldn_study, settings
):
    """Validation comes first; the UPDATE that takes the number (and the row lock) is
    followed only by the read of that number and the two inserts, then the commit."""
    settings.TASKS = DATABASE_TASKS
    client.get(FORM_URL)

    with CaptureQueriesContext(connection) as queries:
        client.post(FORM_URL, ldn_form_data())

    sql = [q["sql"] for q in queries.captured_queries]
    study_table = Study._meta.db_table
    numbering = [i for i, s in enumerate(sql) if s.startswith(f'UPDATE "{study_table}"')]
    assert len(numbering) == 1
    after = [s.split()[0] for s in sql[numbering[0] + 1 :]]
    assert after == ["SELECT", "INSERT", "INSERT", "COMMIT"]


@pytest.mark.django_db(transaction=True)
def test_the_take_in_locks_the_study_row_only_for_the_lookup_and_the_inserts(
    client, ldn_study, settings
):
    """The criteria are read and the answers evaluated before the study's row is locked, so a
    request taking a number waits on the worker for no more than its lookup and inserts."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite ignores select_for_update(): no row lock to look for")
    settings.TASKS = DATABASE_TASKS
    client.get(FORM_URL)
    client.post(FORM_URL, ldn_form_data())
    sent = SentForm.objects.waiting().get()

    with CaptureQueriesContext(connection) as queries:
        sent_form_take_in(sent_form_id=sent.pk)

    sql = [q["sql"] for q in queries.captured_queries]
    study_table = Study._meta.db_table
    locks = [
        i
        for i, s in enumerate(sql)
        if s.startswith("SELECT") and f'FROM "{study_table}"' in s and s.endswith("FOR UPDATE")
    ]
    assert len(locks) == 1
    criteria = [i for i, s in enumerate(sql) if '"recruitment_eligibilitycriterion"' in s]
    assert criteria and max(criteria) < locks[0]
    after = [s.split()[0] for s in sql[locks[0] + 1 : locks[0] + 7]]
    assert after == ["SELECT", "INSERT", "INSERT", "INSERT", "INSERT", "INSERT"]
