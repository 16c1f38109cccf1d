"""The email tasks. Services enqueue them in `transaction.on_commit`, so nothing is sent for
a rolled-back change, and the patient's request never waits on the mail server.

A task's arguments are ids (a participant's, a study's, a draft's), the site's address and
an attempt count: never a name, an address, a health answer or a patient's link, since the
queue keeps them in a table or in Redis. Each task reads the rows when it runs and renders
then; a row erased or deleted meanwhile means there is nobody left to write to."""

from django_tasks import task

from recruitment.links import token_hash, token_new
from recruitment.models import Draft, Participant, Study
from recruitment.notifications import emails
from recruitment.notifications.delivery import deliver

NOBODY = "nobody to send to"


def _participant(participant_id: int) -> Participant | None:
    return Participant.objects.select_related("study").filter(pk=participant_id).first()


@task()
def participant_confirmation_send(*, participant_id: int, site_url: str, attempt: int = 1) -> str:
    """The patient's confirmation of their submission, with their withdraw link."""
    participant = _participant(participant_id)
    if participant is None or not participant.email:
        return NOBODY
    return deliver(
        task=participant_confirmation_send,
        message=emails.confirmation(participant, site_url=site_url),
        attempt=attempt,
        about=f"Confirmation email about {participant.screening_number}",
        ids={"participant_id": participant_id, "site_url": site_url},
    )


@task()
def new_interest_notice_send(*, participant_id: int, site_url: str, attempt: int = 1) -> str:
    """The coordinators' notice of a new submission."""
    participant = _participant(participant_id)
    message = participant and emails.new_interest_notice(participant, site_url=site_url)
    if not message:
        return NOBODY
    return deliver(
        task=new_interest_notice_send,
        message=message,
        attempt=attempt,
        about=f"Coordinators' email about {participant.screening_number}",
        ids={"participant_id": participant_id, "site_url": site_url},
    )


@task()
def withdraw_notice_send(
    *, participant_id: int, enrolled: bool, site_url: str, attempt: int = 1
) -> str:
    """The coordinators' notice that a patient used their withdraw link."""
    participant = _participant(participant_id)
    message = participant and emails.withdraw_notice(
        participant, enrolled=enrolled, site_url=site_url
    )
    if not message:
        return NOBODY
    return deliver(
        task=withdraw_notice_send,
        message=message,
        attempt=attempt,
        about=f"Withdraw-link email about {participant.screening_number}",
        ids={"participant_id": participant_id, "enrolled": enrolled, "site_url": site_url},
    )


@task()
def slot_freed_notice_send(*, study_id: int, attempt: int = 1) -> str:
    """The coordinators' notice that an enrolment slot is free, and who is next."""
    study = Study.objects.filter(pk=study_id).first()
    message = study and emails.slot_freed_notice(study)
    if not message:
        return NOBODY
    return deliver(
        task=slot_freed_notice_send,
        message=message,
        attempt=attempt,
        about=f"Slot-freed email for {study.slug}",
        ids={"study_id": study_id},
    )


@task()
def draft_link_send(*, draft_id: int, link_hash: str, site_url: str, attempt: int = 1) -> str:
    """The link back to a saved form. Its token exists only in this email: it is made here, at
    send time, and its hash replaces `link_hash`, the hash the draft held when this email was
    asked for (of a token nobody has). A later save changed that hash and asked for its own
    email, so this one is not sent. A retry makes a new token; a refused attempt sent none."""
    draft = Draft.objects.select_related("study").filter(pk=draft_id).first()
    if draft is None:
        return NOBODY
    token = token_new()
    new_hash = token_hash(token)
    if not Draft.objects.filter(pk=draft_id, token_hash=link_hash).update(token_hash=new_hash):
        return "superseded by a later save"
    return deliver(
        task=draft_link_send,
        message=emails.draft_link(draft, token=token, site_url=site_url),
        attempt=attempt,
        about=f"Draft link email (draft {draft_id})",
        ids={"draft_id": draft_id, "link_hash": new_hash, "site_url": site_url},
    )
