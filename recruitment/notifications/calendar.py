"""The calendar file (.ics, RFC 5545) attached to a visit's email, built with `icalendar`.

One calendar entry per visit: its UID never changes, and its SEQUENCE is the visit's, one
higher at each rebooking or cancellation, so the participant's calendar replaces the entry it
holds (METHOD:REQUEST) or removes it (METHOD:CANCEL). Times carry the site's time zone
(TZID, with its VTIMEZONE). The summary names the visit and the study's public short title;
nothing else about the participant is in it but the address the email goes to."""

import datetime
from email.mime.text import MIMEText
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from recruitment.models import Visit, VisitStatus

PRODID = "-//ldn-trial//Study visits//EN"
UID_DOMAIN = "visits.ldn-trial"
REQUEST = "REQUEST"
CANCEL = "CANCEL"
FILENAME = "visit.ics"


def visit_uid(visit: Visit) -> str:
    return f"{visit.calendar_uid}@{UID_DOMAIN}"


def visit_method(visit: Visit) -> str:
    return CANCEL if visit.status == VisitStatus.CANCELLED else REQUEST


def visit_calendar(
    visit: Visit, *, summary: str, description: str, now: datetime.datetime | None = None
) -> bytes:
    """The visit's calendar entry as it stands, in the site's time zone. `summary` and
    `description` are already in the participant's language."""
    zone = ZoneInfo(settings.TIME_ZONE)
    study = visit.participant.study
    method = visit_method(visit)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", visit_uid(visit))
    event.add("sequence", visit.sequence)
    event.add("dtstamp", (now or timezone.now()).astimezone(datetime.UTC))
    event.add("dtstart", visit.starts_at.astimezone(zone))
    event.add("dtend", visit.ends_at.astimezone(zone))
    event.add("summary", summary)
    event.add("location", visit.place)
    event.add("description", description)
    event.add("status", "CANCELLED" if method == CANCEL else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{study.contact_email}")
    organizer.params["cn"] = vText(study.text.contact_name)
    event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{visit.participant.email}")
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["rsvp"] = vText("FALSE")
    event.add("attendee", attendee)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def visit_calendar_part(ics: bytes, *, method: str) -> MIMEText:
    """The attachment as mail clients expect an invitation: text/calendar with its method."""
    part = MIMEText(ics.decode("utf-8"), "calendar", "utf-8")
    part.set_param("method", method)
    part.add_header("Content-Disposition", "attachment", filename=FILENAME)
    return part
