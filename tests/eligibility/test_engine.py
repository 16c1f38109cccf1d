"""Tests for the pure eligibility engine (no Django, no database)."""

import re
from datetime import date, datetime

import pytest

from recruitment.eligibility import (
    UNSURE,
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
    add_months,
    age_on,
    evaluate,
    evaluate_one,
    places,
    validate_params,
    zip_distance_miles,
    zip_is_known,
)
from tests.dates import TODAY

SITE_ZIP = "35294"
APPLICANT = Applicant(date_of_birth=date(1980, 5, 17), zip_code="35203")

YES_NO_YES = {"required": "yes"}
YES_NO_NO = {"required": "no"}
AGE = {"min": 18, "max": 65}
ZIP = {"site_zip": SITE_ZIP, "max_miles": 100}
CRP = {"max": 3, "max_inclusive": False, "unit": "mg/L"}
ESR = {"max": 60, "unit": "mm/h"}
CHOICE = {
    "options": [
        {"value": "negative", "label": "Negative"},
        {"value": "positive", "label": "Positive"},
        {"value": "not_done", "label": "Not done"},
    ],
    "eligible": ["negative"],
}
SYMPTOMS = {
    "items": [
        {"key": "pem", "label": "Patient question", "title": "PEM"},
        {"key": "sleep", "label": "Patient question", "title": "Unrefreshing sleep"},
        {"key": "fog", "label": "Patient question", "title": "Brain fog"},
        {"key": "ortho", "label": "Patient question", "title": "Orthostatic intolerance"},
    ],
    "min": 3,
    "required": ["pem", "sleep"],
}
WASHOUT_DAYS = {"days": 90}
WASHOUT_MONTHS = {"months": 3}


def crit(
    rule_kind,
    params,
    *,
    code="c",
    answered_by=AnsweredBy.PATIENT,
    kind=CriterionKind.INCLUSION,
    title="",
):
    return Criterion(
        code=code,
        kind=kind,
        answered_by=answered_by,
        rule_kind=rule_kind,
        params=params,
        title=title,
    )


def judge(criterion, answer, *, applicant=APPLICANT, today=TODAY, **kwargs) -> Verdict:
    return evaluate_one(criterion, answer, applicant=applicant, today=today, **kwargs)


def fixed_distance(miles):
    return lambda zip_a, zip_b: miles


# ---------------------------------------------------------------------------------------------
# Date helpers
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dob", "today", "expected"),
    [
        (date(2008, 11, 25), date(2026, 11, 25), 18),
        (date(2008, 11, 26), date(2026, 11, 25), 17),
        (date(2008, 12, 31), date(2026, 1, 1), 17),
        (date(2008, 2, 29), date(2026, 2, 28), 17),
        (date(2008, 2, 29), date(2026, 3, 1), 18),
        (date(2008, 2, 29), date(2028, 2, 28), 19),
        (date(2008, 2, 29), date(2028, 2, 29), 20),
        (date(2026, 11, 25), date(2026, 11, 25), 0),
    ],
    ids=[
        "birthday-today",
        "birthday-tomorrow",
        "new-year-before-birthday",
        "leapling-28-feb-non-leap-year",
        "leapling-1-mar-non-leap-year",
        "leapling-28-feb-leap-year",
        "leapling-29-feb-leap-year",
        "born-today",
    ],
)
def test_age_on(dob, today, expected):
    assert age_on(dob, today) == expected


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2027, 11, 30), 3, date(2028, 2, 29)),
        (date(2026, 8, 31), 3, date(2026, 11, 30)),
        (date(2026, 10, 15), 3, date(2027, 1, 15)),
        (date(2026, 12, 31), 12, date(2027, 12, 31)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 5, 17), 0, date(2026, 5, 17)),
    ],
    ids=[
        "31-jan-plus-1-non-leap",
        "31-jan-plus-1-leap",
        "30-nov-plus-3-non-leap",
        "30-nov-plus-3-leap",
        "31-aug-plus-3-clamped-to-30-nov",
        "across-year-end",
        "plus-12",
        "minus-1-clamped",
        "plus-0",
    ],
)
def test_add_months(start, months, expected):
    assert add_months(start, months) == expected


# ---------------------------------------------------------------------------------------------
# AGE_RANGE
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dob", "today", "status", "reason"),
    [
        (date(2008, 11, 25), TODAY, VerdictStatus.MET, "Age 18 on 2026-11-25; needs 18 to 65."),
        (date(2008, 11, 26), TODAY, VerdictStatus.NOT_MET, "Age 17 on 2026-11-25; needs 18 to 65."),
        (date(1960, 11, 26), TODAY, VerdictStatus.MET, "Age 65 on 2026-11-25; needs 18 to 65."),
        (date(1960, 11, 25), TODAY, VerdictStatus.NOT_MET, "Age 66 on 2026-11-25; needs 18 to 65."),
        (date(2008, 2, 29), date(2026, 2, 28), VerdictStatus.NOT_MET, "Age 17 on 2026-02-28"),
        (date(2008, 2, 29), date(2026, 3, 1), VerdictStatus.MET, "Age 18 on 2026-03-01"),
        (None, TODAY, VerdictStatus.UNKNOWN, "Date of birth not given."),
        (
            date(2026, 11, 26),
            TODAY,
            VerdictStatus.UNKNOWN,
            "Date of birth 2026-11-26 is in the future.",
        ),
        ("1980-05-17", TODAY, VerdictStatus.UNKNOWN, "Date of birth could not be read."),
    ],
    ids=[
        "turns-18-today",
        "turns-18-tomorrow",
        "day-before-66th-birthday",
        "on-66th-birthday",
        "leapling-day-before-18-in-non-leap-year",
        "leapling-turns-18-on-1-mar",
        "no-dob",
        "future-dob",
        "dob-not-a-date",
    ],
)
def test_age_range(dob, today, status, reason):
    verdict = judge(
        crit(RuleKind.AGE_RANGE, AGE, code="age"),
        None,
        applicant=Applicant(date_of_birth=dob, zip_code="35203"),
        today=today,
    )
    assert verdict.code == "age"
    assert verdict.status is status
    assert verdict.reason.startswith(reason)
    assert verdict.source is Source.SELF_REPORTED
    assert verdict.eligible_from is None


def test_age_range_ignores_answer_and_staff_marking():
    verdict = judge(crit(RuleKind.AGE_RANGE, AGE, answered_by=AnsweredBy.STAFF), None)
    assert verdict.status is VerdictStatus.MET
    assert verdict.source is Source.SELF_REPORTED
    assert judge(crit(RuleKind.AGE_RANGE, AGE), UNSURE).status is VerdictStatus.MET


def test_age_range_accepts_datetime_today():
    verdict = judge(
        crit(RuleKind.AGE_RANGE, AGE),
        None,
        applicant=Applicant(date_of_birth=date(2008, 11, 25), zip_code=None),
        today=datetime(2026, 11, 25, 23, 59),
    )
    assert verdict.status is VerdictStatus.MET


# ---------------------------------------------------------------------------------------------
# ZIP_DISTANCE
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("miles", "status", "reason"),
    [
        (0.0, VerdictStatus.MET, "About 0 miles from 35294; limit 100 miles."),
        (52.3, VerdictStatus.MET, "About 52 miles from 35294; limit 100 miles."),
        (99.96, VerdictStatus.MET, "About 100 miles from 35294; limit 100 miles."),
        (100.0, VerdictStatus.MET, "About 100 miles from 35294; limit 100 miles."),
        (100.04, VerdictStatus.MET, "About 100 miles from 35294; limit 100 miles."),
        (100.06, VerdictStatus.NOT_MET, "About 100.1 miles from 35294; limit 100 miles."),
        (100.4, VerdictStatus.NOT_MET, "About 100.4 miles from 35294; limit 100 miles."),
        (250, VerdictStatus.NOT_MET, "About 250 miles from 35294; limit 100 miles."),
        (None, VerdictStatus.UNKNOWN, "ZIP code 35203 is not in the ZIP database."),
        (
            float("nan"),
            VerdictStatus.UNKNOWN,
            "Distance from ZIP code 35203 could not be computed.",
        ),
    ],
    ids=[
        "zero",
        "well-inside",
        "99.96-rounds-to-100",
        "exactly-100",
        "100.04-rounds-to-100",
        "100.06-rounds-to-100.1",
        "100.4-shown-with-tenths",
        "far",
        "unknown-zip",
        "nan-distance",
    ],
)
def test_zip_distance_with_injected_distance(miles, status, reason):
    verdict = judge(crit(RuleKind.ZIP_DISTANCE, ZIP), None, distance=fixed_distance(miles))
    assert verdict.status is status
    assert verdict.reason == reason
    assert verdict.source is Source.SELF_REPORTED


def test_zip_distance_passes_first_five_digits_then_site_zip():
    calls = []

    def distance(zip_a, zip_b):
        calls.append((zip_a, zip_b))
        return 10.0

    verdict = judge(
        crit(RuleKind.ZIP_DISTANCE, ZIP),
        None,
        applicant=Applicant(date_of_birth=None, zip_code=" 35203-1234 "),
        distance=distance,
    )
    assert verdict.status is VerdictStatus.MET
    assert calls == [("35203", "35294")]


@pytest.mark.parametrize(
    ("zip_code", "reason"),
    [
        (None, "ZIP code not given."),
        ("", "ZIP code not given."),
        ("   ", "ZIP code not given."),
        ("abc", "ZIP code 'abc' could not be read."),
        ("3529", "ZIP code '3529' could not be read."),
        (35294, "ZIP code 35294 could not be read."),
    ],
    ids=["none", "empty", "blank", "letters", "four-digits", "int-not-str"],
)
def test_zip_distance_without_usable_zip(zip_code, reason):
    verdict = judge(
        crit(RuleKind.ZIP_DISTANCE, ZIP),
        None,
        applicant=Applicant(date_of_birth=None, zip_code=zip_code),
        distance=fixed_distance(1.0),
    )
    assert verdict.status is VerdictStatus.UNKNOWN
    assert verdict.reason == reason
    assert verdict.source is Source.SELF_REPORTED


@pytest.mark.parametrize(
    ("zip_a", "zip_b", "expected"),
    [
        ("35294", "35294", 0.0),
        ("35203", "35294", 7.2),
        ("36104", "35294", 88.6),
        ("35294", "36104", 88.6),
        ("10001", "35294", 867.4),
    ],
    ids=["site-to-itself", "birmingham-downtown", "montgomery", "montgomery-reversed", "nyc"],
)
def test_zip_distance_miles_real_zips(zip_a, zip_b, expected):
    assert zip_distance_miles(zip_a, zip_b) == pytest.approx(expected, abs=0.05)


@pytest.mark.parametrize(
    ("zip_a", "zip_b"),
    [("00000", "35294"), ("35294", "00000"), ("abcde", "35294"), ("", "35294")],
    ids=["unknown-first", "unknown-second", "letters", "empty"],
)
def test_zip_distance_miles_unknown(zip_a, zip_b):
    assert zip_distance_miles(zip_a, zip_b) is None


@pytest.mark.parametrize(
    ("zip_code", "known"),
    [("35294", True), ("36104", True), ("35294-0001", True), ("00000", False), ("abc", False)],
    ids=["site", "montgomery", "zip-plus-4", "unknown", "letters"],
)
def test_zip_is_known(zip_code, known):
    assert zip_is_known(zip_code) is known


def test_zip_lookups_never_load_the_whole_zip_list(monkeypatch):
    """`zipcodes.list_all()` builds a dict per ZIP (about 140 MB per worker); the engine asks
    for one ZIP at a time and remembers the answers."""
    import zipcodes

    def list_all():
        raise AssertionError("the whole ZIP list was loaded")

    monkeypatch.setattr(zipcodes, "list_all", list_all)
    places.zip_centroid.cache_clear()

    assert zip_is_known("35294") and not zip_is_known("00000")
    assert zip_distance_miles("36104", "35294") == pytest.approx(88.6, abs=0.05)

    assert places.zip_centroid.cache_info().currsize == 3


@pytest.mark.parametrize(
    ("zip_code", "status", "reason"),
    [
        ("35294", VerdictStatus.MET, "About 0 miles from 35294; limit 100 miles."),
        ("35203", VerdictStatus.MET, "About 7 miles from 35294; limit 100 miles."),
        ("36104", VerdictStatus.MET, "About 89 miles from 35294; limit 100 miles."),
        ("10001", VerdictStatus.NOT_MET, "About 867 miles from 35294; limit 100 miles."),
        ("00000", VerdictStatus.UNKNOWN, "ZIP code 00000 is not in the ZIP database."),
    ],
    ids=["site", "birmingham", "montgomery", "new-york", "unknown-zip"],
)
def test_zip_distance_real_zips(zip_code, status, reason):
    verdict = judge(
        crit(RuleKind.ZIP_DISTANCE, ZIP),
        None,
        applicant=Applicant(date_of_birth=None, zip_code=zip_code),
    )
    assert verdict.status is status
    assert verdict.reason == reason


# ---------------------------------------------------------------------------------------------
# WASHOUT
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "answer", "status", "reason", "eligible_from"),
    [
        (WASHOUT_DAYS, {"taken": "no"}, VerdictStatus.MET, "Answered no recent use.", None),
        (
            WASHOUT_DAYS,
            {"taken": "yes", "last": "2026-08-27"},
            VerdictStatus.MET,
            "Last dose 2026-08-27; washout ended 2026-11-25.",
            None,
        ),
        (
            WASHOUT_DAYS,
            {"taken": "yes", "last": "2026-08-28"},
            VerdictStatus.NOT_MET,
            "Last dose 2026-08-28; eligible from 2026-11-26.",
            date(2026, 11, 26),
        ),
        (
            WASHOUT_MONTHS,
            {"taken": "yes", "last": "2026-08-25"},
            VerdictStatus.MET,
            "Last dose 2026-08-25; washout ended 2026-11-25.",
            None,
        ),
        (
            WASHOUT_MONTHS,
            {"taken": "yes", "last": "2026-08-26"},
            VerdictStatus.NOT_MET,
            "Last dose 2026-08-26; eligible from 2026-11-26.",
            date(2026, 11, 26),
        ),
        (
            WASHOUT_MONTHS,
            {"taken": "yes", "last": "2026-10-01"},
            VerdictStatus.NOT_MET,
            "Last dose 2026-10-01; eligible from 2027-01-01.",
            date(2027, 1, 1),
        ),
        (
            WASHOUT_MONTHS,
            {"taken": "yes", "last": "2026-11-25"},
            VerdictStatus.NOT_MET,
            "Last dose 2026-11-25; eligible from 2027-02-25.",
            date(2027, 2, 25),
        ),
        (
            WASHOUT_MONTHS,
            {"taken": "yes", "last": "2026-11-26"},
            VerdictStatus.UNKNOWN,
            "Last dose 2026-11-26 is in the future.",
            None,
        ),
        (WASHOUT_MONTHS, {"taken": "yes"}, VerdictStatus.UNKNOWN, "Took it recently;", None),
        (
            WASHOUT_MONTHS,
            {"taken": "yes", "last": ""},
            VerdictStatus.UNKNOWN,
            "Took it recently;",
            None,
        ),
        (
            WASHOUT_MONTHS,
            {"taken": "yes", "last": None},
            VerdictStatus.UNKNOWN,
            "Took it recently;",
            None,
        ),
        (WASHOUT_MONTHS, {"taken": "unsure"}, VerdictStatus.UNKNOWN, "Answered not sure.", None),
        (WASHOUT_MONTHS, "unsure", VerdictStatus.UNKNOWN, "Answered not sure.", None),
        (
            WASHOUT_MONTHS,
            {"taken": "yes", "last": "2026-13-40"},
            VerdictStatus.UNKNOWN,
            "Answer could not be read",
            None,
        ),
        (
            WASHOUT_MONTHS,
            {"taken": "yes", "last": "2026-02-30"},
            VerdictStatus.UNKNOWN,
            "Answer could not be read: 2026-02-30 is not a valid date.",
            None,
        ),
        (
            WASHOUT_MONTHS,
            {"taken": "yes", "last": "01/10/2026"},
            VerdictStatus.UNKNOWN,
            "Answer could not be read: expected a date as YYYY-MM-DD.",
            None,
        ),
        (
            WASHOUT_MONTHS,
            {"taken": "maybe"},
            VerdictStatus.UNKNOWN,
            "Answer could not be read",
            None,
        ),
        (WASHOUT_MONTHS, "no", VerdictStatus.UNKNOWN, "Answer could not be read", None),
    ],
    ids=[
        "not-taken",
        "days-window-ends-today",
        "days-window-ends-tomorrow",
        "months-window-ends-today",
        "months-window-ends-tomorrow",
        "months-window-into-next-year",
        "last-dose-today",
        "last-dose-in-future",
        "taken-no-date",
        "taken-blank-date",
        "taken-null-date",
        "taken-unsure",
        "whole-answer-unsure",
        "impossible-date",
        "30-feb",
        "us-date-format",
        "taken-bad-value",
        "string-instead-of-object",
    ],
)
def test_washout(params, answer, status, reason, eligible_from):
    verdict = judge(crit(RuleKind.WASHOUT, params), answer)
    assert verdict.status is status
    assert verdict.reason.startswith(reason)
    assert verdict.eligible_from == eligible_from
    assert verdict.source is Source.SELF_REPORTED


@pytest.mark.parametrize(
    ("last", "today", "eligible_from"),
    [
        ("2026-11-30", date(2027, 2, 27), date(2027, 2, 28)),
        ("2027-11-30", date(2028, 2, 28), date(2028, 2, 29)),
    ],
    ids=["30-nov-plus-3-months-non-leap", "30-nov-plus-3-months-leap"],
)
def test_washout_months_across_month_end(last, today, eligible_from):
    criterion = crit(RuleKind.WASHOUT, WASHOUT_MONTHS)
    running = judge(criterion, {"taken": "yes", "last": last}, today=today)
    assert running.status is VerdictStatus.NOT_MET
    assert running.eligible_from == eligible_from
    ended = judge(criterion, {"taken": "yes", "last": last}, today=eligible_from)
    assert ended.status is VerdictStatus.MET
    assert ended.eligible_from is None
    assert ended.reason == f"Last dose {last}; washout ended {eligible_from}."


def test_washout_ending_tomorrow_gives_eligible_from_outcome():
    evaluation = evaluate(
        [crit(RuleKind.WASHOUT, WASHOUT_DAYS, code="opioids")],
        {"opioids": {"taken": "yes", "last": "2026-08-28"}},
        applicant=APPLICANT,
        today=TODAY,
    )
    assert evaluation.outcome is Outcome.ELIGIBLE_FROM
    assert evaluation.eligible_from == date(2026, 11, 26)


# ---------------------------------------------------------------------------------------------
# NUMBER_RANGE
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "answer", "status", "reason"),
    [
        (CRP, "3.4", VerdictStatus.NOT_MET, "hs-CRP 3.4 mg/L; needs under 3 mg/L."),
        (CRP, "3.0", VerdictStatus.NOT_MET, "hs-CRP 3.0 mg/L; needs under 3 mg/L."),
        (CRP, 3, VerdictStatus.NOT_MET, "hs-CRP 3 mg/L; needs under 3 mg/L."),
        (CRP, 2.99, VerdictStatus.MET, "hs-CRP 2.99 mg/L; needs under 3 mg/L."),
        (CRP, " 2.999 ", VerdictStatus.MET, "hs-CRP 2.999 mg/L; needs under 3 mg/L."),
        (ESR, 60, VerdictStatus.MET, "hs-CRP 60 mm/h; needs at most 60 mm/h."),
        (ESR, "60.00", VerdictStatus.MET, "hs-CRP 60.00 mm/h; needs at most 60 mm/h."),
        (ESR, "60.01", VerdictStatus.NOT_MET, "hs-CRP 60.01 mm/h; needs at most 60 mm/h."),
        ({"min": 18.5}, "18.5", VerdictStatus.MET, "hs-CRP 18.5; needs at least 18.5."),
        ({"min": 18.5}, "18.49", VerdictStatus.NOT_MET, "hs-CRP 18.49; needs at least 18.5."),
        ({"min": 0, "min_inclusive": False}, "0", VerdictStatus.NOT_MET, "hs-CRP 0; needs over 0."),
        ({"min": 0, "min_inclusive": False}, "0.1", VerdictStatus.MET, "hs-CRP 0.1; needs over 0."),
        ({"min": 1, "max": 3, "unit": "x"}, "1", VerdictStatus.MET, "hs-CRP 1 x; needs 1 to 3 x."),
        ({"min": 1, "max": 3, "unit": "x"}, "3", VerdictStatus.MET, "hs-CRP 3 x; needs 1 to 3 x."),
        ({"min": 1, "max": 3}, "0.9", VerdictStatus.NOT_MET, "hs-CRP 0.9; needs 1 to 3."),
        (
            {"min": 1, "max": 3, "min_inclusive": False, "unit": "g"},
            "1",
            VerdictStatus.NOT_MET,
            "hs-CRP 1 g; needs over 1 g and at most 3 g.",
        ),
        ({"max": 0.1}, 0.1, VerdictStatus.MET, "hs-CRP 0.1; needs at most 0.1."),
    ],
    ids=[
        "over-exclusive-max",
        "decimal-string-equal-to-exclusive-max",
        "int-equal-to-exclusive-max",
        "float-just-under-exclusive-max",
        "padded-string-under",
        "equal-to-inclusive-max",
        "decimal-string-equal-to-inclusive-max",
        "just-over-inclusive-max",
        "equal-to-inclusive-min",
        "just-under-inclusive-min",
        "equal-to-exclusive-min",
        "just-over-exclusive-min",
        "both-bounds-at-min",
        "both-bounds-at-max",
        "both-bounds-below",
        "mixed-bounds-at-exclusive-min",
        "float-bound-no-binary-rounding",
    ],
)
def test_number_range(params, answer, status, reason):
    verdict = judge(crit(RuleKind.NUMBER_RANGE, params, title="hs-CRP"), answer)
    assert verdict.status is status
    assert verdict.reason == reason


def test_number_range_without_title_uses_generic_label():
    verdict = judge(crit(RuleKind.NUMBER_RANGE, ESR), 12)
    assert verdict.reason == "Answer 12 mm/h; needs at most 60 mm/h."


# ---------------------------------------------------------------------------------------------
# CHOICE
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "answer", "status", "reason"),
    [
        (CHOICE, "negative", VerdictStatus.MET, "Answered Negative."),
        (CHOICE, "positive", VerdictStatus.NOT_MET, "Answered Positive; needs Negative."),
        (
            {**CHOICE, "eligible": ["negative", "not_done"]},
            "positive",
            VerdictStatus.NOT_MET,
            "Answered Positive; needs Negative or Not done.",
        ),
        (
            {**CHOICE, "eligible": ["negative", "not_done"]},
            "not_done",
            VerdictStatus.MET,
            "Answered Not done.",
        ),
        (
            {"options": [{"value": "a"}, {"value": "b"}], "eligible": ["a"]},
            "b",
            VerdictStatus.NOT_MET,
            "Answered b; needs a.",
        ),
        (
            CHOICE,
            "Negative",
            VerdictStatus.UNKNOWN,
            "Answer could not be read: 'Negative' is not one",
        ),
        (
            CHOICE,
            "borderline",
            VerdictStatus.UNKNOWN,
            "Answer could not be read: 'borderline' is not",
        ),
        (CHOICE, ["negative"], VerdictStatus.UNKNOWN, "Answer could not be read"),
        (CHOICE, "unsure", VerdictStatus.UNKNOWN, "Answered not sure."),
    ],
    ids=[
        "eligible-value",
        "ineligible-value",
        "two-eligible-values-not-met",
        "two-eligible-values-met",
        "labels-default-to-values",
        "label-instead-of-value",
        "unknown-value",
        "list-instead-of-value",
        "unsure",
    ],
)
def test_choice(params, answer, status, reason):
    verdict = judge(crit(RuleKind.CHOICE, params), answer)
    assert verdict.status is status
    assert verdict.reason.startswith(reason)


# ---------------------------------------------------------------------------------------------
# AT_LEAST_N
# ---------------------------------------------------------------------------------------------

REQ = "(needs 3, including PEM and Unrefreshing sleep)"


@pytest.mark.parametrize(
    ("answer", "status", "reason"),
    [
        (
            {"pem": "yes", "sleep": "yes", "fog": "yes", "ortho": "no"},
            VerdictStatus.MET,
            f"3 of 4 yes {REQ}.",
        ),
        (
            {"pem": "yes", "sleep": "yes", "fog": "yes", "ortho": "yes"},
            VerdictStatus.MET,
            f"4 of 4 yes {REQ}.",
        ),
        (
            {"pem": "yes", "sleep": "yes", "fog": "yes", "ortho": "unsure"},
            VerdictStatus.MET,
            f"3 of 4 yes, 1 unknown {REQ}.",
        ),
        (
            {"pem": "no", "sleep": "yes", "fog": "yes", "ortho": "yes"},
            VerdictStatus.NOT_MET,
            f"3 of 4 yes {REQ}; PEM answered no.",
        ),
        (
            {"pem": "no", "sleep": "no", "fog": "yes", "ortho": "yes"},
            VerdictStatus.NOT_MET,
            f"2 of 4 yes {REQ}; PEM and Unrefreshing sleep answered no.",
        ),
        (
            {"pem": "yes", "sleep": "yes", "fog": "no", "ortho": "no"},
            VerdictStatus.NOT_MET,
            f"2 of 4 yes {REQ}.",
        ),
        (
            {"pem": "yes", "sleep": "yes", "fog": "no", "ortho": "unsure"},
            VerdictStatus.UNKNOWN,
            f"2 of 4 yes, 1 unknown {REQ}.",
        ),
        (
            {"pem": "yes", "sleep": "yes", "fog": "no"},
            VerdictStatus.UNKNOWN,
            f"2 of 4 yes, 1 unknown {REQ}.",
        ),
        (
            {"pem": "unsure", "sleep": "yes", "fog": "yes", "ortho": "yes"},
            VerdictStatus.UNKNOWN,
            f"3 of 4 yes, 1 unknown {REQ}.",
        ),
        ({}, VerdictStatus.UNKNOWN, f"0 of 4 yes, 4 unknown {REQ}."),
        (
            {"pem": "yes", "sleep": "yes", "fog": "yes", "ortho": "no", "extra": "yes"},
            VerdictStatus.MET,
            f"3 of 4 yes {REQ}.",
        ),
        (
            {"pem": "yes", "sleep": "yes", "fog": "maybe", "ortho": "yes"},
            VerdictStatus.UNKNOWN,
            "Answer could not be read: item 'fog' is not yes or no.",
        ),
        (
            ["pem", "sleep", "fog"],
            VerdictStatus.UNKNOWN,
            "Answer could not be read: expected a yes/no answer for each item.",
        ),
        ("unsure", VerdictStatus.UNKNOWN, "Answered not sure."),
    ],
    ids=[
        "exactly-min-with-required",
        "all-yes",
        "min-reached-despite-unknown",
        "required-item-no",
        "two-required-items-no",
        "cannot-reach-min",
        "unknown-could-still-reach-min",
        "missing-item-could-still-reach-min",
        "required-item-unsure",
        "nothing-answered",
        "extra-keys-ignored",
        "bad-item-value",
        "list-instead-of-object",
        "whole-answer-unsure",
    ],
)
def test_at_least_n(answer, status, reason):
    verdict = judge(crit(RuleKind.AT_LEAST_N, SYMPTOMS), answer)
    assert verdict.status is status
    assert verdict.reason == reason


@pytest.mark.parametrize(
    ("answer", "status", "reason"),
    [
        (
            {"a": "yes", "b": "no", "c": "unsure"},
            VerdictStatus.UNKNOWN,
            "1 of 3 yes, 1 unknown (needs 2).",
        ),
        ({"a": "yes", "b": "no", "c": "no"}, VerdictStatus.NOT_MET, "1 of 3 yes (needs 2)."),
        ({"a": "no", "b": "yes", "c": "yes"}, VerdictStatus.MET, "2 of 3 yes (needs 2)."),
    ],
    ids=["could-reach-min", "cannot-reach-min", "reaches-min"],
)
def test_at_least_n_without_required_items_uses_keys(answer, status, reason):
    params = {"items": [{"key": "a"}, {"key": "b"}, {"key": "c"}], "min": 2}
    verdict = judge(crit(RuleKind.AT_LEAST_N, params), answer)
    assert verdict.status is status
    assert verdict.reason == reason


# ---------------------------------------------------------------------------------------------
# YES_NO
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "answer", "status", "reason"),
    [
        (YES_NO_YES, "yes", VerdictStatus.MET, "Answered yes."),
        (YES_NO_YES, "no", VerdictStatus.NOT_MET, "Answered no; needs yes."),
        (YES_NO_NO, "no", VerdictStatus.MET, "Answered no."),
        (YES_NO_NO, "yes", VerdictStatus.NOT_MET, "Answered yes; needs no."),
        (YES_NO_NO, " Yes ", VerdictStatus.NOT_MET, "Answered yes; needs no."),
        (YES_NO_YES, "unsure", VerdictStatus.UNKNOWN, "Answered not sure."),
        (YES_NO_YES, None, VerdictStatus.UNKNOWN, "Not answered."),
        (YES_NO_YES, "", VerdictStatus.UNKNOWN, "Not answered."),
        (YES_NO_YES, True, VerdictStatus.UNKNOWN, "Answer could not be read: expected yes or no."),
        (
            YES_NO_YES,
            ["yes"],
            VerdictStatus.UNKNOWN,
            "Answer could not be read: expected yes or no.",
        ),
        (
            YES_NO_YES,
            "maybe",
            VerdictStatus.UNKNOWN,
            "Answer could not be read: expected yes or no.",
        ),
    ],
    ids=[
        "required-yes-answered-yes",
        "required-yes-answered-no",
        "required-no-answered-no",
        "required-no-answered-yes",
        "case-and-space-tolerant",
        "unsure",
        "missing",
        "empty-string",
        "bool",
        "list",
        "other-word",
    ],
)
def test_yes_no(params, answer, status, reason):
    verdict = judge(crit(RuleKind.YES_NO, params, code="pregnant"), answer)
    assert verdict.code == "pregnant"
    assert verdict.status is status
    assert verdict.reason == reason
    assert verdict.source is Source.SELF_REPORTED
    assert verdict.eligible_from is None


# ---------------------------------------------------------------------------------------------
# "Not sure", unreadable answers, staff criteria
# ---------------------------------------------------------------------------------------------

ANSWER_RULES = [
    (RuleKind.YES_NO, YES_NO_YES),
    (RuleKind.NUMBER_RANGE, CRP),
    (RuleKind.CHOICE, CHOICE),
    (RuleKind.AT_LEAST_N, SYMPTOMS),
    (RuleKind.WASHOUT, WASHOUT_MONTHS),
]
ANSWER_RULE_IDS = [str(rule_kind) for rule_kind, _ in ANSWER_RULES]


@pytest.mark.parametrize(
    ("answered_by", "source"),
    [(AnsweredBy.PATIENT, Source.SELF_REPORTED), (AnsweredBy.STAFF, Source.STAFF_VERIFIED)],
    ids=["patient", "staff"],
)
@pytest.mark.parametrize(("rule_kind", "params"), ANSWER_RULES, ids=ANSWER_RULE_IDS)
def test_unsure_is_unknown_for_every_rule(rule_kind, params, answered_by, source):
    verdict = judge(crit(rule_kind, params, answered_by=answered_by), UNSURE)
    assert verdict.status is VerdictStatus.UNKNOWN
    assert verdict.reason == "Answered not sure."
    assert verdict.source is source


@pytest.mark.parametrize(
    ("rule_kind", "params", "answer"),
    [
        (RuleKind.YES_NO, YES_NO_YES, ["yes"]),
        (RuleKind.YES_NO, YES_NO_YES, {"answer": "yes"}),
        (RuleKind.YES_NO, YES_NO_YES, 1),
        (RuleKind.NUMBER_RANGE, CRP, "abc"),
        (RuleKind.NUMBER_RANGE, CRP, "3,4"),
        (RuleKind.NUMBER_RANGE, CRP, "NaN"),
        (RuleKind.NUMBER_RANGE, CRP, float("inf")),
        (RuleKind.NUMBER_RANGE, CRP, True),
        (RuleKind.NUMBER_RANGE, CRP, [2]),
        (RuleKind.NUMBER_RANGE, CRP, {"value": 2}),
        (RuleKind.CHOICE, CHOICE, "borderline"),
        (RuleKind.CHOICE, CHOICE, 0),
        (RuleKind.CHOICE, CHOICE, ["negative"]),
        (RuleKind.AT_LEAST_N, SYMPTOMS, "yes"),
        (RuleKind.AT_LEAST_N, SYMPTOMS, {"pem": ["yes"]}),
        (RuleKind.AT_LEAST_N, SYMPTOMS, {"pem": 1}),
        (RuleKind.WASHOUT, WASHOUT_MONTHS, {"taken": "yes", "last": "2026-13-40"}),
        (RuleKind.WASHOUT, WASHOUT_MONTHS, {"taken": "yes", "last": 20261001}),
        (RuleKind.WASHOUT, WASHOUT_MONTHS, {"taken": "yes", "last": ["2026-10-01"]}),
        (RuleKind.WASHOUT, WASHOUT_MONTHS, {"taken": ["yes"]}),
        (RuleKind.WASHOUT, WASHOUT_MONTHS, {"last": "2026-10-01"}),
        (RuleKind.WASHOUT, WASHOUT_MONTHS, ["yes", "2026-10-01"]),
        (RuleKind.WASHOUT, WASHOUT_MONTHS, object()),
    ],
    ids=[
        "yes_no-list",
        "yes_no-dict",
        "yes_no-int",
        "number-abc",
        "number-comma-decimal",
        "number-nan-string",
        "number-infinity",
        "number-bool",
        "number-list",
        "number-dict",
        "choice-unknown-value",
        "choice-int",
        "choice-list",
        "at_least_n-string",
        "at_least_n-list-item",
        "at_least_n-int-item",
        "washout-impossible-date",
        "washout-int-date",
        "washout-list-date",
        "washout-list-taken",
        "washout-missing-taken",
        "washout-list",
        "washout-object",
    ],
)
def test_unreadable_answer_is_unknown_and_never_raises(rule_kind, params, answer):
    verdict = judge(crit(rule_kind, params), answer)
    assert verdict.status is VerdictStatus.UNKNOWN
    assert verdict.reason.startswith("Answer could not be read")
    assert "\n" not in verdict.reason
    assert verdict.source is Source.SELF_REPORTED


def test_unreadable_reason_quotes_long_values_briefly():
    verdict = judge(crit(RuleKind.CHOICE, CHOICE), "x" * 500)
    assert verdict.status is VerdictStatus.UNKNOWN
    assert len(verdict.reason) < 100


@pytest.mark.parametrize(("rule_kind", "params"), ANSWER_RULES, ids=ANSWER_RULE_IDS)
@pytest.mark.parametrize("answer", [None, "", "  "], ids=["none", "empty", "blank"])
def test_missing_answer_staff_pending_patient_unknown(rule_kind, params, answer):
    staff = judge(crit(rule_kind, params, answered_by=AnsweredBy.STAFF), answer)
    assert staff.status is VerdictStatus.PENDING
    assert staff.source is None
    assert staff.reason == "Assessed by staff at screening; not yet entered."
    patient = judge(crit(rule_kind, params, answered_by=AnsweredBy.PATIENT), answer)
    assert patient.status is VerdictStatus.UNKNOWN
    assert patient.source is Source.SELF_REPORTED
    assert patient.reason == "Not answered."


@pytest.mark.parametrize(
    ("rule_kind", "params", "answer", "status"),
    [
        (RuleKind.YES_NO, YES_NO_NO, "no", VerdictStatus.MET),
        (RuleKind.YES_NO, YES_NO_NO, "yes", VerdictStatus.NOT_MET),
        (RuleKind.NUMBER_RANGE, CRP, "1.2", VerdictStatus.MET),
        (RuleKind.NUMBER_RANGE, CRP, "abc", VerdictStatus.UNKNOWN),
        (RuleKind.CHOICE, CHOICE, "positive", VerdictStatus.NOT_MET),
        (RuleKind.WASHOUT, WASHOUT_MONTHS, {"taken": "no"}, VerdictStatus.MET),
    ],
    ids=[
        "yes_no-met",
        "yes_no-not-met",
        "number-met",
        "number-unreadable",
        "choice-not-met",
        "washout-met",
    ],
)
def test_staff_answer_is_staff_verified(rule_kind, params, answer, status):
    verdict = judge(crit(rule_kind, params, answered_by=AnsweredBy.STAFF), answer)
    assert verdict.status is status
    assert verdict.source is Source.STAFF_VERIFIED


def test_plain_string_enums_in_criterion_are_accepted():
    criterion = Criterion(
        code="pregnant",
        kind="exclusion",
        answered_by="staff",
        rule_kind="yes_no",
        params=YES_NO_NO,
    )
    assert judge(criterion, None).status is VerdictStatus.PENDING
    assert judge(criterion, "no").source is Source.STAFF_VERIFIED


# ---------------------------------------------------------------------------------------------
# Overall outcome
# ---------------------------------------------------------------------------------------------

OUTCOME_CRITERIA = [
    crit(RuleKind.YES_NO, YES_NO_YES, code="diagnosed"),
    crit(RuleKind.YES_NO, YES_NO_NO, code="pregnant", kind=CriterionKind.EXCLUSION),
    crit(RuleKind.YES_NO, YES_NO_NO, code="liver", answered_by=AnsweredBy.STAFF),
    crit(RuleKind.WASHOUT, WASHOUT_DAYS, code="opioids", kind=CriterionKind.EXCLUSION),
    crit(RuleKind.WASHOUT, WASHOUT_MONTHS, code="ldn", kind=CriterionKind.EXCLUSION),
]
CLEAN = {
    "diagnosed": "yes",
    "pregnant": "no",
    "liver": "no",
    "opioids": {"taken": "no"},
    "ldn": {"taken": "no"},
}
OPIOIDS_RUNNING = {"taken": "yes", "last": "2026-10-01"}  # eligible from 2026-12-30
LDN_RUNNING = {"taken": "yes", "last": "2026-10-01"}  # eligible from 2027-01-01


@pytest.mark.parametrize(
    ("changes", "outcome", "eligible_from", "pending"),
    [
        ({}, Outcome.ALL_MET, None, ()),
        ({"liver": None}, Outcome.LIKELY_ELIGIBLE, None, ("liver",)),
        ({"opioids": OPIOIDS_RUNNING}, Outcome.ELIGIBLE_FROM, date(2026, 12, 30), ()),
        (
            {"opioids": OPIOIDS_RUNNING, "ldn": LDN_RUNNING},
            Outcome.ELIGIBLE_FROM,
            date(2027, 1, 1),
            (),
        ),
        (
            {"opioids": OPIOIDS_RUNNING, "liver": None},
            Outcome.ELIGIBLE_FROM,
            date(2026, 12, 30),
            ("liver",),
        ),
        ({"diagnosed": "unsure"}, Outcome.NEEDS_REVIEW, None, ()),
        ({"diagnosed": None}, Outcome.NEEDS_REVIEW, None, ()),
        ({"diagnosed": ["yes"]}, Outcome.NEEDS_REVIEW, None, ()),
        ({"diagnosed": "unsure", "liver": None}, Outcome.NEEDS_REVIEW, None, ("liver",)),
        (
            {"diagnosed": "unsure", "opioids": OPIOIDS_RUNNING},
            Outcome.NEEDS_REVIEW,
            date(2026, 12, 30),
            (),
        ),
        ({"pregnant": "yes"}, Outcome.LIKELY_INELIGIBLE, None, ()),
        ({"liver": "yes"}, Outcome.LIKELY_INELIGIBLE, None, ()),
        (
            {
                "pregnant": "yes",
                "diagnosed": "unsure",
                "liver": None,
                "opioids": OPIOIDS_RUNNING,
                "ldn": LDN_RUNNING,
            },
            Outcome.LIKELY_INELIGIBLE,
            date(2027, 1, 1),
            ("liver",),
        ),
    ],
    ids=[
        "all-met",
        "staff-pending",
        "running-washout",
        "two-running-washouts-latest-date",
        "running-washout-and-staff-pending",
        "unsure",
        "unanswered",
        "unreadable",
        "unsure-and-staff-pending",
        "unsure-beats-running-washout",
        "patient-not-met",
        "staff-not-met",
        "not-met-beats-washout-unknown-and-pending",
    ],
)
def test_outcome_precedence(changes, outcome, eligible_from, pending):
    answers = {**CLEAN, **changes}
    evaluation = evaluate(OUTCOME_CRITERIA, answers, applicant=APPLICANT, today=TODAY)
    assert isinstance(evaluation, Evaluation)
    assert evaluation.outcome is outcome
    assert evaluation.eligible_from == eligible_from
    assert evaluation.pending == pending
    assert [v.code for v in evaluation.verdicts] == [c.code for c in OUTCOME_CRITERIA]


def test_no_criteria_is_all_met():
    evaluation = evaluate([], {}, applicant=APPLICANT, today=TODAY)
    assert evaluation.outcome is Outcome.ALL_MET
    assert evaluation.verdicts == ()
    assert evaluation.eligible_from is None
    assert evaluation.pending == ()


def test_evaluate_full_study_uses_applicant_and_injected_distance():
    criteria = [
        crit(RuleKind.AGE_RANGE, AGE, code="age"),
        crit(RuleKind.ZIP_DISTANCE, ZIP, code="distance"),
        crit(RuleKind.NUMBER_RANGE, CRP, code="crp", answered_by=AnsweredBy.STAFF),
        crit(RuleKind.AT_LEAST_N, SYMPTOMS, code="symptoms"),
        crit(RuleKind.CHOICE, CHOICE, code="hcg", answered_by=AnsweredBy.STAFF),
    ]
    answers = {
        "symptoms": {"pem": "yes", "sleep": "yes", "fog": "yes"},
        "hcg": "negative",
        "unrelated": "ignored",
    }
    evaluation = evaluate(
        criteria,
        answers,
        applicant=APPLICANT,
        today=TODAY,
        distance=fixed_distance(12.0),
    )
    assert [(v.code, v.status) for v in evaluation.verdicts] == [
        ("age", VerdictStatus.MET),
        ("distance", VerdictStatus.MET),
        ("crp", VerdictStatus.PENDING),
        ("symptoms", VerdictStatus.MET),
        ("hcg", VerdictStatus.MET),
    ]
    assert evaluation.verdicts[1].reason == "About 12 miles from 35294; limit 100 miles."
    assert evaluation.verdicts[4].source is Source.STAFF_VERIFIED
    assert evaluation.outcome is Outcome.LIKELY_ELIGIBLE
    assert evaluation.pending == ("crp",)


# ---------------------------------------------------------------------------------------------
# validate_params
# ---------------------------------------------------------------------------------------------

GOOD_PARAMS = [
    (RuleKind.YES_NO, YES_NO_YES),
    (RuleKind.YES_NO, YES_NO_NO),
    (RuleKind.AGE_RANGE, AGE),
    (RuleKind.NUMBER_RANGE, CRP),
    (RuleKind.NUMBER_RANGE, {"min": 1}),
    (RuleKind.NUMBER_RANGE, {"min": 2, "max": 2}),
    (RuleKind.CHOICE, CHOICE),
    (RuleKind.ZIP_DISTANCE, ZIP),
    (RuleKind.AT_LEAST_N, SYMPTOMS),
    (RuleKind.AT_LEAST_N, {"items": [{"key": "a"}], "min": 1}),
    (RuleKind.WASHOUT, WASHOUT_DAYS),
    (RuleKind.WASHOUT, WASHOUT_MONTHS),
    ("washout", {"days": 1, "note": "extra keys are ignored"}),
]


@pytest.mark.parametrize(
    ("rule_kind", "params"), GOOD_PARAMS, ids=[f"{k}-{i}" for i, (k, _) in enumerate(GOOD_PARAMS)]
)
def test_validate_params_accepts_good_params(rule_kind, params):
    assert validate_params(rule_kind, params) is None


ITEMS = [{"key": "a"}, {"key": "b"}]


@pytest.mark.parametrize(
    ("rule_kind", "params", "message"),
    [
        ("bogus", {}, "Unknown rule kind 'bogus'"),
        (RuleKind.YES_NO, ["yes"], "must be an object"),
        (RuleKind.YES_NO, {}, "missing key 'required'"),
        (RuleKind.YES_NO, {"required": "unsure"}, "'required' must be 'yes' or 'no'"),
        (RuleKind.YES_NO, {"required": True}, "'required' must be 'yes' or 'no'"),
        (RuleKind.AGE_RANGE, {"max": 65}, "missing key 'min'"),
        (RuleKind.AGE_RANGE, {"min": 18}, "missing key 'max'"),
        (RuleKind.AGE_RANGE, {"min": "18", "max": 65}, "'min' must be a whole number"),
        (RuleKind.AGE_RANGE, {"min": 18, "max": 65.5}, "'max' must be a whole number"),
        (RuleKind.AGE_RANGE, {"min": -1, "max": 65}, "'min' must be a whole number"),
        (RuleKind.AGE_RANGE, {"min": 66, "max": 65}, "'min' must not be greater than 'max'"),
        (RuleKind.NUMBER_RANGE, {"unit": "mg/L"}, "missing key 'min' or 'max'"),
        (RuleKind.NUMBER_RANGE, {"max": "3"}, "'max' must be a finite number"),
        (RuleKind.NUMBER_RANGE, {"min": True}, "'min' must be a finite number"),
        (RuleKind.NUMBER_RANGE, {"max": float("nan")}, "'max' must be a finite number"),
        (RuleKind.NUMBER_RANGE, {"max": 3, "max_inclusive": "no"}, "'max_inclusive' must be"),
        (RuleKind.NUMBER_RANGE, {"min": 3, "min_inclusive": 0}, "'min_inclusive' must be"),
        (RuleKind.NUMBER_RANGE, {"max": 3, "unit": 5}, "'unit' must be a string"),
        (RuleKind.NUMBER_RANGE, {"min": 4, "max": 3}, "leave no value"),
        (RuleKind.NUMBER_RANGE, {"min": 3, "max": 3, "max_inclusive": False}, "leave no value"),
        (RuleKind.CHOICE, {"eligible": ["a"]}, "missing key 'options'"),
        (RuleKind.CHOICE, {"options": [], "eligible": ["a"]}, "'options' must be a non-empty"),
        (RuleKind.CHOICE, {"options": "a", "eligible": ["a"]}, "'options' must be a non-empty"),
        (RuleKind.CHOICE, {"options": ["a"], "eligible": ["a"]}, "must be an object"),
        (RuleKind.CHOICE, {"options": [{"label": "A"}], "eligible": ["a"]}, "string 'value'"),
        (
            RuleKind.CHOICE,
            {"options": [{"value": "a"}, {"value": "a"}], "eligible": ["a"]},
            "duplicate option value 'a'",
        ),
        (
            RuleKind.CHOICE,
            {"options": [{"value": "unsure"}], "eligible": ["unsure"]},
            "reserved",
        ),
        (
            RuleKind.CHOICE,
            {"options": [{"value": "a", "label": 1}], "eligible": ["a"]},
            "'label' of option 'a'",
        ),
        (RuleKind.CHOICE, {"options": [{"value": "a"}]}, "missing key 'eligible'"),
        (RuleKind.CHOICE, {"options": [{"value": "a"}], "eligible": []}, "'eligible' must be"),
        (RuleKind.CHOICE, {"options": [{"value": "a"}], "eligible": "a"}, "'eligible' must be"),
        (
            RuleKind.CHOICE,
            {"options": [{"value": "a"}], "eligible": ["b"]},
            "'eligible' value 'b' is not an option",
        ),
        (RuleKind.ZIP_DISTANCE, {"max_miles": 100}, "missing key 'site_zip'"),
        (RuleKind.ZIP_DISTANCE, {"site_zip": 35294, "max_miles": 100}, "5-digit string"),
        (RuleKind.ZIP_DISTANCE, {"site_zip": "3529", "max_miles": 100}, "5-digit string"),
        (RuleKind.ZIP_DISTANCE, {"site_zip": "00000", "max_miles": 100}, "not in the ZIP"),
        (RuleKind.ZIP_DISTANCE, {"site_zip": "35294"}, "missing key 'max_miles'"),
        (RuleKind.ZIP_DISTANCE, {"site_zip": "35294", "max_miles": 0}, "'max_miles' must be"),
        (RuleKind.ZIP_DISTANCE, {"site_zip": "35294", "max_miles": "100"}, "'max_miles' must"),
        (RuleKind.AT_LEAST_N, {"min": 1}, "missing key 'items'"),
        (RuleKind.AT_LEAST_N, {"items": [], "min": 1}, "'items' must be a non-empty list"),
        (RuleKind.AT_LEAST_N, {"items": ["a"], "min": 1}, "must be an object"),
        (RuleKind.AT_LEAST_N, {"items": [{"label": "A"}], "min": 1}, "string 'key'"),
        (RuleKind.AT_LEAST_N, {"items": [{"key": "a"}] * 2, "min": 1}, "duplicate item key"),
        (RuleKind.AT_LEAST_N, {"items": [{"key": "a", "label": 2}], "min": 1}, "'label' of item"),
        (RuleKind.AT_LEAST_N, {"items": ITEMS}, "missing key 'min'"),
        (RuleKind.AT_LEAST_N, {"items": ITEMS, "min": 0}, "'min' must be a whole number from 1"),
        (RuleKind.AT_LEAST_N, {"items": ITEMS, "min": 3}, "'min' must be a whole number from 1"),
        (RuleKind.AT_LEAST_N, {"items": ITEMS, "min": 1.5}, "'min' must be a whole number"),
        (RuleKind.AT_LEAST_N, {"items": ITEMS, "min": 1, "required": "a"}, "'required' must be"),
        (
            RuleKind.AT_LEAST_N,
            {"items": ITEMS, "min": 1, "required": ["c"]},
            "'required' key 'c' is not an item key",
        ),
        (RuleKind.WASHOUT, {}, "exactly one of 'days' or 'months'"),
        (RuleKind.WASHOUT, {"days": 90, "months": 3}, "exactly one of 'days' or 'months'"),
        (RuleKind.WASHOUT, {"days": 0}, "'days' must be a positive whole number"),
        (RuleKind.WASHOUT, {"months": 1.5}, "'months' must be a positive whole number"),
        (RuleKind.WASHOUT, {"months": "3"}, "'months' must be a positive whole number"),
    ],
    ids=[
        "unknown-rule-kind",
        "params-not-object",
        "yes_no-missing-required",
        "yes_no-required-unsure",
        "yes_no-required-bool",
        "age-missing-min",
        "age-missing-max",
        "age-min-string",
        "age-max-float",
        "age-min-negative",
        "age-min-over-max",
        "number-no-bounds",
        "number-max-string",
        "number-min-bool",
        "number-max-nan",
        "number-max-inclusive-string",
        "number-min-inclusive-int",
        "number-unit-not-string",
        "number-min-over-max",
        "number-empty-exclusive-range",
        "choice-missing-options",
        "choice-empty-options",
        "choice-options-string",
        "choice-option-not-object",
        "choice-option-without-value",
        "choice-duplicate-value",
        "choice-reserved-unsure",
        "choice-label-not-string",
        "choice-missing-eligible",
        "choice-empty-eligible",
        "choice-eligible-string",
        "choice-eligible-not-option",
        "zip-missing-site",
        "zip-site-int",
        "zip-site-four-digits",
        "zip-site-unknown",
        "zip-missing-max-miles",
        "zip-max-miles-zero",
        "zip-max-miles-string",
        "at_least_n-missing-items",
        "at_least_n-empty-items",
        "at_least_n-item-not-object",
        "at_least_n-item-without-key",
        "at_least_n-duplicate-key",
        "at_least_n-label-not-string",
        "at_least_n-missing-min",
        "at_least_n-min-zero",
        "at_least_n-min-over-items",
        "at_least_n-min-float",
        "at_least_n-required-string",
        "at_least_n-required-unknown-key",
        "washout-neither",
        "washout-both",
        "washout-zero-days",
        "washout-fractional-months",
        "washout-months-string",
    ],
)
def test_validate_params_rejects_bad_params(rule_kind, params, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        validate_params(rule_kind, params)


def test_evaluate_one_raises_value_error_for_invalid_criterion():
    with pytest.raises(ValueError, match="missing key 'required'"):
        judge(crit(RuleKind.YES_NO, {}), "yes")
