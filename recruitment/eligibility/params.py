"""Checking a criterion's JSON params against its rule kind."""

import math
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

# --------------------------------------------------------------------------------------------
# Params validation
# --------------------------------------------------------------------------------------------
from recruitment.eligibility.places import zip_is_known
from recruitment.eligibility.types import _ZIP5, NO, UNSURE, YES, RuleKind


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
