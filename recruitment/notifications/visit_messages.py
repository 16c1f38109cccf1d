"""The visit's texts (booked, moved, cancelled, and the reminder) and the reminder's email,
rendered when sent, in the participant's language. What the visit is, when, where and the
team's phone number: no health answer, no word of why, no name but the study's."""

from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone, translation

from recruitment.models import Visit, VisitStatus


def _context(visit: Visit) -> dict:
    planned = visit.planned_visit
    return {
        "visit": visit,
        "participant": visit.participant,
        "study": visit.participant.study,
        "name": planned.text.name,
        "place": planned.text.place if visit.place == planned.place else visit.place,
        "start": timezone.localtime(visit.starts_at),
        "cancelled": visit.status == VisitStatus.CANCELLED,
        "moved": visit.sequence > 0 and visit.status == VisitStatus.BOOKED,
    }


def _text(template: str, visit: Visit) -> str:
    with translation.override(visit.participant.language):
        body = render_to_string(f"recruitment/text/{template}", _context(visit))
    return " ".join(body.split())


def visit_notice_text(visit: Visit) -> str:
    """The short text beside the booking email: booked, moved or cancelled."""
    return _text("visit_notice.txt", visit)


def visit_reminder_text(visit: Visit) -> str:
    return _text("visit_reminder.txt", visit)


def visit_reminder_email(visit: Visit) -> EmailMessage | None:
    """The reminder by email; None when there is nobody to write to (erased)."""
    if not visit.participant.email:
        return None
    with translation.override(visit.participant.language):
        context = _context(visit)
        subject = render_to_string("recruitment/email/visit_reminder_subject.txt", context)
        body = render_to_string("recruitment/email/visit_reminder.txt", context)
    return EmailMessage(" ".join(subject.split()), body, None, [visit.participant.email])
