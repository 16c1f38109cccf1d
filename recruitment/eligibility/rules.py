"""One judgement function per rule kind."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# --------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------
from recruitment.eligibility.answers import (
    _is_blank,
    _join,
    _plain,
    _read_date,
    _read_decimal,
    _shown,
    _with_unit,
    _yes_no_unsure,
)
from recruitment.eligibility.params import _is_number
from recruitment.eligibility.places import _zip5, add_months, age_on
from recruitment.eligibility.types import (
    ANSWERED_UNSURE,
    LAST_DOSE_NEEDED,
    NO,
    NO_DATE_OF_BIRTH,
    NO_RECENT_USE,
    NO_ZIP_CODE,
    UNSURE,
    YES,
    Applicant,
    RuleKind,
    VerdictStatus,
    _Judgement,
    _UnreadableError,
)


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
