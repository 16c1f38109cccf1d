"""The emails, rendered from what the database holds when they are sent. Patients get their
own language (the participant's or the draft's `language`, as chosen on the form); staff
notices are in the site's language and carry a screening number and a staff link, never a
name, an address or a health answer."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from recruitment.links import (
    INVITATION_NO,
    INVITATION_YES,
    invitation_path,
    registry_leave_path,
    withdraw_path,
)
from recruitment.models import (
    Draft,
    Participant,
    Person,
    RegistryInvitation,
    Study,
    Unblinding,
    Visit,
    VisitStatus,
)
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


def registry_footer(person: Person, *, site_url: str) -> dict:
    """The context of the footer every patient email to a registry member ends with
    (templates/recruitment/email/registry_footer.txt): the signed link to leave the registry,
    made now from the person's current nonce; empty for anyone not in the registry."""
    if not person.in_registry or not person.registry_nonce:
        return {}
    return {
        "registry_leave_url": f"{_site(site_url)}{registry_leave_path(person=person)}",
        "registry_leave_days": settings.REGISTRY_LEAVE_LINK_MAX_AGE_DAYS,
    }


def confirmation(participant: Participant, *, site_url: str) -> EmailMessage:
    """The patient's confirmation: their screening number, what happens next and their signed
    withdraw link (made now, from the participant's current nonce), and for a registry member
    the link to leave the registry. No health answer."""
    context = {
        "participant": participant,
        "study": participant.study,
        "withdraw_url": f"{_site(site_url)}{withdraw_path(participant=participant)}",
        "withdraw_days": settings.WITHDRAW_LINK_MAX_AGE_DAYS,
        **registry_footer(participant.person, site_url=site_url),
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


def registry_invitation(invitation: RegistryInvitation, *, site_url: str) -> EmailMessage:
    """A registry member's invitation, in their language, plain text with an HTML copy whose
    links are buttons: a new study may fit them, its public title and what it involves, and
    the two signed links (made now), and the link to leave the registry. No health data, and
    nothing about why they match."""
    match = invitation.match
    person, study = match.person, match.study
    yes_path = invitation_path(invitation=invitation, response=INVITATION_YES)
    no_path = invitation_path(invitation=invitation, response=INVITATION_NO)
    context = {
        "person": person,
        "study": study,
        "yes_url": f"{_site(site_url)}{yes_path}",
        "no_url": f"{_site(site_url)}{no_path}",
        "days": settings.REGISTRY_INVITATION_LINK_MAX_AGE_DAYS,
        "language": person.language,
        **registry_footer(person, site_url=site_url),
    }
    with translation.override(person.language):
        subject = render_to_string("recruitment/email/registry_invitation_subject.txt", context)
        body = render_to_string("recruitment/email/registry_invitation.txt", context)
        html = render_to_string("recruitment/email/registry_invitation.html", context)
    message = EmailMultiAlternatives(" ".join(subject.split()), body, None, [person.email])
    message.attach_alternative(html, "text/html")
    return message


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


# Who hears of an emergency unblinding: the study's members who may see arms or unblind.
UNBLINDING_READERS = ("manage_allocation", "unblind_participant")


def unblinding_recipients(unblinding: Unblinding) -> list[str]:
    """The addresses of the study's unblinded statisticians and investigators, but the one who
    unblinded, read when the email is sent (1 query)."""
    user_model = get_user_model()
    holders = Q(
        groups__permissions__codename__in=UNBLINDING_READERS,
        groups__permissions__content_type__app_label="recruitment",
    ) | Q(
        user_permissions__codename__in=UNBLINDING_READERS,
        user_permissions__content_type__app_label="recruitment",
    )
    return sorted(
        set(
            user_model.objects.filter(holders, studies=unblinding.participant.study_id)
            .filter(is_active=True, is_staff=True)
            .exclude(pk=unblinding.by_id)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )


def unblinding_notice(unblinding: Unblinding, *, site_url: str) -> EmailMessage | None:
    """The notice of an emergency unblinding, in the site's language; None when nobody is to
    be told. No arm, no name: the screening number, the participant ID, who, when, a link."""
    recipients = unblinding_recipients(unblinding)
    if not recipients:
        return None
    study = unblinding.participant.study
    path = reverse("allocation:unblindings", kwargs={"slug": study.slug})
    context = {
        "unblinding": unblinding,
        "participant": unblinding.participant,
        "study": study,
        "by": unblinding.by.get_username(),
        "at": timezone.localtime(unblinding.at),
        "report_url": f"{_site(site_url)}{path}",
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("recruitment/email/unblinding_subject.txt", context)
        body = render_to_string("recruitment/email/unblinding.txt", context)
    return EmailMessage(" ".join(subject.split()), body, None, recipients)
