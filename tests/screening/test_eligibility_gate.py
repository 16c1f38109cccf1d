"""No one the criteria rule out gets past eligibility, consent or enrollment, unless an
investigator overrides each criterion with a reason; new lab values that fail a criterion of
someone awaiting enrollment put a dated warning on their page and in the queue.

The reproduction: a participant marked eligible while lab values were pending, then given
lab values that fail (hs-CRP 5.8, ESR 72, ANA positive), could be consented and enrolled."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from recruitment import selectors
from recruitment.errors import CriteriaNotMet, InvalidTransition, RecruitmentError
from recruitment.models import (
    AnsweredBy,
    ConsentRecord,
    CriterionVerdict,
    CriterionVersion,
    EligibilityOverride,
    Participant,
    Status,
    StatusChange,
)
from recruitment.screening import services as screening
from tests.factories import (
    LDN_ELIGIBLE_ANSWERS,
    LDN_NORMAL_LABS,
    CriterionFactory,
    participants_bulk,
    submit,
    walk,
)

pytestmark = pytest.mark.django_db

DEC_7 = dt.datetime(2026, 12, 7, 15, tzinfo=dt.UTC)  # 9 a.m. in Birmingham, Alabama
FAILING_LABS = {"hs-crp": 5.8, "esr": 72, "ana": "positive"}
FAILING_CODES = {"hs-crp", "esr", "ana"}
# Session, user, the permission checks, the participant, and the blocking verdicts (3: the
# overrides, the stored verdicts, the study's criteria for the staff checks not entered).
QUERIES_OVERRIDE_PAGE = 8


@pytest.fixture(autouse=True)
def now(time_machine):
    time_machine.move_to(DEC_7, tick=False)
    return DEC_7


def fresh(participant):
    return Participant.objects.get(pk=participant.pk)


def footprint(participant) -> tuple:
    row = fresh(participant)
    return (
        row.status,
        row.participant_id,
        row.updated_at,
        ConsentRecord.objects.count(),
        StatusChange.objects.count(),
        Participant.history.count(),
        EligibilityOverride.objects.count(),
    )


def labs(participant, values, by):
    return screening.lab_values_record(participant=participant, values=values, by=by)


def consent(participant, by):
    return screening.consent_record(
        participant=participant,
        consented_on=timezone.localdate(),
        form_version="ICF v2.0",
        obtained_by=by,
        by=by,
    )


def eligible_then_failing_labs(screened, coordinator):
    """The reproduction: in-range labs, eligible, then the corrected labs fail."""
    labs(screened, LDN_NORMAL_LABS, coordinator)
    eligible = screening.participant_transition(
        participant=screened, to=Status.ELIGIBLE, by=coordinator
    )
    return labs(eligible, FAILING_LABS, coordinator)


# =============================================================================================
# Through the services
# =============================================================================================
def test_marking_eligible_while_lab_values_are_pending_is_refused(screened, coordinator):
    before = footprint(screened)

    with pytest.raises(CriteriaNotMet) as refused:
        screening.participant_transition(
            participant=screened, to=Status.ELIGIBLE, by=coordinator, reason="Labs look fine"
        )

    assert "hs-CRP under 3 mg/L" in str(refused.value)
    assert "Thyroid tests in range" in str(refused.value)
    assert footprint(screened) == before


def test_lab_values_entered_are_stored_and_those_not_entered_stay_listed_and_blocking(
    screened, coordinator
):
    some = {"hs-crp": 1.2, "esr": 12}

    labs(screened, some, coordinator)

    # A pending staff check is the same for everyone: not stored, listed wherever the
    # criteria are.
    stored = {v.criterion.code: v.verdict for v in screened.verdicts.all()}
    assert {code: stored[code] for code in some} == {"hs-crp": "met", "esr": "met"}
    assert "pending" not in stored.values()
    listed = selectors.verdict_list(participant=fresh(screened))
    assert [v.criterion.code for v in listed if v.verdict == "pending"] == ["rf", "ana", "thyroid"]
    assert [v.order for v in listed] == list(range(1, 19))
    blocking = selectors.verdict_list_blocking(participant=fresh(screened), today=DEC_7.date())
    assert {v.criterion_snapshot["code"] for v in blocking} == {"rf", "ana", "thyroid"}
    with pytest.raises(CriteriaNotMet):
        screening.participant_transition(participant=screened, to=Status.ELIGIBLE, by=coordinator)


def test_a_staff_check_added_after_the_pre_screen_is_pending_and_stops_eligibility(
    screened, coordinator, ldn_study
):
    labs(screened, LDN_NORMAL_LABS, coordinator)
    CriterionFactory(
        study=ldn_study, code="ecg", title="ECG normal", answered_by=AnsweredBy.STAFF, order=99
    )

    listed = selectors.verdict_list(participant=fresh(screened))

    assert (listed[-1].criterion.code, listed[-1].verdict) == ("ecg", "pending")
    assert listed[-1].criterion_snapshot["title"] == "ECG normal"
    with pytest.raises(CriteriaNotMet) as refused:
        screening.participant_transition(participant=screened, to=Status.ELIGIBLE, by=coordinator)
    assert "ECG normal" in str(refused.value)


def test_a_pending_verdict_stored_before_is_listed_once(screened):
    """Participants judged before pending verdicts stopped being stored keep their rows."""
    criterion = screened.study.criteria.get(code="rf")
    CriterionVerdict.objects.create(
        participant=screened,
        criterion=criterion,
        # Written with the others at the submission, for every active criterion.
        criterion_version=CriterionVersion.objects.get(criterion=criterion),
        verdict="pending",
        reason="Assessed by staff at screening; not yet entered.",
        order=16,
    )

    listed = selectors.verdict_list(participant=fresh(screened))

    assert [v.criterion.code for v in listed].count("rf") == 1
    assert len(listed) == 18


def test_lab_values_in_range_let_the_participant_be_marked_eligible(screened, coordinator):
    labs(screened, LDN_NORMAL_LABS, coordinator)

    moved = screening.participant_transition(
        participant=screened, to=Status.ELIGIBLE, by=coordinator
    )

    assert (moved.status, moved.outcome, moved.criteria_failed_at) == ("eligible", "all_met", None)


def test_failing_lab_values_after_eligibility_warn_with_the_date_and_the_cause(
    screened, coordinator
):
    failing = eligible_then_failing_labs(screened, coordinator)

    row = fresh(failing)
    assert row.status == Status.ELIGIBLE
    assert row.outcome == "likely_ineligible"
    assert row.criteria_failed_at == DEC_7
    assert row.criteria_failed_by == "lab values"
    blocking = selectors.verdict_list_blocking(participant=row, today=DEC_7.date())
    assert {v.criterion_snapshot["code"] for v in blocking} == FAILING_CODES


def test_consent_is_refused_after_lab_values_fail_and_nothing_is_written(screened, coordinator):
    failing = eligible_then_failing_labs(screened, coordinator)
    before = footprint(failing)

    with pytest.raises(CriteriaNotMet) as refused:
        consent(failing, coordinator)

    assert "hs-CRP under 3 mg/L, ESR not above 60 mm/h" in str(refused.value)
    assert "Antinuclear antibodies (ANA) negative" in str(refused.value)
    assert footprint(failing) == before


def test_enrollment_is_refused_when_lab_values_fail_after_consent(screened, coordinator):
    labs(screened, LDN_NORMAL_LABS, coordinator)
    eligible = screening.participant_transition(
        participant=screened, to=Status.ELIGIBLE, by=coordinator
    )
    consented = consent(eligible, coordinator)
    consented = labs(consented, FAILING_LABS, coordinator)
    assert fresh(consented).criteria_failed_at == DEC_7
    before = footprint(consented)

    with pytest.raises(CriteriaNotMet):
        screening.participant_transition(
            participant=consented, to=Status.ENROLLED, by=coordinator, reason="Sponsor agreed"
        )

    assert footprint(consented) == before
    assert fresh(consented).participant_id is None


def test_values_that_pass_again_clear_the_warning(screened, coordinator):
    failing = eligible_then_failing_labs(screened, coordinator)

    labs(failing, LDN_NORMAL_LABS, coordinator)

    assert fresh(failing).criteria_failed_at is None
    assert consent(fresh(failing), coordinator).status == Status.CONSENTED


def test_an_eligible_from_date_still_in_the_future_blocks_until_it_passes(
    ldn_study, coordinator, time_machine
):
    answers = {**LDN_ELIGIBLE_ANSWERS, "opioids": {"taken": "yes", "last": "2026-11-20"}}
    person = walk(submit(ldn_study, answers=answers), Status.SCREENING, by=coordinator)
    person = labs(person, LDN_NORMAL_LABS, coordinator)
    assert person.outcome == "eligible_from"

    with pytest.raises(CriteriaNotMet) as refused:
        screening.participant_transition(participant=person, to=Status.ELIGIBLE, by=coordinator)
    assert "No opioid painkiller in the last 3 months" in str(refused.value)

    time_machine.move_to(dt.datetime(2027, 2, 21, 15, tzinfo=dt.UTC), tick=False)
    moved = screening.participant_transition(participant=person, to=Status.ELIGIBLE, by=coordinator)
    assert moved.status == Status.ELIGIBLE


def test_a_coordinator_cannot_record_an_override(screened, coordinator):
    before = footprint(screened)

    with pytest.raises(RecruitmentError) as refused:
        screening.eligibility_override_record(
            participant=screened, reasons={"hs-crp": "Lab error"}, by=coordinator
        )

    assert str(refused.value) == str(screening.OVERRIDE_NOT_ALLOWED)
    assert footprint(screened) == before


@pytest.mark.parametrize(
    ("reasons", "message"),
    [
        ({}, screening.OVERRIDE_NOTHING),
        ({"hs-crp": "  "}, screening.OVERRIDE_NEEDS_REASON.format(code="hs-crp")),
        (
            {"hs-crp": "Lab error", "diagnosis": "Met anyway"},
            screening.OVERRIDE_NOT_BLOCKING.format(code="diagnosis", number="LDN-S-0001"),
        ),
        (
            {"no-such-criterion": "Because"},
            screening.OVERRIDE_NOT_BLOCKING.format(code="no-such-criterion", number="LDN-S-0001"),
        ),
    ],
    ids=["nothing named", "no reason", "a met criterion", "an unknown criterion"],
)
def test_an_override_names_each_blocking_criterion_with_a_reason_or_writes_nothing(
    screened, investigator, reasons, message
):
    before = footprint(screened)

    with pytest.raises(RecruitmentError) as refused:
        screening.eligibility_override_record(
            participant=screened, reasons=reasons, by=investigator
        )

    assert str(refused.value) == str(message)
    assert footprint(screened) == before


def test_an_investigators_override_of_each_failing_criterion_lets_consent_and_enrollment_go_on(
    screened, coordinator, investigator
):
    failing = eligible_then_failing_labs(screened, coordinator)
    partial = {"hs-crp": "Acute infection at the draw; repeat normal per PI"}
    screening.eligibility_override_record(participant=failing, reasons=partial, by=investigator)
    with pytest.raises(CriteriaNotMet):
        consent(fresh(failing), coordinator)  # ESR and ANA still stand

    screening.eligibility_override_record(
        participant=failing,
        reasons={"esr": "Same draw", "ana": "Low titre, rheumatology cleared"},
        by=investigator,
    )
    consented = consent(fresh(failing), coordinator)
    enrolled = screening.participant_transition(
        participant=consented, to=Status.ENROLLED, by=coordinator
    )

    assert (enrolled.status, enrolled.participant_id) == ("enrolled", "LDN-001")
    assert fresh(enrolled).criteria_failed_at is None


def test_an_override_is_audited_with_who_when_which_criterion_as_it_stood_and_why(
    screened, coordinator, investigator
):
    failing = eligible_then_failing_labs(screened, coordinator)

    (override,) = screening.eligibility_override_record(
        participant=failing, reasons={"esr": "Post-viral; repeat 40 mm/h"}, by=investigator
    )

    stored = EligibilityOverride.objects.get(pk=override.pk)
    assert (stored.by, stored.at, stored.criterion_code) == (investigator, DEC_7, "esr")
    assert stored.reason == "Post-viral; repeat 40 mm/h"
    assert stored.criterion_snapshot["title"] == "ESR not above 60 mm/h"
    assert stored.criterion_snapshot["verdict"] == "not_met"
    latest = fresh(failing).history.first()
    assert latest.history_user == investigator
    assert latest.history_change_reason == "Eligibility override: esr: Post-viral; repeat 40 mm/h"


def test_a_criterion_cannot_be_overridden_twice_nor_after_enrollment(
    ldn_study, screened, coordinator, investigator
):
    screening.eligibility_override_record(
        participant=screened, reasons={"thyroid": "Treated, stable"}, by=investigator
    )
    with pytest.raises(RecruitmentError):
        screening.eligibility_override_record(
            participant=screened, reasons={"thyroid": "Again"}, by=investigator
        )

    enrolled = walk(
        submit(ldn_study, email="b@example.com", first_name="Bo"), "enrolled", by=coordinator
    )
    with pytest.raises(InvalidTransition):
        screening.eligibility_override_record(
            participant=enrolled, reasons={"hs-crp": "Late"}, by=investigator
        )


def test_the_waitlist_keeps_the_warning_until_values_pass(ldn_study, screened, coordinator):
    participants_bulk(ldn_study, ldn_study.target_enrolment, status=Status.ENROLLED)
    labs(screened, LDN_NORMAL_LABS, coordinator)
    eligible = screening.participant_transition(
        participant=screened, to=Status.ELIGIBLE, by=coordinator
    )
    waiting = screening.participant_transition(
        participant=eligible, to=Status.WAITLISTED, by=coordinator
    )

    labs(waiting, FAILING_LABS, coordinator)
    assert fresh(waiting).criteria_failed_at == DEC_7

    declined = screening.participant_transition(
        participant=fresh(waiting), to=Status.DECLINED, by=coordinator, reason="not reached"
    )
    assert declined.criteria_failed_at is None


# =============================================================================================
# Through the admin, as a coordinator and an investigator would
# =============================================================================================
def page_url(name, participant):
    return reverse(f"admin:recruitment_participant_{name}", args=[participant.pk])


def change_url(participant):
    return reverse("admin:recruitment_participant_change", args=[participant.pk])


def test_the_reproduction_through_the_admin_is_refused_at_consent_and_enrollment(
    client, screened, coordinator
):
    client.force_login(coordinator)
    # Marking eligible while the labs are pending: refused.
    response = client.post(page_url("status", screened), {"to": "eligible", "reason": "OK"})
    assert response.status_code == 200
    assert "does not meet every criterion" in response.content.decode()
    assert fresh(screened).status == Status.SCREENING

    in_range = {"hs-crp": "1.2", "esr": "12", "rf": "negative", "ana": "negative"}
    client.post(page_url("lab_values", screened), {**in_range, "thyroid": "in_range"})
    client.post(page_url("status", screened), {"to": "eligible", "reason": ""})
    assert fresh(screened).status == Status.ELIGIBLE
    client.post(
        page_url("lab_values", screened),
        {**in_range, "thyroid": "in_range", "hs-crp": "5.8", "esr": "72", "ana": "positive"},
    )
    assert fresh(screened).outcome == "likely_ineligible"

    before = footprint(screened)
    today = timezone.localdate().isoformat()
    response = client.post(
        page_url("consent", screened),
        {"consented_on": today, "form_version": "ICF v2.0", "obtained_by": coordinator.pk},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "does not meet every criterion: hs-CRP under 3 mg/L, ESR not above 60 mm/h" in html
    assert footprint(screened) == before

    page = client.get(change_url(screened)).content.decode()
    assert "Fails a criterion since the lab values of Dec 7, 2026" in page
    assert "Record informed consent" in page
    assert "Record an eligibility override" not in page  # investigators only
    queue = client.get(reverse("admin:recruitment_participant_changelist")).content.decode()
    assert "Fails a criterion since the lab values of Dec 7, 2026" in queue
    assert client.get(page_url("override", screened)).status_code == 403


def test_the_enrol_page_and_bulk_action_refuse_a_consented_participant_who_fails_a_criterion(
    client, screened, coordinator
):
    labs(screened, LDN_NORMAL_LABS, coordinator)
    eligible = screening.participant_transition(
        participant=screened, to=Status.ELIGIBLE, by=coordinator
    )
    consented = labs(consent(eligible, coordinator), FAILING_LABS, coordinator)
    client.force_login(coordinator)
    before = footprint(consented)

    response = client.post(page_url("enrol", consented), {"reason": ""})
    assert "does not meet every criterion" in response.content.decode()
    client.post(
        reverse("admin:recruitment_participant_changelist"),
        {"action": "enrol", "_selected_action": [consented.pk], "index": 0, "reason": "x"},
    )

    assert footprint(consented) == before


def test_an_investigator_records_an_override_in_the_admin_and_the_page_shows_it(
    client, screened, coordinator, investigator, monitor
):
    failing = eligible_then_failing_labs(screened, coordinator)
    client.force_login(investigator)
    page = client.get(change_url(failing)).content.decode()
    assert "Record an eligibility override" in page

    form = client.get(page_url("override", failing)).content.decode()
    assert "hs-CRP under 3 mg/L" in form and "Thyroid" not in form  # only what blocks
    response = client.post(
        page_url("override", failing),
        {"reason_hs-crp": "Acute infection", "reason_esr": "Same draw", "reason_ana": "Low titre"},
    )
    assert response.status_code == 302

    assert (
        set(
            EligibilityOverride.objects.filter(participant=failing).values_list(
                "criterion_code", flat=True
            )
        )
        == FAILING_CODES
    )
    page = client.get(change_url(failing)).content.decode()
    assert "Acute infection" in page
    assert "Fails a criterion since" not in page
    client.force_login(monitor)
    monitor_page = client.get(change_url(failing)).content.decode()
    assert "hs-CRP under 3 mg/L" in monitor_page  # which criterion, and by whom ...
    assert "Acute infection" not in monitor_page  # ... but not the reason


def test_an_empty_override_form_is_refused_with_a_message(client, screened, investigator):
    client.force_login(investigator)

    response = client.post(page_url("override", screened), {})

    assert response.status_code == 200
    assert str(screening.OVERRIDE_NOTHING) in response.content.decode()
    assert not EligibilityOverride.objects.exists()


def test_the_screening_log_lists_each_override_by_criterion_and_date(
    client, screened, coordinator, investigator
):
    failing = eligible_then_failing_labs(screened, coordinator)
    screening.eligibility_override_record(
        participant=failing, reasons={"esr": "Same draw", "ana": "Low titre"}, by=investigator
    )
    client.force_login(coordinator)

    response = client.get(reverse("staff:screening_log", args=[failing.study.slug]))
    lines = b"".join(response.streaming_content).decode().splitlines()

    assert lines[0].endswith("Eligibility override")
    row = next(line for line in lines if line.startswith("LDN-S-0001"))
    assert row.endswith(
        ",ESR not above 60 mm/h (2026-12-07); Antinuclear antibodies (ANA) negative (2026-12-07)"
    )
    assert "Same draw" not in row


def test_the_override_page_runs_a_fixed_number_of_queries(
    client, screened, investigator, django_assert_max_num_queries
):
    client.force_login(investigator)
    client.get(page_url("override", screened))  # a worker's first request fills Django's caches

    with django_assert_max_num_queries(QUERIES_OVERRIDE_PAGE):
        response = client.get(page_url("override", screened))

    assert response.status_code == 200
    assert "hs-CRP under 3 mg/L" in response.content.decode()
