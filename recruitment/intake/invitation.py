"""A registry member's answer to an invitation, through the signed links in its email.

The links (made in recruitment/links.py) carry the invitation's `nonce` and the answer ("yes"
or "no"), signed with a salt of their own and a timestamp: no id. They work while an
invitation holds the nonce, for REGISTRY_INVITATION_LINK_MAX_AGE_DAYS, while the person is
in the registry: answering clears the nonce, so both links die. "No" declines the match (the
person is not invited to that study again). "Yes" makes the person an applicant of the study
through the interest form's own service (`participant_submit`): their shared answers carried
over (each Answer notes the date and form it came from), the study's new questions answered
on the page; only then does the study team see who they are."""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from recruitment.eligibility import RULES_FROM_CONTACT_DETAILS
from recruitment.intake.services import CarriedOver, ContactDetails, participant_submit
from recruitment.links import INVITATION_NO, INVITATION_SALT, INVITATION_YES
from recruitment.models import (
    AnsweredBy,
    ContactMethod,
    EligibilityCriterion,
    EntrySource,
    InvitationResponse,
    MatchState,
    Participant,
    Person,
    RegistryInvitation,
    RegistryMatch,
    SharedAnswer,
)


class InvitationState(StrEnum):
    INVALID = "invalid"  # tampered, expired, used, or the person left: the page gives no detail
    OPEN = "open"  # the question may be asked (GET), or answered (POST)
    DECLINED = "declined"  # "no" recorded just now
    ACCEPTED = "accepted"  # applied just now


@dataclass(frozen=True)
class InvitationLink:
    """What an invitation page shows: the study, never a name or a contact detail."""

    state: InvitationState
    response: str = ""
    invitation: RegistryInvitation | None = None
    participant: Participant | None = None

    @property
    def study(self):
        return self.invitation.match.study if self.invitation else None


@dataclass(frozen=True)
class CarriedAnswer:
    """A shared answer the person gave before, carried over to a study's criterion."""

    criterion: EligibilityCriterion
    value: Any
    answered_on: date
    source_application_id: int | None


def _token_read(token: str) -> tuple[str, str] | None:
    """The (nonce, answer) a token carries, or None when tampered with or expired."""
    max_age = timedelta(days=settings.REGISTRY_INVITATION_LINK_MAX_AGE_DAYS)
    try:
        payload = signing.loads(token, salt=INVITATION_SALT, max_age=max_age)
    except (signing.BadSignature, ValueError):  # SignatureExpired is a BadSignature
        return None
    if not isinstance(payload, dict):
        return None
    nonce, response = payload.get("n"), payload.get("r")
    if not isinstance(nonce, str) or not nonce or response not in (INVITATION_YES, INVITATION_NO):
        return None
    return nonce, response


def _is_open(invitation: RegistryInvitation | None, nonce: str) -> bool:
    """The invitation's links still work: unused, its match still waiting for the answer,
    its person still in the registry."""
    if invitation is None or invitation.used_at is not None or not invitation.nonce:
        return False
    if not constant_time_compare(invitation.nonce, nonce):
        return False
    if invitation.match.state != MatchState.INVITED:
        return False
    return Person.objects.in_registry().filter(pk=invitation.match.person_id).exists()


def _invitation(nonce: str, *, lock: bool = False) -> RegistryInvitation | None:
    rows = RegistryInvitation.objects.select_related("match__study", "match__person")
    if lock:
        rows = rows.select_for_update(of=("self",))
    return rows.filter(nonce=nonce).first()


def invitation_link_check(*, token: str) -> InvitationLink:
    """What the link would do, without doing it (GET is safe: mail scanners open links)."""
    claim = _token_read(token)
    if claim is None:
        return InvitationLink(InvitationState.INVALID)
    nonce, response = claim
    invitation = _invitation(nonce)
    if not _is_open(invitation, nonce):
        return InvitationLink(InvitationState.INVALID)
    return InvitationLink(InvitationState.OPEN, response, invitation)


def invitation_decline(*, token: str, now=None) -> InvitationLink:
    """The person said "No, thanks" (and confirmed on the page): the match is declined, the
    links die, and the person is never invited to this study again."""
    claim = _token_read(token)
    if claim is None or claim[1] != INVITATION_NO:
        return InvitationLink(InvitationState.INVALID)
    nonce, response = claim
    now = now or timezone.now()
    with transaction.atomic():
        invitation = _invitation(nonce, lock=True)
        if not _is_open(invitation, nonce):
            return InvitationLink(InvitationState.INVALID)
        _answer_record(invitation, response=InvitationResponse.NO, now=now)
        RegistryMatch.objects.filter(pk=invitation.match_id).update(
            state=MatchState.DECLINED, responded_at=now
        )
    return InvitationLink(InvitationState.DECLINED, response, invitation)


def _answer_record(invitation: RegistryInvitation, *, response: str, now) -> None:
    invitation.used_at = now
    invitation.response = response
    invitation.nonce = ""
    invitation._change_reason = f"The person answered {response!r} by the invitation's link"
    invitation.save(update_fields=["used_at", "response", "nonce"])


def carried_answers(*, person: Person, criteria: list[EligibilityCriterion]) -> list[CarriedAnswer]:
    """The person's shared answers to the criteria's shared questions, in the criteria's
    order: what a "yes" carries over. Criteria judged from contact details (age, distance)
    need no answer and carry none."""
    asked = [
        c
        for c in criteria
        if c.shared_question_id is not None
        and c.answered_by == AnsweredBy.PATIENT
        and c.rule_kind not in RULES_FROM_CONTACT_DETAILS
    ]
    if not asked:
        return []
    shared = {
        answer.question_id: answer
        for answer in SharedAnswer.objects.filter(
            person=person, question_id__in={c.shared_question_id for c in asked}
        )
    }
    return [
        CarriedAnswer(
            criterion=c,
            value=shared[c.shared_question_id].value,
            answered_on=shared[c.shared_question_id].answered_on,
            source_application_id=shared[c.shared_question_id].source_application_id,
        )
        for c in asked
        if c.shared_question_id in shared and shared[c.shared_question_id].value is not None
    ]


def contact_from_person(
    person: Person, *, contact_consent: bool, earlier: Participant | None
) -> ContactDetails:
    """The application's contact details: the person's own, and how they liked to be reached
    on their latest application (email when there is none)."""
    return ContactDetails(
        first_name=person.first_name,
        last_name=person.last_name,
        email=person.email,
        phone=person.phone,
        preferred_contact=earlier.preferred_contact if earlier else ContactMethod.EMAIL,
        best_time=earlier.best_time if earlier else "",
        date_of_birth=person.date_of_birth,
        zip_code=person.zip_code,
        referral_source="",
        note="",
        contact_consent=contact_consent,
    )


def invitation_accept(
    *,
    token: str,
    answers: dict[str, Any],
    contact_consent: bool,
    site_url: str = "",
    now=None,
) -> InvitationLink:
    """The person said yes and sent the page: they become an applicant of the study through
    `participant_submit` (numbered, evaluated, checked for duplicates, emailed as any
    applicant), with their shared answers carried over and `answers` to the study's new
    questions. The match is accepted and points at the application; the links die. Raises
    StudyNotRecruiting (nothing written) when the study closed meanwhile."""
    claim = _token_read(token)
    if claim is None or claim[1] != INVITATION_YES:
        return InvitationLink(InvitationState.INVALID)
    nonce, response = claim
    now = now or timezone.now()
    with transaction.atomic():
        invitation = _invitation(nonce, lock=True)
        if not _is_open(invitation, nonce):
            return InvitationLink(InvitationState.INVALID)
        match = invitation.match
        person = match.person
        criteria = list(EligibilityCriterion.objects.filter(study_id=match.study_id).active())
        carried = carried_answers(person=person, criteria=criteria)
        all_answers = {**answers, **{c.criterion.code: c.value for c in carried}}
        earlier = person.applications.order_by("-created_at").first()
        participant = participant_submit(
            study=match.study,
            contact=contact_from_person(person, contact_consent=contact_consent, earlier=earlier),
            answers=all_answers,
            language=person.language,
            site_url=site_url,
            criteria=criteria,
            # Finds the number for the thank-you page, as a form's own token does.
            token=uuid.uuid4(),
            entry_source=EntrySource.REGISTRY,
            carried_over={
                c.criterion.code: CarriedOver(c.answered_on, c.source_application_id)
                for c in carried
            },
        )
        if participant.person_id != person.pk:
            Participant.objects.filter(pk=participant.pk).update(person=person)
            participant.person = person
        _answer_record(invitation, response=InvitationResponse.YES, now=now)
        RegistryMatch.objects.filter(pk=match.pk).update(
            state=MatchState.ACCEPTED, responded_at=now, application=participant
        )
    return InvitationLink(InvitationState.ACCEPTED, response, invitation, participant)
