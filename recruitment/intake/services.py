"""Taking in interest: the public form's submission and the bulk import share one path
(prepare, match duplicates, write), so both apply the same rules. Emails are tasks, sent
only once the transaction commits (recruitment/notifications)."""

import copy
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from recruitment import eligibility
from recruitment.contact import MatchKeys, phone_of_key
from recruitment.errors import ImportRowError, RecruitmentError, StudyNotRecruiting
from recruitment.evaluation import (
    criterion_version_ids,
    criterion_versions_forget,
    evaluation_build,
    verdicts_to_store,
)
from recruitment.intake.submission_match import NUMBERING, submission_match
from recruitment.models import (
    Answer,
    AnsweredBy,
    CriterionVerdict,
    DuplicateReview,
    EligibilityCriterion,
    EntrySource,
    Participant,
    Study,
)
from recruitment.notifications import tasks as notifications
from recruitment.people import RegistryConsent, person_attach
from recruitment.registry.services import shared_answers_record

STUDY_NOT_RECRUITING = _("This study is not recruiting at the moment.")
IMPORT_REASON = "Imported from an interest list"  # the history's reason (audit text)
ENTERED_BY_STAFF_NEEDS_USER = "A staff entry (phone call, walk-in) needs `entered_by`."


# ---------------------------------------------------------------------------------------------
# Participants
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ContactDetails:
    first_name: str
    last_name: str
    email: str
    phone: str
    preferred_contact: str
    best_time: str
    date_of_birth: date
    zip_code: str
    referral_source: str
    note: str
    contact_consent: bool
    # The optional, separate "may contact me about other studies" box (the registry).
    registry_consent: bool = False
    # When the person applied, if not now: an imported list's `applied_at` column.
    applied_at: datetime | None = None


@dataclass(frozen=True)
class CarriedOver:
    """An answer the person gave on an earlier form, carried over to this application (a
    registry invitation's "yes"): the day they gave it and the application it came from."""

    answered_on: date
    source_application_id: int | None


def participant_submit(
    *,
    study: Study,
    contact: ContactDetails,
    answers: dict[str, Any],
    token: uuid.UUID | None = None,
    language: str = "en",
    site_url: str = "",
    criteria: list[EligibilityCriterion] | None = None,
    fingerprint: str | None = None,
    entered_by=None,
    entry_source: str = EntrySource.FORM,
    patient_email: bool = True,
    carried_over: dict[str, CarriedOver] | None = None,
) -> Participant:
    """Save a patient's interest: participant, answers, pre-screen evaluation, screening
    number and possible-duplicate link, all in one transaction; then email the patient and
    the coordinators.

    `token` is the form's idempotency token (stored as `submission_token`): a second
    submission of the same form (a double click, or two posts at once) returns the participant
    the first one created. Imports use `participants_import`. `criteria` are the study's
    active criteria in order, when the caller has read them already (the form's view), and
    `fingerprint` theirs (recruitment.evaluation.criteria_fingerprint), when it has it.

    Everything that needs no lock is done first: the criteria are read once, the participant
    is built and validated, and the answers are evaluated in memory. Only then does one
    UPDATE take the next screening number (and the study row's lock, held until commit,
    which serialises numbers and makes "not recruiting" final); the duplicate and token
    lookup and the inserts run under it, so two people submitting at once still see each
    other, and a rolled-back submission gives its number back (no gaps).

    A coordinator entering the form for someone who phoned or walked in uses this same
    service with `entered_by` (the staff user, recorded on the participant and as the history's
    user) and `entry_source`; the patient is emailed only when `patient_email`.

    `carried_over` names (by criterion code) the answers a registry member gave on an earlier
    form and did not answer again: their Answers say so, and they are not recorded as the
    person's shared answers anew (those keep the day the person gave them).
    """
    by_the_person = (EntrySource.FORM, EntrySource.IMPORT, EntrySource.REGISTRY)
    if (entered_by is None) != (entry_source in by_the_person):
        raise ValueError(ENTERED_BY_STAFF_NEEDS_USER)
    try:
        return _participant_submit_once(
            study=study,
            contact=contact,
            answers=answers,
            token=token,
            language=language,
            site_url=site_url,
            criteria=criteria,
            fingerprint=fingerprint,
            entered_by=entered_by,
            entry_source=entry_source,
            patient_email=patient_email,
            carried_over=carried_over or {},
        )
    except IntegrityError:
        # Two posts of the same form at once: the other one saved it while this one waited.
        existing = _participant_by_token(study, token)
        if existing is None:
            # Or a criterion version kept in memory is gone (a restored database): read
            # them again next time.
            criterion_versions_forget()
            raise
        return existing


def _participant_submit_once(
    *,
    study: Study,
    contact: ContactDetails,
    answers: dict[str, Any],
    token: uuid.UUID | None,
    language: str,
    site_url: str,
    criteria: list[EligibilityCriterion] | None,
    fingerprint: str | None = None,
    entered_by=None,
    entry_source: str = EntrySource.FORM,
    patient_email: bool = True,
    carried_over: dict[str, CarriedOver] | None = None,
) -> Participant:
    if criteria is None:
        criteria = list(EligibilityCriterion.objects.filter(study_id=study.pk).active())
    reason = "Submitted the interest form"
    if entry_source == EntrySource.REGISTRY:
        reason = "Applied through a registry invitation"
    elif entered_by is not None:
        reason = f"Entered by staff ({EntrySource(entry_source).label})"
    prepared = participant_prepare(
        study=study,
        contact=contact,
        answers=answers,
        criteria=criteria,
        fingerprint=fingerprint,
        token=token,
        language=language,
        change_reason=reason,
        entered_by=entered_by,
        entry_source=entry_source,
        carried_over=carried_over,
    )
    with transaction.atomic():
        if not _screening_seq_claim(study):
            existing = _participant_by_token(study, token)
            if existing is None:
                raise StudyNotRecruiting(STUDY_NOT_RECRUITING)
            return existing
        # The number taken is read back with the duplicate lookup, in the same statement.
        participant = participant_write(prepared, study=study, seq=None, token=token)
        if participant is None:
            # The same form was saved already: give the number back, return the first one.
            transaction.set_rollback(True)
        else:
            notifications.task_enqueue(
                notifications.submission_emails_send,
                participant_id=participant.pk,
                site_url=site_url,
                # Staff entering the form for someone may leave out the confirmation.
                pending=None if patient_email else [notifications.NEW_INTEREST_NOTICE],
            )
    if participant is None:
        return _participant_by_token(study, token)
    return participant


def _screening_seq_claim(study: Study) -> bool:
    """Take the study's next screening number: an UPDATE that adds one and locks the study
    row until the transaction ends. False when the study is not recruiting."""
    return bool(
        Study.objects.filter(pk=study.pk, is_recruiting=True).update(
            last_screening_seq=F("last_screening_seq") + 1
        )
    )


def screening_seq_take(study: Study) -> Study | None:
    """Take the study's next screening number alone, as a public form kept for the worker and
    the bench's floor view do (a submission written at once reads the number with its
    duplicate lookup instead): `_screening_seq_claim`, then the row as it now is. Returns a
    copy of `study` with the row's current number, prefix and versions; None when the study is
    not recruiting. Call inside a transaction."""
    if not _screening_seq_claim(study):
        return None
    row = Study.objects.filter(pk=study.pk).values_list(*NUMBERING).get()
    return _study_numbered(study, dict(zip(NUMBERING, row, strict=True)))


def _study_numbered(study: Study, numbering: dict) -> Study:
    """A copy of `study` with the numbering columns as read under its lock."""
    locked = copy.copy(study)
    for name, value in numbering.items():
        setattr(locked, name, value)
    locked.is_recruiting = True
    return locked


def _participant_by_token(study: Study, token: uuid.UUID | None) -> Participant | None:
    if token is None:
        return None
    return Participant.objects.filter(study_id=study.pk, submission_token=token).first()


def participants_import(
    *, study: Study, rows: list[tuple[ContactDetails, dict[str, Any]]], language: str = "en"
) -> list[Participant]:
    """Create participants from an existing interest list, all or none, in one transaction.

    Each row is numbered, evaluated and matched for duplicates exactly like a web submission,
    but nobody is emailed (they did not fill our form) and a closed study accepts the list.
    The screening numbers are reserved with one update of the study row: updating it per
    row inside one transaction makes PostgreSQL's foreign-key checks walk an ever longer
    chain of row versions (5,000 rows took minutes instead of seconds).
    """
    with transaction.atomic():
        locked = Study.objects.select_for_update().get(pk=study.pk)
        first_seq = locked.last_screening_seq + 1
        locked.last_screening_seq += len(rows)
        locked.save(update_fields=["last_screening_seq"])
        criteria = list(locked.criteria.active())
        created = []
        for offset, (contact, answers) in enumerate(rows):
            try:
                prepared = participant_prepare(
                    study=locked,
                    contact=contact,
                    answers=answers,
                    criteria=criteria,
                    language=language,
                    change_reason=IMPORT_REASON,
                    entry_source=EntrySource.IMPORT,
                )
                # A savepoint per row, so a failed row leaves a usable transaction to unwind.
                with transaction.atomic():
                    participant = participant_write(prepared, study=locked, seq=first_seq + offset)
            except (RecruitmentError, ValidationError, DatabaseError) as exc:
                raise ImportRowError(offset) from exc
            created.append(participant)
        return created


@dataclass
class Prepared:
    """A participant built, validated and evaluated in memory, waiting for its number."""

    participant: Participant
    answers: list[Answer]
    verdicts: list[CriterionVerdict]
    evaluation: eligibility.Evaluation
    change_reason: str
    applied_at: datetime | None = None  # an import's own date of application
    registry: RegistryConsent | None = None  # the registry box ticked: its version and time


# Every Participant field but these is validated before the lock (`participant_prepare`).
_VALIDATED_UNDER_LOCK = ("screening_seq", "screening_number")
# Set by the service from rows it read; the database's foreign keys check them, so
# `full_clean` need not query for them.
_NOT_CLEANED = ("study", "duplicate_of", "entered_by", *_VALIDATED_UNDER_LOCK)
_CLEANED_BEFORE_LOCK = tuple(
    f.name for f in Participant._meta.fields if f.name not in _VALIDATED_UNDER_LOCK
)


def participant_prepare(
    *,
    study: Study,
    contact: ContactDetails,
    answers: dict[str, Any],
    criteria: list[EligibilityCriterion],
    language: str,
    change_reason: str,
    token: uuid.UUID | None = None,
    fingerprint: str | None = None,
    entered_by=None,
    entry_source: str = EntrySource.FORM,
    carried_over: dict[str, CarriedOver] | None = None,
) -> Prepared:
    """Build and validate the participant and evaluate their answers, with no query.

    `criteria` are the study's active criteria, in order: the patient-answered ones get the
    answers, all of them a verdict (`fingerprint` theirs, when the caller has it).
    `full_clean` checks every field; the unique and check constraints are left to the
    database, which enforces them anyway (an IntegrityError)."""
    now = timezone.now()
    keys = MatchKeys.of(
        email=contact.email,
        phone=contact.phone,
        first_name=contact.first_name,
        last_name=contact.last_name,
        date_of_birth=contact.date_of_birth,
    )
    participant = Participant(
        study=study,
        first_name=contact.first_name.strip(),
        last_name=contact.last_name.strip(),
        name_normalised=keys.name,
        email=contact.email.strip(),
        email_normalised=keys.email,
        phone=phone_of_key(keys.phone) if keys.phone else "",
        phone_normalised=keys.phone,
        preferred_contact=contact.preferred_contact,
        best_time=contact.best_time,
        date_of_birth=contact.date_of_birth,
        zip_code=contact.zip_code[:5],
        referral_source=contact.referral_source,
        note=contact.note,
        language=language,
        contact_consent=contact.contact_consent,
        contact_consent_version=study.contact_consent_version,
        contact_consent_at=contact.applied_at or now,
        entry_source=entry_source,
        entered_by=entered_by,
        submission_token=token,
        withdraw_nonce=secrets.token_urlsafe(16),
        criteria_version=study.criteria_version,
        evaluated_at=now,
        outcome=eligibility.Outcome.NEEDS_REVIEW,
    )
    participant.full_clean(exclude=_NOT_CLEANED, validate_unique=False, validate_constraints=False)
    if entered_by is not None:
        participant._history_user = entered_by  # simple-history's documented hook
    # The values as stored (JSON), so the evaluation judges exactly what is kept.
    values = {
        c.pk: json.loads(json.dumps(answers[c.code]))
        for c in criteria
        if c.answered_by == AnsweredBy.PATIENT and c.code in answers
    }
    carried_over = carried_over or {}
    rows = [
        Answer(
            criterion=c,
            value=values[c.pk],
            answered_by=AnsweredBy.PATIENT,
            carried_over_on=carried.answered_on if carried else None,
            carried_over_from_id=carried.source_application_id if carried else None,
        )
        for c in criteria
        if c.pk in values
        for carried in [carried_over.get(c.code)]
    ]
    evaluation, verdicts = evaluation_build(
        participant,
        criteria,
        values,
        today=timezone.localdate(now),
        version_ids=criterion_version_ids(criteria, fingerprint=fingerprint),
    )
    registry = None
    if contact.registry_consent:
        registry = RegistryConsent.now(at=contact.applied_at or now)
    return Prepared(
        participant, rows, verdicts, evaluation, change_reason, contact.applied_at, registry
    )


def participant_write(
    prepared: Prepared, *, study: Study, seq: int | None, token: uuid.UUID | None = None
) -> Participant | None:
    """Number, link and insert a prepared participant with their answers, verdicts and
    history version. The caller holds the study row lock
    and has reserved `seq` (None: the number the caller's UPDATE just took, read with the
    duplicate lookup). None when `token` was saved already (nothing is written)."""
    participant = prepared.participant
    participant.study = study
    found = submission_match(participant, token)
    if found.saved_already:
        return None
    if seq is None:
        study = _study_numbered(study, found.numbering)
        participant.study = study
        seq = study.last_screening_seq
    participant.screening_seq = seq
    participant.screening_number = study.screening_number(seq)
    participant.contact_consent_version = study.contact_consent_version
    participant.criteria_version = study.criteria_version
    participant.clean_fields(exclude=_CLEANED_BEFORE_LOCK)
    if found.duplicate_of_id is not None:
        participant.duplicate_of_id = found.duplicate_of_id
        participant.duplicate_review = DuplicateReview.PENDING
    participant.person_id = person_attach(
        person_id=found.person_id,
        participant=participant,
        registry=prepared.registry,
        details_differ=found.person_details_differ,
        applied_at=prepared.applied_at,
    )
    evaluation = prepared.evaluation
    participant.outcome = evaluation.outcome
    participant.eligible_from = evaluation.eligible_from
    participant.evaluated_at = timezone.now()
    # When the person applied: an imported list's own date, or the time a form taken in by the
    # worker was sent; else now (the field's default).
    if prepared.applied_at is not None:
        participant.created_at = prepared.applied_at
    # One insert, already evaluated; its history version is written below.
    participant.skip_history_when_saving = True
    try:
        participant.save(force_insert=True)
    finally:
        del participant.skip_history_when_saving
    for answer in prepared.answers:
        answer.participant = participant
    Answer.objects.bulk_create(prepared.answers)
    # Answers to the center's shared questions are the person's, kept for matching them to
    # other studies: only for people in the registry (who ticked its box now or before).
    # Nobody else is matched or invited, so nothing of their health is kept beyond the
    # application (and a submission outside the registry writes two rows fewer).
    if prepared.registry is not None or found.person_in_registry:
        shared_answers_record(
            participant=participant,
            criteria=[verdict.criterion for verdict in prepared.verdicts],
            values={
                answer.criterion_id: answer.value
                for answer in prepared.answers
                if answer.carried_over_on is None  # kept as given, on the day it was given
            },
            by=participant.entered_by,
        )
    stored = verdicts_to_store(prepared.verdicts)
    for verdict in stored:
        verdict.participant = participant
    CriterionVerdict.objects.bulk_create(stored)
    _history_created(participant, prepared.change_reason)
    return participant


# Read once: simple-history's `Participant.history` builds a new manager class each time it is
# read (0.3 ms of CPU).
_PARTICIPANT_HISTORY = Participant.history.model


def _history_created(participant: Participant, reason: str) -> None:
    """The participant's first version ("+", `reason`), as written: submitted and evaluated
    in the same transaction, so one version records both (the answers and the verdicts,
    each pointing at the criterion version it was judged by, are rows of their own)."""
    history = _PARTICIPANT_HISTORY
    values = {
        field.attname: getattr(participant, field.attname) for field in history.tracked_fields
    }
    history.objects.create(
        history_date=timezone.now(),
        history_user=history.get_default_history_user(participant),
        history_change_reason=reason,
        history_type="+",
        **values,
    )
