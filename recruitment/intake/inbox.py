"""The public form's submission in two steps, so that a burst of interest costs each patient's
request little more than one row.

1. **Kept** (`sent_form_keep`, on the request): the form is validated in full by the view;
   then one transaction takes the study's next screening number, stores the form as sent
   (`SentForm`, one row) and queues the task that takes it in. The patient sees the thank-you
   page with that number at once.
2. **Taken in** (`sent_form_take_in`, the task worker, about a second later): one transaction
   locks the sent form and the study's row, evaluates the answers against the study's active
   criteria, matches duplicates, writes the participant, answers, verdicts and history
   version exactly as every other entry path does (`services.participant_write`), deletes the
   sent form and queues the emails.

Nothing is lost between the two: the sent form and its task commit together, and the task is
retried while the database is unreachable. A form that fails to be taken in stays, is reported
by `check_tasks`, and is taken in again by `manage.py take_in_sent_forms`.

On the immediate task backend (tests, debugging) the form is taken in on the request, inside
its transaction, as one step.
"""

import logging
import uuid
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Exists, OuterRef
from django.db.models.fields.json import KT
from django.utils import timezone
from django_tasks import task
from django_tasks.backends.immediate import ImmediateBackend
from django_tasks_db import DatabaseBackend

from recruitment.errors import StudyNotRecruiting
from recruitment.evaluation import criterion_versions_forget
from recruitment.intake.services import (
    STUDY_NOT_RECRUITING,
    ContactDetails,
    participant_prepare,
    participant_write,
    screening_seq_claim,
)
from recruitment.models import (
    EligibilityCriterion,
    EntrySource,
    Participant,
    SentForm,
    Study,
)
from recruitment.notifications import tasks as notifications

logger = logging.getLogger(__name__)

SUBMITTED_REASON = "Submitted the interest form"  # the history's reason (audit text)
TAKEN_IN = "taken in"
GONE = "taken in already"
# A database that does not answer is tried again after each of these delays (seconds), then
# the task fails and the form waits for `take_in_sent_forms`.
RETRY_DELAYS = (5, 30, 120, 600, 1800)


# ---------------------------------------------------------------------------------------------
# On the request
# ---------------------------------------------------------------------------------------------
def sent_form_keep(
    *,
    study: Study,
    contact: ContactDetails,
    answers: dict[str, Any],
    token: uuid.UUID | None,
    language: str,
    site_url: str,
) -> uuid.UUID:
    """Keep a validated interest form for the worker, numbered: one transaction that takes
    the next screening number (the UPDATE that also locks the study's row until commit), reads
    it back with whether this form was taken in already, inserts the sent form and queues the
    task that takes it in. Returns the form's token, which finds its number on the thank-you
    page (`confirmation_get`).

    A second post of the same form (the same `token`: a double click, or the back button)
    takes no number: it finds the first one's row, sent or taken in. Raises
    `StudyNotRecruiting` when the study has closed."""
    token = token or uuid.uuid4()
    try:
        with transaction.atomic():
            if not screening_seq_claim(study):
                if _token_known(study, token):
                    return token
                raise StudyNotRecruiting(STUDY_NOT_RECRUITING)
            seq, prefix, consent_version, taken_in = (
                Study.objects.filter(pk=study.pk)
                .annotate(
                    taken_in=Exists(
                        Participant.objects.filter(study_id=OuterRef("pk"), submission_token=token)
                    )
                )
                .values_list("last_screening_seq", "prefix", "contact_consent_version", "taken_in")
                .get()
            )
            if taken_in:
                # Give the number back: the first post of this form has it.
                transaction.set_rollback(True)
                return token
            numbered = Study(prefix=prefix)
            sent = SentForm.objects.create(
                study_id=study.pk,
                screening_seq=seq,
                screening_number=numbered.screening_number(seq),
                submission_token=token,
                data={
                    "contact": _contact_as_json(contact),
                    "answers": answers,
                    "consent_version": consent_version,
                    "site_url": site_url,
                },
                language=language,
            )
            _take_in_enqueue(sent.pk)
    except IntegrityError:
        # The same form posted twice at once: the other post kept it while this one waited.
        if _token_known(study, token):
            return token
        raise
    return token


def _token_known(study: Study, token: uuid.UUID) -> bool:
    return (
        SentForm.objects.filter(study_id=study.pk, submission_token=token).exists()
        or Participant.objects.filter(study_id=study.pk, submission_token=token).exists()
    )


def _contact_as_json(contact: ContactDetails) -> dict:
    values = asdict(contact)
    values["date_of_birth"] = contact.date_of_birth.isoformat()
    del values["applied_at"]  # the sent form's own time
    return values


def _take_in_enqueue(sent_form_id: int) -> None:
    """Queue the take-in. On the database queue its row is written in this transaction (both
    commit, or neither); on the immediate backend the form is taken in now, in this
    transaction; on any other backend (RQ) the task is enqueued once the transaction commits,
    so the worker finds the row."""
    backend = sent_form_take_in_task.get_backend()
    if isinstance(backend, DatabaseBackend):
        sent_form_take_in_task.enqueue(sent_form_id=sent_form_id)
    elif isinstance(backend, ImmediateBackend):
        sent_form_take_in(sent_form_id=sent_form_id)
    else:
        transaction.on_commit(lambda: sent_form_take_in_task.enqueue(sent_form_id=sent_form_id))


@dataclass(frozen=True)
class Confirmation:
    """What the thank-you page shows: the number, and who will call (the contact method)."""

    screening_number: str
    preferred_contact: str


def confirmation_get(*, study: Study, token: uuid.UUID) -> Confirmation | None:
    """The thank-you page's number for the form sent with `token`: its participant once taken
    in, else the sent form still waiting; None for neither."""
    row = (
        Participant.objects.filter(study_id=study.pk, submission_token=token)
        .values_list("screening_number", "preferred_contact")
        .first()
    )
    if row is None:
        row = (
            SentForm.objects.filter(study_id=study.pk, submission_token=token)
            .values_list("screening_number", KT("data__contact__preferred_contact"))
            .first()
        )
    return Confirmation(*row) if row is not None else None


# ---------------------------------------------------------------------------------------------
# In the worker
# ---------------------------------------------------------------------------------------------
@task()
def sent_form_take_in_task(*, sent_form_id: int, attempt: int = 1) -> str:
    """Take in one sent form (`sent_form_take_in`). While the database does not answer, the
    task enqueues its own next attempt after the next of `RETRY_DELAYS`; past the last, or on
    any other error, it fails (logged with the form's id only) and the form stays for
    `take_in_sent_forms`."""
    try:
        return sent_form_take_in(sent_form_id=sent_form_id)
    except OperationalError as exc:
        if attempt > len(RETRY_DELAYS):
            logger.error(
                "Sent form %d not taken in: %s; given up after %d attempt(s)",
                sent_form_id,
                type(exc).__name__,
                attempt,
            )
            raise
        when = timezone.now() + timedelta(seconds=RETRY_DELAYS[attempt - 1])
        logger.warning(
            "Sent form %d not taken in on attempt %d (%s); next attempt at %s",
            sent_form_id,
            attempt,
            type(exc).__name__,
            when.isoformat(timespec="seconds"),
        )
        sent_form_take_in_task.using(run_after=when).enqueue(
            sent_form_id=sent_form_id, attempt=attempt + 1
        )
        return f"retry at {when.isoformat()}"
    except Exception as exc:
        # The exception's text may quote a value the patient typed: only its kind is logged.
        logger.error("Sent form %d not taken in: %s", sent_form_id, type(exc).__name__)
        raise


def sent_form_take_in(*, sent_form_id: int) -> str:
    """Evaluate, match and write one sent form, in one transaction with its deletion: the
    participant (numbered as the request told the patient, applied at the time they sent it),
    answers, verdicts, person and history version; then queue the emails. A form taken in
    already (its row gone) is left alone, so a task run twice writes once.

    The answers are judged by the study's criteria as they are now (a protocol amendment
    published between the send and the take-in applies, as it would to a form sent a second
    later), with the consent text's version the patient saw."""
    try:
        return _take_in_once(sent_form_id)
    except IntegrityError:
        # A criterion version kept in this process is gone (a restored database): read them
        # again next time.
        criterion_versions_forget()
        raise


def _take_in_once(sent_form_id: int) -> str:
    with transaction.atomic():
        sent = SentForm.objects.select_for_update().filter(pk=sent_form_id).first()
        if sent is None:
            return GONE
        # The study's lock, as every entry path takes it, so that two people writing at
        # once see each other as possible duplicates.
        study = Study.objects.select_for_update().get(pk=sent.study_id)
        data = sent.data
        study.contact_consent_version = data["consent_version"]
        criteria = list(EligibilityCriterion.objects.filter(study_id=study.pk).active())
        contact = ContactDetails(
            **{
                **data["contact"],
                "date_of_birth": date.fromisoformat(data["contact"]["date_of_birth"]),
                "applied_at": sent.sent_at,
            }
        )
        prepared = participant_prepare(
            study=study,
            contact=contact,
            answers=data["answers"],
            criteria=criteria,
            token=sent.submission_token,
            language=sent.language,
            change_reason=SUBMITTED_REASON,
            entry_source=EntrySource.FORM,
        )
        participant = participant_write(
            prepared, study=study, seq=sent.screening_seq, token=sent.submission_token
        )
        sent.delete()
        if participant is None:
            return GONE  # the same form written by another path: nothing more to do
        notifications.task_enqueue(
            notifications.submission_emails_send,
            participant_id=participant.pk,
            site_url=data["site_url"],
        )
    return TAKEN_IN


def sent_forms_take_in() -> tuple[int, int]:
    """Take in every form still waiting, oldest first (an operator's command after the worker
    was stopped, or after a failed take-in was mended). Returns (taken in, failed); each
    failure is logged by id and left waiting."""
    taken = failed = 0
    for sent_form_id in SentForm.objects.order_by("pk").values_list("pk", flat=True):
        try:
            sent_form_take_in(sent_form_id=sent_form_id)
        except Exception as exc:  # noqa: BLE001 -- one bad form must not stop the rest
            logger.error("Sent form %d not taken in: %s", sent_form_id, type(exc).__name__)
            failed += 1
        else:
            taken += 1
    return taken, failed
