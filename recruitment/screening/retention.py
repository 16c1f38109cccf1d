"""Retention: erasing the personal data of people never enrolled once the study's
retention period has passed, and the sessions that outlived their use."""

import logging
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from recruitment.models import (
    Answer,
    ContactAttempt,
    CriterionVerdict,
    Participant,
    Person,
    StaffNote,
    StatusChange,
    Study,
)
from recruitment.people import persons_erase
from recruitment.registry.services import shared_answers_erase

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# Retention: erasing the personal data of people never enrolled
# ---------------------------------------------------------------------------------------------
ERASED_CHANGE_REASON = "Personal data erased: the study's retention period ({days} days) passed."
ERASED_VERDICT_REASON = "Erased with the personal data after the retention period."
ERASE_BATCH = 500  # participants per UPDATE: within SQLite's limit on query parameters
# What erasure writes on a participant row and on its history rows. Kept: the screening
# number, study, status, outcome, referral source, language, consent-to-contact version and
# time, duplicate links, dates and counters; the verdicts (met / not met) and the criterion
# snapshots; the status changes with their reasons; the contact log without its notes; who
# wrote a staff note, and when, without its text.
ERASED_VALUES: dict[str, Any] = {
    "first_name": "",
    "last_name": "",
    "name_normalised": "",
    "email": "",
    "email_normalised": "",
    "phone": "",
    "phone_normalised": "",
    "preferred_contact": "",
    "best_time": "",
    "date_of_birth": None,
    "zip_code": "",
    "note": "",
    "eligible_from": None,  # derived from the date of a last dose: health data
}


@dataclass(frozen=True)
class StudyErasure:
    study: Study
    screening_numbers: tuple[str, ...]


@dataclass(frozen=True)
class ErasureResult:
    now: Any
    dry_run: bool
    studies: tuple[StudyErasure, ...]
    people: int = 0  # people whose details were erased (or would be, on a dry run)

    @property
    def total(self) -> int:
        return sum(len(s.screening_numbers) for s in self.studies)


def participant_list_expired(*, study: Study, now):
    """The study's participants never enrolled, in a final status, not yet erased, whose last
    status change (their move into that final status) is older than `retention_days`."""
    cutoff = now - timedelta(days=study.retention_days)
    last_change = (
        StatusChange.objects.filter(participant=OuterRef("pk")).order_by("-at", "-pk").values("at")
    )
    return (
        Participant.objects.erasable()
        .filter(study=study)
        .annotate(final_at=Coalesce(Subquery(last_change[:1]), F("updated_at")))
        .filter(final_at__lt=cutoff)
        .order_by("screening_seq")
    )


def participants_erase_expired(*, now=None, dry_run: bool = False) -> ErasureResult:
    """Erase the personal data of every participant past their study's retention period
    (see `participant_list_expired`), with their answers' values and verification notes, the
    verdicts' copies of them and their reasons, contact-log notes, staff notes' text, links
    and tokens, and the same data in the history tables; mark them `erased_at`. Idempotent;
    `dry_run` only lists them. A fixed number of queries per study and per ERASE_BATCH
    participants."""
    now = now or timezone.now()
    done = []
    would_erase: list[int] = []  # on a dry run, the participants it would have erased
    for study in Study.objects.order_by("slug"):
        with transaction.atomic():
            expired = participant_list_expired(study=study, now=now)
            if not dry_run:
                expired = expired.select_for_update()
            rows = list(expired.values_list("pk", "screening_number"))
            if dry_run:
                would_erase.extend(pk for pk, _number in rows)
            else:
                for start in range(0, len(rows), ERASE_BATCH):
                    pks = [pk for pk, _number in rows[start : start + ERASE_BATCH]]
                    _erase(
                        pks, now=now, reason=ERASED_CHANGE_REASON.format(days=study.retention_days)
                    )
        if rows:
            done.append(StudyErasure(study, tuple(number for _pk, number in rows)))
    people = persons_erase_expired(now=now, dry_run=dry_run, also_erased=would_erase)
    return ErasureResult(now=now, dry_run=dry_run, studies=tuple(done), people=people)


# ---------------------------------------------------------------------------------------------
# People: their details go once no application needs them
# ---------------------------------------------------------------------------------------------
PERSON_ERASED_REASON = "Personal data erased: every application of this person was erased."


def person_list_expired(*, also_erased=()):
    """People not yet erased who have applications and none that still needs their details:
    every application erased (after its study's retention period), or in `also_erased` (those
    a dry run would erase). Anyone with an application still open, enrolled, or in its
    retention period keeps their details; so does someone with no application at all (a
    registry member who came through the center's own form)."""
    needed = Participant.objects.filter(person=OuterRef("pk"), erased_at__isnull=True)
    if also_erased:
        needed = needed.exclude(pk__in=also_erased)
    return (
        Person.objects.filter(erased_at__isnull=True)
        .filter(Exists(Participant.objects.filter(person=OuterRef("pk"))))
        .exclude(Exists(needed))
        .order_by("pk")
    )


def persons_erase_expired(*, now=None, dry_run: bool = False, also_erased=()) -> int:
    """Erase the details of every person no application needs any more
    (`person_list_expired`): name, contact details, date of birth and ZIP code, in the
    person's history too, and the link to leave the registry; they leave every match
    (`Person.objects.in_registry()` excludes the erased). Returns how many; `dry_run` counts
    only. Idempotent; a fixed number of queries per ERASE_BATCH people."""
    now = now or timezone.now()
    with transaction.atomic():
        expired = person_list_expired(also_erased=also_erased if dry_run else ())
        if not dry_run:
            expired = expired.select_for_update()
        pks = list(expired.values_list("pk", flat=True))
        if not dry_run:
            for start in range(0, len(pks), ERASE_BATCH):
                persons_erase(
                    pks=pks[start : start + ERASE_BATCH], now=now, reason=PERSON_ERASED_REASON
                )
    return len(pks)


def sessions_erase_expired(*, dry_run: bool = False) -> None:
    """Delete every session past its expiry (`dry_run`: change nothing). A patient's session
    may hold the answers of a form whose language they switched, and Django deletes an
    expired session only when its owner comes back, so without this it would stay for good."""
    if not dry_run:
        import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()


def _erase(pks: list[int], *, now, reason: str) -> None:
    Participant.objects.filter(pk__in=pks).update(
        **ERASED_VALUES, submission_token=None, withdraw_nonce="", erased_at=now, updated_at=now
    )
    Answer.objects.filter(participant_id__in=pks).update(value=None, verified_note="")
    CriterionVerdict.objects.filter(participant_id__in=pks).update(
        answer=None, reason=ERASED_VERDICT_REASON, eligible_from=None
    )
    ContactAttempt.objects.filter(participant_id__in=pks).update(note="")
    StaffNote.objects.filter(participant_id__in=pks).update(text="")
    # The history holds every earlier version: the same fields, and staff's reasons for
    # edits, which may quote what they changed. Who changed what kind of thing, and when, stays.
    Participant.history.filter(id__in=pks).update(
        **_erased_in_history(Participant), history_change_reason=None
    )
    Answer.history.filter(participant_id__in=pks).update(
        value=None, verified_note="", history_change_reason=None
    )
    # The answers they gave to the center's shared questions, unless the person is in the
    # registry (they agreed to be kept for other studies).
    shared_answers_erase(application_ids=pks)
    _history_record_erasure(pks, now=now, reason=reason)


def _erased_in_history(model) -> dict[str, Any]:
    """ERASED_VALUES for the fields `model`'s history keeps."""
    kept = {field.attname for field in model.history.model.tracked_fields}
    return {name: value for name, value in ERASED_VALUES.items() if name in kept}


def _history_record_erasure(pks: list[int], *, now, reason: str) -> None:
    """Add one version per erased participant, saying when and why, with no user (the
    retention rule erased them, not a person): simple-history's bulk history, made from the
    erased rows, at most ERASE_BATCH of them in memory."""
    erased = list(Participant.objects.filter(pk__in=pks).order_by("pk"))
    for participant in erased:
        participant._history_user = None
    Participant.history.bulk_history_create(
        erased, update=True, default_date=now, default_change_reason=reason
    )
