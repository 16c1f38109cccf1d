"""The pre-screen in one line and the verdicts in words: pure functions of the verdicts."""

import datetime as dt
from types import SimpleNamespace

from recruitment.models import Verdict
from recruitment.verdict_words import (
    NO_VERDICTS,
    VERDICT_WORDS,
    prescreen_summary,
    verdict_standing,
)

TODAY = dt.date(2026, 12, 7)
CORE_SYMPTOMS = {
    "code": "core-symptoms",
    "title": "ME/CFS core symptoms",
    "rule_kind": "at_least_n",
    "params": {
        "min": 3,
        "items": [
            {"key": "pem", "title": "post-exertional malaise"},
            {"key": "sleep", "title": "unrefreshing sleep"},
            {"key": "cognitive", "title": "cognitive problems"},
            {"key": "orthostatic", "title": "orthostatic intolerance"},
        ],
    },
}


def verdict(code, status, *, title=None, answer=None, eligible_from=None, snapshot=None):
    return SimpleNamespace(
        criterion_snapshot=snapshot
        or {"code": code, "title": title or f"Criterion {code}", "rule_kind": "yes_no"},
        verdict=status,
        answer=answer,
        eligible_from=eligible_from,
    )


def met(n):
    return [verdict(f"met-{i}", Verdict.MET) for i in range(n)]


def test_the_summary_names_what_is_not_met_with_its_date_and_the_unsure_items():
    verdicts = [
        *met(16),
        verdict(
            "opioids",
            Verdict.NOT_MET,
            title="No opioid painkiller in the last 3 months",
            eligible_from=dt.date(2027, 2, 15),
        ),
        verdict(
            "core-symptoms",
            Verdict.UNKNOWN,
            answer={"pem": "yes", "sleep": "yes", "cognitive": "no", "orthostatic": "unsure"},
            snapshot=CORE_SYMPTOMS,
        ),
    ]

    assert prescreen_summary(verdicts, today=TODAY) == (
        "16 met, 1 not met: No opioid painkiller in the last 3 months, eligible from "
        "Feb 15, 2027; 1 not sure: orthostatic intolerance"
    )


def test_the_summary_counts_pending_staff_checks_without_naming_each():
    verdicts = [*met(13), *(verdict(f"lab-{i}", Verdict.PENDING) for i in range(5))]

    assert prescreen_summary(verdicts, today=TODAY) == "13 met, 5 staff checks pending"


def test_several_criteria_not_met_are_named_in_the_study_order():
    verdicts = [
        verdict("a", Verdict.NOT_MET, title="Lives nearby"),
        *met(2),
        verdict("b", Verdict.NOT_MET, title="No liver disease"),
        verdict("c", Verdict.UNKNOWN, title="Can attend visits"),
        verdict("d", Verdict.PENDING),
    ]

    assert prescreen_summary(verdicts, today=TODAY) == (
        "2 met, 2 not met: Lives nearby · No liver disease; 1 not sure: Can attend visits; "
        "1 staff check pending"
    )


def test_a_washout_that_has_ended_since_the_evaluation_counts_as_met():
    ended = verdict("opioids", Verdict.NOT_MET, eligible_from=TODAY)

    assert prescreen_summary([*met(2), ended], today=TODAY) == "3 met"
    assert verdict_standing(ended, today=TODAY - dt.timedelta(days=1)) == Verdict.NOT_MET


def test_an_overridden_criterion_says_so():
    verdicts = [*met(1), verdict("liver", Verdict.NOT_MET, title="No liver disease")]

    assert prescreen_summary(verdicts, today=TODAY, overridden=["liver"]) == (
        "1 met, 1 not met: No liver disease (overridden)"
    )


def test_an_unsure_group_without_its_answer_is_named_by_its_title():
    unsure = verdict("core-symptoms", Verdict.UNKNOWN, snapshot=CORE_SYMPTOMS)

    assert prescreen_summary([unsure], today=TODAY) == "0 met, 1 not sure: ME/CFS core symptoms"


def test_no_verdicts_say_so():
    assert prescreen_summary([], today=TODAY) == str(NO_VERDICTS)


def test_every_verdict_has_its_words_in_the_order_staff_read_them():
    assert set(VERDICT_WORDS) == set(Verdict)
    assert [str(words) for words in VERDICT_WORDS.values()] == [
        "Not met",
        "Not sure",
        "Staff check pending",
        "Met",
    ]
