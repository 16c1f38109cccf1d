"""The center's form: a person joins the registry with their shared answers (no application to
any study), and re-matching is queued so their matches appear for every recruiting study."""

import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from recruitment.center import tasks
from recruitment.contact import MatchKeys
from recruitment.intake.services import ContactDetails
from recruitment.models import DATE_OF_BIRTH, Person, SharedAnswer, SharedQuestion
from recruitment.notifications.tasks import task_enqueue
from recruitment.people.consent import REGISTRY_CONSENT_VERSION

JOINED_REASON = "Joined the registry on the center's form (consent {version})"
ANSWERED_REASON = "Answered on the center's form"


def center_interest_submit(
    *, contact: ContactDetails, answers: dict[str, Any], language: str, by=None
) -> Person:
    """Record a person who asked to hear of any study that may fit them: in the registry
    (the consent's version and time), with their answers to the shared questions (`answers`
    by question code, as the interest form stores a criterion's) and their date of birth as
    the answer to `date_of_birth`. Someone already known by the same email is updated, not
    duplicated: the details they give now are the current ones, their earlier applications
    keep theirs. Every change is in the person's and the answers' history. Matching the
    person against every recruiting study is queued, to run once this commits."""
    now = timezone.now()
    keys = MatchKeys.of(
        email=contact.email,
        phone=contact.phone,
        first_name=contact.first_name,
        last_name=contact.last_name,
        date_of_birth=contact.date_of_birth,
    )
    with transaction.atomic():
        person = (
            Person.objects.select_for_update()
            .filter(email_normalised=keys.email, erased_at__isnull=True)
            .order_by("pk")
            .first()
        ) or Person()
        person.first_name = contact.first_name.strip()
        person.last_name = contact.last_name.strip()
        person.name_normalised = keys.name
        person.email = contact.email.strip()
        person.email_normalised = keys.email
        person.phone = contact.phone.strip()
        person.phone_normalised = keys.phone
        person.date_of_birth = contact.date_of_birth
        person.zip_code = contact.zip_code
        person.language = language
        person.registry_consent = True
        person.registry_consent_version = REGISTRY_CONSENT_VERSION
        person.registry_consent_at = now
        person.registry_left_at = None
        person.registry_nonce = person.registry_nonce or secrets.token_urlsafe(16)
        person.full_clean()
        person._change_reason = JOINED_REASON.format(version=REGISTRY_CONSENT_VERSION)
        if by is not None:
            person._history_user = by
        person.save()
        shared_answers_from_center(person=person, answers=answers, now=now, by=by)
        task_enqueue(tasks.person_rematch_task, person_id=person.pk)
    return person


def shared_answers_from_center(*, person: Person, answers: dict[str, Any], now, by=None) -> None:
    """Keep the form's answers as the person's latest shared answers, dated today, from no
    application; a question left blank keeps the answer given before. Two statements."""
    values = dict(answers)
    if person.date_of_birth is not None:
        values[DATE_OF_BIRTH] = person.date_of_birth.isoformat()
    questions = dict(SharedQuestion.objects.filter(code__in=list(values)).values_list("code", "pk"))
    rows = [
        SharedAnswer(
            person=person,
            question_id=questions[code],
            value=value,
            answered_on=timezone.localdate(now),
            source_application=None,
            updated_at=now,
        )
        for code, value in values.items()
        if code in questions and value not in (None, "")
    ]
    if not rows:
        return
    SharedAnswer.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["person", "question"],
        update_fields=["value", "answered_on", "source_application", "updated_at"],
    )
    SharedAnswer.history.bulk_history_create(
        rows, default_user=by, default_change_reason=ANSWERED_REASON, default_date=now
    )
