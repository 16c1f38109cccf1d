"""A visit's email goes through the database queue like every email: ids only in the task,
retried when the mail server refuses, and an email overtaken by a later change not sent."""

import json

import pytest
from django_tasks_db.models import DBTaskResult
from icalendar import Calendar

from recruitment.notifications import tasks
from recruitment.visits.services import visit_book, visit_rebook
from tests.notifications.conftest import run_worker
from tests.visits.conftest import at

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("database_queue")]

PATIENT = "ann.lee@example.com"


@pytest.fixture
def quiet(consented, smtp_server):
    """The participant's earlier emails (their confirmation) sent and forgotten."""
    run_worker()
    smtp_server.attempts.clear()
    smtp_server.delivered.clear()
    return consented


def book(participant, planned, by):
    return visit_book(
        participant=participant,
        planned_visit=planned,
        starts_at=at(10),
        place=planned.place,
        with_whom="Dr. Rivera",
        by=by,
    )


def event_in(message):
    (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    (event,) = Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
    return event


def test_a_refused_visit_email_is_sent_again_and_delivered_once(
    quiet, plan, coordinator, smtp_server
):
    smtp_server.refusals = 1
    visit = book(quiet, plan["screening"], coordinator)

    run_worker()

    assert smtp_server.attempts[PATIENT] == 2
    (message,) = smtp_server.to(PATIENT)
    assert event_in(message)["SEQUENCE"] == 0
    task_rows = DBTaskResult.objects.filter(task_path=tasks.visit_email_send.module_path)
    arguments = [row.args_kwargs["kwargs"] for row in task_rows.order_by("enqueued_at")]
    assert arguments == [
        {"visit_id": visit.pk, "sequence": 0},
        {"visit_id": visit.pk, "sequence": 0, "attempt": 2},
    ]
    stored = json.dumps([row.args_kwargs for row in task_rows])
    assert PATIENT not in stored and "Rivera" not in stored


def test_a_visit_moved_before_its_email_went_out_sends_only_the_new_time(
    quiet, plan, coordinator, smtp_server
):
    visit = book(quiet, plan["screening"], coordinator)
    visit_rebook(
        visit=visit,
        starts_at=at(11, 14),
        place=visit.place,
        with_whom="Dr. Rivera",
        by=coordinator,
        reason="Asked for an afternoon",
    )

    run_worker()

    (message,) = smtp_server.to(PATIENT)
    event = event_in(message)
    assert (event["SEQUENCE"], event.decoded("DTSTART")) == (1, at(11, 14))
    assert "moved" in message["Subject"]
