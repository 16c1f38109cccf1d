"""The emails, rendered from what the database holds when they are sent. Patients get their
own language (the participant's or the draft's `language`, as chosen on the form); staff
notices are in the site's language and carry a screening number and a staff link, never a
name, an address or a health answer."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from recruitment.links import withdraw_path
from recruitment.models import Draft, Participant, Study, Visit, VisitStatus
from recruitment.notifications.calendar import (
    visit_calendar,
    visit_calendar_part,
    visit_method,
)


def _site(site_url: str) -> str:
    return site_url.rstrip("/")


def _staff_url(participant_id: int, site_url: str) -> str:
    path = reverse("admin:recruitment_participant_change", args=[participant_id])
    return f"{_site(site_url)}{path}"


def _coordinators() -> list[str]:
    return list(settings.COORDINATOR_EMAILS)


def confirmation(participant: Participant, *, site_url: str) -> EmailMessage:
    """The patient's confirmation: their screening number, what happens next and their signed
    withdraw link (made now, from the participant's current nonce). No health answer."""
    context = {
        "participant": participant,
        "study": participant.study,
        "withdraw_url": f"{_site(site_url)}{withdraw_path(participant=participant)}",
        "withdraw_days": settings.WITHDRAW_LINK_MAX_AGE_DAYS,
    }
    with translation.override(participant.language):
        subject = render_to_string("recruitment/email/confirmation_subject.txt", context)
        body = render_to_string("recruitment/email/confirmation.txt", context)
    return EmailMessage(subject.strip(), body, None, [participant.email])


def new_interest_notice(participant: Participant, *, site_url: str) -> EmailMessage | None:
    """The coordinators' notice of a new submission; None when no coordinator address is set."""
    if not _coordinators():
        return None
    context = {
        "participant": participant,
        "study": participant.study,
        "staff_url": _staff_url(participant.pk, site_url),
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("recruitment/email/coordinator_subject.txt", context)
        body = render_to_string("recruitment/email/coordinator.txt", context)
    return EmailMessage(subject.strip(), body, None, _coordinators())


def withdraw_notice(
    participant: Participant, *, enrolled: bool, site_url: str
) -> EmailMessage | None:
    """The coordinators' notice that a patient used their withdraw link (declined, or enrolled
    and to be contacted); None when no coordinator address is set."""
    if not _coordinators():
        return None
    context = {
        "participant": participant,
        "study": participant.study,
        "staff_url": _staff_url(participant.pk, site_url),
        "enrolled": enrolled,
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("recruitment/email/withdraw_coordinator_subject.txt", context)
        body = render_to_string("recruitment/email/withdraw_coordinator.txt", context)
    return EmailMessage(subject.strip(), body, None, _coordinators())


def slot_freed_notice(study: Study) -> EmailMessage | None:
    """The coordinators' notice that an enrolment slot is free, naming who is next on the
    waitlist when it is sent (screening number only); None when no coordinator address is set."""
    if not _coordinators():
        return None
    waiting = Participant.objects.filter(study=study).waitlist().first()
    next_line = (
        f"Next on the waitlist: {waiting.screening_number}."
        if waiting
        else "Nobody is on the waitlist."
    )
    return EmailMessage(
        f"A slot is free in {study.short_title}",
        f"An enrolment slot in {study.title} is free again. {next_line}\n",
        None,
        _coordinators(),
    )


def draft_link(draft: Draft, *, token: str, site_url: str) -> EmailMessage:
    """The link back to a saved form, in the patient's language. No answers in it: only the
    study, the link and how long it works."""
    path = reverse("recruitment:draft_resume", kwargs={"slug": draft.study.slug, "token": token})
    context = {
        "study": draft.study,
        "resume_url": f"{_site(site_url)}{path}",
        "days": settings.DRAFT_MAX_AGE_DAYS,
        "expires_on": timezone.localtime(draft.expires_at).date(),
    }
    with translation.override(draft.language):
        subject = render_to_string("recruitment/email/draft_link_subject.txt", context)
        body = render_to_string("recruitment/email/draft_link.txt", context)
    return EmailMessage(" ".join(subject.split()), body, None, [draft.email])


def visit_booking(visit: Visit) -> EmailMessage | None:
    """The participant's email about a visit as it now stands: booked (sequence 0), moved
    (an update) or cancelled, in their language, with the calendar file. What the visit is,
    when, where, with whom and the team's phone; no health answer, no word of why. None when
    there is nothing to say (attended or missed) or nobody to write to (erased)."""
    participant = visit.participant
    if visit.status in (VisitStatus.ATTENDED, VisitStatus.MISSED) or not participant.email:
        return None
    study = participant.study
    with translation.override(participant.language):
        start = timezone.localtime(visit.starts_at)
        context = {
            "visit": visit,
            "participant": participant,
            "study": study,
            "name": visit.planned_visit.text.name,
            "place": visit.planned_visit.text.place
            if visit.place == visit.planned_visit.place
            else visit.place,
            "start": start,
            "cancelled": visit.status == VisitStatus.CANCELLED,
            "moved": visit.sequence > 0 and visit.status == VisitStatus.BOOKED,
        }
        subject = render_to_string("recruitment/email/visit_subject.txt", context)
        body = render_to_string("recruitment/email/visit.txt", context)
        summary = render_to_string("recruitment/email/visit_calendar_summary.txt", context)
        description = render_to_string("recruitment/email/visit_calendar_description.txt", context)
    message = EmailMessage(" ".join(subject.split()), body, None, [participant.email])
    method = visit_method(visit)
    ics = visit_calendar(visit, summary=" ".join(summary.split()), description=description.strip())
    message.attach(visit_calendar_part(ics, method=method))
    return message
