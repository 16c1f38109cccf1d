"""Re-matching the registry against a study (`study_rematch`), from the answers people
already gave to the center's shared questions."""

import datetime as dt
import math

import pytest
from django.db import connection

from recruitment.models import MatchOutcome, MatchState, RegistryMatch
from recruitment.registry.selectors import registry_match_list
from recruitment.registry.services import (
    CHECKED_BY_STAFF,
    NEVER_ASKED,
    NOT_ANSWERED_YET,
    registry_rematch_due,
    study_rematch,
)
from tests.dates import TODAY
from tests.factories import CriterionFactory, submit
from tests.registry.conftest import (
    answer,
    eligible_answers,
    registry_person,
    staff_criterion,
)


def match_of(person, study) -> RegistryMatch:
    return RegistryMatch.objects.get(person=person, study=study)


def verdicts_by_code(match) -> dict[str, tuple[str, str]]:
    return {v["criterion"]: (v["verdict"], v["reason"]) for v in match.verdicts}


# ---------------------------------------------------------------------------------------------
# Outcomes and verdicts
# ---------------------------------------------------------------------------------------------
def test_a_person_whose_answers_meet_every_criterion_is_likely_eligible(small_study, bank):
    person = registry_person()
    eligible_answers(person, bank)

    result = study_rematch(study=small_study, today=TODAY)

    match = match_of(person, small_study)
    assert (result.evaluated, result.created) == (1, 1)
    assert match.outcome == MatchOutcome.LIKELY_ELIGIBLE
    assert match.state == MatchState.MATCHED
    assert match.label == "M-0001"
    assert match.criteria_version == small_study.criteria_version
    assert [v["criterion"] for v in match.verdicts] == ["age", "diagnosis", "opioids", "pregnancy"]
    assert {v["verdict"] for v in match.verdicts} == {"met"}
    assert verdicts_by_code(match)["age"] == ("met", "Age 46 on 2026-11-25; needs 18 to 65.")


def test_a_question_never_asked_is_unknown_and_the_person_needs_answers(small_study, bank):
    person = registry_person()
    answer(person, bank["mecfs_diagnosis"], "yes")
    CriterionFactory(study=small_study, code="can-attend")  # the study's own question

    study_rematch(study=small_study, today=TODAY)

    match = match_of(person, small_study)
    verdicts = verdicts_by_code(match)
    assert match.outcome == MatchOutcome.NEEDS_ANSWERS
    assert verdicts["diagnosis"][0] == "met"
    assert verdicts["pregnancy"] == ("unknown", NOT_ANSWERED_YET)
    assert verdicts["can-attend"] == ("unknown", NEVER_ASKED)


def test_what_staff_assess_at_screening_is_unknown_and_does_not_hold_a_match_back(
    small_study, bank
):
    staff_criterion(small_study)
    person = registry_person()
    eligible_answers(person, bank)

    study_rematch(study=small_study, today=TODAY)

    match = match_of(person, small_study)
    assert verdicts_by_code(match)["hs-crp"] == ("unknown", CHECKED_BY_STAFF)
    assert match.outcome == MatchOutcome.LIKELY_ELIGIBLE


def test_an_answer_that_fails_a_criterion_makes_the_person_ineligible(small_study, bank):
    person = registry_person()
    eligible_answers(person, bank)
    answer(person, bank["pregnancy"], "yes")

    study_rematch(study=small_study, today=TODAY)

    match = match_of(person, small_study)
    assert match.outcome == MatchOutcome.INELIGIBLE
    assert verdicts_by_code(match)["pregnancy"][0] == "not_met"


def test_an_out_of_date_answer_is_unknown_to_be_asked_again(small_study, bank):
    person = registry_person()
    eligible_answers(person, bank)
    answer(person, bank["pregnancy"], "no", on=TODAY - dt.timedelta(days=91))  # valid 90 days

    study_rematch(study=small_study, today=TODAY)

    match = match_of(person, small_study)
    assert match.outcome == MatchOutcome.NEEDS_ANSWERS
    verdict, reason = verdicts_by_code(match)["pregnancy"]
    assert verdict == "unknown"
    assert reason == f"Answered on {TODAY - dt.timedelta(days=91)}; out of date, to ask again."


def test_the_date_of_birth_answer_serves_when_the_person_has_none(small_study, bank):
    person = registry_person(date_of_birth=None)
    eligible_answers(person, bank)
    answer(person, bank["date_of_birth"], "1950-01-01")

    study_rematch(study=small_study, today=TODAY)

    assert verdicts_by_code(match_of(person, small_study))["age"][0] == "not_met"


# ---------------------------------------------------------------------------------------------
# A washout: eligible from a date, matched again on that date
# ---------------------------------------------------------------------------------------------
def test_a_washout_running_gives_the_date_and_rematch_due_matches_again_on_that_day(
    small_study, bank
):
    person = registry_person()
    eligible_answers(person, bank)
    answer(person, bank["last_opioid_dose"], {"taken": "yes", "last": "2026-10-01"})

    study_rematch(study=small_study, today=TODAY)
    match = match_of(person, small_study)
    assert match.outcome == MatchOutcome.ELIGIBLE_FROM
    assert match.eligible_from == dt.date(2027, 1, 1)

    assert registry_rematch_due(today=dt.date(2026, 12, 31)).evaluated == 0
    result = registry_rematch_due(today=dt.date(2027, 1, 1))

    match.refresh_from_db()
    assert result.updated == 1
    assert match.outcome == MatchOutcome.LIKELY_ELIGIBLE
    assert match.eligible_from is None
    assert match.label == "M-0001"


def test_the_rematch_due_command_matches_the_due_ones_again(small_study, bank, capsys):
    import time_machine
    from django.core.management import call_command

    person = registry_person()
    eligible_answers(person, bank)
    answer(person, bank["last_opioid_dose"], {"taken": "yes", "last": "2026-10-01"})
    study_rematch(study=small_study, today=TODAY)

    with time_machine.travel(dt.datetime(2027, 1, 1, 18, tzinfo=dt.UTC), tick=False):
        call_command("rematch_due")

    assert "1 matches judged again: 1 changed" in capsys.readouterr().out
    assert match_of(person, small_study).outcome == MatchOutcome.LIKELY_ELIGIBLE


# ---------------------------------------------------------------------------------------------
# Who is matched, and who is not
# ---------------------------------------------------------------------------------------------
def test_only_people_in_the_registry_are_matched(small_study, bank):
    from django.utils import timezone

    registry_person(email="in@example.com")
    registry_person(email="never@example.com", registry_consent=False, registry_consent_at=None)
    registry_person(email="left@example.com", registry_left_at=timezone.now())
    registry_person(email="erased@example.com", erased_at=timezone.now())

    study_rematch(study=small_study, today=TODAY)

    assert list(RegistryMatch.objects.values_list("person__email", flat=True)) == ["in@example.com"]


def test_a_person_applying_to_the_study_already_is_not_matched(small_study, bank):
    person = registry_person()
    eligible_answers(person, bank)
    application = submit(small_study)
    type(application).objects.filter(pk=application.pk).update(person=person)

    result = study_rematch(study=small_study, today=TODAY)

    assert result.evaluated == 0
    assert not RegistryMatch.objects.exists()


def test_a_declined_match_is_never_judged_again(small_study, bank):
    person = registry_person()
    study_rematch(study=small_study, today=TODAY)
    RegistryMatch.objects.update(state=MatchState.DECLINED)
    eligible_answers(person, bank)

    result = study_rematch(study=small_study, today=TODAY)

    match = match_of(person, small_study)
    assert (result.kept, result.updated) == (1, 0)
    assert match.outcome == MatchOutcome.NEEDS_ANSWERS
    assert match.state == MatchState.DECLINED


def test_a_person_no_longer_matching_keeps_the_row_with_the_new_outcome_but_is_not_shown(
    small_study, bank
):
    person = registry_person()
    eligible_answers(person, bank)
    study_rematch(study=small_study, today=TODAY)
    assert list(registry_match_list(study=small_study)) == [match_of(person, small_study)]

    answer(person, bank["pregnancy"], "yes")
    study_rematch(study=small_study, today=TODAY)

    match = match_of(person, small_study)
    assert match.outcome == MatchOutcome.INELIGIBLE
    assert match.label == "M-0001"
    assert list(registry_match_list(study=small_study)) == []


def test_the_list_shows_the_likely_eligible_then_those_with_unknowns_then_later_dates(
    small_study, bank
):
    waiting, ready, unknown = registry_person(), registry_person(), registry_person()
    for person in (waiting, ready):
        eligible_answers(person, bank)
    answer(waiting, bank["last_opioid_dose"], {"taken": "yes", "last": "2026-10-01"})

    study_rematch(study=small_study, today=TODAY)

    shown = [m.person_id for m in registry_match_list(study=small_study)]
    assert shown == [ready.pk, unknown.pk, waiting.pk]
    assert match_of(unknown, small_study).outcome == MatchOutcome.NEEDS_ANSWERS


# ---------------------------------------------------------------------------------------------
# Repeatable, one match per person and study
# ---------------------------------------------------------------------------------------------
def test_matching_again_with_the_same_inputs_writes_nothing(small_study, bank):
    people = [registry_person() for _ in range(3)]
    for person in people[:2]:
        eligible_answers(person, bank)
    study_rematch(study=small_study, today=TODAY)
    before = list(RegistryMatch.objects.order_by("pk").values())

    result = study_rematch(study=small_study, today=TODAY)

    assert (result.unchanged, result.created, result.updated) == (3, 0, 0)
    assert list(RegistryMatch.objects.order_by("pk").values()) == before


def test_a_changed_answer_changes_the_fingerprint_and_the_match_not_its_number(small_study, bank):
    first, second = registry_person(), registry_person()
    eligible_answers(first, bank)
    study_rematch(study=small_study, today=TODAY)
    numbers = dict(RegistryMatch.objects.values_list("person_id", "number"))
    fingerprint = match_of(first, small_study).inputs_fingerprint

    answer(first, bank["liver_disease"], "yes")  # a question this study does not ask
    assert study_rematch(study=small_study, today=TODAY).unchanged == 2

    answer(first, bank["pregnancy"], "no", on=TODAY)  # the same answer, given again today
    answer(second, bank["mecfs_diagnosis"], "no")
    result = study_rematch(study=small_study, today=TODAY)

    assert result.updated == 2
    assert match_of(first, small_study).inputs_fingerprint != fingerprint
    assert match_of(first, small_study).outcome == MatchOutcome.LIKELY_ELIGIBLE
    assert match_of(second, small_study).outcome == MatchOutcome.INELIGIBLE
    assert dict(RegistryMatch.objects.values_list("person_id", "number")) == numbers


def test_new_people_get_the_next_numbers_of_the_study(small_study, bank):
    registry_person()
    study_rematch(study=small_study, today=TODAY)
    registry_person()
    registry_person()

    study_rematch(study=small_study, today=TODAY, batch_size=1)

    assert sorted(m.label for m in RegistryMatch.objects.all()) == ["M-0001", "M-0002", "M-0003"]


def test_a_person_is_never_matched_twice_to_one_study(small_study, bank):
    from django.db import IntegrityError, transaction

    person = registry_person()
    study_rematch(study=small_study, today=TODAY)
    match = match_of(person, small_study)

    with pytest.raises(IntegrityError), transaction.atomic():
        RegistryMatch.objects.create(
            study=small_study,
            person=person,
            number=2,
            outcome=match.outcome,
            criteria_version=1,
            inputs_fingerprint="x",
            evaluated_at=match.evaluated_at,
        )


# ---------------------------------------------------------------------------------------------
# Batches: the same queries for 10 people as for 200
# ---------------------------------------------------------------------------------------------
def queries_of_one_batch(study, bank, count, django_assert_max_num_queries, limit):
    for _ in range(count):
        eligible_answers(registry_person(), bank)
    with django_assert_max_num_queries(limit) as captured:
        study_rematch(study=study, today=TODAY, batch_size=500)
    return len(captured.captured_queries)


def inserts_of(count: int) -> int:
    """The INSERT statements Django splits `count` new matches into (SQLite caps the
    parameters of one statement; PostgreSQL takes them in one)."""
    fields = [f for f in RegistryMatch._meta.concrete_fields if not f.primary_key]
    per_statement = connection.ops.bulk_batch_size(fields, [None] * count) or count
    return math.ceil(count / per_statement)


def test_one_batch_costs_the_same_queries_for_10_people_as_for_200(
    small_study, bank, django_assert_max_num_queries
):
    ten = queries_of_one_batch(small_study, bank, 10, django_assert_max_num_queries, 20)
    RegistryMatch.objects.all().delete()
    small_study.refresh_from_db()

    more = ten + inserts_of(200) - inserts_of(10)
    two_hundred = queries_of_one_batch(small_study, bank, 190, django_assert_max_num_queries, more)

    assert two_hundred == more


def test_matching_again_unchanged_costs_the_same_queries_for_10_people_as_for_200(
    small_study, bank, django_assert_max_num_queries
):
    for _ in range(10):
        eligible_answers(registry_person(), bank)
    study_rematch(study=small_study, today=TODAY)
    with django_assert_max_num_queries(20) as ten:
        study_rematch(study=small_study, today=TODAY, batch_size=500)
    for _ in range(190):
        eligible_answers(registry_person(), bank)
    study_rematch(study=small_study, today=TODAY)

    with django_assert_max_num_queries(len(ten.captured_queries)):
        result = study_rematch(study=small_study, today=TODAY, batch_size=500)
    assert result.unchanged == 200


def test_people_are_judged_in_batches(small_study, bank):
    for _ in range(5):
        registry_person()

    result = study_rematch(study=small_study, today=TODAY, batch_size=2)

    assert (result.batches, result.created) == (3, 5)
