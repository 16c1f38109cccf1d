"""Every email is a task: enqueued after commit, run by the database queue's worker, sent to a
real SMTP server on loopback. A server that refuses and later accepts gets each email exactly
once; a retry waits for its delay; a refusal for good, or the last refused attempt, gives up
with an error that names no address."""

import datetime as dt
import logging
import re

import pytest
from django.db import connection, transaction
from django.test import Client, TestCase
from django_tasks_db.models import DBTaskResult

from recruitment.intake import drafts
from recruitment.intake.withdraw import (
    WithdrawState,
    participant_withdraw_by_link,
    withdraw_link_check,
    withdraw_token_make,
)
from recruitment.models import Draft, Status
from recruitment.notifications import tasks
from recruitment.screening import services as screening
from tests.factories import StudyFactory, applicant, ldn_form_data, submit, walk
from tests.notifications.conftest import run_worker

# The worker closes and reopens its connection between tasks, as in production: the tests
# commit for real.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("database_queue")]

PATIENT = "ann.lee@example.com"
COORDINATORS = "coordinators@example.edu"
SITE = "http://testserver/"  # as tests.factories.submit gives it
LINK = re.compile(r"http://testserver(/studies/[\w-]+/interest/resume/[\w-]+/)")


def submitted(study):
    """A patient's submission, committed: its two email tasks are in the queue."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return submit(study)


def rows(task) -> list[DBTaskResult]:
    """The task's rows, by attempt (then by when enqueued)."""
    found = DBTaskResult.objects.filter(task_path=task.module_path).order_by("enqueued_at")
    return sorted(found, key=lambda row: row.args_kwargs["kwargs"].get("attempt", 1))


def logged(caplog) -> str:
    """The app's log lines (the test SMTP server's own log quotes addresses, as servers do)."""
    return "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail."))


def test_a_submission_queues_its_emails_and_sends_nothing_until_the_worker_runs(
    ldn_study, smtp_server
):
    participant = submitted(ldn_study)

    assert smtp_server.delivered == []
    # One row for the submission's two emails.
    assert [r.status for r in rows(tasks.submission_emails_send)] == ["READY"]

    run_worker()

    (confirmation,) = smtp_server.to(PATIENT)
    assert participant.screening_number in confirmation["Subject"]
    body = confirmation.get_content()
    # The withdraw link, made when the email was sent, works.
    token = re.search(r"http://testserver/withdraw/([^/\s]+)/", body).group(1)
    assert withdraw_link_check(token=token).state == WithdrawState.OPEN
    assert withdraw_link_check(token=token).participant == participant
    (notice,) = smtp_server.to(COORDINATORS)
    assert f"{SITE}admin/recruitment/participant/{participant.pk}/change/" in notice.get_content()
    assert {r.status for r in DBTaskResult.objects.all()} == {"SUCCESSFUL"}


def test_a_server_that_refuses_twice_then_accepts_gets_each_email_exactly_once(
    ldn_study, smtp_server
):
    smtp_server.refusals = 2
    participant = submitted(ldn_study)

    run_worker()

    assert smtp_server.attempts == {PATIENT: 3, COORDINATORS: 3}
    assert len(smtp_server.to(PATIENT)) == 1
    assert len(smtp_server.to(COORDINATORS)) == 1
    assert len(smtp_server.delivered) == 2
    confirmations = rows(tasks.submission_emails_send)
    assert [r.args_kwargs["kwargs"].get("attempt", 1) for r in confirmations] == [1, 2, 3]
    assert [r.status for r in confirmations] == ["SUCCESSFUL"] * 3
    assert [r.return_value.split(" at ")[0] for r in confirmations] == ["retry", "retry", "sent"]
    assert [r.args_kwargs["kwargs"].get("pending") for r in confirmations] == [
        None,
        ["confirmation", "new_interest_notice"],
        ["confirmation", "new_interest_notice"],
    ]
    assert participant.screening_number in smtp_server.to(PATIENT)[0]["Subject"]
    # Running the worker again sends nothing more.
    run_worker()
    assert len(smtp_server.delivered) == 2


def test_a_retry_sends_only_the_email_that_was_refused(ldn_study, smtp_server):
    smtp_server.refusals, smtp_server.only = 1, {COORDINATORS}
    submitted(ldn_study)

    run_worker()

    assert smtp_server.attempts == {PATIENT: 1, COORDINATORS: 2}
    assert len(smtp_server.to(PATIENT)) == 1
    assert len(smtp_server.to(COORDINATORS)) == 1
    retry = rows(tasks.submission_emails_send)[-1]
    assert retry.args_kwargs["kwargs"]["pending"] == ["new_interest_notice"]


def test_a_rolled_back_change_leaves_no_email_in_the_queue(ldn_study, smtp_server):
    with transaction.atomic():
        submit(ldn_study)
        drafts.draft_save(study=ldn_study, email=PATIENT, data={}, site_url=SITE)
        assert DBTaskResult.objects.count() == 2  # written with the change, in its transaction
        transaction.set_rollback(True)

    assert DBTaskResult.objects.count() == 0
    run_worker()
    assert smtp_server.delivered == []


def test_on_the_database_queue_a_submission_writes_one_task_row_inside_its_transaction(
    ldn_study,
):
    written = []

    def record(execute, sql, params, many, context):
        if DBTaskResult._meta.db_table in sql:
            written.append((sql.split()[0], connection.in_atomic_block))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        submit(ldn_study)

    assert written == [("INSERT", True)]


def test_a_retry_waits_for_its_delay(ldn_study, smtp_server, settings, time_machine):
    settings.EMAIL_RETRY_DELAYS = [60, 300]
    smtp_server.refusals = 1
    start = dt.datetime(2026, 11, 25, 15, tzinfo=dt.UTC)
    time_machine.move_to(start, tick=False)
    settings.COORDINATOR_EMAILS = []
    submitted(ldn_study)

    run_worker()

    assert smtp_server.delivered == []
    waiting = rows(tasks.submission_emails_send)[-1]
    assert waiting.status == "READY"
    assert waiting.run_after == start + dt.timedelta(seconds=60)

    time_machine.move_to(start + dt.timedelta(seconds=59), tick=False)
    run_worker()
    assert smtp_server.delivered == []

    time_machine.move_to(start + dt.timedelta(seconds=60), tick=False)
    run_worker()
    assert len(smtp_server.to(PATIENT)) == 1


def test_the_last_refused_attempt_gives_up_and_fails_the_task_without_an_address(
    ldn_study, smtp_server, settings, caplog
):
    settings.EMAIL_RETRY_DELAYS = [0, 0]
    settings.COORDINATOR_EMAILS = []
    smtp_server.refusals = 99
    participant = submitted(ldn_study)

    run_worker()

    assert smtp_server.attempts == {PATIENT: 3}
    assert smtp_server.delivered == []
    last = rows(tasks.submission_emails_send)[-1]
    assert last.status == "FAILED"
    assert last.exception_class_path.endswith("delivery.EmailNotDelivered")
    assert f"Confirmation email about {participant.screening_number}" in last.traceback
    for kept in (last.traceback, logged(caplog)):
        assert PATIENT not in kept
        assert "ann.lee" not in kept


def test_a_refusal_for_good_is_not_retried(ldn_study, smtp_server, settings):
    settings.COORDINATOR_EMAILS = []
    smtp_server.code = 550
    submitted(ldn_study)

    run_worker()

    (only,) = rows(tasks.submission_emails_send)
    assert only.status == "FAILED"
    assert smtp_server.attempts == {PATIENT: 1}


def test_a_saved_form_gets_one_working_link_after_the_server_refused_once(
    ldn_study, smtp_server, client
):
    smtp_server.refusals = 1
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post("/studies/ldn-mecfs/interest/save/", ldn_form_data(email=PATIENT))
    assert response.status_code == 302

    run_worker()

    (message,) = smtp_server.to(PATIENT)
    path = LINK.search(message.get_content()).group(1)
    patient = Client()
    assert patient.get(path).status_code == 200
    assert patient.post(path).status_code == 302
    # The link the refused attempt made was never sent, and works no more than a guess.
    assert Draft.objects.get().token_hash != drafts.token_hash(path.rstrip("/").split("/")[-1])


def test_a_later_save_supersedes_an_email_still_waiting(ldn_study, smtp_server):
    first = drafts.draft_save(study=ldn_study, email=PATIENT, data={}, site_url=SITE)
    drafts.draft_save(study=ldn_study, email="other@example.com", data={}, site_url=SITE)
    drafts.draft_save(
        study=ldn_study, email="new@example.com", data={}, site_url=SITE, draft_pk=first.pk
    )

    run_worker()

    assert len(smtp_server.to("new@example.com")) == 1
    assert len(smtp_server.to("other@example.com")) == 1
    assert smtp_server.to(PATIENT) == []
    results = sorted(row.return_value for row in rows(tasks.draft_link_send))
    assert results == ["sent", "sent", "superseded by a later save"]


def test_the_withdraw_and_slot_freed_notices_go_through_the_queue(smtp_server, coordinator, caplog):
    caplog.set_level(logging.INFO)
    study = StudyFactory(prefix="SLOT", target_enrolment=1, withdrawal_frees_slot=True)
    enrolled = walk(applicant(study), Status.ENROLLED, by=coordinator)
    waiting = applicant(study)
    with TestCase.captureOnCommitCallbacks(execute=True):
        screening.participant_transition(
            participant=enrolled, to=Status.WITHDRAWN, by=coordinator, reason="Moved away"
        )
        participant_withdraw_by_link(token=withdraw_token_make(participant=waiting), site_url=SITE)

    assert smtp_server.delivered == []
    run_worker()

    subjects = sorted(message["Subject"] for message in smtp_server.to(COORDINATORS))
    assert subjects[0] == f"A slot is free in {study.short_title}"
    assert waiting.screening_number in subjects[1]
    assert {r.status for r in DBTaskResult.objects.all()} == {"SUCCESSFUL"}
