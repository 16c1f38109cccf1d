"""Backfilling shared answers: people who applied before the question bank existed (or before a
study's criteria named its shared questions) have answers on their applications but no
shared answer, so the registry's matching sees every such question as never asked.

For each person in the registry, each shared question a criterion of theirs names gets the
answer of their latest application that answered it, dated the day that application was
sent, pointing at it, with a history row like every shared answer's. A shared answer as new
or newer is never overwritten, so a second run changes nothing. Then the studies whose
criteria ask the questions written are queued for re-matching. Nothing here is written to a
log: only counts leave it."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from recruitment import eligibility
from recruitment.models import (
    Answer,
    AnsweredBy,
    EligibilityCriterion,
    Participant,
    Person,
    SharedAnswer,
    Study,
)
from recruitment.registry.tasks import study_rematch_enqueue

BATCH_SIZE = 500
BACKFILLED = "Backfilled from an application form sent before the question was shared"


@dataclass
class BackfillResult:
    """What a backfill did (or, in a dry run, would do): people read, shared answers created
    and updated, answers left because the person's shared answer is as new or newer, and the
    studies queued for re-matching."""

    people: int = 0
    created: int = 0
    updated: int = 0
    kept: int = 0
    batches: int = 0
    studies: list[str] = field(default_factory=list)

    @property
    def written(self) -> int:
        return self.created + self.updated


@dataclass(frozen=True)
class _Candidate:
    person_id: int
    question_id: int
    value: Any
    answered_on: date
    application_id: int


def shared_answers_backfill(
    *,
    study: Study | None = None,
    dry_run: bool = False,
    by=None,
    batch_size: int = BATCH_SIZE,
) -> BackfillResult:
    """Record, for every person in the registry, the shared answers their latest applications
    gave (`study`: only applications to that study). Repeatable; in batches of `batch_size`
    people, each read in a constant number of queries and written in its own transaction, so
    memory holds one batch. `dry_run` counts what would be written and writes nothing."""
    criteria = EligibilityCriterion.objects.filter(
        shared_question__isnull=False, answered_by=AnsweredBy.PATIENT
    )
    if study is not None:
        criteria = criteria.filter(study=study)
    asks = {
        pk: (study_id, question, kind)
        for pk, study_id, question, kind in criteria.values_list(
            "pk", "study_id", "shared_question_id", "rule_kind"
        )
    }
    result = BackfillResult()
    if not asks:
        return result
    questions_written: set[int] = set()
    persons = Person.objects.in_registry().order_by("pk").values_list("pk", flat=True)
    last = 0
    while True:
        ids = list(persons.filter(pk__gt=last)[:batch_size])
        if not ids:
            break
        last = ids[-1]
        result.people += len(ids)
        result.batches += 1
        candidates = _candidates(ids, asks, study)
        if dry_run:
            _count(candidates, result)
        else:
            questions_written |= _write(candidates, result, by)
    if questions_written:
        asking = EligibilityCriterion.objects.active().filter(
            shared_question_id__in=questions_written
        )
        affected = (
            Study.objects.recruiting().filter(pk__in=asking.values("study_id")).order_by("slug")
        )
        for queued in affected:
            study_rematch_enqueue(study=queued)
            result.studies.append(queued.slug)
    return result


def _candidates(
    ids: list[int], asks: dict[int, tuple[int, int, str]], study: Study | None
) -> dict[tuple[int, int], _Candidate]:
    """Each (person, question)'s answer from the latest application that gave one. An age
    criterion's answer is the form's date of birth (it has no answer row)."""
    applications = Participant.objects.filter(person_id__in=ids, erased_at__isnull=True)
    if study is not None:
        applications = applications.filter(study=study)
    apps = {
        pk: (person_id, study_id, created_at, dob)
        for pk, person_id, study_id, created_at, dob in applications.values_list(
            "pk", "person_id", "study_id", "created_at", "date_of_birth"
        )
    }
    if not apps:
        return {}
    given = list(
        Answer.objects.filter(
            participant_id__in=list(apps),
            criterion_id__in=list(asks),
            carried_over_on__isnull=True,  # kept as given, on the day it was given
        ).values_list("participant_id", "criterion_id", "value")
    )
    ages: dict[int, list[int]] = {}
    for criterion_id, (study_id, _question_id, kind) in asks.items():
        if kind == eligibility.RuleKind.AGE_RANGE:
            ages.setdefault(study_id, []).append(criterion_id)
    for application_id, (_person, study_id, _at, dob) in apps.items():
        for criterion_id in ages.get(study_id, ()):
            given.append((application_id, criterion_id, dob and dob.isoformat()))
    best: dict[tuple[int, int], tuple[Any, _Candidate]] = {}
    for application_id, criterion_id, value in given:
        person_id, _study, created_at, _dob = apps[application_id]
        _study_id, question_id, _kind = asks[criterion_id]
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        key = (person_id, question_id)
        rank = (created_at, application_id)
        if key not in best or best[key][0] < rank:
            on = timezone.localdate(created_at)
            best[key] = (rank, _Candidate(person_id, question_id, value, on, application_id))
    return {key: candidate for key, (_rank, candidate) in best.items()}


def _existing(candidates: dict[tuple[int, int], _Candidate]) -> dict[tuple[int, int], tuple]:
    persons = {person_id for person_id, _q in candidates}
    questions = {question_id for _p, question_id in candidates}
    rows = SharedAnswer.objects.filter(
        person_id__in=persons, question_id__in=questions
    ).values_list("person_id", "question_id", "pk", "answered_on")
    return {(p, q): (pk, on) for p, q, pk, on in rows}


def _count(candidates, result: BackfillResult) -> None:
    existing = _existing(candidates) if candidates else {}
    for key, candidate in candidates.items():
        if key not in existing:
            result.created += 1
        elif existing[key][1] < candidate.answered_on:
            result.updated += 1
        else:
            result.kept += 1


def _write(candidates, result: BackfillResult, by) -> set[int]:
    """Write one batch: new shared answers in one INSERT that leaves any row written
    meanwhile alone, older ones updated only while still older; then the history rows of
    what was written. Returns the questions written."""
    if not candidates:
        return set()
    now = timezone.now()
    with transaction.atomic():
        existing = _existing(candidates)
        new, written = [], []
        for key, candidate in candidates.items():
            row = SharedAnswer(
                person_id=candidate.person_id,
                question_id=candidate.question_id,
                value=candidate.value,
                answered_on=candidate.answered_on,
                source_application_id=candidate.application_id,
                updated_at=now,
            )
            if key not in existing:
                new.append(row)
                continue
            pk, answered_on = existing[key]
            if answered_on >= candidate.answered_on:
                result.kept += 1
                continue
            # Still older when written: a newer answer given meanwhile is kept.
            changed = SharedAnswer.objects.filter(
                pk=pk, answered_on__lt=candidate.answered_on
            ).update(
                value=row.value,
                answered_on=row.answered_on,
                source_application_id=row.source_application_id,
                updated_at=now,
            )
            if changed:
                row.pk = pk
                written.append(row)
                result.updated += 1
            else:
                result.kept += 1
        if new:
            SharedAnswer.objects.bulk_create(new, ignore_conflicts=True)
            mine = {(r.person_id, r.question_id): r for r in new}
            # Which rows are this INSERT's: a row another writer inserted meanwhile has another
            # source or date (a tie from the same application is the same answer anyway).
            stored = SharedAnswer.objects.filter(
                person_id__in={p for p, _q in mine}, question_id__in={q for _p, q in mine}
            ).values_list("person_id", "question_id", "pk", "source_application_id", "answered_on")
            for person_id, question_id, pk, source, answered_on in stored:
                row = mine.get((person_id, question_id))
                if (
                    row is not None
                    and row.pk is None
                    and (source, answered_on) == (row.source_application_id, row.answered_on)
                ):
                    row.pk = pk
                    written.append(row)
                    result.created += 1
            result.kept += sum(1 for r in new if r.pk is None)
        if written:
            SharedAnswer.history.bulk_history_create(
                written, default_user=by, default_change_reason=BACKFILLED, default_date=now
            )
    return {row.question_id for row in written}
