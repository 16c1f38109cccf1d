"""Reminders, each sent exactly once: the patient's reminder before a visit (by text or
email, the way they chose) and the coordinators' daily email of the follow-ups due.

`reminders_send(now=...)` is what the scheduler runs (`manage.py send_reminders`, every few
minutes). For each reminder due it first claims a `Reminder` row by INSERT; the unique
constraints (kind, visit, day, channel) and (kind, study, day) let only one INSERT win, so a
second scheduler, or the same one run twice, finds the row taken (IntegrityError) and leaves
it. The claim and the task that sends it are written in one transaction (the database
queue's row commits with the claim); the task renders the message when it runs.

A visit's claim names the day it is booked for: a visit moved to another day after its
reminder went gets a reminder for the new day (once, as any other); one moved within the
same day does not (the email of the move told them)."""

import logging
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import TruncDate
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django_tasks import task

from recruitment.models import (
    ContactMethod,
    Participant,
    Reminder,
    ReminderKind,
    Study,
    Visit,
    VisitStatus,
)
from recruitment.notifications.delivery import deliver
from recruitment.notifications.tasks import NOBODY, task_enqueue
from recruitment.notifications.text_delivery import TextNotDelivered, text_deliver
from recruitment.notifications.visit_messages import visit_reminder_email, visit_reminder_text
from recruitment.texts.services import text_allowed, text_wanted

logger = logging.getLogger(__name__)

COORDINATOR_GROUP = "Coordinator"
VISIT_GONE = "visit no longer booked, or already begun"
VISIT_MOVED = "visit moved to another day: its own reminder goes for that day"
TEXT_GIVEN_UP = "text given up: sent by email instead"
TEXT_NOT_ALLOWED = "no text (STOP, texts off or no number): sent by email instead"


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


# -- The patient's visit reminders ---------------------------------------------------------------
def visits_due_for_reminder(*, now):
    """Booked visits on the days from tomorrow to VISIT_REMINDER_DAYS_BEFORE days ahead
    (local dates), from VISIT_REMINDER_FROM_HOUR in the morning (no text at night), without
    a reminder yet for the day they are booked for."""
    local = timezone.localtime(now)
    if local.hour < settings.VISIT_REMINDER_FROM_HOUR:
        return Visit.objects.none()
    today = local.date()
    zone = timezone.get_current_timezone()
    start = datetime.combine(today + timedelta(days=1), time.min, tzinfo=zone)
    end = datetime.combine(
        today + timedelta(days=settings.VISIT_REMINDER_DAYS_BEFORE + 1), time.min, tzinfo=zone
    )
    reminded = Reminder.objects.filter(
        kind=ReminderKind.VISIT, visit=OuterRef("pk"), day=OuterRef("local_day")
    )
    return (
        Visit.objects.booked()
        .between(start, end)
        .annotate(local_day=TruncDate("starts_at", tzinfo=zone))
        .filter(participant__erased_at__isnull=True)
        .exclude(Exists(reminded))
        .select_related("participant")
        .order_by("starts_at", "pk")
    )


def visit_reminder_claim(*, visit: Visit, channel: str) -> Reminder | None:
    """Claim the visit's reminder by `channel` and queue it, in one transaction."""
    with transaction.atomic():
        reminder = reminder_claim(
            kind=ReminderKind.VISIT,
            channel=channel,
            visit=visit,
            study_id=visit.participant.study_id,
            day=timezone.localtime(visit.starts_at).date(),
        )
        if reminder is not None:
            task_enqueue(visit_reminder_send, reminder_id=reminder.pk)
    return reminder


def visit_reminders_claim(*, now) -> list[Reminder]:
    """Each visit due gets its reminder by text when the participant chose texts and may get
    one, by email otherwise."""
    claimed = []
    for visit in visits_due_for_reminder(now=now):
        channel = (
            ContactMethod.TEXT
            if text_wanted(participant=visit.participant)
            else ContactMethod.EMAIL
        )
        reminder = visit_reminder_claim(visit=visit, channel=channel)
        if reminder is not None:
            claimed.append(reminder)
    return claimed


@task()
def visit_reminder_send(*, reminder_id: int, attempt: int = 1) -> str:
    """One visit reminder, by its channel. A text to someone who has since said STOP is not
    sent: the reminder goes by email instead (its own claim, so once too)."""
    reminder = (
        Reminder.objects.select_related("visit__participant__study", "visit__planned_visit")
        .filter(pk=reminder_id)
        .first()
    )
    if reminder is None:
        return NOBODY
    visit = reminder.visit
    if visit.status != VisitStatus.BOOKED or visit.starts_at <= timezone.now():
        reminder_done(reminder_id=reminder_id, outcome=VISIT_GONE)
        return VISIT_GONE
    if timezone.localtime(visit.starts_at).date() != reminder.day:
        reminder_done(reminder_id=reminder_id, outcome=VISIT_MOVED)
        return VISIT_MOVED
    participant = visit.participant
    number = participant.screening_number
    if reminder.channel == ContactMethod.TEXT:
        if not text_allowed(participant=participant):
            visit_reminder_claim(visit=visit, channel=ContactMethod.EMAIL)
            reminder_done(reminder_id=reminder_id, outcome=TEXT_NOT_ALLOWED)
            return TEXT_NOT_ALLOWED
        try:
            outcome = text_deliver(
                task=visit_reminder_send,
                to=participant.phone,
                body=visit_reminder_text(visit),
                about=f"Visit reminder text about {number}",
                attempt=attempt,
                ids={"reminder_id": reminder_id},
            )
        except TextNotDelivered:
            # Given up (a landline, a number that cannot get texts): the reminder still goes.
            visit_reminder_claim(visit=visit, channel=ContactMethod.EMAIL)
            reminder_done(reminder_id=reminder_id, outcome=TEXT_GIVEN_UP)
            raise
    else:
        message = visit_reminder_email(visit)
        if message is None:
            reminder_done(reminder_id=reminder_id, outcome=NOBODY)
            return NOBODY
        outcome = deliver(
            task=visit_reminder_send,
            messages={"reminder": (f"Visit reminder email about {number}", message)},
            attempt=attempt,
            ids={"reminder_id": reminder_id},
        )
    if outcome.startswith("sent"):
        reminder_done(reminder_id=reminder_id, outcome=outcome)
    return outcome


# -- What the scheduler runs ---------------------------------------------------------------------
def reminders_send(*, now=None) -> dict[str, int]:
    """Claim and queue every reminder due at `now`; returns how many of each were claimed."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    counts = {
        "visit reminders": len(visit_reminders_claim(now=now)),
        "follow-up emails": len(follow_ups_claim(today=today)),
    }
    logger.info("Reminders claimed: %s", ", ".join(f"{k} {v}" for k, v in counts.items()))
    return counts
