"""Judge pre-screening answers against the study's eligibility criteria.

Keep this module a pure function of its inputs (criteria, answers, applicant, today) so that
the same answers always give the same verdicts, can be re-run after a criterion changes, and can
be tested without a database. It must never import Django or an ORM: callers translate model
rows into the plain dataclasses below.

Criteria are data: each has a rule kind and JSON params (validated by `validate_params`).
Answers are the stored JSON form (strings, numbers, dicts; dates as ISO "YYYY-MM-DD").
Bad answer data never raises: it gives an UNKNOWN verdict so that staff review it.
"""

import calendar
import functools
import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

import zipcodes

from recruitment.unicode_text import ascii_digits

__all__ = [
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
    "validate_params",
    "zip_distance_miles",
    "zip_is_known",
]


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

logger = logging.getLogger(__name__)


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


# --------------------------------------------------------------------------------------------
# Dates and ZIP codes
# --------------------------------------------------------------------------------------------


def age_on(date_of_birth: date, today: date) -> int:
    """Return completed years on `today`, the way age limits in the protocol are meant.

    Comparing (month, day) pairs makes someone born on 29 February one year older on
    1 March in non-leap years, which is the usual legal convention.
    """
    years = today.year - date_of_birth.year
    if (today.month, today.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


def add_months(d: date, months: int) -> date:
    """Add calendar months, clamping to the month's last day, as washout windows are counted.

    31 January + 1 month is 28 (or 29) February rather than an error or a date in March.
    """
    index = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    day = min(d.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


@functools.lru_cache(maxsize=4096)
def _zip_centroid(zip5: str) -> tuple[float, float] | None:
    """The centroid of one five-digit ZIP, or None when the offline database has none.

    One lookup per ZIP, remembered: `zipcodes.matching` reads the compiled index, while
    `zipcodes.list_all()` would build (and keep) a dict for each of the ~42,000 ZIPs, about
    140 MB per worker. Same answers: one row per ZIP, taken when its coordinates parse.
    """
    try:
        rows = zipcodes.matching(zip5)
    except Exception as error:
        return _zip_lookup_failed(error)
    except BaseException as error:
        if not _is_native_panic(error):
            raise  # KeyboardInterrupt, SystemExit, GeneratorExit: never swallowed
        return _zip_lookup_failed(error)
    for row in rows:
        try:
            return (float(row["lat"]), float(row["long"]))
        except (KeyError, TypeError, ValueError):
            continue
    return None


def _is_native_panic(error: BaseException) -> bool:
    """Tell a panic of the ZIP library's native (Rust) code from a request to stop.

    PyO3 raises a Rust panic as `pyo3_runtime.PanicException`, a BaseException and not an
    Exception, so that `except Exception` does not hide it; that module cannot be imported,
    so the class is known by its module and name.
    """
    kind = type(error)
    return kind.__module__ == "pyo3_runtime" and kind.__name__ == "PanicException"


def _zip_lookup_failed(error: BaseException) -> None:
    """An unknown ZIP code, logged by the error's type only: its message may quote the ZIP
    code, which is personal data."""
    logger.warning("ZIP code lookup failed (%s); treated as unknown", type(error).__name__)
    return None


def _zip5(zip_code: object) -> str | None:
    """Reduce a ZIP or ZIP+4 to its first five digits, or None when it is not one.

    Digits of any script count (a phone's keyboard may type ３５２９４): they are read as the
    ASCII digits they stand for.
    """
    if not isinstance(zip_code, str):
        return None
    head = ascii_digits(text=zip_code.strip())[:5]
    return head if _ZIP5.fullmatch(head) else None


def zip_is_known(zip_code: str) -> bool:
    """Tell whether the offline ZIP database has a centroid for this ZIP (or ZIP+4)."""
    zip5 = _zip5(zip_code)
    return zip5 is not None and _zip_centroid(zip5) is not None


def zip_distance_miles(zip_a: str, zip_b: str) -> float | None:
    """Return the great-circle distance in miles between two ZIP centroids, None if unknown.

    Centroids are only approximate, so the haversine formula on a sphere is accurate enough
    for a travel-distance limit.
    """
    zip_a5, zip_b5 = _zip5(zip_a), _zip5(zip_b)
    a = _zip_centroid(zip_a5) if zip_a5 is not None else None
    b = _zip_centroid(zip_b5) if zip_b5 is not None else None
    if a is None or b is None:
        return None
    lat1, lon1 = map(math.radians, a)
    lat2, lon2 = map(math.radians, b)
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(h)))


# --------------------------------------------------------------------------------------------
# Params validation
# --------------------------------------------------------------------------------------------


def _is_number(value: object) -> bool:
    """Accept JSON numbers only: bool is an int subclass but never a meaningful bound."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return False
    return isinstance(value, int) or math.isfinite(value)


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require(params: Mapping[str, Any], key: str, rule_kind: RuleKind) -> Any:
    if key not in params:
        raise ValueError(f"{rule_kind} params: missing key {key!r}.")
    return params[key]


def _validate_yes_no(params: Mapping[str, Any]) -> None:
    required = _require(params, "required", RuleKind.YES_NO)
    if required not in (YES, NO):
        raise ValueError(f"yes_no params: 'required' must be 'yes' or 'no', got {required!r}.")


def _validate_age_range(params: Mapping[str, Any]) -> None:
    low = _require(params, "min", RuleKind.AGE_RANGE)
    high = _require(params, "max", RuleKind.AGE_RANGE)
    for key, value in (("min", low), ("max", high)):
        if not _is_whole(value) or value < 0:
            raise ValueError(f"age_range params: {key!r} must be a whole number of years >= 0.")
    if low > high:
        raise ValueError("age_range params: 'min' must not be greater than 'max'.")


def _validate_number_range(params: Mapping[str, Any]) -> None:
    if "min" not in params and "max" not in params:
        raise ValueError("number_range params: missing key 'min' or 'max' (need at least one).")
    for key in ("min", "max"):
        if key in params and not _is_number(params[key]):
            raise ValueError(f"number_range params: {key!r} must be a finite number.")
    for key in ("min_inclusive", "max_inclusive"):
        if key in params and not isinstance(params[key], bool):
            raise ValueError(f"number_range params: {key!r} must be true or false.")
    if "unit" in params and not isinstance(params["unit"], str):
        raise ValueError("number_range params: 'unit' must be a string.")
    if "min" in params and "max" in params:
        low, high = Decimal(str(params["min"])), Decimal(str(params["max"]))
        both_inclusive = params.get("min_inclusive", True) and params.get("max_inclusive", True)
        if low > high or (low == high and not both_inclusive):
            raise ValueError("number_range params: 'min' and 'max' leave no value that meets it.")


def _validate_choice(params: Mapping[str, Any]) -> None:
    options = _require(params, "options", RuleKind.CHOICE)
    if not isinstance(options, Sequence) or isinstance(options, str) or not options:
        raise ValueError("choice params: 'options' must be a non-empty list.")
    values: set[str] = set()
    for option in options:
        if not isinstance(option, Mapping):
            raise ValueError("choice params: each of 'options' must be an object.")
        value = option.get("value")
        if not isinstance(value, str) or not value.strip():
            raise ValueError("choice params: each option needs a non-empty string 'value'.")
        if value == UNSURE:
            raise ValueError(f"choice params: option value {UNSURE!r} is reserved for not sure.")
        if value in values:
            raise ValueError(f"choice params: duplicate option value {value!r}.")
        if "label" in option and not isinstance(option["label"], str):
            raise ValueError(f"choice params: 'label' of option {value!r} must be a string.")
        values.add(value)
    eligible = _require(params, "eligible", RuleKind.CHOICE)
    if not isinstance(eligible, Sequence) or isinstance(eligible, str) or not eligible:
        raise ValueError("choice params: 'eligible' must be a non-empty list of option values.")
    for value in eligible:
        if value not in values:
            raise ValueError(f"choice params: 'eligible' value {value!r} is not an option.")


def _validate_zip_distance(params: Mapping[str, Any]) -> None:
    site_zip = _require(params, "site_zip", RuleKind.ZIP_DISTANCE)
    if not isinstance(site_zip, str) or not _ZIP5.fullmatch(site_zip):
        raise ValueError("zip_distance params: 'site_zip' must be a 5-digit string.")
    if not zip_is_known(site_zip):
        raise ValueError(f"zip_distance params: 'site_zip' {site_zip} is not in the ZIP database.")
    max_miles = _require(params, "max_miles", RuleKind.ZIP_DISTANCE)
    if not _is_number(max_miles) or max_miles <= 0:
        raise ValueError("zip_distance params: 'max_miles' must be a positive number.")


def _validate_at_least_n(params: Mapping[str, Any]) -> None:
    items = _require(params, "items", RuleKind.AT_LEAST_N)
    if not isinstance(items, Sequence) or isinstance(items, str) or not items:
        raise ValueError("at_least_n params: 'items' must be a non-empty list.")
    keys: set[str] = set()
    for item in items:
        if not isinstance(item, Mapping):
            raise ValueError("at_least_n params: each of 'items' must be an object.")
        key = item.get("key")
        if not isinstance(key, str) or not key.strip():
            raise ValueError("at_least_n params: each item needs a non-empty string 'key'.")
        if key in keys:
            raise ValueError(f"at_least_n params: duplicate item key {key!r}.")
        for text in ("label", "title"):
            if text in item and not isinstance(item[text], str):
                raise ValueError(f"at_least_n params: '{text}' of item {key!r} must be a string.")
        keys.add(key)
    minimum = _require(params, "min", RuleKind.AT_LEAST_N)
    if not _is_whole(minimum) or not 1 <= minimum <= len(items):
        raise ValueError(f"at_least_n params: 'min' must be a whole number from 1 to {len(items)}.")
    required = params.get("required", [])
    if not isinstance(required, Sequence) or isinstance(required, str):
        raise ValueError("at_least_n params: 'required' must be a list of item keys.")
    for key in required:
        if key not in keys:
            raise ValueError(f"at_least_n params: 'required' key {key!r} is not an item key.")


def _validate_washout(params: Mapping[str, Any]) -> None:
    present = [key for key in ("days", "months") if key in params]
    if len(present) != 1:
        raise ValueError("washout params: give exactly one of 'days' or 'months'.")
    value = params[present[0]]
    if not _is_whole(value) or value <= 0:
        raise ValueError(f"washout params: {present[0]!r} must be a positive whole number.")


_VALIDATORS: dict[RuleKind, Callable[[Mapping[str, Any]], None]] = {
    RuleKind.YES_NO: _validate_yes_no,
    RuleKind.AGE_RANGE: _validate_age_range,
    RuleKind.NUMBER_RANGE: _validate_number_range,
    RuleKind.CHOICE: _validate_choice,
    RuleKind.ZIP_DISTANCE: _validate_zip_distance,
    RuleKind.AT_LEAST_N: _validate_at_least_n,
    RuleKind.WASHOUT: _validate_washout,
}


def validate_params(rule_kind: RuleKind | str, params: Mapping[str, Any]) -> None:
    """Reject params a rule cannot use, so a bad study file fails at load, not mid-screening.

    Raise ValueError naming the missing or invalid key. Unrecognised extra keys are ignored.
    """
    try:
        kind = RuleKind(rule_kind)
    except ValueError:
        raise ValueError(f"Unknown rule kind {rule_kind!r}.") from None
    if not isinstance(params, Mapping):
        raise ValueError(f"{kind} params: must be an object, got {type(params).__name__}.")
    _VALIDATORS[kind](params)


# --------------------------------------------------------------------------------------------
# Reading answers
# --------------------------------------------------------------------------------------------


def _is_blank(answer: object) -> bool:
    """Treat None and an empty string alike: a form left blank stores either."""
    return answer is None or (isinstance(answer, str) and not answer.strip())


def _yes_no_unsure(value: object) -> str | None:
    """Normalise a yes/no/unsure answer, or return None when it is something else."""
    if not isinstance(value, str):
        return None
    value = value.strip().lower()
    return value if value in (YES, NO, UNSURE) else None


def _is_unsure(answer: object) -> bool:
    return _yes_no_unsure(answer) == UNSURE


def _read_decimal(value: object) -> Decimal:
    """Read a number exactly, so "3.0" equals the bound 3 and 2.99 stays under it."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise _UnreadableError("expected a number")
    try:
        text = ascii_digits(text=value.strip()) if isinstance(value, str) else str(value)
        number = Decimal(text)
    except InvalidOperation:
        raise _UnreadableError("expected a number") from None
    if not number.is_finite():
        raise _UnreadableError("expected a number")
    return number


def _read_date(value: object) -> date:
    """Read a stored ISO date strictly; looser formats are more likely typos than dates."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = ascii_digits(text=value.strip()) if isinstance(value, str) else None
    if text is None or not _ISO_DATE.fullmatch(text):
        raise _UnreadableError("expected a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _UnreadableError(f"{text} is not a valid date") from None


def _plain(number: Decimal | int | float) -> str:
    """Show a number without exponent notation, keeping the precision it was given with."""
    return format(Decimal(str(number)), "f")


def _with_unit(number: str, unit: str) -> str:
    return f"{number} {unit}" if unit else number


def _join(words: Sequence[str]) -> str:
    """Join words as "a", "a and b", "a, b and c" so reasons read as a sentence."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _shown(value: object) -> str:
    """Quote an unexpected answer briefly, on one line, so staff can see what was stored."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


# --------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    params: Mapping[str, Any]
    title: str
    applicant: Applicant
    today: date
    distance: Callable[[str, str], float | None]


def _judge_yes_no(answer: object, ctx: _Context) -> _Judgement:
    value = _yes_no_unsure(answer)
    if value is None:
        raise _UnreadableError("expected yes or no")
    required = ctx.params["required"]
    if value == required:
        return _Judgement(VerdictStatus.MET, f"Answered {value}.")
    return _Judgement(VerdictStatus.NOT_MET, f"Answered {value}; needs {required}.")


def _judge_age_range(answer: object, ctx: _Context) -> _Judgement:
    dob = ctx.applicant.date_of_birth
    if dob is None:
        return _Judgement(VerdictStatus.UNKNOWN, NO_DATE_OF_BIRTH)
    if isinstance(dob, datetime):
        dob = dob.date()
    if not isinstance(dob, date):
        return _Judgement(VerdictStatus.UNKNOWN, "Date of birth could not be read.")
    if dob > ctx.today:
        return _Judgement(VerdictStatus.UNKNOWN, f"Date of birth {dob} is in the future.")
    low, high = ctx.params["min"], ctx.params["max"]
    age = age_on(dob, ctx.today)
    status = VerdictStatus.MET if low <= age <= high else VerdictStatus.NOT_MET
    return _Judgement(status, f"Age {age} on {ctx.today}; needs {low} to {high}.")


def _number_requirement(params: Mapping[str, Any]) -> str:
    """Describe the allowed range in words staff use: "under 3 mg/L", "at most 60 mm/h"."""
    unit = params.get("unit", "")
    min_inclusive = params.get("min_inclusive", True)
    max_inclusive = params.get("max_inclusive", True)
    if "min" in params and "max" in params and min_inclusive and max_inclusive:
        return _with_unit(f"{_plain(params['min'])} to {_plain(params['max'])}", unit)
    parts = []
    if "min" in params:
        word = "at least" if min_inclusive else "over"
        parts.append(_with_unit(f"{word} {_plain(params['min'])}", unit))
    if "max" in params:
        word = "at most" if max_inclusive else "under"
        parts.append(_with_unit(f"{word} {_plain(params['max'])}", unit))
    return " and ".join(parts)


def _judge_number_range(answer: object, ctx: _Context) -> _Judgement:
    number = _read_decimal(answer)
    params = ctx.params
    met = True
    if "min" in params:
        low = Decimal(str(params["min"]))
        met = met and (number >= low if params.get("min_inclusive", True) else number > low)
    if "max" in params:
        high = Decimal(str(params["max"]))
        met = met and (number <= high if params.get("max_inclusive", True) else number < high)
    shown = _with_unit(_plain(number), params.get("unit", ""))
    label = ctx.title or "Answer"
    reason = f"{label} {shown}; needs {_number_requirement(params)}."
    return _Judgement(VerdictStatus.MET if met else VerdictStatus.NOT_MET, reason)


def _judge_choice(answer: object, ctx: _Context) -> _Judgement:
    labels = {
        option["value"]: option.get("label") or option["value"] for option in ctx.params["options"]
    }
    if not isinstance(answer, str) or answer not in labels:
        raise _UnreadableError(f"{_shown(answer)} is not one of the options")
    eligible = ctx.params["eligible"]
    if answer in eligible:
        return _Judgement(VerdictStatus.MET, f"Answered {labels[answer]}.")
    needs = " or ".join(labels[value] for value in eligible)
    return _Judgement(VerdictStatus.NOT_MET, f"Answered {labels[answer]}; needs {needs}.")


def _judge_zip_distance(answer: object, ctx: _Context) -> _Judgement:
    raw = ctx.applicant.zip_code
    if _is_blank(raw):
        return _Judgement(VerdictStatus.UNKNOWN, NO_ZIP_CODE)
    zip5 = _zip5(raw)
    if zip5 is None:
        return _Judgement(VerdictStatus.UNKNOWN, f"ZIP code {_shown(raw)} could not be read.")
    site_zip = ctx.params["site_zip"]
    miles = ctx.distance(zip5, site_zip)
    if miles is None:
        return _Judgement(VerdictStatus.UNKNOWN, f"ZIP code {zip5} is not in the ZIP database.")
    if not _is_number(miles) or miles < 0:
        return _Judgement(
            VerdictStatus.UNKNOWN, f"Distance from ZIP code {zip5} could not be computed."
        )
    limit = Decimal(str(ctx.params["max_miles"]))
    # Round to 0.1 mile first: centroids are approximate, so 100.04 miles counts as 100.
    tenths = Decimal(str(miles)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    met = tenths <= limit
    # Show whole miles unless rounding to a whole mile would seem to contradict the verdict.
    whole = tenths.quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    shown = whole if (whole <= limit) == met else tenths
    reason = f"About {_plain(shown)} miles from {site_zip}; limit {_plain(limit)} miles."
    return _Judgement(VerdictStatus.MET if met else VerdictStatus.NOT_MET, reason)


def _judge_at_least_n(answer: object, ctx: _Context) -> _Judgement:
    if not isinstance(answer, Mapping):
        raise _UnreadableError("expected a yes/no answer for each item")
    items = ctx.params["items"]
    minimum = ctx.params["min"]
    required = list(ctx.params.get("required", []))
    # Reasons are for staff: use each item's short staff title, not the patient's question.
    labels = {item["key"]: item.get("title") or item["key"] for item in items}
    values: dict[str, str] = {}
    for key in labels:
        raw = answer.get(key)
        if _is_blank(raw):
            values[key] = UNSURE
            continue
        value = _yes_no_unsure(raw)
        if value is None:
            raise _UnreadableError(f"item {key!r} is not yes or no")
        values[key] = value
    yes = sum(1 for v in values.values() if v == YES)
    unknown = sum(1 for v in values.values() if v == UNSURE)
    needs = f"needs {minimum}"
    if required:
        needs += f", including {_join([labels[key] for key in required])}"
    counts = f"{yes} of {len(items)} yes"
    if unknown:
        counts += f", {unknown} unknown"
    reason = f"{counts} ({needs})."
    required_no = [labels[key] for key in required if values[key] == NO]
    if required_no:
        return _Judgement(
            VerdictStatus.NOT_MET, f"{reason[:-1]}; {_join(required_no)} answered no."
        )
    if yes + unknown < minimum:
        return _Judgement(VerdictStatus.NOT_MET, reason)
    if yes >= minimum and all(values[key] == YES for key in required):
        return _Judgement(VerdictStatus.MET, reason)
    return _Judgement(VerdictStatus.UNKNOWN, reason)


def _judge_washout(answer: object, ctx: _Context) -> _Judgement:
    if not isinstance(answer, Mapping):
        raise _UnreadableError("expected whether and when it was last taken")
    taken = _yes_no_unsure(answer.get("taken"))
    if taken is None:
        raise _UnreadableError("expected taken yes, no or not sure")
    if taken == UNSURE:
        return _Judgement(VerdictStatus.UNKNOWN, ANSWERED_UNSURE)
    if taken == NO:
        return _Judgement(VerdictStatus.MET, NO_RECENT_USE)
    if _is_blank(answer.get("last")):
        return _Judgement(VerdictStatus.UNKNOWN, LAST_DOSE_NEEDED)
    last = _read_date(answer["last"])
    if last > ctx.today:
        return _Judgement(VerdictStatus.UNKNOWN, f"Last dose {last} is in the future.")
    if "months" in ctx.params:
        eligible_from = add_months(last, ctx.params["months"])
    else:
        eligible_from = last + timedelta(days=ctx.params["days"])
    if eligible_from <= ctx.today:
        return _Judgement(VerdictStatus.MET, f"Last dose {last}; washout ended {eligible_from}.")
    return _Judgement(
        VerdictStatus.NOT_MET, f"Last dose {last}; eligible from {eligible_from}.", eligible_from
    )


_JUDGES: dict[RuleKind, Callable[[object, _Context], _Judgement]] = {
    RuleKind.YES_NO: _judge_yes_no,
    RuleKind.AGE_RANGE: _judge_age_range,
    RuleKind.NUMBER_RANGE: _judge_number_range,
    RuleKind.CHOICE: _judge_choice,
    RuleKind.ZIP_DISTANCE: _judge_zip_distance,
    RuleKind.AT_LEAST_N: _judge_at_least_n,
    RuleKind.WASHOUT: _judge_washout,
}


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------


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
    verdicts = tuple(
        evaluate_one(
            criterion,
            answers.get(criterion.code),
            applicant=applicant,
            today=today,
            distance=distance,
        )
        for criterion in criteria
    )
    running = [v.eligible_from for v in verdicts if v.eligible_from is not None]
    return Evaluation(_outcome(verdicts), verdicts, max(running) if running else None)
