"""The engine's vocabulary: rule kinds, verdicts, outcomes and the plain dataclasses callers
build from their rows."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any


class RuleKind(StrEnum):
    YES_NO = "yes_no"
    AGE_RANGE = "age_range"
    NUMBER_RANGE = "number_range"
    CHOICE = "choice"
    ZIP_DISTANCE = "zip_distance"
    AT_LEAST_N = "at_least_n"
    WASHOUT = "washout"


class CriterionKind(StrEnum):
    INCLUSION = "inclusion"
    EXCLUSION = "exclusion"


class AnsweredBy(StrEnum):
    PATIENT = "patient"
    STAFF = "staff"


class VerdictStatus(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"
    PENDING = "pending"


class Source(StrEnum):
    SELF_REPORTED = "self_reported"
    STAFF_VERIFIED = "staff_verified"


class Outcome(StrEnum):
    LIKELY_ELIGIBLE = "likely_eligible"
    ALL_MET = "all_met"
    LIKELY_INELIGIBLE = "likely_ineligible"
    NEEDS_REVIEW = "needs_review"
    ELIGIBLE_FROM = "eligible_from"


UNSURE = "unsure"
YES = "yes"
NO = "no"

EARTH_RADIUS_MILES = 3958.8

NOT_ANSWERED = "Not answered."
NOT_YET_ENTERED = "Assessed by staff at screening; not yet entered."
ANSWERED_UNSURE = "Answered not sure."
UNREADABLE = "Answer could not be read"
NO_RECENT_USE = "Answered no recent use."
LAST_DOSE_NEEDED = "Took it recently; date of last dose needed."
NO_DATE_OF_BIRTH = "Date of birth not given."
NO_ZIP_CODE = "ZIP code not given."

# Rule kinds judged from the applicant's contact details (date of birth, ZIP code) rather than
# from an answer: the form asks no question for them, and their reasons quote those details.
RULES_FROM_CONTACT_DETAILS = frozenset({RuleKind.AGE_RANGE, RuleKind.ZIP_DISTANCE})

# ASCII digits only (`\d` matches every script's digits): answers are read through
# `ascii_digits` first, and the ZIP database's native code must never see anything else.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ZIP5 = re.compile(r"[0-9]{5}")


@dataclass(frozen=True)
class Criterion:
    code: str
    kind: CriterionKind
    answered_by: AnsweredBy
    rule_kind: RuleKind
    params: Mapping[str, Any]
    title: str = ""


@dataclass(frozen=True)
class Applicant:
    date_of_birth: date | None
    zip_code: str | None


@dataclass(frozen=True)
class Verdict:
    code: str
    status: VerdictStatus
    reason: str
    source: Source | None
    eligible_from: date | None = None


@dataclass(frozen=True)
class Evaluation:
    outcome: Outcome
    verdicts: tuple[Verdict, ...]
    eligible_from: date | None

    @property
    def pending(self) -> tuple[str, ...]:
        """List the criteria staff still have to assess, so the screening visit can cover them."""
        return tuple(v.code for v in self.verdicts if v.status is VerdictStatus.PENDING)


@dataclass(frozen=True)
class _Judgement:
    status: VerdictStatus
    reason: str
    eligible_from: date | None = None


class _UnreadableError(Exception):
    """Signal that an answer cannot be interpreted, so the caller reports UNKNOWN, not a crash."""
