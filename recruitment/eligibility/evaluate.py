"""Evaluating one criterion, and every criterion into an outcome."""

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------
from recruitment.eligibility.answers import _is_blank, _is_unsure
from recruitment.eligibility.params import validate_params
from recruitment.eligibility.places import zip_distance_miles
from recruitment.eligibility.rules import _JUDGES, _Context
from recruitment.eligibility.types import (
    ANSWERED_UNSURE,
    NOT_ANSWERED,
    NOT_YET_ENTERED,
    RULES_FROM_CONTACT_DETAILS,
    UNREADABLE,
    AnsweredBy,
    Applicant,
    Criterion,
    Evaluation,
    Outcome,
    RuleKind,
    Source,
    Verdict,
    VerdictStatus,
    _Judgement,
    _UnreadableError,
)


def _as_date(value: date) -> date:
    """Use the calendar day only, so a datetime passed as today compares like a date."""
    return value.date() if isinstance(value, datetime) else value


def evaluate_one(
    criterion: Criterion,
    answer: Any,
    *,
    applicant: Applicant,
    today: date,
    distance: Callable[[str, str], float | None] = zip_distance_miles,
) -> Verdict:
    """Judge one criterion, turning any unreadable answer into UNKNOWN instead of an error.

    Raise ValueError only when the criterion itself is invalid (see `validate_params`).
    Age and ZIP rules ignore the answer: they use the patient's contact details, so they
    are self-reported whoever the criterion says answers it.
    """
    rule_kind = RuleKind(criterion.rule_kind)
    validate_params(rule_kind, criterion.params)
    ctx = _Context(criterion.params, criterion.title, applicant, _as_date(today), distance)
    if rule_kind in RULES_FROM_CONTACT_DETAILS:
        source = Source.SELF_REPORTED
    else:
        staff = AnsweredBy(criterion.answered_by) is AnsweredBy.STAFF
        source = Source.STAFF_VERIFIED if staff else Source.SELF_REPORTED
        if _is_blank(answer):
            if staff:
                return Verdict(criterion.code, VerdictStatus.PENDING, NOT_YET_ENTERED, None)
            return Verdict(criterion.code, VerdictStatus.UNKNOWN, NOT_ANSWERED, source)
        if _is_unsure(answer):
            return Verdict(criterion.code, VerdictStatus.UNKNOWN, ANSWERED_UNSURE, source)
    try:
        judgement = _JUDGES[rule_kind](answer, ctx)
    except _UnreadableError as error:
        judgement = _Judgement(VerdictStatus.UNKNOWN, f"{UNREADABLE}: {error}.")
    except (TypeError, ValueError, ArithmeticError, KeyError, AttributeError):
        # Safety net: odd answer data must send the patient to review, never crash the form.
        judgement = _Judgement(VerdictStatus.UNKNOWN, f"{UNREADABLE}.")
    return Verdict(
        criterion.code, judgement.status, judgement.reason, source, judgement.eligible_from
    )


def _outcome(verdicts: Sequence[Verdict]) -> Outcome:
    """Pick the overall outcome; a firm "not met" outweighs everything, then doubts, then waits."""
    statuses = {(v.status, v.eligible_from is not None) for v in verdicts}
    if (VerdictStatus.NOT_MET, False) in statuses:
        return Outcome.LIKELY_INELIGIBLE
    if any(status is VerdictStatus.UNKNOWN for status, _ in statuses):
        return Outcome.NEEDS_REVIEW
    if (VerdictStatus.NOT_MET, True) in statuses:
        return Outcome.ELIGIBLE_FROM
    if any(status is VerdictStatus.PENDING for status, _ in statuses):
        return Outcome.LIKELY_ELIGIBLE
    return Outcome.ALL_MET


def evaluate(
    criteria: Sequence[Criterion],
    answers: Mapping[str, Any],
    *,
    applicant: Applicant,
    today: date,
    distance: Callable[[str, str], float | None] = zip_distance_miles,
) -> Evaluation:
    """Judge every criterion and combine the verdicts into one outcome for study staff.

    Keep verdicts in the criteria's order so screens and exports list them as the protocol does.
    """
    return evaluation_of(
        evaluate_one(
            criterion,
            answers.get(criterion.code),
            applicant=applicant,
            today=today,
            distance=distance,
        )
        for criterion in criteria
    )


def evaluation_of(verdicts: Iterable[Verdict]) -> Evaluation:
    """Combine verdicts (in the criteria's order) into one evaluation, as `evaluate` does: for
    callers that judge many people and reuse the verdict of an answer seen before."""
    verdicts = tuple(verdicts)
    running = [v.eligible_from for v in verdicts if v.eligible_from is not None]
    return Evaluation(_outcome(verdicts), verdicts, max(running) if running else None)
