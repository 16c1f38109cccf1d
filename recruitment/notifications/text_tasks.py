"""The short text beside a visit's email (booked, moved, cancelled) for a participant who
chose texts. Queued by the visit services with the email; whether a text may go (texts on,
a number, no STOP) is asked when it is sent. The email goes either way."""

from django_tasks import task

from recruitment.models import ContactMethod, Visit, VisitStatus
from recruitment.notifications.tasks import NOBODY, task_enqueue
from recruitment.notifications.text_delivery import text_deliver
from recruitment.notifications.visit_messages import visit_notice_text
from recruitment.texts.services import text_allowed

NO_TEXT = "no text: texts off, no number, or STOP"


def visit_notice_text_enqueue(visit: Visit) -> None:
    """Queue the text beside the visit's email when the participant chose texts."""
    if visit.participant.preferred_contact == ContactMethod.TEXT:
        task_enqueue(visit_notice_text_send, visit_id=visit.pk, sequence=visit.sequence)


@task()
def visit_notice_text_send(*, visit_id: int, sequence: int, attempt: int = 1) -> str:
    """As the visit's email: rendered as the visit stands, and not sent when a later change
    asked for its own (the participant never gets an older time after a newer one)."""
    visit = (
        Visit.objects.select_related("participant__study", "planned_visit")
        .filter(pk=visit_id)
        .first()
    )
    if visit is None or visit.status in (VisitStatus.ATTENDED, VisitStatus.MISSED):
        return NOBODY
    if visit.sequence != sequence:
        return "superseded by a later change"
    participant = visit.participant
    if participant.preferred_contact != ContactMethod.TEXT or not text_allowed(
        participant=participant
    ):
        return NO_TEXT
    return text_deliver(
        task=visit_notice_text_send,
        to=participant.phone,
        body=visit_notice_text(visit),
        about=f"Visit text about {participant.screening_number}",
        attempt=attempt,
        ids={"visit_id": visit_id, "sequence": sequence},
    )
