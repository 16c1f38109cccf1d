"""A text is a task with retries, as an email is: the database queue's worker sends it to
Twilio (the stand-in on loopback); a 5xx is tried again after TEXT_RETRY_DELAYS and the text
delivered once; a 4xx, or the last attempt refused, gives it up with an error that names
neither the number nor the body. A Twilio "unsubscribed" refusal records the STOP."""

import logging

import pytest
from django.test import TestCase
from django_tasks_db.models import DBTaskResult

from recruitment.models import OptOutHow, Reminder, Status, TextOptOut
from recruitment.visits.services import visit_book
from tests.factories import LDN_ELIGIBLE_ANSWERS, submit, walk
from tests.notifications.conftest import run_worker
from tests.visits.conftest import at

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("database_queue")]

NUMBER = "+12055550134"


@pytest.fixture
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.EMAIL_RETRY_DELAYS = [0, 0, 0]
    settings.TEXT_RETRY_DELAYS = [0, 0, 0]


@pytest.fixture
def booked(time_machine, ldn_study, coordinator, twilio):
    """A visit booked for someone who chose texts: its email and text are queued."""
    time_machine.move_to(at(7, 9), tick=True)
    person = walk(
        submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS, preferred_contact="text"),
        Status.CONSENTED,
        by=coordinator,
    )
    planned = ldn_study.planned_visits.get(code="screening")
    with TestCase.captureOnCommitCallbacks(execute=True):
        return visit_book(
            participant=person,
            planned_visit=planned,
            starts_at=at(8, 10),
            place=planned.place,
            with_whom="Dr. Rivera",
            by=coordinator,
        )


def text_rows():
    return list(
        DBTaskResult.objects.filter(task_path__endswith="visit_notice_text_send").order_by(
            "enqueued_at"
        )
    )


def delivered(twilio) -> list[dict]:
    return [form for _path, auth_ok, form in twilio.received if auth_ok]


def test_a_provider_that_fails_twice_then_accepts_gets_the_text_once(booked, twilio):
    ok = (201, {"sid": "SM" + "b" * 32})
    twilio.answers = [(503, {"code": 20503}), (500, {"code": 20500}), ok]

    run_worker()

    assert len(delivered(twilio)) == 3
    assert [r.status for r in text_rows()] == ["SUCCESSFUL"] * 3
    assert text_rows()[-1].return_value == "sent SM" + "b" * 32
    assert delivered(twilio)[-1]["To"] == NUMBER


def test_a_refusal_for_good_is_not_retried_and_the_error_names_no_number(booked, twilio, caplog):
    twilio.answers = [(400, {"code": 21211, "message": f"Invalid 'To' {NUMBER}"})]

    with caplog.at_level(logging.INFO):
        run_worker()

    (row,) = text_rows()
    assert row.status == "FAILED"
    assert "TextNotDelivered" in row.exception_class_path
    assert NUMBER not in (row.traceback or "")
    assert "Twilio error 21211" in (row.traceback or "")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert NUMBER not in logged
    assert "Visit text about" in logged


def test_the_last_refused_attempt_gives_the_text_up(booked, twilio, settings):
    twilio.answers = [(503, {"code": 20503})]

    run_worker()

    rows = text_rows()
    assert len(rows) == len(settings.TEXT_RETRY_DELAYS) + 1
    assert rows[-1].status == "FAILED"


def test_twilios_unsubscribed_refusal_records_the_stop(booked, twilio):
    twilio.answers = [(400, {"code": 21610, "message": "Attempt to send to unsubscribed"})]

    run_worker()

    opt_out = TextOptOut.objects.get(phone=NUMBER)
    assert (opt_out.stopped, opt_out.how) == (True, OptOutHow.REPLY)


def test_a_reminder_text_given_up_goes_by_email_instead(booked, twilio):
    from django.core import mail

    from recruitment.notifications.reminders import reminders_send
    from tests.visits.conftest import at

    twilio.answers = [(201, {"sid": "SM" + "c" * 32})]
    run_worker()  # the booking's email and text
    mail.outbox.clear()
    twilio.answers = [(400, {"code": 21614, "message": "Not a mobile number"})]

    reminders_send(now=at(7, 9, 30))
    run_worker()

    assert [m.subject for m in mail.outbox] == ["Reminder: your study visit on Dec 8, 2026"]
    assert sorted(Reminder.objects.values_list("channel", "outcome")) == [
        ("email", "sent"),
        ("text", "text given up: sent by email instead"),
    ]
