"""The participant's email about a visit, with its calendar file: booked, moved (an update of
the same calendar entry) and cancelled, in their language, with no health data."""

import datetime as dt

import pytest
from django.core import mail
from icalendar import Calendar

from recruitment.models import Participant, VisitStatus
from recruitment.notifications.calendar import UID_DOMAIN
from recruitment.visits.services import visit_book, visit_cancel, visit_outcome_record, visit_rebook
from tests.readability import fk_grade, hardest_sentences, prose
from tests.visits.conftest import SITE, at

pytestmark = pytest.mark.django_db

MAX_GRADE = 8.0


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """Run a service and return the emails it sent once its transaction committed."""

    def run(service, **kwargs):
        before = len(mail.outbox)
        with django_capture_on_commit_callbacks(execute=True):
            result = service(**kwargs)
        return result, mail.outbox[before:]

    return run


@pytest.fixture
def booked(send, consented, plan, coordinator):
    visit, (email,) = send(
        visit_book,
        participant=consented,
        planned_visit=plan["screening"],
        starts_at=at(10, 10, 30),
        place=plan["screening"].place,
        with_whom="Dr. Rivera",
        by=coordinator,
    )
    return visit, email


def calendar_of(email) -> Calendar:
    (attachment,) = email.attachments
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename() == "visit.ics"
    calendar = Calendar.from_ical(attachment.get_payload(decode=True))
    return calendar, attachment.get_param("method")


def event_of(calendar):
    (event,) = calendar.walk("VEVENT")
    return event


def test_the_booking_email_says_what_when_where_with_whom_and_the_teams_phone(
    booked, consented, ldn_study
):
    visit, email = booked

    assert email.to == [consented.email]
    assert email.subject == "Your study visit on Dec 10, 2026"
    body = email.body
    assert "Hello Ann," in body
    assert f'Your visit for the study "{ldn_study.title}" is booked.' in body
    assert "What: Screening visit" in body
    assert "When: Dec 10, 2026 at 10:30 a.m. (CST)" in body
    assert f"Where: {visit.place}" in body
    assert "With: Dr. Rivera" in body
    assert ldn_study.contact_phone in body


def test_the_booking_email_holds_no_health_answer_or_diagnosis_word(booked, ldn_study):
    _visit, email = booked
    text = " ".join(
        [email.subject, email.body, email.attachments[0].get_payload(decode=True).decode()]
    )
    for public in (ldn_study.title, ldn_study.short_title, ldn_study.site_name):
        text = text.replace(public, "")

    for word in ("opioid", "pregnan", "fatigue", "ME/CFS", "diagnos", "eligib", "lupus", "hs-CRP"):
        assert word.lower() not in text.lower()


def test_the_calendar_file_is_an_invitation_in_the_sites_time_zone(booked):
    visit, email = booked

    calendar, method = calendar_of(email)
    event = event_of(calendar)
    assert (method, str(calendar["METHOD"])) == ("REQUEST", "REQUEST")
    assert str(event["UID"]) == f"{visit.calendar_uid}@{UID_DOMAIN}"
    assert event["SEQUENCE"] == 0
    start = event.decoded("DTSTART")
    assert start == at(10, 10, 30)
    assert event["DTSTART"].params["TZID"] == "America/Chicago"
    assert event.decoded("DTEND") - start == dt.timedelta(minutes=visit.duration_minutes)
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["America/Chicago"]
    assert str(event["SUMMARY"]) == "Screening visit: LDN for ME/CFS"
    assert str(event["LOCATION"]) == visit.place
    assert str(event["STATUS"]) == "CONFIRMED"


def test_rebooking_sends_an_update_of_the_same_calendar_entry(booked, send, coordinator):
    visit, first = booked

    moved, (email,) = send(
        visit_rebook,
        visit=visit,
        starts_at=at(11, 14),
        place="Room 2",
        with_whom="Dr. Rivera",
        by=coordinator,
        reason="Asked for an afternoon",
    )

    assert email.subject == "Your study visit has moved to Dec 11, 2026"
    assert "has moved. Here are the new details." in email.body
    assert "When: Dec 11, 2026 at 2 p.m. (CST)" in email.body
    calendar, method = calendar_of(email)
    event = event_of(calendar)
    assert (method, str(calendar["METHOD"])) == ("REQUEST", "REQUEST")
    assert str(event["UID"]) == str(event_of(calendar_of(first)[0])["UID"])
    assert event["SEQUENCE"] == 1
    assert event.decoded("DTSTART") == at(11, 14)
    assert str(event["LOCATION"]) == "Room 2"


def test_cancelling_sends_the_cancellation_of_the_calendar_entry(booked, send, coordinator):
    visit, first = booked

    _cancelled, (email,) = send(visit_cancel, visit=visit, by=coordinator, reason="Has the flu")

    assert email.subject == "Your study visit on Dec 10, 2026 is canceled"
    assert "is canceled" in email.body
    assert "Has the flu" not in email.body
    calendar, method = calendar_of(email)
    event = event_of(calendar)
    assert (method, str(calendar["METHOD"])) == ("CANCEL", "CANCEL")
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == str(event_of(calendar_of(first)[0])["UID"])
    assert event["SEQUENCE"] == 1


@pytest.mark.parametrize("outcome", [VisitStatus.ATTENDED, VisitStatus.MISSED])
def test_attended_or_missed_sends_nothing(booked, send, coordinator, time_machine, outcome):
    visit, _email = booked
    time_machine.move_to(at(10, 11), tick=False)

    _marked, emails = send(visit_outcome_record, visit=visit, outcome=outcome, by=coordinator)

    assert emails == []


def test_a_spanish_speaker_gets_the_email_and_calendar_entry_in_spanish(
    send, consented, plan, coordinator
):
    Participant.objects.filter(pk=consented.pk).update(language="es")
    consented.refresh_from_db()

    _visit, (email,) = send(
        visit_book,
        participant=consented,
        planned_visit=plan["baseline-start"],
        starts_at=at(14, 9),
        place=plan["baseline-start"].place,
        with_whom="Dr. Rivera",
        by=coordinator,
    )

    assert email.subject == "Su visita del estudio el 14 de diciembre de 2026"
    assert "Qué: Inicio de las semanas de base" in email.body
    assert "Dónde: Laboratorio del estudio en UAB" in email.body
    assert "Con: Dr. Rivera" in email.body
    event = event_of(calendar_of(email)[0])
    assert str(event["SUMMARY"]).startswith("Inicio de las semanas de base")
    assert event.decoded("DTSTART") == dt.datetime(2026, 12, 14, 9, tzinfo=SITE)


def test_the_email_reads_at_grade_8_or_below(booked):
    _visit, email = booked
    text = prose(email.body.splitlines())

    assert fk_grade(text) <= MAX_GRADE, hardest_sentences(text)
