"""Reminders, each sent exactly once: the patient's reminder before a visit (by text or
email, the way they chose) and the coordinators' daily email of the follow-ups due.

`reminders_send(now=...)` is what the scheduler runs (`manage.py send_reminders`, every few
minutes). For each reminder due it first claims a `Reminder` row by INSERT; the unique
constraints (kind, visit, channel) and (kind, study, day) let only one INSERT win, so a
second scheduler, or the same one run twice, finds the row taken (IntegrityError) and leaves
it. The claim and the task that sends it are written in one transaction (the database
queue's row commits with the claim); the task renders the message when it runs."""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django_tasks import task

from recruitment.models import (
    ContactMethod,
    Participant,
    Reminder,
    ReminderKind,
    Study,
)
from recruitment.notifications.delivery import deliver
from recruitment.notifications.tasks import NOBODY, task_enqueue

logger = logging.getLogger(__name__)

COORDINATOR_GROUP = "Coordinator"


def reminder_claim(**fields) -> Reminder | None:
    """INSERT the reminder's row; None when another scheduler or worker already has it."""
    try:
        with transaction.atomic():
            return Reminder.objects.create(**fields)
    except IntegrityError:
        return None


def reminder_done(*, reminder_id: int, outcome: str) -> None:
    Reminder.objects.filter(pk=reminder_id).update(sent_at=timezone.now(), outcome=outcome[:200])


# -- The coordinators' follow-ups ----------------------------------------------------------------
def follow_ups_due(*, study: Study, today) -> list[str]:
    """The screening numbers of `study`'s open participants whose follow-up date is `today`
    or past, oldest date first."""
    return list(
        Participant.objects.filter(study=study)
        .due_for_follow_up(today)
        .order_by("next_follow_up_on", "screening_seq")
        .values_list("screening_number", flat=True)
    )


def study_coordinator_emails(*, study: Study) -> list[str]:
    """The study's coordinators (members in the Coordinator group, active, with an email);
    COORDINATOR_EMAILS when it has none."""
    found = (
        get_user_model()
        .objects.filter(is_active=True, groups__name=COORDINATOR_GROUP)
        .filter(Q(pk__in=study.members.values("pk")))
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
        .distinct()
    )
    return list(found) or list(settings.COORDINATOR_EMAILS)


def follow_ups_claim(*, today) -> list[Reminder]:
    """Claim today's follow-up email of each study that has follow-ups due."""
    studies = Study.objects.filter(
        pk__in=Participant.objects.due_for_follow_up(today).values("study_id")
    ).order_by("pk")
    claimed = []
    for study in studies:
        with transaction.atomic():
            reminder = reminder_claim(
                kind=ReminderKind.FOLLOW_UPS,
                channel=ContactMethod.EMAIL,
                study=study,
                day=today,
            )
            if reminder is not None:
                task_enqueue(follow_ups_email_send, reminder_id=reminder.pk)
                claimed.append(reminder)
    return claimed


def follow_ups_email(reminder: Reminder) -> EmailMessage | None:
    """The coordinators' email: the screening numbers due, never a name or a contact detail."""
    numbers = follow_ups_due(study=reminder.study, today=reminder.day)
    recipients = study_coordinator_emails(study=reminder.study)
    if not (numbers and recipients):
        return None
    context = {"study": reminder.study, "numbers": numbers, "day": reminder.day}
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("recruitment/email/follow_ups_subject.txt", context)
        body = render_to_string("recruitment/email/follow_ups.txt", context)
    return EmailMessage(" ".join(subject.split()), body, None, recipients)


@task()
def follow_ups_email_send(*, reminder_id: int, attempt: int = 1) -> str:
    """The follow-ups due in one study today, to its coordinators (one email a study a day)."""
    reminder = Reminder.objects.select_related("study").filter(pk=reminder_id).first()
    message = reminder and follow_ups_email(reminder)
    if not message:
        if reminder:
            reminder_done(reminder_id=reminder_id, outcome=NOBODY)
        return NOBODY
    outcome = deliver(
        task=follow_ups_email_send,
        messages={"digest": (f"Follow-ups email for {reminder.study.slug}", message)},
        attempt=attempt,
        ids={"reminder_id": reminder_id},
    )
    if outcome == "sent":
        reminder_done(reminder_id=reminder_id, outcome=outcome)
    return outcome


# -- What the scheduler runs ---------------------------------------------------------------------
def reminders_send(*, now=None) -> dict[str, int]:
    """Claim and queue every reminder due at `now`; returns how many of each were claimed."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    counts = {"follow_ups": len(follow_ups_claim(today=today))}
    logger.info("Reminders claimed: %s", ", ".join(f"{k} {v}" for k, v in counts.items()))
    return counts
