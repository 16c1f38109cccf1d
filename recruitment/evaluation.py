"""The bridge from the database to the pure eligibility engine: criteria and answers in,
stored verdicts out, each with the exact criterion it was judged by."""

import hashlib
import json
import logging
import threading
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from recruitment import eligibility, selectors
from recruitment.models import (
    Answer,
    CriterionVerdict,
    CriterionVersion,
    EligibilityCriterion,
    EvaluationCause,
    Participant,
    Status,
    Verdict,
    snapshot_digest,
)

logger = logging.getLogger(__name__)


# -- Criterion versions -----------------------------------------------------------------------
# Each verdict points at the version row of the criterion it was judged by. The rows for a set
# of criteria are looked up (or written) once per process and kept here by the criteria's
# fingerprint, which changes with any change of their content, however it was made (the admin,
# `load_study`, SQL by hand). Version rows are never changed or deleted while verdicts point
# at them (PROTECT), so a kept id stays valid.
_VERSIONS_KEPT = 32
_versions: dict[str, dict[int, int]] = {}
_versions_lock = threading.Lock()


def criteria_fingerprint(criteria: list[EligibilityCriterion]) -> str:
    """A digest of everything about these criteria that a form or a verdict depends on: their
    text and rule (`snapshot`), translations, order and whether they are active."""
    content = [
        (c.pk, c.study_id, c.snapshot(), c.translations, c.order, c.is_active) for c in criteria
    ]
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def criterion_version_ids(
    criteria: list[EligibilityCriterion], *, fingerprint: str | None = None
) -> dict[int, int]:
    """The version row of each criterion as it stands (criterion pk -> version pk): from this
    process's memory, else read, and written where missing (one query when they exist)."""
    fingerprint = fingerprint or criteria_fingerprint(criteria)
    ids = _versions.get(fingerprint)
    if ids is not None:
        return ids
    snapshots = {c.pk: c.snapshot() for c in criteria}
    digests = {pk: snapshot_digest(snapshot) for pk, snapshot in snapshots.items()}
    ids = _version_ids_stored(digests)
    missing = [pk for pk in digests if pk not in ids]
    if missing:
        CriterionVersion.objects.bulk_create(
            [
                CriterionVersion(criterion_id=pk, digest=digests[pk], snapshot=snapshots[pk])
                for pk in missing
            ],
            ignore_conflicts=True,
        )
        ids = _version_ids_stored(digests)
    with _versions_lock:
        if len(_versions) >= _VERSIONS_KEPT:
            _versions.clear()
        _versions[fingerprint] = ids
    return ids


def _version_ids_stored(digests: dict[int, str]) -> dict[int, int]:
    rows = CriterionVersion.objects.filter(
        criterion_id__in=list(digests), digest__in=set(digests.values())
    ).values_list("criterion_id", "digest", "pk")
    return {criterion: pk for criterion, digest, pk in rows if digests.get(criterion) == digest}


def criterion_versions_forget() -> None:
    """Forget the version ids kept in memory (a database restored under a running process,
    or a test's rolled-back transaction): the next evaluation reads them again."""
    with _versions_lock:
        _versions.clear()


def evaluation_build(
    participant: Participant,
    criteria: list[EligibilityCriterion],
    values: dict[int, Any],
    *,
    today: date,
    version_ids: dict[int, int] | None = None,
    verified: frozenset[int] = frozenset(),
) -> tuple[eligibility.Evaluation, list[CriterionVerdict]]:
    """Run the pre-screen rules on the answers (`values` by criterion pk) and build one
    verdict per criterion, each pointing at the version of the criterion (its exact text and
    rule) it was judged by. Answers staff verified (`verified`, criterion pks) are judged like
    the patient's but stored as staff-verified. The verdicts are not saved and have no
    participant yet; `version_ids` (from `criterion_version_ids`) are looked up when not given."""
    if version_ids is None:
        version_ids = criterion_version_ids(criteria)
    evaluation = eligibility.evaluate(
        [c.as_rule() for c in criteria],
        {c.code: values[c.pk] for c in criteria if c.pk in values},
        applicant=eligibility.Applicant(
            date_of_birth=participant.date_of_birth, zip_code=participant.zip_code
        ),
        today=today,
    )
    verdicts = [
        CriterionVerdict(
            criterion=criterion,
            criterion_version_id=version_ids[criterion.pk],
            answer=values.get(criterion.pk),
            verdict=verdict.status,
            reason=verdict.reason[:300],
            provenance=(
                eligibility.Source.STAFF_VERIFIED
                if verdict.source and criterion.pk in verified
                else verdict.source or ""
            ),
            eligible_from=verdict.eligible_from,
            order=order,
        )
        for order, (criterion, verdict) in enumerate(
            zip(criteria, evaluation.verdicts, strict=True), start=1
        )
    ]
    return evaluation, verdicts


def verdicts_to_store(verdicts: list[CriterionVerdict]) -> list[CriterionVerdict]:
    """The verdicts a participant's stored evaluation keeps: all but the pending ones (a
    criterion staff assess, its value not entered yet), which `selectors.verdict_list` adds
    back wherever the criteria are listed or checked. Each would be the same row for every
    applicant (five of the LDN study's eighteen verdicts)."""
    return [verdict for verdict in verdicts if verdict.verdict != Verdict.PENDING]


def participant_evaluate(
    *,
    participant: Participant,
    today: date | None = None,
    by=None,
    cause: EvaluationCause | None = None,
) -> Participant:
    """Run the pre-screen rules on the participant's answers and store the verdict of each
    active criterion judged (`verdicts_to_store`: not the staff checks still pending), each
    with the exact criterion text and rule it was judged by.

    For someone already eligible, waitlisted or consented, new values (the `cause`) that fail
    a criterion set `criteria_failed_at`, the warning on their page and in the queue; values
    that pass again clear it."""
    today = today or timezone.localdate()
    criteria = list(participant.study.criteria.active())
    answers = list(Answer.objects.filter(participant=participant))
    values = {a.criterion_id: a.value for a in answers}
    verified = frozenset(a.criterion_id for a in answers if a.is_verified)
    evaluation, verdicts = evaluation_build(
        participant, criteria, values, today=today, verified=verified
    )
    with transaction.atomic():
        CriterionVerdict.objects.filter(participant=participant).delete()
        stored = verdicts_to_store(verdicts)
        for verdict in stored:
            verdict.participant = participant
        CriterionVerdict.objects.bulk_create(stored)
        participant.outcome = evaluation.outcome
        participant.eligible_from = evaluation.eligible_from
        participant.criteria_version = participant.study.criteria_version
        participant.evaluated_at = timezone.now()
        fields = ["outcome", "eligible_from", "criteria_version", "evaluated_at"]
        if participant.status in Status.awaiting_enrollment():
            fields += criteria_failed_update(participant, cause, today=today)
        participant._change_reason = "Pre-screen evaluated"
        if by is not None:
            participant._history_user = by
        participant.save(update_fields=fields)
    return participant


def criteria_failed_update(
    participant: Participant, cause: EvaluationCause | None, *, today: date
) -> list[str]:
    """Set or clear the "fails a criterion" warning of someone judged eligible; returns the
    fields changed."""
    failing = bool(selectors.verdict_list_blocking(participant=participant, today=today))
    if failing and participant.criteria_failed_at is None:
        participant.criteria_failed_at = timezone.now()
        participant.criteria_failed_by = cause or ""
    elif not failing and participant.criteria_failed_at is not None:
        participant.criteria_failed_at = None
        participant.criteria_failed_by = ""
    else:
        return []
    return ["criteria_failed_at", "criteria_failed_by"]
