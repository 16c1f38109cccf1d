"""The public form's submission in two steps, so that a burst of interest costs each patient's
request little more than one row.

1. **Kept** (`sent_form_keep`, on the request): the form is validated in full by the view;
   then one transaction takes the study's next screening number, stores the form as sent
   (`SentForm`, one row) and queues the task that takes it in. The patient sees the thank-you
   page with that number at once.
2. **Taken in** (`sent_form_take_in`, the task worker, about a second later): one transaction
   locks the sent form and the study's row, evaluates the answers against the study's active
   criteria, matches duplicates and writes the participant, answers, verdicts and history
   version exactly as every other entry path does (`services.participant_write`); then the
   same task sends the emails and empties the sent form, keeping its number for its token.

Nothing is lost between the two: the sent form and its task commit together, and the task is
retried while the database is unreachable. A form that fails to be taken in stays waiting, is
reported by `check_tasks`, and is taken in by `manage.py take_in_sent_forms`.

On the immediate task backend (tests, debugging) the form is taken in on the request, inside
its transaction, as one step.
"""

import logging
import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from django_tasks import task
from django_tasks.backends.immediate import ImmediateBackend

from recruitment.errors import StudyNotRecruiting
from recruitment.evaluation import criterion_versions_forget
from recruitment.intake.form_timing import FORM_ISSUED_MAX_AGE
from recruitment.intake.services import (
    STUDY_NOT_RECRUITING,
    ContactDetails,
    participant_prepare,
    participant_write,
    screening_seq_take,
)
from recruitment.models import (
    EligibilityCriterion,
    EntrySource,
    Participant,
    SentForm,
    Study,
    form_pack,
)
from recruitment.notifications import tasks as notifications
from recruitment.notifications.delivery import EmailNotDelivered, retry_at

logger = logging.getLogger(__name__)

SUBMITTED_REASON = "Submitted the interest form"  # the history's reason (audit text)
TAKEN_IN = "taken in"
# A take-in that failed, in the log: the form's id and the error's kind, never its text (it
# may quote what the patient typed).
NOT_TAKEN_IN = "Sent form %d not taken in: %s"
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
    it back, inserts the sent form and queues the task that takes it in. Returns the form's
    token, which finds its number on the thank-you page (`confirmation_get`).

    A second post of the same form (the same `token`: a double click, or the back button, also
    after its take-in, which keeps the row) meets the sent forms' unique (study, token): its
    transaction rolls back, giving the number back, and it finds the first one's number.
    Raises `StudyNotRecruiting` when the study has closed."""
    token = token or uuid.uuid4()
    try:
        with transaction.atomic():
            numbered = screening_seq_take(study)
            if numbered is None:
                if _token_known(study, token):
                    return token
                raise StudyNotRecruiting(STUDY_NOT_RECRUITING)
            seq = numbered.last_screening_seq
            sent = SentForm.objects.create(
                study_id=study.pk,
                screening_seq=seq,
                screening_number=numbered.screening_number(seq),
                submission_token=token,
                preferred_contact=contact.preferred_contact,
                packed=form_pack(
                    {
                        "contact": _contact_as_json(contact),
                        "answers": answers,
                        "consent_version": numbered.contact_consent_version,
                        "site_url": site_url,
                    }
                ),
                language=language,
            )
            _take_in_enqueue(sent.pk)
    except IntegrityError:
        # The same form posted again, or twice at once: the first post kept it.
        if _token_known(study, token):
            return token
        raise
    return token


def _token_known(study: Study, token: uuid.UUID) -> bool:
    return SentForm.objects.filter(study_id=study.pk, submission_token=token).exists()


def _contact_as_json(contact: ContactDetails) -> dict:
    """The contact details as the sent form keeps them (`_contact_from_json` reads them)."""
    values = asdict(contact)
    values["date_of_birth"] = contact.date_of_birth.isoformat()
    del values["applied_at"]  # the sent form's own time
    return values


def _contact_from_json(values: dict, *, sent_at: datetime) -> ContactDetails:
    """The contact details a sent form kept, applied when it was sent."""
    return ContactDetails(
        **{
            **values,
            "date_of_birth": date.fromisoformat(values["date_of_birth"]),
            "applied_at": sent_at,
        }
    )


def _take_in_enqueue(sent_form_id: int) -> None:
    """Queue the take-in as every task is queued (`notifications.tasks.task_enqueue`: in this
    transaction on the database queue, once it commits elsewhere); on the immediate backend
    the form is taken in now, in this transaction."""
    if isinstance(sent_form_take_in_task.get_backend(), ImmediateBackend):
        _take_in_now(sent_form_id)
    else:
        notifications.task_enqueue(sent_form_take_in_task, sent_form_id=sent_form_id)


@dataclass(frozen=True)
class Confirmation:
    """What the thank-you page shows: the number, and who will call (the contact method)."""

    screening_number: str
    preferred_contact: str


def confirmation_get(*, study: Study, token: uuid.UUID) -> Confirmation | None:
    """The thank-you page's number, and who will call, for the form sent with `token`: from
    its sent form (kept after the take-in), else from the participant written with that token
    at once (a registry invitation's "yes"); None for neither."""
    fields = ("screening_number", "preferred_contact")
    row = (
        SentForm.objects.filter(study_id=study.pk, submission_token=token)
        .values_list(*fields)
        .first()
    ) or (
        Participant.objects.filter(study_id=study.pk, submission_token=token)
        .values_list(*fields)
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
        when = retry_at(attempt, delays=RETRY_DELAYS)
        if when is None:
            logger.error(
                "Sent form %d not taken in: %s; given up after %d attempt(s)",
                sent_form_id,
                type(exc).__name__,
                attempt,
            )
            raise
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
    except EmailNotDelivered:
        raise  # taken in; the email given up is logged by `deliver`, and check_tasks says so
    except Exception as exc:
        logger.error(NOT_TAKEN_IN, sent_form_id, type(exc).__name__)
        raise


def sent_form_take_in(*, sent_form_id: int) -> str:
    """Take in one sent form: write its participant (`_participant_written`, one
    transaction), then send the patient's confirmation and the coordinators' notice from this
    task (a refused email is tried again by a task of its own, `deliver`), then mark the sent
    form taken in (`_taken_in`). A form taken in already is left alone, so a task run twice
    writes once.

    The sent form waits until the emails are sent, after the participant's transaction: a
    worker killed in between leaves it waiting, and the next take-in (`take_in_sent_forms`, or
    the task run again) finds its participant written and sends the emails it owes. One task
    a submission, not a task for the take-in and another for its emails."""
    written = _participant_written(sent_form_id)
    if written is None:
        return GONE
    participant_id, site_url = written
    try:
        sent = notifications.submission_emails_send.call(
            participant_id=participant_id, site_url=site_url
        )
    finally:
        # Sent, retried by a task of its own, or given up (the task fails, check_tasks says).
        _taken_in(sent_form_id)
    return f"{TAKEN_IN}; emails {sent}"


def _taken_in(sent_form_id: int) -> None:
    """The sent form taken in: its data emptied, its number kept for its token."""
    SentForm.objects.filter(pk=sent_form_id).update(packed=b"", taken_in_at=timezone.now())


def _participant_written(sent_form_id: int) -> tuple[int, str] | None:
    """The sent form's participant, written in one transaction unless an earlier take-in
    wrote it: (its id, the site's address for the emails); None when the form is gone."""
    try:
        with transaction.atomic():
            return _participant_write_once(sent_form_id)
    except IntegrityError:
        # A criterion version kept in this process is gone (a restored database): read them
        # again next time.
        criterion_versions_forget()
        raise


def _participant_write_once(sent_form_id: int) -> tuple[int, str] | None:
    """Everything that needs no lock first (the criteria read, the participant built and
    evaluated in memory), as `participant_submit` does; then the study's row locked, as every
    entry path locks it, so two people written at once see each other as possible duplicates,
    for the lookup and the inserts only: the requests taking numbers wait on that lock for no
    longer than those few statements."""
    sent = SentForm.objects.waiting().select_for_update().filter(pk=sent_form_id).first()
    if sent is None:
        return None
    data = sent.data
    study = Study.objects.get(pk=sent.study_id)
    criteria = list(EligibilityCriterion.objects.filter(study_id=study.pk).active())
    prepared = participant_prepare(
        study=study,
        contact=_contact_from_json(data["contact"], sent_at=sent.sent_at),
        answers=data["answers"],
        criteria=criteria,
        token=sent.submission_token,
        language=sent.language,
        change_reason=SUBMITTED_REASON,
        entry_source=EntrySource.FORM,
    )
    locked = Study.objects.select_for_update().get(pk=study.pk)
    locked.contact_consent_version = data["consent_version"]  # the text the patient saw
    participant = participant_write(
        prepared, study=locked, seq=sent.screening_seq, token=sent.submission_token
    )
    if participant is None:
        # Written by an earlier take-in that stopped before its emails: send them now.
        participant = Participant.objects.only("pk").get(
            study_id=study.pk, submission_token=sent.submission_token
        )
    return participant.pk, data["site_url"]


def _take_in_now(sent_form_id: int) -> None:
    """The immediate backend's take-in, inside the request's transaction: the participant
    written and the sent form marked taken in now, the emails queued to go once it commits."""
    written = _participant_written(sent_form_id)
    _taken_in(sent_form_id)
    if written is not None:
        participant_id, site_url = written
        notifications.task_enqueue(
            notifications.submission_emails_send, participant_id=participant_id, site_url=site_url
        )


def sent_forms_take_in() -> tuple[int, int]:
    """Take in every form still waiting, oldest first (an operator's command after the worker
    was stopped, or after a failed take-in was mended). Returns (taken in, failed); each
    failure is logged by id and left waiting."""
    taken = failed = 0
    for sent_form_id in SentForm.objects.waiting().order_by("pk").values_list("pk", flat=True):
        try:
            sent_form_take_in(sent_form_id=sent_form_id)
        except Exception as exc:  # noqa: BLE001 -- one bad form must not stop the rest
            logger.error(NOT_TAKEN_IN, sent_form_id, type(exc).__name__)
            failed += 1
        else:
            taken += 1
    return taken, failed


def sent_forms_erase_taken_in(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Delete the forms taken in that could no longer be sent again (sent longer ago than a
    form stays valid: `FORM_ISSUED_MAX_AGE`); return how many (`dry_run`: only count). Their
    data was emptied at the take-in: these rows hold a token and a number only."""
    now = now or timezone.now()
    done = SentForm.objects.filter(taken_in_at__isnull=False, sent_at__lt=now - FORM_ISSUED_MAX_AGE)
    if dry_run:
        return done.count()
    deleted, _by_model = done.delete()
    return deleted
