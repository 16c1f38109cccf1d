"""The run-in between consent and enrollment: the study's rule, the status and its groups,
starting it, recording adherence, the enrollment gate, an investigator's override, failing it,
and the steps the participant page offers; the workflow pages through the test client."""

import datetime as dt

import pytest
from django.urls import reverse

from accounts import roles
from recruitment.errors import InvalidTransition, RecruitmentError
from recruitment.models import (
    ALLOWED_TRANSITIONS,
    FHIR_STATUS,
    Participant,
    RunIn,
    Status,
    StatusChange,
    StatusReason,
)
from recruitment.screening import run_in as run_in_services
from recruitment.screening import run_in_gate
from recruitment.screening.call_card import call_card_build
from recruitment.screening.services import participant_transition
from recruitment.screening.steps import WHY_RUN_IN_FIRST, Gates, move_refusal, participant_steps
from recruitment.screening.waitlist import participant_enrol, participant_move
from tests.admin_posts import form_data
from tests.dates import NOV_25, TODAY
from tests.factories import StudyFactory, applicant, staff, walk

pytestmark = pytest.mark.django_db

LAST_DAY = TODAY + dt.timedelta(days=27)  # a 28-day run-in started today
AFTER = dt.datetime.combine(LAST_DAY + dt.timedelta(days=1), dt.time(18), tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def now(time_machine):
    """Every test starts at noon on 25 November 2026, with the clock stopped."""
    time_machine.move_to(NOV_25, tick=False)
    return time_machine


@pytest.fixture
def study():
    """No criteria (every pre-screen is all met), two places, a 28-day run-in at 80%."""
    return StudyFactory(prefix="LDN", target_enrolment=2, run_in_days=28, run_in_min_adherence=80)


@pytest.fixture
def staff_study(study):
    """The role fixtures' users (tests/conftest.py) are members of this module's study."""
    return study


def fresh(participant):
    return Participant.objects.get(pk=participant.pk)


def consented(study, by):
    return walk(applicant(study), Status.CONSENTED, by=by)


def in_run_in(study, by, *, started_on=None):
    return run_in_services.run_in_start(
        participant=consented(study, by), by=by, started_on=started_on
    )


def record(participant, days_completed, *, as_of, by):
    return run_in_services.run_in_adherence_record(
        participant=participant, days_completed=days_completed, as_of=as_of, by=by
    )


# ---------------------------------------------------------------------------------------------
# The study's rule and the status
# ---------------------------------------------------------------------------------------------
def test_the_ldn_study_file_sets_a_28_day_run_in_at_80_percent(ldn_study_with_run_in):
    assert (ldn_study_with_run_in.run_in_days, ldn_study_with_run_in.run_in_min_adherence) == (
        28,
        80,
    )


def test_an_investigator_sets_the_run_in_on_the_studys_admin_page(ldn_study_with_run_in, client):
    study = ldn_study_with_run_in
    investigator = staff("ira", roles.INVESTIGATOR, study, password=None)
    client.force_login(investigator)
    url = reverse("admin:recruitment_study_change", args=[study.pk])
    page = client.get(url)

    client.post(url, form_data(page, run_in_days=14, run_in_min_adherence=90))

    html = page.content.decode()
    assert "enrollment waits until the run-in is complete" in html
    assert "The least share of the run-in" in html
    study.refresh_from_db()
    assert (study.run_in_days, study.run_in_min_adherence) == (14, 90)


def test_a_study_without_a_run_in_enrolls_straight_after_consent(coordinator):
    study = StudyFactory(prefix="NRI", target_enrolment=2)
    person = walk(applicant(study), Status.CONSENTED, by=coordinator)

    with pytest.raises(InvalidTransition) as refused:
        run_in_services.run_in_start(participant=person, by=coordinator)
    enrolled = participant_enrol(participant=person, by=coordinator)

    assert str(refused.value) == run_in_gate.NO_RUN_IN.format(number=person.screening_number)
    assert enrolled.status == Status.ENROLLED
    assert not RunIn.objects.exists()


def test_run_in_sits_between_consented_and_enrolled_in_the_status_machine():
    assert Status.RUN_IN in ALLOWED_TRANSITIONS[Status.CONSENTED]
    assert ALLOWED_TRANSITIONS[Status.RUN_IN] == {
        Status.ENROLLED,
        Status.WAITLISTED,
        Status.INELIGIBLE,
        Status.DECLINED,
    }
    assert FHIR_STATUS[Status.RUN_IN] == "pending-on-study"


def test_run_in_is_open_in_progress_awaiting_enrollment_and_having_consented():
    assert Status.RUN_IN in Status.open()
    assert Status.RUN_IN in Status.in_progress()
    assert Status.RUN_IN in Status.awaiting_enrollment()
    assert Status.RUN_IN in Status.judged_eligible()
    assert Status.RUN_IN in Status.having_consented()
    assert Status.RUN_IN in Status.never_enrolled()
    for group in (
        Status.final(),
        Status.erasable(),
        Status.holding_slot(),
        Status.holding_participant_id(),
        Status.needing_reason(),
    ):
        assert Status.RUN_IN not in group


# ---------------------------------------------------------------------------------------------
# Starting the run-in
# ---------------------------------------------------------------------------------------------
def test_starting_the_run_in_records_its_start_who_and_the_studys_rule(study, coordinator):
    person = in_run_in(study, coordinator)

    run_in = RunIn.objects.get(participant=person)
    assert person.status == Status.RUN_IN
    assert (run_in.started_on, run_in.started_by, run_in.days, run_in.min_adherence) == (
        TODAY,
        coordinator,
        28,
        80,
    )
    change = StatusChange.objects.filter(participant=person).latest("at", "pk")
    assert (change.from_status, change.to_status, change.by) == ("consented", "run_in", coordinator)
    assert run_in.history.first().history_user == coordinator


def test_the_run_in_keeps_the_rule_it_started_with_when_the_study_changes(study, coordinator):
    person = in_run_in(study, coordinator)
    study.run_in_days, study.run_in_min_adherence = 14, 50
    study.save()

    run_in = RunIn.objects.get(participant=person)

    assert (run_in.days, run_in.min_adherence) == (28, 80)


def test_the_run_in_starts_only_for_a_consented_participant(study, coordinator):
    person = walk(applicant(study), Status.ELIGIBLE, by=coordinator)

    with pytest.raises(InvalidTransition):
        run_in_services.run_in_start(participant=person, by=coordinator)

    assert fresh(person).status == Status.ELIGIBLE
    assert not RunIn.objects.exists()


def test_a_run_in_starting_in_the_future_is_refused(study, coordinator):
    person = consented(study, coordinator)

    with pytest.raises(RecruitmentError) as refused:
        run_in_services.run_in_start(
            participant=person, by=coordinator, started_on=TODAY + dt.timedelta(days=1)
        )

    assert str(refused.value) == run_in_services.RUN_IN_START_IN_FUTURE
    assert fresh(person).status == Status.CONSENTED


def test_moving_to_run_in_without_its_record_is_refused(study, coordinator):
    person = consented(study, coordinator)

    with pytest.raises(InvalidTransition) as refused:
        participant_transition(participant=person, to=Status.RUN_IN, by=coordinator)

    assert str(refused.value) == run_in_gate.RUN_IN_NOT_RECORDED.format(
        number=person.screening_number
    )


# ---------------------------------------------------------------------------------------------
# Adherence and the enrollment gate
# ---------------------------------------------------------------------------------------------
def test_a_consented_participant_of_a_study_with_a_run_in_is_not_enrolled_directly(
    study, coordinator
):
    person = consented(study, coordinator)

    with pytest.raises(InvalidTransition) as refused:
        participant_enrol(participant=person, by=coordinator)

    assert str(refused.value) == run_in_gate.RUN_IN_FIRST.format(number=person.screening_number)
    assert fresh(person).status == Status.CONSENTED
    assert fresh(person).participant_id is None


def test_recorded_adherence_reads_as_days_of_the_run_in_and_a_percent(study, coordinator, now):
    person = in_run_in(study, coordinator)
    now.move_to(AFTER, tick=False)

    run_in = record(person, 21, as_of=LAST_DAY, by=coordinator)

    assert (run_in.days_completed, run_in.days, run_in.percent) == (21, 28, 75)
    assert run_in.complete and not run_in.meets_minimum
    history = fresh(person).history.first()
    assert history.history_user == coordinator
    assert history.history_change_reason.startswith("Run-in adherence: 21 of 28 days, 75%")
    assert RunIn.history.filter(participant_id=person.pk).count() == 2


@pytest.mark.parametrize(
    ("days_completed", "as_of_offset"),
    [(11, 9), (29, 27), (-1, 3)],
    ids=["more days than have passed", "more days than the run-in", "negative"],
)
def test_adherence_over_the_days_counted_is_refused_and_writes_nothing(
    study, coordinator, now, days_completed, as_of_offset
):
    person = in_run_in(study, coordinator)
    now.move_to(AFTER, tick=False)

    with pytest.raises(RecruitmentError):
        record(
            person,
            days_completed,
            as_of=TODAY + dt.timedelta(days=as_of_offset),
            by=coordinator,
        )

    assert RunIn.objects.get(participant=person).days_completed == 0


def test_adherence_counted_to_a_future_date_is_refused(study, coordinator):
    person = in_run_in(study, coordinator)

    with pytest.raises(RecruitmentError) as refused:
        record(person, 1, as_of=TODAY + dt.timedelta(days=1), by=coordinator)

    assert str(refused.value) == run_in_services.ADHERENCE_IN_FUTURE


def test_enrollment_is_refused_while_the_run_in_is_incomplete(study, coordinator, now):
    person = in_run_in(study, coordinator)
    now.move_to(NOV_25 + dt.timedelta(days=10), tick=False)
    record(person, 10, as_of=TODAY + dt.timedelta(days=9), by=coordinator)

    with pytest.raises(InvalidTransition) as refused:
        participant_enrol(participant=person, by=coordinator)

    message = str(refused.value)
    assert message.startswith(f"The run-in of {person.screening_number} is not complete: day 11")
    assert "10 of 28 daily reports" in message
    assert fresh(person).status == Status.RUN_IN


def test_enrollment_is_refused_under_the_minimum_adherence(study, coordinator, now):
    person = in_run_in(study, coordinator)
    now.move_to(AFTER, tick=False)
    record(person, 22, as_of=LAST_DAY, by=coordinator)  # 78%

    with pytest.raises(InvalidTransition) as refused:
        participant_enrol(participant=person, by=coordinator)

    assert str(refused.value) == run_in_gate.RUN_IN_BELOW_MINIMUM.format(
        number=person.screening_number, done=22, days=28, percent=78, minimum=80
    )
    assert fresh(person).participant_id is None


def test_a_complete_run_in_at_the_minimum_lets_the_participant_be_enrolled(study, coordinator, now):
    person = in_run_in(study, coordinator)
    now.move_to(AFTER, tick=False)
    record(person, 23, as_of=LAST_DAY, by=coordinator)  # 82%

    enrolled = participant_enrol(participant=person, by=coordinator)

    assert enrolled.status == Status.ENROLLED
    assert enrolled.participant_id == "LDN-001"


# ---------------------------------------------------------------------------------------------
# The investigator's override, and failing the run-in
# ---------------------------------------------------------------------------------------------
def test_a_coordinator_cannot_override_the_run_in(study, coordinator):
    person = in_run_in(study, coordinator)

    with pytest.raises(RecruitmentError) as refused:
        run_in_services.run_in_override_record(
            participant=person, reason="Good reason", by=coordinator
        )

    assert str(refused.value) == run_in_services.RUN_IN_OVERRIDE_NOT_ALLOWED
    assert not RunIn.objects.get(participant=person).overridden


def test_the_run_in_override_is_a_permission_of_its_own_given_to_investigators_only():
    """Given by the migration (no roles_ensure() called), not by the eligibility override."""
    from django.contrib.auth.models import Group

    def holds(role):
        group = Group.objects.get(name=role)
        return group.permissions.filter(codename="override_run_in").exists()

    assert holds(roles.INVESTIGATOR)
    assert not any(
        holds(role) for role in (roles.COORDINATOR, roles.MONITOR, roles.UNBLINDED_STATISTICIAN)
    )


def with_permission(user, codename):
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(codename=codename))
    return type(user).objects.get(pk=user.pk)  # no cached permissions


def test_the_eligibility_override_alone_does_not_override_the_run_in(study, coordinator):
    person = in_run_in(study, coordinator)
    eligibility_only = with_permission(
        staff("elena", roles.COORDINATOR, study), "override_eligibility"
    )

    with pytest.raises(RecruitmentError) as refused:
        run_in_services.run_in_override_record(
            participant=person, reason="Good reason", by=eligibility_only
        )

    assert str(refused.value) == run_in_services.RUN_IN_OVERRIDE_NOT_ALLOWED
    assert "run_in_override" not in steps_of(fresh(person), eligibility_only)
    with pytest.raises(InvalidTransition):
        participant_enrol(participant=person, by=coordinator)


def test_whoever_holds_the_run_in_override_may_record_it_and_the_enroll_check_honors_it(
    study, coordinator
):
    person = in_run_in(study, coordinator)
    granted = with_permission(staff("otto", roles.COORDINATOR, study), "override_run_in")
    assert steps_of(fresh(person), granted)["run_in_override"].possible

    run_in_services.run_in_override_record(participant=person, reason="Paper diary", by=granted)
    enrolled = participant_enrol(participant=person, by=coordinator)

    assert enrolled.status == Status.ENROLLED


def test_an_override_needs_a_reason(study, coordinator, investigator):
    person = in_run_in(study, coordinator)

    with pytest.raises(RecruitmentError) as refused:
        run_in_services.run_in_override_record(participant=person, reason="  ", by=investigator)

    assert str(refused.value) == run_in_services.RUN_IN_OVERRIDE_NEEDS_REASON


def test_an_investigators_override_lets_an_incomplete_run_in_be_enrolled_and_is_in_the_history(
    study, coordinator, investigator
):
    person = in_run_in(study, coordinator)

    run_in = run_in_services.run_in_override_record(
        participant=person, reason="Reports kept on paper for two weeks", by=investigator
    )
    enrolled = participant_enrol(participant=person, by=coordinator)

    assert (run_in.override_by, run_in.override_reason, run_in.override_at) == (
        investigator,
        "Reports kept on paper for two weeks",
        NOV_25,
    )
    assert enrolled.status == Status.ENROLLED
    reasons = list(fresh(person).history.values_list("history_change_reason", flat=True))
    assert "Run-in override: Reports kept on paper for two weeks" in reasons


def test_a_failed_run_in_closes_the_participant_as_ineligible_with_its_coded_reason(
    study, coordinator
):
    person = in_run_in(study, coordinator)

    closed = run_in_services.run_in_fail(participant=person, by=coordinator)

    assert closed.status == Status.INELIGIBLE
    change = StatusChange.objects.filter(participant=person).latest("at", "pk")
    assert (change.from_status, change.to_status, change.reason_code) == (
        "run_in",
        "ineligible",
        StatusReason.RUN_IN_FAILED,
    )
    assert change.reason_code_display == "Did not complete the run-in"


def test_the_run_in_reason_closes_only_someone_in_the_run_in(study, coordinator):
    person = walk(applicant(study), Status.SCREENING, by=coordinator)

    with pytest.raises(InvalidTransition) as refused:
        participant_transition(
            participant=person,
            to=Status.INELIGIBLE,
            by=coordinator,
            reason_code=StatusReason.RUN_IN_FAILED,
        )

    assert str(refused.value) == run_in_gate.RUN_IN_FAILED_ONLY_IN_RUN_IN
    assert fresh(person).status == Status.SCREENING


def test_someone_in_the_run_in_may_decline(study, coordinator):
    person = in_run_in(study, coordinator)

    closed = participant_transition(
        participant=person, to=Status.DECLINED, by=coordinator, reason="no longer interested"
    )

    assert closed.status == Status.DECLINED


# ---------------------------------------------------------------------------------------------
# The steps on the participant page
# ---------------------------------------------------------------------------------------------
def steps_of(participant, user) -> dict:
    steps = participant_steps(
        participant=fresh(participant), user=user, can_change=True, has_staff_criteria=False
    )
    return {step.key: step for step in steps}


def test_a_consented_participant_is_offered_the_run_in_and_told_enrollment_waits(
    study, coordinator
):
    steps = steps_of(consented(study, coordinator), coordinator)

    assert steps["run_in"].possible
    assert steps["run_in"].label == "Start run-in"
    assert steps["enrolled"].why_not == str(WHY_RUN_IN_FIRST)


def test_someone_in_the_run_in_is_offered_adherence_and_failure_and_told_why_not_enroll(
    study, coordinator
):
    steps = steps_of(in_run_in(study, coordinator), coordinator)

    assert steps["run_in_adherence"].possible
    assert steps["run_in_fail"].possible
    assert "run_in_override" not in steps  # coordinators may not override
    assert "is not complete" in steps["enrolled"].why_not


def test_an_investigator_is_offered_the_override_until_the_run_in_passes(
    study, coordinator, investigator
):
    person = in_run_in(study, coordinator)

    assert steps_of(person, investigator)["run_in_override"].possible


def test_a_study_without_a_run_in_offers_no_run_in_step(coordinator):
    study = StudyFactory(prefix="NRI", target_enrolment=2)

    steps = steps_of(walk(applicant(study), Status.CONSENTED, by=coordinator), coordinator)

    assert "run_in" not in steps
    assert steps["enrolled"].possible


@pytest.mark.parametrize(
    ("done", "overridden", "may_enroll"),
    [(None, False, False), (20, False, False), (23, False, True), (None, True, True)],
    ids=["not counted", "under the minimum", "passed", "overridden"],
)
def test_the_page_and_the_service_agree_on_enrollment_from_the_run_in(
    study, coordinator, investigator, now, done, overridden, may_enroll
):
    person = in_run_in(study, coordinator)
    now.move_to(AFTER, tick=False)
    if done is not None:
        record(person, done, as_of=LAST_DAY, by=coordinator)
    if overridden:
        run_in_services.run_in_override_record(participant=person, reason="Why", by=investigator)

    offered = move_refusal(fresh(person), Status.ENROLLED, Gates(fresh(person))) == ""
    try:
        participant_enrol(participant=person, by=coordinator)
        enrolled = True
    except InvalidTransition:
        enrolled = False

    assert offered == enrolled == may_enroll


def test_the_call_card_shows_the_run_in_as_days_and_a_percent(study, coordinator, now):
    person = in_run_in(study, coordinator)
    now.move_to(AFTER, tick=False)
    record(person, 21, as_of=LAST_DAY, by=coordinator)

    card = call_card_build(
        participant=fresh(person), user=coordinator, today=LAST_DAY, can_change=True
    )

    assert (card.run_in.days_completed, card.run_in.days, card.run_in.percent) == (21, 28, 75)


# ---------------------------------------------------------------------------------------------
# The workflow pages, through the test client
# ---------------------------------------------------------------------------------------------
def page(name, participant) -> str:
    return reverse(f"admin:recruitment_participant_{name}", args=[participant.pk])


def test_a_coordinator_starts_the_run_in_from_its_page(study, coordinator, coord_client):
    person = consented(study, coordinator)

    form = coord_client.get(page("run_in_start", person))
    response = coord_client.post(
        page("run_in_start", person), {"started_on": TODAY.isoformat()}, follow=True
    )

    assert "The study’s run-in lasts 28 days" in form.content.decode()
    assert fresh(person).status == Status.RUN_IN
    assert f"{person.screening_number} is now in the run-in." in response.content.decode()


def test_the_participant_page_shows_the_run_in_and_its_steps(study, coordinator, coord_client):
    person = in_run_in(study, coordinator)

    html = coord_client.get(page("change", person)).content.decode()

    assert 'id="call-card-run-in"' in html
    assert "0 of 28 days, 0%" in html
    for key in ("run_in_adherence", "run_in_fail"):
        assert f'data-step="{key}"' in html


def test_recording_adherence_on_its_page_shows_days_and_percent(
    study, coordinator, coord_client, now
):
    person = in_run_in(study, coordinator)
    now.move_to(AFTER, tick=False)
    coord_client.force_login(coordinator)  # the session of four weeks ago has expired

    response = coord_client.post(
        page("run_in_adherence", person),
        {"days_completed": "21", "as_of": LAST_DAY.isoformat()},
        follow=True,
    )

    html = response.content.decode()
    assert f"Run-in of {person.screening_number}: 21 of 28 days, 75%." in html
    assert "21 of 28 days, 75%" in coord_client.get(page("change", person)).content.decode()


def test_too_many_days_on_the_adherence_page_is_an_error_and_keeps_what_was_typed(
    study, coordinator, coord_client
):
    person = in_run_in(study, coordinator)

    response = coord_client.post(
        page("run_in_adherence", person), {"days_completed": "5", "as_of": TODAY.isoformat()}
    )

    html = response.content.decode()
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["days_completed"] == [
        "5 days is more than the days of the run-in up to that date (1)."
    ]
    assert 'value="5"' in html
    assert RunIn.objects.get(participant=person).days_completed == 0


def test_the_run_in_failed_page_closes_the_participant(study, coordinator, coord_client):
    person = in_run_in(study, coordinator)

    response = coord_client.post(page("run_in_fail", person), {"reason": ""}, follow=True)

    assert fresh(person).status == Status.INELIGIBLE
    assert "(Did not complete the run-in)" in response.content.decode()


def test_the_enroll_page_says_why_the_run_in_stops_enrollment(study, coordinator, coord_client):
    person = in_run_in(study, coordinator)

    response = coord_client.post(page("enrol", person), {"reason": ""})

    assert response.status_code == 200
    assert "is not complete: day 1 of 28" in response.content.decode()
    assert fresh(person).status == Status.RUN_IN


def test_only_an_investigator_reaches_the_override_page(
    study, coordinator, coord_client, investigator, client
):
    person = in_run_in(study, coordinator)

    refused = coord_client.get(page("run_in_override", person))
    client.force_login(investigator)
    response = client.post(
        page("run_in_override", person), {"reason": "Paper diary checked"}, follow=True
    )

    assert refused.status_code == 403
    assert RunIn.objects.get(participant=person).override_reason == "Paper diary checked"
    assert "Run-in override recorded" in response.content.decode()


# ---------------------------------------------------------------------------------------------
# A full study at the end of the run-in: the waitlist
# ---------------------------------------------------------------------------------------------
def passed_run_in(study, coordinator, now):
    person = in_run_in(study, coordinator)
    now.move_to(AFTER, tick=False)
    record(person, 23, as_of=LAST_DAY, by=coordinator)  # 82%
    return person


def study_set(study, **fields):
    """Change the study's settings without writing back its stale screening counter."""
    type(study).objects.filter(pk=study.pk).update(**fields)
    study.refresh_from_db()


def fill(study, coordinator):
    """Enroll as many as the study has slots (two)."""
    return [
        participant_enrol(
            participant=walk(applicant(study), Status.CONSENTED, by=coordinator), by=coordinator
        )
        for _ in range(study.target_enrolment)
    ]


def test_a_passed_run_in_in_a_full_study_goes_on_the_waitlist_and_is_audited(
    study, coordinator, now
):
    study_set(study, run_in_days=0)
    enrolled = fill(study, coordinator)
    study_set(study, run_in_days=28)
    person = passed_run_in(study, coordinator, now)

    waiting = participant_move(participant=person, to=Status.WAITLISTED, by=coordinator)

    assert waiting.status == Status.WAITLISTED
    change = StatusChange.objects.filter(participant=person).latest("pk")
    assert (change.from_status, change.to_status, change.by) == (
        Status.RUN_IN,
        Status.WAITLISTED,
        coordinator,
    )
    assert len(enrolled) == 2


def test_from_the_waitlist_they_are_enrolled_when_a_slot_frees_without_a_second_run_in(
    study, coordinator, now
):
    study_set(study, run_in_days=0, withdrawal_frees_slot=True)
    first, _second = fill(study, coordinator)
    study_set(study, run_in_days=28)
    person = participant_move(
        participant=passed_run_in(study, coordinator, now), to=Status.WAITLISTED, by=coordinator
    )
    assert "run_in" not in steps_of(person, coordinator)
    participant_transition(participant=first, to=Status.WITHDRAWN, by=coordinator, reason="Moved")

    assert steps_of(person, coordinator)["enrolled"].possible
    enrolled = participant_enrol(participant=person, by=coordinator)

    assert enrolled.status == Status.ENROLLED
    assert list(
        StatusChange.objects.filter(participant=person)
        .order_by("pk")
        .values_list("to_status", flat=True)
    )[-4:] == [Status.RUN_IN, Status.WAITLISTED, Status.CONSENTED, Status.ENROLLED]
    assert RunIn.objects.filter(participant=person).count() == 1


def test_a_consented_participant_back_from_the_waitlist_is_offered_enroll_not_a_new_run_in(
    study, coordinator, now
):
    study_set(study, run_in_days=0, withdrawal_frees_slot=True)
    first, _second = fill(study, coordinator)
    study_set(study, run_in_days=28)
    person = participant_move(
        participant=passed_run_in(study, coordinator, now), to=Status.WAITLISTED, by=coordinator
    )
    participant_transition(participant=first, to=Status.WITHDRAWN, by=coordinator, reason="Moved")
    back = participant_transition(participant=person, to=Status.CONSENTED, by=coordinator)

    steps = steps_of(back, coordinator)
    assert "run_in" not in steps
    assert steps["enrolled"].possible
    with pytest.raises(InvalidTransition) as refused:
        run_in_services.run_in_start(participant=back, by=coordinator)
    assert str(refused.value) == run_in_services.RUN_IN_ALREADY_DONE.format(
        number=back.screening_number
    )
    assert participant_enrol(participant=back, by=coordinator).status == Status.ENROLLED


def test_the_waitlist_is_refused_while_the_study_has_a_free_slot(study, coordinator, now):
    person = passed_run_in(study, coordinator, now)

    with pytest.raises(InvalidTransition):
        participant_move(participant=person, to=Status.WAITLISTED, by=coordinator)

    assert fresh(person).status == Status.RUN_IN
    assert steps_of(person, coordinator)["waitlisted"].why_not.startswith(
        "the study has a free slot; enroll instead"
    )


def test_the_waitlist_is_refused_before_the_run_in_passed_and_nothing_is_written(
    study, coordinator
):
    study_set(study, run_in_days=0)
    fill(study, coordinator)
    study_set(study, run_in_days=28)
    person = in_run_in(study, coordinator)
    changes = StatusChange.objects.filter(participant=person).count()

    with pytest.raises(InvalidTransition) as refused:
        participant_move(participant=person, to=Status.WAITLISTED, by=coordinator)

    assert "is not complete" in str(refused.value)
    assert fresh(person).status == Status.RUN_IN
    assert StatusChange.objects.filter(participant=person).count() == changes
    assert "is not complete" in steps_of(person, coordinator)["waitlisted"].why_not
