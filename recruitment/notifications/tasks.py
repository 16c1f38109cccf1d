"""The email tasks, and how the services enqueue them (`task_enqueue`).

A task's arguments are ids (a participant's, a study's, a draft's), the site's address and
an attempt count: never a name, an address, a health answer or a patient's link, since the
queue keeps them in a table or in Redis. Each task reads the rows when it runs and renders
then; a row erased or deleted meanwhile means there is nobody left to write to."""

from django.db import transaction
from django_tasks import task
from django_tasks_db import DatabaseBackend

from recruitment.links import token_hash, token_new
from recruitment.models import (
    Draft,
    Participant,
    Person,
    RegistryInvitation,
    Study,
    Unblinding,
    Visit,
)
from recruitment.notifications import emails
from recruitment.notifications.delivery import deliver

NOBODY = "nobody to send to"
CONFIRMATION = "confirmation"
NEW_INTEREST_NOTICE = "new_interest_notice"


def task_enqueue(queued_task, /, **ids) -> None:
    """Queue a task (an email, a public form's take-in) caused by the current transaction's
    change, so that it runs only if the change commits, and never before. On the database
    queue the task's row is written in the same transaction (it commits or rolls back with the
    change, and no commit is added); on any other backend the task is enqueued in
    `transaction.on_commit`."""
    if isinstance(queued_task.get_backend(), DatabaseBackend):
        queued_task.enqueue(**ids)
    else:
        transaction.on_commit(lambda: queued_task.enqueue(**ids))


def _participant(participant_id: int) -> Participant | None:
    return Participant.objects.select_related("study", "person").filter(pk=participant_id).first()


@task()
def submission_emails_send(
    *, participant_id: int, site_url: str, pending: list[str] | None = None, attempt: int = 1
) -> str:
    """The patient's confirmation (with their withdraw link) and the coordinators' notice of a
    new submission: one task, so a submission adds one row to the queue, but each email is
    retried on its own (`pending`: the ones a retry still has to send)."""
    participant = _participant(participant_id)
    if participant is None:
        return NOBODY
    pending = pending or [CONFIRMATION, NEW_INTEREST_NOTICE]
    number = participant.screening_number
    messages = {}
    if CONFIRMATION in pending and participant.email:
        messages[CONFIRMATION] = (
            f"Confirmation email about {number}",
            emails.confirmation(participant, site_url=site_url),
        )
    notice = NEW_INTEREST_NOTICE in pending and emails.new_interest_notice(
        participant, site_url=site_url
    )
    if notice:
        messages[NEW_INTEREST_NOTICE] = (f"Coordinators' email about {number}", notice)
    if not messages:
        return NOBODY
    return deliver(
        task=submission_emails_send,
        messages=messages,
        attempt=attempt,
        ids={"participant_id": participant_id, "site_url": site_url},
        pending_in_retry=True,
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
        messages={"notice": (f"Withdraw-link email about {participant.screening_number}", message)},
        attempt=attempt,
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
        messages={"notice": (f"Slot-freed email for {study.slug}", message)},
        attempt=attempt,
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
    message = emails.draft_link(draft, token=token, site_url=site_url)
    return deliver(
        task=draft_link_send,
        messages={"link": (f"Draft link email (draft {draft_id})", message)},
        attempt=attempt,
        ids={"draft_id": draft_id, "link_hash": new_hash, "site_url": site_url},
    )


@task()
def registry_invitation_email_send(*, invitation_id: int, site_url: str, attempt: int = 1) -> str:
    """A registry member's invitation to apply to a study, with its yes / no links (signed
    now). Not sent when the invitation was answered or revoked meanwhile, or when the person
    left the registry (or was erased) since the coordinator pressed "Invite"."""
    invitation = (
        RegistryInvitation.objects.select_related("match__study", "match__person")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or invitation.used_at is not None or not invitation.nonce:
        return NOBODY
    if not Person.objects.in_registry().filter(pk=invitation.match.person_id).exists():
        return "left the registry"
    message = emails.registry_invitation(invitation, site_url=site_url)
    return deliver(
        task=registry_invitation_email_send,
        messages={
            "invitation": (f"Registry invitation email (invitation {invitation_id})", message)
        },
        attempt=attempt,
        ids={"invitation_id": invitation_id, "site_url": site_url},
    )


@task()
def visit_email_send(*, visit_id: int, sequence: int, attempt: int = 1) -> str:
    """The participant's email about a visit booked, moved or cancelled, with its calendar
    file, rendered as the visit stands when it is sent. A later change of the visit (its
    sequence went up) asked for its own email, so this one is not sent: the participant
    never gets an older time after a newer one."""
    visit = (
        Visit.objects.select_related("participant__study", "planned_visit")
        .filter(pk=visit_id)
        .first()
    )
    if visit is None:
        return NOBODY
    if visit.sequence != sequence:
        return "superseded by a later change"
    message = emails.visit_booking(visit)
    if message is None:
        return NOBODY
    return deliver(
        task=visit_email_send,
        messages={"visit": (f"Visit email about {visit.participant.screening_number}", message)},
        attempt=attempt,
        ids={"visit_id": visit_id, "sequence": sequence},
    )


@task()
def unblinding_notice_send(*, unblinding_id: int, site_url: str, attempt: int = 1) -> str:
    """The notice of an emergency unblinding to the study's unblinded statisticians and its
    other investigators: no arm and no name (the participant's numbers, who, when, a link)."""
    unblinding = (
        Unblinding.objects.select_related("participant__study", "by")
        .filter(pk=unblinding_id)
        .first()
    )
    message = unblinding and emails.unblinding_notice(unblinding, site_url=site_url)
    if not message:
        return NOBODY
    return deliver(
        task=unblinding_notice_send,
        messages={
            "notice": (
                f"Unblinding email about {unblinding.participant.screening_number}",
                message,
            )
        },
        attempt=attempt,
        ids={"unblinding_id": unblinding_id, "site_url": site_url},
    )
