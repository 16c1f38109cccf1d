"""Judge pre-screening answers against the study's eligibility criteria.

Keep this package a pure function of its inputs (criteria, answers, applicant, today) so that
the same answers always give the same verdicts, can be re-run after a criterion changes, and can
be tested without a database. It must never import Django or an ORM: callers translate model
rows into the plain dataclasses below.

Criteria are data: each has a rule kind and JSON params (validated by `validate_params`).
Answers are the stored JSON form (strings, numbers, dicts; dates as ISO "YYYY-MM-DD").
Bad answer data never raises: it gives an UNKNOWN verdict so that staff review it.
"""

from recruitment.eligibility.evaluate import evaluate, evaluate_one, evaluation_of
from recruitment.eligibility.params import validate_params
from recruitment.eligibility.places import add_months, age_on, zip_distance_miles, zip_is_known
from recruitment.eligibility.types import (
    NO,
    NOT_YET_ENTERED,
    RULES_FROM_CONTACT_DETAILS,
    UNSURE,
    YES,
    AnsweredBy,
    Applicant,
    Criterion,
    CriterionKind,
    Evaluation,
    Outcome,
    RuleKind,
    Source,
    Verdict,
    VerdictStatus,
)

__all__ = [
    "NO",
    "NOT_YET_ENTERED",
    "YES",
    "RULES_FROM_CONTACT_DETAILS",
    "UNSURE",
    "AnsweredBy",
    "Applicant",
    "Criterion",
    "CriterionKind",
    "Evaluation",
    "Outcome",
    "RuleKind",
    "Source",
    "VerdictStatus",
    "Verdict",
    "add_months",
    "age_on",
    "evaluate",
    "evaluate_one",
    "evaluation_of",
    "validate_params",
    "zip_distance_miles",
    "zip_is_known",
]
