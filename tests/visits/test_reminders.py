"""Reminders, each exactly once: a visit's reminder the day before, by text for those who
chose texts (and have not said STOP), by email otherwise; the coordinators' email of the
follow-ups due, one a study a day, with screening numbers only. Two schedulers at once
still send each once."""

import datetime as dt
import threading

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import TestCase

from accounts import roles
from recruitment import texts
from recruitment.models import OptOutHow, Reminder, ReminderKind, Status
from recruitment.notifications.reminders import (
    VISIT_MOVED,
    reminders_send,
    visit_reminder_claim,
)
from recruitment.screening import services as screening
from recruitment.texts.services import text_opt_out_record
from recruitment.visits.services import visit_book, visit_cancel
from tests.factories import LDN_ELIGIBLE_ANSWERS, staff, submit, walk
from tests.visits.conftest import at

pytestmark = pytest.mark.django_db

# The visit: Tuesday 8 December 2026, 10:00 at the site; the reminder goes on the 7th.
VISIT_AT = at(8, 10)
# The study's name is allowed (it is what the visit is for); nothing of the person's health is.
HEALTH_WORDS = ("opioid", "naltrexone", "eligib", "pregnan", "answer", "diagnos", "symptom")


def book(participant, plan, coordinator, starts_at=VISIT_AT):
    return visit_book(
        participant=participant,
        planned_visit=plan["screening"],
        starts_at=starts_at,
        place=plan["screening"].place,
        with_whom="Dr. Rivera",
        by=coordinator,
    )


@pytest.fixture
def texter(now, ldn_study, coordinator):
    """A consented participant who chose texts."""
    person = submit(
        ldn_study,
        answers=LDN_ELIGIBLE_ANSWERS,
        preferred_contact="text",
        email="tex@example.com",
        first_name="Tex",
    )
    return walk(person, Status.CONSENTED, by=coordinator)


def run(when, **kwargs):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return reminders_send(now=when, **kwargs)


def sent_after_booking(function, *args):
    """Book (its email and text sent), then forget them: only the reminders are left."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        visit = function(*args)
    mail.outbox.clear()
    texts.outbox.clear()
    return visit


# -- Visit reminders ----------------------------------------------------------------------------
def test_the_day_before_the_visit_the_reminder_goes_by_email_with_no_health_data(
    consented, plan, coordinator
):
    sent_after_booking(book, consented, plan, coordinator)

    run(at(7, 9))

    (email,) = mail.outbox
    assert email.to == [consented.email]
    assert email.subject == "Reminder: your study visit on Dec 8, 2026"
    body = email.body
    for shown in ("Screening visit", "10 a.m.", plan["screening"].place, "Dr. Rivera"):
        assert shown in body
    assert consented.study.contact_phone in body
    assert not any(word in body.replace(consented.study.title, "") for word in HEALTH_WORDS)
    assert texts.outbox == []
    (reminder,) = Reminder.objects.all()
    assert (reminder.kind, reminder.channel, reminder.sent_at is not None) == (
        ReminderKind.VISIT,
        "email",
        True,
    )


def test_no_reminder_before_the_morning_hour_nor_two_days_ahead(consented, plan, coordinator):
    sent_after_booking(book, consented, plan, coordinator, at(9, 10))

    run(at(7, 23))  # two days before
    run(at(8, 8, 59))  # the day before, before 9:00
    assert mail.outbox == []

    run(at(8, 9))
    assert len(mail.outbox) == 1


def test_the_days_before_are_a_setting(consented, plan, coordinator, settings):
    settings.VISIT_REMINDER_DAYS_BEFORE = 2
    sent_after_booking(book, consented, plan, coordinator, at(9, 10))

    run(at(7, 9))

    assert len(mail.outbox) == 1


def test_someone_who_chose_texts_gets_the_reminder_by_text_only(texter, plan, coordinator):
    sent_after_booking(book, texter, plan, coordinator)

    run(at(7, 9))

    (text,) = texts.outbox
    assert text.to == "+12055550134"
    assert text.body == (
        "LDN for ME/CFS: a reminder of your visit on Dec 8, 2026 at 10 a.m., at "
        f"{plan['screening'].place}. Can't come? Call {texter.study.contact_phone}. "
        "Reply STOP to stop texts."
    )
    assert "Reply STOP to stop texts." in text.body
    assert "Tex" not in text.body
    assert mail.outbox == []


def test_a_reminder_text_in_spanish_for_a_spanish_speaker(texter, plan, coordinator):
    type(texter).objects.filter(pk=texter.pk).update(language="es")
    texter.refresh_from_db()
    sent_after_booking(book, texter, plan, coordinator)

    run(at(7, 9))

    (text,) = texts.outbox
    assert "recordatorio" in text.body
    assert "Responda STOP" in text.body


def test_after_stop_the_reminder_goes_by_email(texter, plan, coordinator):
    sent_after_booking(book, texter, plan, coordinator)
    text_opt_out_record(phone=texter.phone, how=OptOutHow.REPLY)

    run(at(7, 9))

    assert texts.outbox == []
    assert [m.to for m in mail.outbox] == [[texter.email]]


def test_a_stop_between_the_claim_and_the_send_is_honoured_at_send_time(texter, plan, coordinator):
    visit = sent_after_booking(book, texter, plan, coordinator)
    with TestCase.captureOnCommitCallbacks(execute=False) as queued:
        visit_reminder_claim(visit=visit, channel="text")
    text_opt_out_record(phone=texter.phone, how=OptOutHow.REPLY)

    with TestCase.captureOnCommitCallbacks(execute=True):
        for callback in queued:
            callback()

    assert texts.outbox == []
    assert [m.to for m in mail.outbox] == [[texter.email]]
    assert sorted(Reminder.objects.values_list("channel", flat=True)) == ["email", "text"]


def test_the_scheduler_run_again_sends_nothing_twice(texter, consented, plan, coordinator):
    sent_after_booking(book, texter, plan, coordinator)
    sent_after_booking(book, consented, plan, coordinator)

    first = run(at(7, 9))
    second = run(at(7, 9, 5))

    assert first["visit reminders"] == 2
    assert second["visit reminders"] == 0
    assert len(texts.outbox) == 1
    assert len(mail.outbox) == 1


def test_a_cancelled_visit_gets_no_reminder(consented, plan, coordinator):
    visit = sent_after_booking(book, consented, plan, coordinator)
    with TestCase.captureOnCommitCallbacks(execute=True):
        visit_cancel(visit=visit, by=coordinator, reason="Asked to")
    mail.outbox.clear()

    run(at(7, 9))

    assert mail.outbox == []


def test_the_command_queues_the_reminders_due(consented, plan, coordinator, capsys):
    sent_after_booking(book, consented, plan, coordinator)

    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("send_reminders")

    assert "visit reminders 1" in capsys.readouterr().out
    assert len(mail.outbox) == 1


# -- A visit moved after its reminder -------------------------------------------------------------
def move(visit, coordinator, starts_at):
    from recruitment.visits.services import visit_rebook

    return sent_after_booking(
        lambda: visit_rebook(
            visit=visit,
            starts_at=starts_at,
            place=visit.place,
            with_whom=visit.with_whom,
            by=coordinator,
            reason="Asked to move it",
        )
    )


def reminders_sent():
    return [m for m in mail.outbox if m.subject.startswith("Reminder:")]


def test_a_visit_moved_to_another_day_after_its_reminder_gets_one_reminder_for_the_new_day(
    consented, plan, coordinator
):
    visit = sent_after_booking(book, consented, plan, coordinator)
    run(at(7, 9))
    assert len(reminders_sent()) == 1
    mail.outbox.clear()

    move(visit, coordinator, at(10, 14))
    run(at(8, 9))  # two days before the new date: not yet
    run(at(9, 9))
    run(at(9, 15))  # the scheduler again, the same day

    (reminder,) = reminders_sent()
    assert reminder.subject == "Reminder: your study visit on Dec 10, 2026"
    assert "2 p.m." in reminder.body
    assert sorted(Reminder.objects.values_list("day", flat=True)) == [
        dt.date(2026, 12, 8),
        dt.date(2026, 12, 10),
    ]


def test_a_visit_moved_within_the_same_day_after_its_reminder_gets_no_second_one(
    consented, plan, coordinator
):
    visit = sent_after_booking(book, consented, plan, coordinator)
    run(at(7, 9))
    mail.outbox.clear()

    move(visit, coordinator, at(8, 15))  # its own email says the new time
    run(at(7, 10))

    assert reminders_sent() == []
    assert Reminder.objects.count() == 1


def test_a_reminder_claimed_before_the_visit_moved_day_is_not_sent_the_new_day_s_is(
    consented, plan, coordinator
):
    visit = sent_after_booking(book, consented, plan, coordinator)
    with TestCase.captureOnCommitCallbacks(execute=False) as queued:
        visit_reminder_claim(visit=visit, channel="email")
    move(visit, coordinator, at(10, 14))

    with TestCase.captureOnCommitCallbacks(execute=True):
        for callback in queued:
            callback()
    assert reminders_sent() == []
    assert Reminder.objects.get().outcome == VISIT_MOVED

    run(at(9, 9))
    (reminder,) = reminders_sent()
    assert reminder.subject == "Reminder: your study visit on Dec 10, 2026"


def test_the_database_takes_one_reminder_per_visit_day_and_channel(consented, plan, coordinator):
    visit = sent_after_booking(book, consented, plan, coordinator)
    fields = {"kind": ReminderKind.VISIT, "visit": visit, "study": consented.study}
    Reminder.objects.create(**fields, channel="email", day=dt.date(2026, 12, 8))
    Reminder.objects.create(**fields, channel="text", day=dt.date(2026, 12, 8))
    Reminder.objects.create(**fields, channel="email", day=dt.date(2026, 12, 10))

    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(**fields, channel="email", day=dt.date(2026, 12, 8))


# -- Texts beside the booking emails -------------------------------------------------------------
def test_booking_moving_and_cancelling_send_a_short_text_beside_the_email(
    texter, plan, coordinator
):
    from recruitment.visits.services import visit_rebook

    with TestCase.captureOnCommitCallbacks(execute=True):
        visit = book(texter, plan, coordinator)
    with TestCase.captureOnCommitCallbacks(execute=True):
        visit = visit_rebook(
            visit=visit,
            starts_at=at(9, 14),
            place=visit.place,
            with_whom="Dr. Rivera",
            by=coordinator,
            reason="Asked",
        )
    with TestCase.captureOnCommitCallbacks(execute=True):
        visit_cancel(visit=visit, by=coordinator, reason="Asked")

    booked, moved, cancelled = (text.body for text in texts.outbox)
    assert "your visit is booked for Dec 8, 2026 at 10 a.m." in booked
    assert "your visit has moved to Dec 9, 2026 at 2 p.m." in moved
    assert "is canceled" in cancelled
    assert len(mail.outbox) == 3  # the emails still go
    assert all(not any(word in body for word in HEALTH_WORDS) for body in (booked, moved))


def test_no_booking_text_for_someone_who_chose_email_or_said_stop(
    consented, texter, plan, coordinator
):
    text_opt_out_record(phone=texter.phone, how=OptOutHow.REPLY)
    with TestCase.captureOnCommitCallbacks(execute=True):
        book(consented, plan, coordinator)
        book(texter, plan, coordinator)

    assert texts.outbox == []
    assert len(mail.outbox) == 2


# -- The coordinators' follow-ups ---------------------------------------------------------------
@pytest.fixture
def follow_ups(now, ldn_study, coordinator):
    """Two participants with a follow-up due today, one tomorrow."""
    people = [
        submit(ldn_study, email=f"p{n}@example.com", first_name=f"Pat{n}", phone="")
        for n in range(3)
    ]
    for person, day in zip(people, (7, 7, 8), strict=True):
        screening.contact_attempt_record(
            participant=person,
            by=coordinator,
            at=at(6, 10),
            method="phone",
            outcome="no_answer",
            note="",
            follow_up_on=dt.date(2026, 12, day),
        )
    mail.outbox.clear()
    return people


def test_the_study_coordinators_get_one_email_of_the_follow_ups_due_with_numbers_only(
    follow_ups, coordinator, ldn_study
):
    coordinator.email = "coord@example.edu"
    coordinator.save()
    staff("other-study", roles.COORDINATOR)  # not a member: not written to

    run(at(7, 9))
    run(at(7, 15))

    (email,) = mail.outbox
    assert email.to == ["coord@example.edu"]
    assert email.subject == "LDN for ME/CFS: 2 follow-ups due"
    due = [p.screening_number for p in follow_ups[:2]]
    assert all(number in email.body for number in due)
    assert follow_ups[2].screening_number not in email.body
    assert not any(p.first_name in email.body or p.email in email.body for p in follow_ups)

    run(at(8, 9))  # the next day: the one due then, and the two still open
    assert len(mail.outbox) == 2


# -- Two schedulers at once -----------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_once_send_each_reminder_once(texter, consented, plan, coordinator):
    coordinator.email = "coord@example.edu"
    coordinator.save()
    with TestCase.captureOnCommitCallbacks(execute=True):
        book(texter, plan, coordinator)
        book(consented, plan, coordinator)
    screening.contact_attempt_record(
        participant=consented,
        by=coordinator,
        at=at(6, 10),
        method="phone",
        outcome="no_answer",
        note="",
        follow_up_on=dt.date(2026, 12, 7),
    )
    mail.outbox.clear()
    texts.outbox.clear()
    barrier = threading.Barrier(2)
    errors = []

    def scheduler():
        try:
            barrier.wait()
            reminders_send(now=at(7, 9))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(texts.outbox) == 1
    assert sorted(m.to[0] for m in mail.outbox) == [consented.email, "coord@example.edu"]
    assert Reminder.objects.count() == 3
