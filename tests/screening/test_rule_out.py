"""Ruling out in one step: a new applicant whose pre-screen is "likely ineligible" is closed as
ineligible from `new`, for the criteria the pre-screen found not met, singly (the page's
button) and in bulk (the queue's action); anyone else is refused, and the screening log and
the CONSORT box count them honestly (not screened, not meeting the criteria)."""

import datetime as dt

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.urls import reverse

from recruitment.errors import InvalidTransition
from recruitment.models import (
    Outcome,
    Participant,
    Status,
    StatusChange,
    StatusReason,
)
from recruitment.reports.consort import consort_counts
from recruitment.reports.exports import screening_log_iter
from recruitment.screening import services as screening
from recruitment.screening.forms import StatusChangeForm
from recruitment.screening.gate import RULE_OUT_CRITERION, RULE_OUT_NOT_LIKELY_INELIGIBLE
from recruitment.screening.rule_out import RULE_OUT_NOT_NEW, participant_rule_out
from tests.factories import LDN_ELIGIBLE_ANSWERS, applicant, walk

pytestmark = pytest.mark.django_db

NOV_25 = dt.datetime(2026, 11, 25, 18, tzinfo=dt.UTC)
CHANGELIST = "admin:recruitment_participant_changelist"
# Two exclusions answered "yes": the pre-screen finds both not met.
FAILS_TWO = {**LDN_ELIGIBLE_ANSWERS, "allergy": "yes", "liver": "yes"}


@pytest.fixture(autouse=True)
def now(time_machine):
    time_machine.move_to(NOV_25, tick=False)
    return NOV_25


def likely_ineligible(study):
    participant = applicant(study, answers=FAILS_TWO)
    assert participant.outcome == Outcome.LIKELY_INELIGIBLE
    return participant


def needs_review(study):
    participant = applicant(study, answers={**LDN_ELIGIBLE_ANSWERS, "can-attend": "unsure"})
    assert participant.outcome == Outcome.NEEDS_REVIEW
    return participant


def waiting_out_a_washout(study):
    """Took an opioid a month ago: not met until the washout ends, not ruled out."""
    opioids = {"taken": "yes", "last": "2026-10-25"}
    participant = applicant(study, answers={**LDN_ELIGIBLE_ANSWERS, "opioids": opioids})
    assert participant.outcome == Outcome.ELIGIBLE_FROM
    return participant


def fresh(participant):
    return Participant.objects.get(pk=participant.pk)


def footprint(participant) -> tuple:
    row = fresh(participant)
    return (
        row.status,
        row.updated_at,
        StatusChange.objects.filter(participant=row).count(),
        row.history.count(),
    )


def titles_of(study, *codes) -> list[str]:
    return [study.criteria.get(code=code).title for code in codes]


# ---------------------------------------------------------------------------------------------
# The service
# ---------------------------------------------------------------------------------------------
def test_a_likely_ineligible_new_applicant_is_ruled_out_for_the_first_criterion_not_met(
    ldn_study, coordinator
):
    participant = likely_ineligible(ldn_study)

    ruled_out = participant_rule_out(participant=participant, by=coordinator)

    assert ruled_out.status == fresh(participant).status == Status.INELIGIBLE
    (change,) = StatusChange.objects.filter(participant=participant)
    assert (change.from_status, change.to_status, change.by, change.at) == (
        Status.NEW,
        Status.INELIGIBLE,
        coordinator,
        NOV_25,
    )
    # The study's order: the allergy question comes before the liver one.
    assert (change.reason_code, change.reason_criterion, change.reason) == (
        StatusReason.FAILS_CRITERION,
        "allergy",
        "",
    )
    row = fresh(participant).history.first()
    assert (row.status, row.history_user) == (Status.INELIGIBLE, coordinator)


def test_ruling_out_writes_no_move_to_screening(ldn_study, coordinator):
    participant = likely_ineligible(ldn_study)

    participant_rule_out(participant=participant, by=coordinator)

    assert not StatusChange.objects.filter(
        participant=participant, to_status=Status.SCREENING
    ).exists()


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (needs_review, RULE_OUT_NOT_LIKELY_INELIGIBLE),
        (waiting_out_a_washout, RULE_OUT_NOT_LIKELY_INELIGIBLE),
        (applicant, RULE_OUT_NOT_LIKELY_INELIGIBLE),  # every answer met: "likely eligible"
    ],
    ids=["needs review", "washout running", "likely eligible"],
)
def test_a_new_applicant_not_likely_ineligible_is_refused_and_nothing_is_written(
    ldn_study, coordinator, make, expected
):
    participant = make(ldn_study)
    before = footprint(participant)

    with pytest.raises(InvalidTransition) as refused:
        participant_rule_out(participant=participant, by=coordinator)

    assert str(refused.value) == expected.format(
        number=participant.screening_number, outcome=participant.get_outcome_display()
    )
    assert footprint(participant) == before


def test_someone_already_in_screening_is_refused_with_what_to_do_instead(ldn_study, coordinator):
    participant = walk(likely_ineligible(ldn_study), Status.SCREENING, by=coordinator)
    before = footprint(participant)

    with pytest.raises(InvalidTransition) as refused:
        participant_rule_out(participant=participant, by=coordinator)

    assert str(refused.value) == RULE_OUT_NOT_NEW.format(
        number=participant.screening_number, status=Status.SCREENING.label
    )
    assert "Change status" in str(refused.value)
    assert footprint(participant) == before


def test_criteria_an_investigator_overrode_do_not_rule_anyone_out(
    ldn_study, coordinator, investigator
):
    participant = likely_ineligible(ldn_study)
    screening.eligibility_override_record(
        participant=participant,
        reasons={"allergy": "Tolerated it before", "liver": "Resolved"},
        by=investigator,
    )
    before = footprint(participant)

    with pytest.raises(InvalidTransition):
        participant_rule_out(participant=participant, by=coordinator)

    assert footprint(participant) == before


# ---------------------------------------------------------------------------------------------
# The status machine: new → ineligible only for a criterion the pre-screen found not met
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "criterion", "reason"),
    [
        (StatusReason.OTHER, "", "Does not sound right"),
        (StatusReason.FAILS_CRITERION, "diagnosis", ""),  # met: not a reason to rule out
    ],
    ids=["other", "a criterion met"],
)
def test_the_transition_service_refuses_new_to_ineligible_for_any_other_reason(
    ldn_study, coordinator, code, criterion, reason
):
    participant = likely_ineligible(ldn_study)
    before = footprint(participant)

    with pytest.raises(InvalidTransition) as refused:
        screening.participant_transition(
            participant=participant,
            to=Status.INELIGIBLE,
            by=coordinator,
            reason=reason,
            reason_code=code,
            reason_criterion=criterion,
        )

    assert str(refused.value) == RULE_OUT_CRITERION.format(
        number=participant.screening_number,
        criteria=", ".join(titles_of(ldn_study, "allergy", "liver")),
    )
    assert footprint(participant) == before


def test_the_transition_service_refuses_new_to_ineligible_without_a_likely_ineligible_pre_screen(
    ldn_study, coordinator
):
    participant = needs_review(ldn_study)
    before = footprint(participant)

    with pytest.raises(InvalidTransition):
        screening.participant_transition(
            participant=participant,
            to=Status.INELIGIBLE,
            by=coordinator,
            reason_code=StatusReason.FAILS_CRITERION,
            reason_criterion="can-attend",
        )

    assert footprint(participant) == before


def test_any_criterion_the_pre_screen_found_not_met_may_be_the_reason(ldn_study, coordinator):
    participant = likely_ineligible(ldn_study)

    screening.participant_transition(
        participant=participant,
        to=Status.INELIGIBLE,
        by=coordinator,
        reason_code=StatusReason.FAILS_CRITERION,
        reason_criterion="liver",
    )

    assert fresh(participant).status == Status.INELIGIBLE


def test_the_status_page_offers_ineligible_from_new_only_for_a_likely_ineligible_pre_screen(
    ldn_study, coordinator
):
    def targets(participant):
        form = StatusChangeForm(participant=participant, user=coordinator)
        return {value for value, _label in form.fields["to"].choices if value}

    assert targets(likely_ineligible(ldn_study)) == {"screening", "ineligible", "declined"}
    assert targets(needs_review(ldn_study)) == {"screening", "declined"}


# ---------------------------------------------------------------------------------------------
# What the screening log and the CONSORT box count
# ---------------------------------------------------------------------------------------------
def test_the_screening_log_shows_no_date_screened_and_every_criterion_not_met(
    ldn_study, coordinator
):
    participant = likely_ineligible(ldn_study)
    participant_rule_out(participant=participant, by=coordinator)

    (row,) = [
        r for r in screening_log_iter(study=ldn_study) if r[0] == participant.screening_number
    ]

    date_screened, eligible, reason = row[1], row[2], row[3]
    assert (date_screened, eligible) == ("", "No")
    assert reason == "Fails a criterion: allergy (criteria not met: {})".format(
        "; ".join(titles_of(ldn_study, "allergy", "liver"))
    )


def test_the_consort_box_counts_a_ruled_out_applicant_once_as_not_meeting_the_criteria(
    ldn_study, coordinator
):
    ruled_out = likely_ineligible(ldn_study)
    screened = walk(likely_ineligible(ldn_study), Status.INELIGIBLE, by=coordinator)
    waiting = needs_review(ldn_study)
    before = consort_counts(study=ldn_study)
    assert (before.assessed, before.not_meeting_criteria, before.in_progress) == (3, 1, 2)

    participant_rule_out(participant=ruled_out, by=coordinator)

    after = consort_counts(study=ldn_study)
    assert after.adds_up
    assert (after.assessed, after.not_meeting_criteria, after.in_progress) == (3, 2, 1)
    assert after.not_meeting_no_criterion == 0
    by_criterion = {item.label: item.count for item in after.not_meeting_by_criterion}
    allergy, liver = titles_of(ldn_study, "allergy", "liver")
    assert by_criterion == {allergy: 2, liver: 2}
    assert {fresh(p).status for p in (screened, waiting)} == {Status.INELIGIBLE, Status.NEW}


# ---------------------------------------------------------------------------------------------
# The participant page's button and the queue's bulk action
# ---------------------------------------------------------------------------------------------
def rule_out_url(participant):
    return reverse("admin:recruitment_participant_rule_out", args=[participant.pk])


def test_the_page_offers_rule_out_only_to_a_likely_ineligible_new_applicant(
    coord_client, ldn_study
):
    offered = likely_ineligible(ldn_study)
    not_offered = needs_review(ldn_study)

    def page(participant):
        url = reverse("admin:recruitment_participant_change", args=[participant.pk])
        return coord_client.get(url).content.decode()

    assert rule_out_url(offered) in page(offered)
    assert "Rule out (pre-screen ineligible)" in page(offered)
    assert rule_out_url(not_offered) not in page(not_offered)


def test_the_rule_out_page_lists_the_criteria_and_closes_the_applicant(
    coord_client, coordinator, ldn_study
):
    participant = likely_ineligible(ldn_study)

    page = coord_client.get(rule_out_url(participant)).content.decode()
    response = coord_client.post(rule_out_url(participant))

    for title in titles_of(ldn_study, "allergy", "liver"):
        assert title in page
    assert response.status_code == 302
    assert fresh(participant).status == Status.INELIGIBLE
    assert LogEntry.objects.filter(object_id=str(participant.pk), user=coordinator).exists()


def test_the_rule_out_page_says_why_it_cannot_apply(coord_client, ldn_study):
    participant = needs_review(ldn_study)

    response = coord_client.post(rule_out_url(participant))

    assert response.status_code == 200
    assert "not “Likely ineligible”" in response.content.decode()
    assert fresh(participant).status == Status.NEW


def test_a_monitor_cannot_rule_anyone_out(client, monitor, ldn_study):
    participant = likely_ineligible(ldn_study)
    client.force_login(monitor)

    response = client.post(rule_out_url(participant))

    assert response.status_code == 403
    assert fresh(participant).status == Status.NEW


def test_the_bulk_action_rules_out_who_it_can_and_says_why_for_each_other_row(
    coord_client, coordinator, ldn_study
):
    first, second = likely_ineligible(ldn_study), likely_ineligible(ldn_study)
    unsure = needs_review(ldn_study)
    screened = walk(likely_ineligible(ldn_study), Status.SCREENING, by=coordinator)

    response = coord_client.post(
        reverse(CHANGELIST),
        {
            "action": "rule_out",
            "_selected_action": [p.pk for p in (first, second, unsure, screened)],
            "index": 0,
        },
    )

    assert response.status_code == 302
    messages = [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]
    errors = [text for level, text in messages if level == "error"]
    assert errors == [
        RULE_OUT_NOT_LIKELY_INELIGIBLE.format(
            number=unsure.screening_number, outcome=unsure.get_outcome_display()
        ),
        RULE_OUT_NOT_NEW.format(number=screened.screening_number, status=Status.SCREENING.label),
    ]
    numbers = f"{first.screening_number}, {second.screening_number}"
    assert ("success", f"2 participants ruled out as “Ineligible”: {numbers}.") in messages
    assert [fresh(p).status for p in (first, second, unsure, screened)] == [
        Status.INELIGIBLE,
        Status.INELIGIBLE,
        Status.NEW,
        Status.SCREENING,
    ]


def test_the_status_page_points_a_likely_ineligible_new_applicant_to_ruling_out(
    coord_client, ldn_study
):
    offered, not_offered = likely_ineligible(ldn_study), needs_review(ldn_study)

    def status_page(participant):
        url = reverse("admin:recruitment_participant_status", args=[participant.pk])
        return coord_client.get(url).content.decode()

    assert rule_out_url(offered) in status_page(offered)
    assert rule_out_url(not_offered) not in status_page(not_offered)
