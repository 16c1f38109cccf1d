"""The bridge from the database to the pure eligibility engine: criteria and answers in,
stored verdicts out, each with the exact criterion it was judged by."""

import logging
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from recruitment import eligibility, selectors
from recruitment.models import (
    Answer,
    CriterionVerdict,
    EligibilityCriterion,
    EvaluationCause,
    Participant,
    Status,
)

logger = logging.getLogger(__name__)


def evaluation_build(
    participant: Participant,
    criteria: list[EligibilityCriterion],
    values: dict[int, Any],
    *,
    today: date,
    verified: frozenset[int] = frozenset(),
) -> tuple[eligibility.Evaluation, list[CriterionVerdict]]:
    """Run the pre-screen rules on the answers (`values` by criterion pk) and build one
    verdict per criterion, each with the exact criterion text and rule it was judged by.
    Answers staff verified (`verified`, criterion pks) are judged like the patient's but
    stored as staff-verified. Pure: the verdicts are not saved and have no participant yet."""
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
            criterion_snapshot=criterion.snapshot(),
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


def participant_evaluate(
    *,
    participant: Participant,
    today: date | None = None,
    by=None,
    cause: EvaluationCause | None = None,
) -> Participant:
    """Run the pre-screen rules on the participant's answers and store one verdict per active
    criterion, each with the exact criterion text and rule it was judged by.

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
        for verdict in verdicts:
            verdict.participant = participant
        CriterionVerdict.objects.bulk_create(verdicts)
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
