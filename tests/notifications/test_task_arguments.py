"""What the queue keeps: a task's arguments are ids, the site's address and an attempt count,
never a name, an address, a phone number, a birth date, a health answer or a patient's link.
Checked on the stored rows of the database queue, before and after the worker ran them
(retries included)."""

import json

import pytest
from django.test import TestCase
from django_tasks_db.models import DBTaskResult

from recruitment.intake import drafts
from recruitment.intake.withdraw import participant_withdraw_by_link, withdraw_token_make
from recruitment.models import Draft, Status
from recruitment.screening import services as screening
from tests.factories import LDN_ELIGIBLE_ANSWERS, StudyFactory, applicant, submit, walk
from tests.notifications.conftest import run_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("database_queue")]

PERSON = {
    "first_name": "Zebedee",
    "last_name": "Quillfeather",
    "email": "zebedee.quillfeather@example.org",
    "phone": "205-555-0199",
}
PRIVATE = [
    "Zebedee",
    "Quillfeather",
    "zebedee",
    "555-0199",
    "5550199",
    "1980-04-28",
    "1980",
    "35203",
    "pem",
    "orthostatic",
    "diagnosis",
]
ALLOWED_ARGUMENTS = {"participant_id", "study_id", "draft_id", "link_hash", "enrolled"}
ALLOWED_ARGUMENTS |= {"site_url", "attempt", "pending"}


def stored() -> str:
    """Everything the queue keeps about every task, as text."""
    return json.dumps(
        [
            [r.args_kwargs, r.return_value, r.traceback, r.exception_class_path]
            for r in DBTaskResult.objects.all()
        ]
    )


def test_no_task_row_holds_personal_data_health_answers_or_links(smtp_server, coordinator):
    study = StudyFactory(prefix="PII", target_enrolment=1, withdrawal_frees_slot=True)
    with TestCase.captureOnCommitCallbacks(execute=True):
        participant = submit(study, answers=LDN_ELIGIBLE_ANSWERS, **PERSON)
    withdraw_token = withdraw_token_make(participant=participant)
    enrolled = walk(applicant(study), Status.ENROLLED, by=coordinator)
    screening.participant_transition(
        participant=enrolled, to=Status.WITHDRAWN, by=coordinator, reason="Moved away"
    )
    participant_withdraw_by_link(token=withdraw_token, site_url="http://testserver/")
    draft = drafts.draft_save(
        study=study,
        email=PERSON["email"],
        data={"first_name": [PERSON["first_name"]], "q_diagnosis": ["yes"]},
        site_url="http://testserver/",
    )
    kinds = {r.task_path.rsplit(".", 1)[1] for r in DBTaskResult.objects.all()}
    assert kinds == {
        "submission_emails_send",
        "slot_freed_notice_send",
        "withdraw_notice_send",
        "draft_link_send",
    }

    smtp_server.refusals = 1  # each address refused once: retries' rows are checked too
    run_worker()

    assert {r.status for r in DBTaskResult.objects.all()} == {"SUCCESSFUL"}
    retries = [r for r in DBTaskResult.objects.all() if r.args_kwargs["kwargs"].get("attempt")]
    assert retries  # each address refused once: the first email to each went again
    for row in DBTaskResult.objects.all():
        assert set(row.args_kwargs["kwargs"]) <= ALLOWED_ARGUMENTS
        assert row.args_kwargs["args"] == []
    text = stored()
    for private in PRIVATE:
        assert private not in text, private
    # The withdraw link (its signed payload) and every link to the saved form are not there.
    assert withdraw_token.split(":")[0] not in text
    (link_email,) = [
        m for m in smtp_server.to(PERSON["email"]) if "/interest/resume/" in m.get_content()
    ]
    link_token = link_email.get_content().split("/interest/resume/")[1].split("/")[0]
    assert link_token not in text
    assert Draft.objects.get(pk=draft.pk).token_hash == drafts.token_hash(link_token)
