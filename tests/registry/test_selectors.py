"""The one definition of which registry matches staff see, in which groups and order
(`recruitment.registry.selectors`), read by the study team's page and the center's queue."""

import datetime as dt

import pytest
from django.utils import timezone

from recruitment.models import MatchOutcome, MatchState, Participant, RegistryMatch
from recruitment.registry.selectors import (
    criterion_titles,
    registry_match_counts,
    registry_match_first,
    registry_match_groups,
    registry_match_list,
    registry_match_rows,
)
from tests.factories import CriterionFactory, StudyFactory, participants_bulk
from tests.registry.conftest import registry_person

pytestmark = pytest.mark.django_db


def matched(study, number, outcome, *, eligible_from=None, **fields) -> RegistryMatch:
    person = fields.pop("person", None) or registry_person(email=f"p{number}@example.com")
    return RegistryMatch.objects.create(
        study=study,
        person=person,
        number=number,
        outcome=outcome,
        eligible_from=eligible_from,
        verdicts=[
            {"criterion": "diagnosis", "verdict": "met", "reason": "Diagnosed"},
            {"criterion": "visits", "verdict": "unknown", "reason": "Never asked."},
        ],
        criteria_version=1,
        evaluated_at=timezone.now(),
        **fields,
    )


def applies(study, person) -> None:
    [application] = participants_bulk(study, 1)
    Participant.objects.filter(pk=application.pk).update(person=person)


@pytest.fixture
def study():
    study = StudyFactory()
    CriterionFactory(study=study, code="diagnosis", title="ME/CFS diagnosed")
    return study


def seven(study):
    """One match of each kind, numbered out of order."""
    matched(study, 1, MatchOutcome.ELIGIBLE_FROM, eligible_from=dt.date(2027, 3, 1))
    matched(study, 2, MatchOutcome.NEEDS_ANSWERS)
    matched(study, 3, MatchOutcome.LIKELY_ELIGIBLE)
    matched(study, 4, MatchOutcome.INELIGIBLE)
    matched(study, 5, MatchOutcome.ELIGIBLE_FROM, eligible_from=dt.date(2027, 1, 1))
    matched(study, 6, MatchOutcome.LIKELY_ELIGIBLE, state=MatchState.DECLINED)
    matched(study, 7, MatchOutcome.NEEDS_ANSWERS, state=MatchState.INVITED)


def test_likely_eligible_come_first_then_unknowns_then_later_dates_soonest_first(study):
    seven(study)

    numbers = [m.number for m in registry_match_list(study=study)]

    assert numbers == [3, 6, 2, 7, 5, 1]  # 4 is ineligible: not listed


def test_the_rows_fall_under_their_group_s_heading_in_the_groups_order(study):
    seven(study)
    matches = registry_match_list(study=study)

    rows = registry_match_rows(matches=matches, titles=criterion_titles(studies=[study]))
    groups = registry_match_groups(rows)

    assert [(g.label, [r.label for r in g.rows]) for g in groups] == [
        ("Likely eligible", ["M-0003", "M-0006"]),
        ("Needs answers", ["M-0002", "M-0007"]),
        ("Likely eligible from a later date", ["M-0005", "M-0001"]),
    ]


def test_a_row_shows_each_verdict_under_its_criterion_title_and_no_identity(study):
    matched(study, 3, MatchOutcome.LIKELY_ELIGIBLE)

    [row] = registry_match_rows(
        matches=registry_match_list(study=study), titles=criterion_titles(studies=[study])
    )

    assert [(v.title, v.verdict, v.reason) for v in row.verdicts] == [
        ("ME/CFS diagnosed", "met", "Diagnosed"),
        ("visits", "unknown", "Never asked."),  # no criterion of that code: its code
    ]
    assert row.may_invite and row.invite_from is None
    loaded = row.match.get_deferred_fields()
    assert {"verdicts_digest", "inputs_fingerprint"} <= loaded


def test_an_empty_group_has_no_heading(study):
    matched(study, 2, MatchOutcome.NEEDS_ANSWERS)

    rows = registry_match_rows(matches=registry_match_list(study=study), titles={})

    assert [g.outcome for g in registry_match_groups(rows)] == [MatchOutcome.NEEDS_ANSWERS]


def test_people_who_left_or_applied_on_their_own_are_not_listed_unless_they_said_yes(study):
    left = matched(study, 1, MatchOutcome.LIKELY_ELIGIBLE).person
    left.registry_left_at = timezone.now()
    left.save()
    applied = matched(study, 2, MatchOutcome.LIKELY_ELIGIBLE).person
    applies(study, applied)
    said_yes = matched(study, 3, MatchOutcome.LIKELY_ELIGIBLE, state=MatchState.ACCEPTED)
    applies(study, said_yes.person)

    assert [m.number for m in registry_match_list(study=study)] == [3]


def test_the_queue_s_first_matches_and_counts_agree_with_the_study_s_list(study):
    seven(study)
    other = StudyFactory()
    matched(other, 1, MatchOutcome.NEEDS_ANSWERS, person=registry_person(email="o@example.com"))

    first = registry_match_first(studies=[study, other], per_study=4)
    counts = registry_match_counts(studies=[study, other])

    listed = [m.number for m in registry_match_list(study=study)]
    assert [m.number for m in first[study.pk]] == listed[:4]
    assert [m.number for m in first[other.pk]] == [1]
    assert counts[study.pk] == {
        MatchOutcome.LIKELY_ELIGIBLE: 2,
        MatchOutcome.NEEDS_ANSWERS: 2,
        MatchOutcome.ELIGIBLE_FROM: 2,
    }
    assert counts[other.pk] == {MatchOutcome.NEEDS_ANSWERS: 1}
