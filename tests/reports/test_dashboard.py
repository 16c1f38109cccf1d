"""The staff dashboard: its numbers against hand-built histories, who may see it, and its
fixed number of queries."""

import datetime as dt
import re
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from recruitment.evaluation import criterion_version_ids, participant_evaluate
from recruitment.models import (
    CriterionVerdict,
    Participant,
    RunIn,
    Status,
    StatusChange,
    StatusReason,
    Verdict,
)
from recruitment.reports import consort, dashboard
from recruitment.reports.consort import ConsortCounts, consort_counts
from recruitment.reports.dashboard import dashboard_list, project
from recruitment.reports.tasks import dashboard_counts_task
from recruitment.screening.duplicates import duplicate_confirm
from recruitment.screening.run_in import (
    run_in_adherence_record,
    run_in_fail,
    run_in_override_record,
    run_in_start,
)
from recruitment.screening.services import (
    contact_attempt_record,
    lab_values_record,
    participant_transition,
)
from recruitment.studies.services import study_criteria_changed
from tests.factories import (
    LDN_ELIGIBLE_ANSWERS,
    CriterionFactory,
    StaffFactory,
    StudyFactory,
    UserFactory,
    applicant,
    participants_bulk,
    walk,
)
from tests.factories import investigator as investigator_of
from tests.html_reading import without_random_tokens

pytestmark = pytest.mark.django_db

SITE = ZoneInfo("America/Chicago")
# Wednesday 12 March 2025, noon in Birmingham, Alabama: ISO week 2025-W11 (Monday 10 March).
NOW = dt.datetime(2025, 3, 12, 12, tzinfo=SITE)
TODAY = NOW.date()
URL = "/staff/"


@pytest.fixture(autouse=True)
def now(time_machine):
    """Every test starts at noon on 12 March 2025, with the clock stopped."""
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def member():
    """A staff user in no role and no study, unlike tests/conftest.py's `coordinator`: the
    dashboard shows one board per study the user is a member of, so each test makes them a
    member of the one study it reads (`study` does), and grants any permission it checks."""
    return StaffFactory(username="member", password=None)


@pytest.fixture
def study(member):
    """A study with no criteria, 20 places, and `member` as its member."""
    study = StudyFactory(slug="ldn-mecfs", prefix="LDN", short_title="LDN for ME/CFS")
    study.members.add(member)
    return study


def at(day: dt.date, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SITE)


def counts_of(items) -> dict[str, int]:
    return {item.label: item.count for item in items}


def the_dashboard(user) -> dashboard.StudyDashboard:
    (only,) = dashboard_list(user=user, today=TODAY)
    return only


# ---------------------------------------------------------------------------------------------
# The CONSORT box
# ---------------------------------------------------------------------------------------------
ALL_TEN_ONCE = dict.fromkeys(Status, 1)
STATUS_MIXES = [
    pytest.param({}, id="nobody"),
    pytest.param({Status.NEW: 3}, id="only-new"),
    pytest.param({Status.INELIGIBLE: 2, Status.DECLINED: 3}, id="only-excluded"),
    pytest.param({Status.ENROLLED: 20}, id="full"),
    pytest.param(
        {Status.ENROLLED: 4, Status.COMPLETED: 5, Status.WITHDRAWN: 2, Status.WAITLISTED: 3},
        id="enrolled-ever-and-waitlist",
    ),
    pytest.param(ALL_TEN_ONCE, id="all-ten-once"),
    pytest.param(
        {
            Status.NEW: 7,
            Status.SCREENING: 5,
            Status.ELIGIBLE: 2,
            Status.INELIGIBLE: 9,
            Status.WAITLISTED: 4,
            Status.CONSENTED: 1,
            Status.ENROLLED: 6,
            Status.COMPLETED: 3,
            Status.WITHDRAWN: 2,
            Status.DECLINED: 8,
        },
        id="all-ten-mixed",
    ),
]


@pytest.mark.parametrize("mix", STATUS_MIXES)
def test_the_consort_box_adds_up_in_every_status_mix(study, member, mix):
    for status, count in mix.items():
        participants_bulk(study, count, status=status, by=member)

    consort = consort_counts(study=study)

    total = sum(mix.values())
    assert consort.assessed == total
    assert consort.excluded + consort.enrolled + consort.in_progress == total
    assert consort.adds_up
    assert consort.not_meeting_criteria == mix.get(Status.INELIGIBLE, 0)
    assert consort.declined + consort.other == mix.get(Status.DECLINED, 0)
    assert consort.enrolled == sum(mix.get(s, 0) for s in Status.holding_participant_id())
    assert consort.in_progress == sum(mix.get(s, 0) for s in Status.in_progress())
    assert counts_of(consort.in_progress_by_status) == {
        s.label: mix.get(s, 0) for s in Status.in_progress()
    }


def test_every_status_belongs_to_exactly_one_top_level_box_of_the_consort_diagram():
    boxes = [
        set(consort.NOT_MEETING_STATUSES),
        set(consort.DECLINED_STATUSES),
        set(Status.holding_participant_id()),
        set(Status.in_progress()),
    ]
    assert sum(len(box) for box in boxes) == len(Status)
    assert set().union(*boxes) == set(Status)


def test_the_consort_box_adds_up_for_participants_walked_through_the_services(member):
    """All ten statuses reached the way coordinators reach them, with decline reasons and a
    confirmed duplicate. Three places, all taken (a withdrawal keeps its slot), so the
    waitlist is open."""
    study = StudyFactory(target_enrolment=3)
    for status in (Status.ENROLLED, Status.COMPLETED, Status.WITHDRAWN):
        walk(applicant(study), status, by=member)
    # Not the run-in: this study has none (test_every_exit_has_its_own_box walks one).
    for status in (*Status.in_progress(), Status.INELIGIBLE):
        if status != Status.RUN_IN:
            walk(applicant(study), status, by=member)
    for reason in ("not reached", "Not reached ", "no longer interested", "Moved to Ohio"):
        participant_transition(
            participant=applicant(study), to=Status.DECLINED, by=member, reason=reason
        )
    first = applicant(study, email="twice@example.com")
    second = applicant(study, email="twice@example.com")
    assert second.duplicate_of == first
    duplicate_confirm(participant=second, by=member)

    consort = consort_counts(study=study)

    assert consort.adds_up
    assert consort.assessed == Participant.objects.filter(study=study).count() == 15
    assert consort.not_meeting_criteria == 1
    assert consort.declined == 4
    # Counted by code: words staff wrote ("Moved to Ohio") are "Other", never a label.
    assert counts_of(consort.declined_by_reason) == {
        "Not reached": 2,
        "No longer interested": 1,
        "Other": 1,
    }
    assert consort.other == 1
    assert counts_of(consort.other_by_reason) == {"Duplicate record": 1}
    assert consort.enrolled == 3
    assert (consort.on_study, consort.completed, consort.withdrawn) == (1, 1, 1)
    # The first of the two duplicate records is still new.
    assert consort.in_progress == 6
    assert counts_of(consort.in_progress_by_status) == {
        "New": 2,
        "Screening": 1,
        "Eligible": 1,
        "Waitlisted": 1,
        "Consented": 1,
        "Run-in": 0,
    }
    assert (consort.excluded_after_labs, consort.excluded_after_run_in) == (0, 0)


def test_every_exit_has_its_own_box_and_the_box_adds_up(ldn_study_with_run_in, member, now):
    """Excluded at screening (a criterion the patient answers), after the lab values (a
    staff-assessed criterion), after the run-in, declined in the run-in; one still in the
    run-in and one enrolled after it: each participant has exactly one terminal outcome."""
    study = ldn_study_with_run_in
    investigator = investigator_of(study)

    at_screening = applicant(study, answers={**LDN_ELIGIBLE_ANSWERS, "allergy": "yes"})
    walk(at_screening, Status.INELIGIBLE, by=member)
    after_labs = walk(applicant(study, answers=LDN_ELIGIBLE_ANSWERS), Status.SCREENING, by=member)
    lab_values_record(participant=after_labs, values={"hs-crp": 7.5}, by=member)
    participant_transition(
        participant=after_labs,
        to=Status.INELIGIBLE,
        by=member,
        reason_code=StatusReason.FAILS_CRITERION,
        reason_criterion="hs-crp",
    )
    failed, declined, running, enrolled = (
        walk(applicant(study, answers=LDN_ELIGIBLE_ANSWERS), Status.RUN_IN, by=member)
        for _ in range(4)
    )
    run_in_fail(participant=failed, by=member)
    participant_transition(
        participant=declined, to=Status.DECLINED, by=member, reason="no longer interested"
    )
    run_in_override_record(participant=enrolled, reason="Paper diary", by=investigator)
    participant_transition(participant=enrolled, to=Status.ENROLLED, by=member)

    consort = consort_counts(study=study)

    assert consort.adds_up
    assert consort.assessed == 6
    assert consort.not_meeting_criteria == 1
    assert counts_of(consort.not_meeting_by_criterion) == {
        "No allergy to naltrexone or naloxone": 1
    }
    assert consort.excluded_after_labs == 1
    assert counts_of(consort.excluded_after_labs_by_criterion) == {"hs-CRP under 3 mg/L": 1}
    assert consort.excluded_after_run_in == 1
    assert counts_of(consort.declined_by_reason) == {"No longer interested": 1}
    assert consort.excluded == 4
    assert consort.enrolled == 1
    assert consort.in_progress == 1
    assert counts_of(consort.in_progress_by_status)["Run-in"] == 1


def test_failing_a_criterion_the_patient_answers_is_an_exclusion_at_screening(
    ldn_study_with_run_in, member
):
    """Only a staff-assessed criterion named as the reason makes an exclusion after the lab
    values; naming one the patient answers keeps it in the screening box."""
    study = ldn_study_with_run_in
    person = walk(applicant(study, answers=LDN_ELIGIBLE_ANSWERS), Status.SCREENING, by=member)
    participant_transition(
        participant=person,
        to=Status.INELIGIBLE,
        by=member,
        reason_code=StatusReason.FAILS_CRITERION,
        reason_criterion="allergy",
    )

    consort = consort_counts(study=study)

    assert (consort.not_meeting_criteria, consort.excluded_after_labs) == (1, 0)
    assert consort.excluded_after_labs_by_criterion == ()
    assert consort.adds_up


def test_declined_participants_without_a_recorded_reason_are_counted_as_such(study):
    participants_bulk(study, 3, status=Status.DECLINED)

    consort = consort_counts(study=study)

    assert counts_of(consort.declined_by_reason) == {"Reason not recorded": 3}
    assert consort.adds_up


# ---------------------------------------------------------------------------------------------
# Screen failures by criterion
# ---------------------------------------------------------------------------------------------
def test_screen_failures_count_the_criteria_marked_not_met_among_ineligible_participants(
    ldn_study, member
):
    ldn_study.members.add(member)

    def ineligible(**failed):
        person = applicant(ldn_study, answers={**LDN_ELIGIBLE_ANSWERS, **failed})
        return walk(person, Status.INELIGIBLE, by=member)

    ineligible(allergy="yes")
    ineligible(allergy="yes", liver="yes")
    ineligible(liver="yes")
    ineligible(allergy="yes", **{"other-trial": "yes"})
    ineligible()  # every criterion it could judge was met: a staff decision
    # Not ineligible, so not a screen failure, even with a criterion not met.
    applicant(ldn_study, answers={**LDN_ELIGIBLE_ANSWERS, "allergy": "yes"})
    walk(
        applicant(ldn_study, answers={**LDN_ELIGIBLE_ANSWERS, "liver": "yes"}),
        Status.DECLINED,
        by=member,
    )

    board = the_dashboard(member)

    assert [(item.label, item.count) for item in board.screen_failures] == [
        ("No allergy to naltrexone or naloxone", 3),
        ("No liver disease or hepatitis", 2),
        ("Not in another drug trial in the last 30 days", 1),
    ]
    assert board.consort.not_meeting_criteria == 5
    assert board.consort.not_meeting_no_criterion == 1
    assert board.consort.adds_up


# ---------------------------------------------------------------------------------------------
# Funnel and referral sources
# ---------------------------------------------------------------------------------------------
def test_the_funnel_counts_every_status_in_the_status_machines_order(study, member):
    for status, count in {
        Status.NEW: 4,
        Status.SCREENING: 2,
        Status.INELIGIBLE: 3,
        Status.ENROLLED: 5,
        Status.DECLINED: 1,
    }.items():
        participants_bulk(study, count, status=status, by=member)

    board = the_dashboard(member)

    assert [(item.key, item.count) for item in board.funnel] == [
        ("new", 4),
        ("screening", 2),
        ("eligible", 0),
        ("ineligible", 3),
        ("waitlisted", 0),
        ("consented", 0),
        ("run_in", 0),
        ("enrolled", 5),
        ("completed", 0),
        ("withdrawn", 0),
        ("declined", 1),
    ]


def test_referral_sources_are_counted_with_their_labels_most_frequent_first(study, member):
    for source, count in {"prohealth": 3, "doctor": 1, "support_group": 2, "": 1}.items():
        for _ in range(count):
            applicant(study, referral_source=source)

    board = the_dashboard(member)

    assert [(item.label, item.count) for item in board.referral_sources] == [
        ("ProHealth", 3),
        ("A support group", 2),
        ("My doctor or nurse", 1),
        ("Not given", 1),
    ]


# ---------------------------------------------------------------------------------------------
# Weekly series
# ---------------------------------------------------------------------------------------------
def test_applications_and_enrolments_are_counted_per_iso_week_in_the_sites_time_zone(
    study, member, time_machine
):
    def apply_at(when):
        time_machine.move_to(when, tick=False)
        return applicant(study)

    # Two in the week of Monday 3 March; one on Sunday 9 March at 23:30 in Birmingham, which
    # is already Monday in UTC, still counts in that week.
    early = apply_at(at(dt.date(2025, 3, 4), 10))
    apply_at(at(dt.date(2025, 3, 9), 23, 30))
    # This week: one just after midnight on Monday 10 March, one today.
    apply_at(at(dt.date(2025, 3, 10), 0, 30))
    today = apply_at(at(TODAY, 9))
    # The first of the twelve weeks (Monday 23 December 2024), and one the week before it.
    apply_at(at(dt.date(2024, 12, 23), 8))
    apply_at(at(dt.date(2024, 12, 22), 8))
    # Enrolments are dated by the status change to `enrolled`.
    time_machine.move_to(at(dt.date(2025, 3, 7), 15), tick=False)
    walk(early, Status.ENROLLED, by=member)
    time_machine.move_to(at(TODAY, 11), tick=False)
    walk(today, Status.ENROLLED, by=member)
    time_machine.move_to(NOW, tick=False)

    board = the_dashboard(member)

    weeks = {w.start: (w.applications, w.enrolments) for w in board.weeks}
    assert len(board.weeks) == 12
    assert board.weeks[0].start == dt.date(2024, 12, 23)
    assert board.weeks[-1].start == dt.date(2025, 3, 10)
    assert board.weeks[-1].iso_week == "2025-W11"
    assert weeks[dt.date(2025, 3, 3)] == (2, 1)
    assert weeks[dt.date(2025, 3, 10)] == (2, 1)
    assert weeks[dt.date(2024, 12, 23)] == (1, 0)
    assert sum(a for a, _ in weeks.values()) == 5
    assert all(weeks[start] == (0, 0) for start in weeks if start.month == 1)


# ---------------------------------------------------------------------------------------------
# Projection
# ---------------------------------------------------------------------------------------------
def enrol_at(study, when, *, by, time_machine):
    time_machine.move_to(when, tick=False)
    person = walk(applicant(study), Status.ENROLLED, by=by)
    time_machine.move_to(NOW, tick=False)
    return person


def test_the_projection_fills_the_remaining_slots_at_the_rate_of_the_last_eight_weeks(
    study, member, time_machine
):
    # 8 enrolled in the last 8 weeks: one a week. 12 places remain: 12 weeks from today.
    for weeks_ago in range(8):
        enrol_at(
            study,
            NOW - dt.timedelta(weeks=weeks_ago, days=1),
            by=member,
            time_machine=time_machine,
        )

    board = the_dashboard(member)

    assert (board.enrolled, board.free) == (8, 12)
    assert board.projection.recent_enrolments == 8
    assert board.projection.weeks == 12
    assert board.projection.on == dt.date(2025, 6, 4) == TODAY + dt.timedelta(weeks=12)


def test_enrolments_older_than_eight_weeks_fill_slots_but_do_not_set_the_rate(
    study, member, time_machine
):
    # 56 days ago is outside the window (the 8 weeks are today and the 55 days before it).
    for day in (TODAY - dt.timedelta(days=56), TODAY - dt.timedelta(days=200)):
        enrol_at(study, at(day, 16), by=member, time_machine=time_machine)
    for day in (TODAY - dt.timedelta(days=55), TODAY - dt.timedelta(days=20), TODAY):
        enrol_at(study, at(day, 8), by=member, time_machine=time_machine)

    board = the_dashboard(member)

    # 15 remaining at 3 per 8 weeks: 40 weeks, 280 days.
    assert (board.enrolled, board.free) == (5, 15)
    assert board.projection.recent_enrolments == 3
    assert board.projection.on == TODAY + dt.timedelta(days=280)


def test_the_projection_rounds_up_to_a_whole_day():
    # 5 remaining at 3 per 8 weeks: 5 * 56 / 3 = 93.3 days.
    assert project(remaining=5, recent_enrolments=3, today=TODAY).on == TODAY + dt.timedelta(94)


def test_without_recent_enrolments_the_dashboard_does_not_project_a_date(
    study, member, client, time_machine
):
    enrol_at(study, NOW - dt.timedelta(weeks=9), by=member, time_machine=time_machine)
    client.force_login(member)

    board = the_dashboard(member)
    page = client.get(URL).content.decode()

    assert board.projection.on is None
    assert not board.projection.reached
    assert "Not enough recent enrollments to project a date" in page


def test_a_full_study_shows_the_target_reached(member, client):
    study = StudyFactory(target_enrolment=3)
    study.members.add(member)
    participants_bulk(study, 3, status=Status.ENROLLED, by=member)
    client.force_login(member)

    board = the_dashboard(member)
    page = client.get(URL).content.decode()

    assert board.projection.reached and board.projection.on is None
    assert "Target reached." in page
    assert "3 of 3 enrolled" in page


# ---------------------------------------------------------------------------------------------
# Follow-ups, not reached, waitlist
# ---------------------------------------------------------------------------------------------
def test_follow_ups_due_today_or_earlier_are_listed_by_screening_number_with_admin_links(
    study, member, client, time_machine
):
    def with_follow_up(on, status=Status.NEW):
        person = walk(applicant(study), status, by=member)
        contact_attempt_record(
            participant=person,
            by=member,
            method="phone",
            outcome="call_back",
            at=NOW - dt.timedelta(days=30),
            follow_up_on=on,
        )
        return person

    overdue = with_follow_up(TODAY - dt.timedelta(days=2), Status.SCREENING)
    due = with_follow_up(TODAY)
    with_follow_up(TODAY + dt.timedelta(days=1))  # not yet
    with_follow_up(TODAY - dt.timedelta(days=5), Status.INELIGIBLE)  # closed
    client.force_login(member)

    board = the_dashboard(member)
    page = client.get(URL).content.decode()

    assert [p.screening_number for p in board.follow_ups_due] == [
        overdue.screening_number,
        due.screening_number,
    ]
    assert board.follow_ups_due_total == 2
    assert "2 follow-ups due" in page
    for person in (overdue, due):
        link = reverse("admin:recruitment_participant_change", args=[person.pk])
        assert f'<a href="{link}">{person.screening_number}</a>' in page


def test_not_reached_counts_open_participants_with_the_studys_number_of_unanswered_attempts(
    study, member, client
):
    def attempts(person, outcomes):
        for outcome in outcomes:
            contact_attempt_record(participant=person, by=member, method="phone", outcome=outcome)

    attempts(applicant(study), ["no_answer", "voicemail", "no_answer"])
    attempts(applicant(study), ["no_answer", "voicemail", "wrong_number", "no_answer"])
    attempts(applicant(study), ["no_answer", "voicemail"])
    attempts(applicant(study), ["no_answer", "voicemail", "reached"])
    closed = applicant(study)
    attempts(closed, ["no_answer"] * 3)
    participant_transition(participant=closed, to=Status.DECLINED, by=member, reason="not reached")
    client.force_login(member)

    assert the_dashboard(member).not_reached == 2
    assert "2 not reached" in client.get(URL).content.decode()


def test_the_waitlist_is_in_eligibility_order_and_the_next_is_named_when_a_slot_frees(
    member, client, time_machine
):
    study = StudyFactory(target_enrolment=1, withdrawal_frees_slot=True)
    study.members.add(member)
    enrolled = walk(applicant(study), Status.ENROLLED, by=member)
    later, earlier = applicant(study), applicant(study)
    time_machine.move_to(NOW + dt.timedelta(hours=1), tick=False)
    walk(earlier, Status.WAITLISTED, by=member)
    time_machine.move_to(NOW + dt.timedelta(hours=2), tick=False)
    walk(later, Status.WAITLISTED, by=member)
    client.force_login(member)

    board = the_dashboard(member)
    assert [p.screening_number for p in board.waitlist] == [
        earlier.screening_number,
        later.screening_number,
    ]
    assert board.waitlist[0].on == TODAY
    assert "Next:" not in client.get(URL).content.decode()  # no free slot

    participant_transition(
        participant=enrolled, to=Status.WITHDRAWN, by=member, reason="Moved away"
    )
    page = client.get(URL).content.decode()

    assert re.search(rf"Next:\s*<a href=\"[^\"]+\">{earlier.screening_number}</a>", page)


def test_the_run_in_lists_each_participant_with_their_day_and_adherence_below_minimum_flagged(
    member, client, time_machine
):
    study = StudyFactory(run_in_days=28, run_in_min_adherence=80)
    study.members.add(member)
    started = NOW - dt.timedelta(days=10)
    time_machine.move_to(started, tick=False)
    on_track, behind, uncounted = (
        run_in_start(
            participant=walk(applicant(study), Status.CONSENTED, by=member),
            by=member,
        )
        for _ in range(3)
    )
    time_machine.move_to(NOW, tick=False)
    yesterday = TODAY - dt.timedelta(days=1)
    run_in_adherence_record(participant=on_track, days_completed=9, as_of=yesterday, by=member)
    run_in_adherence_record(participant=behind, days_completed=6, as_of=yesterday, by=member)
    client.force_login(member)

    board = the_dashboard(member)
    page = client.get(URL).content.decode()

    lines = {line.screening_number: line for line in board.run_in}
    assert board.run_in_total == 3
    assert (lines[on_track.screening_number].day, lines[on_track.screening_number].days) == (11, 28)
    assert (lines[on_track.screening_number].percent, lines[behind.screening_number].percent) == (
        90,
        60,
    )
    assert not lines[on_track.screening_number].below_minimum
    assert lines[behind.screening_number].below_minimum
    assert lines[uncounted.screening_number].percent is None
    assert not lines[uncounted.screening_number].below_minimum
    assert "Day 11 of 28" in page
    assert "6 of 10 days, 60%" in page
    assert "below the minimum of 80%" in page
    assert page.count("below the minimum of 80%") == 1


# ---------------------------------------------------------------------------------------------
# The page: who may see it, what it shows
# ---------------------------------------------------------------------------------------------
def test_an_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next={URL}"


def test_a_logged_in_user_who_is_not_staff_is_refused(client):
    client.force_login(UserFactory(password=None))

    assert client.get(URL).status_code == 403


def test_staff_of_another_study_do_not_see_this_studys_numbers(study, client):
    participants_bulk(study, 7, status=Status.ENROLLED)
    other = StudyFactory(title="Another treatment trial", prefix="OTH")
    participants_bulk(other, 2, status=Status.NEW)
    outsider = StaffFactory(password=None)
    other.members.add(outsider)
    client.force_login(outsider)

    page = client.get(URL).content.decode()

    assert [d.study for d in dashboard_list(user=outsider, today=TODAY)] == [other]
    assert "Another treatment trial" in page
    assert "0 of 20 enrolled" in page
    assert study.title not in page
    assert "7 of 20 enrolled" not in page
    assert "LDN-S-" not in page


def test_staff_of_no_study_see_no_numbers(study, client):
    participants_bulk(study, 2, status=Status.NEW)
    client.force_login(StaffFactory(password=None))

    page = client.get(URL).content.decode()

    assert "You are not a member of any study yet." in page
    assert study.title not in page


def test_a_superuser_sees_every_study(study, client):
    other = StudyFactory(title="Another treatment trial", prefix="OTH")
    client.force_login(StaffFactory(password=None, is_superuser=True))

    page = client.get(URL).content.decode()

    assert study.title in page and other.title in page


def test_the_dashboard_is_never_cached(study, member, client):
    client.force_login(member)

    response = client.get(URL)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_the_progress_bar_says_how_many_are_enrolled_of_the_target(study, member, client):
    participants_bulk(study, 12, status=Status.ENROLLED, by=member)
    client.force_login(member)

    page = client.get(URL).content.decode()

    label = '<label class="progress-label" for="progress-ldn-mecfs">12 of 20 enrolled</label>'
    assert label in page
    assert re.search(
        r'<progress class="enrolment" id="progress-ldn-mecfs" max="20" value="12">', page
    )


def test_the_diagram_and_chart_are_labelled_images_with_a_table_of_the_same_numbers(
    study, member, client
):
    for status, count in {Status.NEW: 2, Status.INELIGIBLE: 3, Status.ENROLLED: 4}.items():
        participants_bulk(study, count, status=status, by=member)
    client.force_login(member)

    page = client.get(URL).content.decode()

    for chart in ("consort-ldn-mecfs", "weekly-ldn-mecfs"):
        svg = re.search(rf'<svg [^>]*id="{chart}"[^>]*>', page).group(0)
        assert 'role="img"' in svg
        assert f'aria-labelledby="{chart}-title"' in svg
        assert f'aria-describedby="{chart}-desc"' in svg
        assert f'<title id="{chart}-title">' in page
    assert "Assessed for eligibility (n=9)" in page
    assert "Excluded (n=3)" in page
    assert "Enrolled (n=4)" in page
    assert "Still in screening (n=2)" in page
    table = page.split('id="consort-table-ldn-mecfs"')[1].split("</table>")[0]
    assert '<th scope="row">Assessed for eligibility</th><td>9</td>' in table
    assert '<th scope="row">Excluded</th><td>3</td>' in table
    assert '<th scope="row">Enrolled</th><td>4</td>' in table
    assert '<th scope="row">Still in screening</th><td>2</td>' in table
    weekly = page.split('id="weekly-table-ldn-mecfs"')[1].split("</table>")[0]
    assert '<th scope="row">2025-W11</th><td>Mar 10, 2025</td><td>9</td><td>0</td>' in weekly


def test_the_dashboard_shows_screening_numbers_and_never_names(study, member, client):
    person = applicant(study, first_name="Zelda", last_name="Quartermaine")
    contact_attempt_record(
        participant=person,
        by=member,
        method="phone",
        outcome="call_back",
        follow_up_on=TODAY,
    )
    client.force_login(member)

    page = client.get(URL).content.decode()

    assert person.screening_number in page
    assert "Zelda" not in page
    assert "Quartermaine" not in page
    assert person.email not in page


def test_the_identification_list_is_offered_only_to_staff_who_may_see_identities(
    study, member, client
):
    client.force_login(member)
    identification = reverse("staff:identification_list", args=[study.slug])
    page = client.get(URL).content.decode()
    assert reverse("staff:screening_log", args=[study.slug]) in page
    assert reverse("staff:fhir_bundle", args=[study.slug]) in page
    assert identification not in page

    member.user_permissions.add(Permission.objects.get(codename="view_identification"))
    assert identification in client.get(URL).content.decode()


# ---------------------------------------------------------------------------------------------
# Query count
# ---------------------------------------------------------------------------------------------
# Session, user, the user's permissions (2), and the fifteen report queries (five of them
# the call list's groups, "To do today"; one the visits this week).
# Session, user, the user's permissions (2), and the fourteen report queries (five of them
# the call list's groups, "To do today").
# Plus the run-in's adherence list.
# the call list's groups, "To do today"; one the allocation list's packs left).
DASHBOARD_QUERIES = 21


def a_worked_study(study, member, size: int) -> None:
    """Three people worked through the services, plus `size - 3` in bulk across every status,
    with verdicts, decline reasons, follow-ups and unanswered attempts."""
    criterion = CriterionFactory(study=study, title="Says yes")
    failed = applicant(study, answers={criterion.code: "no"})
    walk(failed, Status.INELIGIBLE, by=member)
    walk(applicant(study), Status.DECLINED, by=member)
    enrolled = walk(applicant(study), Status.ENROLLED, by=member)
    contact_attempt_record(
        participant=enrolled,
        by=member,
        method="phone",
        outcome="no_answer",
        follow_up_on=TODAY,
    )
    rest = size - 3
    if not rest:
        return
    per_status = Counter()
    for i in range(rest):
        per_status[list(Status)[i % len(Status)]] += 1
    per_status[Status.ENROLLED] = min(per_status[Status.ENROLLED], 5)
    per_status[Status.COMPLETED] = min(per_status[Status.COMPLETED], 5)
    per_status[Status.WITHDRAWN] = min(per_status[Status.WITHDRAWN], 5)
    per_status[Status.NEW] += rest - sum(per_status.values())
    for status, count in per_status.items():
        participants_bulk(study, count, status=status, by=member)
    RunIn.objects.bulk_create(
        RunIn(participant=p, started_on=TODAY, started_by=member, days=28, min_adherence=80)
        for p in Participant.objects.filter(study=study, status=Status.RUN_IN)
    )
    CriterionVerdict.objects.bulk_create(
        CriterionVerdict(
            participant=p,
            criterion=criterion,
            criterion_version_id=criterion_version_ids([criterion])[criterion.pk],
            answer="no",
            verdict=Verdict.NOT_MET,
            reason="Answered no; needs yes.",
        )
        for p in Participant.objects.filter(study=study, status=Status.INELIGIBLE).exclude(
            pk=failed.pk
        )
    )
    StatusChange.objects.bulk_create(
        StatusChange(
            participant=p,
            from_status=Status.NEW,
            to_status=Status.DECLINED,
            reason=("not reached", "no longer interested", "Moved away")[p.pk % 3],
            by=member,
        )
        for p in Participant.objects.filter(study=study, status=Status.DECLINED).exclude(
            status_changes__isnull=False
        )
    )
    # The 40 picked first, then updated: an UPDATE with a LIMIT subquery over tied dates may
    # rescan it per row, and PostgreSQL need not return the same 40 each time.
    # Not the waitlisted: the first of them are the call list's "a slot is free", which takes
    # them off its other groups.
    open_ones = Participant.objects.filter(study=study).open().exclude(status=Status.WAITLISTED)
    picked = list(open_ones.order_by("pk").values_list("pk", flat=True)[:70])
    Participant.objects.filter(pk__in=picked[:30]).update(next_follow_up_on=TODAY)
    Participant.objects.filter(pk__in=picked[30:]).update(unanswered_attempts=3)


@pytest.mark.parametrize("size", [3, 300])
def test_the_dashboard_takes_the_same_number_of_queries_for_3_and_300_participants(
    study, member, client, django_assert_max_num_queries, size
):
    a_worked_study(study, member, size)
    other = StudyFactory(prefix="OTH")
    other.members.add(member)
    participants_bulk(other, size, status=Status.SCREENING)
    client.force_login(member)

    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        response = client.get(URL)

    assert response.status_code == 200
    assert Participant.objects.filter(study=study).count() == size
    board = [d for d in dashboard_list(user=member, today=TODAY) if d.study == study][0]
    assert board.consort.assessed == size
    assert board.consort.adds_up
    if size == 300:
        assert board.follow_ups_due_total > dashboard.LIST_LIMIT
        assert len(board.follow_ups_due) == dashboard.LIST_LIMIT
        assert board.not_reached == 40


def test_the_consort_counts_are_one_dataclass_usable_by_exports(study):
    participants_bulk(study, 2, status=Status.NEW)

    consort = consort_counts(study=study)

    assert isinstance(consort, ConsortCounts)
    assert consort.assessed == 2


# ---------------------------------------------------------------------------------------------
# The counts over every participant, cached while the data they count is unchanged
# ---------------------------------------------------------------------------------------------
COUNTING_QUERIES = 5  # status tallies, exit reasons, failures by criterion, 2 weekly series


def queries_of(client) -> tuple[int, str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL)
    assert response.status_code == 200
    return len(captured), without_random_tokens(response.content.decode())


def test_a_second_view_with_nothing_changed_counts_nothing_again(study, member, client):
    for status in (Status.NEW, Status.DECLINED, Status.INELIGIBLE):
        walk(applicant(study), status, by=member)
    client.force_login(member)

    counted, first = queries_of(client)
    cached, second = queries_of(client)

    assert cached == counted - COUNTING_QUERIES
    assert second == first


def recounted(user) -> dashboard.StudyDashboard:
    """The dashboard after a change: the first view shows the latest counts kept, marked
    stale, and queues a recount (run at once by the tests' immediate task backend); the next
    view shows the recount."""
    assert the_dashboard(user).counts_stale
    board = the_dashboard(user)
    assert not board.counts_stale
    return board


def test_every_kind_of_change_is_recounted_after_the_next_view(ldn_study, member):
    ldn_study.members.add(member)
    failing = applicant(ldn_study, answers={**LDN_ELIGIBLE_ANSWERS, "allergy": "yes"})
    failing = walk(failing, Status.INELIGIBLE, by=member)
    before = the_dashboard(member)
    assert not before.counts_stale  # nothing kept yet: counted in the request
    assert counts_of(before.screen_failures) == {"No allergy to naltrexone or naloxone": 1}

    # A submission: a participant and its history rows.
    applicant(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)
    board = recounted(member)
    assert board.consort.assessed == 2
    assert board.weeks[-1].applications == 2

    # A status change (with its reason).
    walk(applicant(ldn_study), Status.DECLINED, by=member)
    assert recounted(member).consort.declined == 1

    # A re-evaluation: new verdicts for changed answers.
    failing.answers.filter(criterion__code="allergy").update(value="no")
    failing.answers.filter(criterion__code="liver").update(value="yes")
    participant_evaluate(participant=failing, by=member)
    board = recounted(member)
    assert counts_of(board.screen_failures) == {"No liver disease or hepatitis": 1}

    # A criterion's text, through the study admin's service.
    liver = ldn_study.criteria.get(code="liver", is_active=True)
    liver.title = "No liver disease"
    liver.save()
    study_criteria_changed(study=ldn_study, criteria=[liver])
    assert counts_of(recounted(member).screen_failures) == {"No liver disease": 1}


def test_the_first_view_after_a_change_shows_the_latest_counts_and_queues_one_recount(
    study, member, client, settings
):
    applicant(study)
    client.force_login(member)
    assert "counts-updating" not in client.get(URL).content.decode()
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    queue = dashboard_counts_task.get_backend()
    walk(applicant(study), Status.SCREENING, by=member)

    pages = [client.get(URL).content.decode() for _ in range(2)]

    board = the_dashboard(member)
    assert board.counts_stale
    assert (counts_of(board.funnel)["New"], counts_of(board.funnel)["Screening"]) == (1, 0)
    assert all('id="counts-updating"' in page for page in pages)
    assert "were counted at noon and are being updated" in " ".join(pages[0].split())
    (queued,) = queue.results  # once, however many views see the change before it runs
    queued.task.call(*queued.args, **queued.kwargs)
    board = the_dashboard(member)
    assert not board.counts_stale
    assert (counts_of(board.funnel)["New"], counts_of(board.funnel)["Screening"]) == (1, 1)
    assert "counts-updating" not in client.get(URL).content.decode()


def test_a_burst_of_changes_is_counted_once(study, member, settings, time_machine):
    applicant(study)
    the_dashboard(member)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    queue = dashboard_counts_task.get_backend()
    for _ in range(2):  # two changes, each seen by a view: two recounts queued
        applicant(study)
        assert the_dashboard(member).counts_stale
    first, second = queue.results
    time_machine.move_to(NOW + dt.timedelta(seconds=5))

    results = [task.task.call(*task.args, **task.kwargs) for task in (first, second)]

    assert results == ["3 participants counted", "already counted"]
    board = the_dashboard(member)
    assert (board.counts_stale, board.consort.assessed) == (False, 3)


@pytest.mark.parametrize("size", [3, 300])
def test_the_first_view_after_a_change_takes_as_few_queries_for_3_and_300_participants(
    study, member, client, django_assert_max_num_queries, settings, size
):
    a_worked_study(study, member, size)
    client.force_login(member)
    client.get(URL)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    applicant(study)

    with django_assert_max_num_queries(DASHBOARD_QUERIES - COUNTING_QUERIES):
        response = client.get(URL)

    assert 'id="counts-updating"' in response.content.decode()


def test_the_recount_labels_the_counts_in_the_language_it_was_queued_in(study, member, settings):
    from django.utils import translation

    applicant(study, referral_source="support_group")
    with translation.override("es"):
        the_dashboard(member)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    queue = dashboard_counts_task.get_backend()
    applicant(study, referral_source="support_group")
    with translation.override("es"):
        assert the_dashboard(member).counts_stale
    (queued,) = queue.results

    queued.task.call(*queued.args, **queued.kwargs)

    with translation.override("es"):
        board = the_dashboard(member)
    assert not board.counts_stale
    assert counts_of(board.referral_sources) == {"Un grupo de apoyo": 2}


def test_a_new_day_counts_again(study, member):
    applicant(study)
    assert the_dashboard(member).weeks[-1].applications == 1

    next_week = TODAY + dt.timedelta(weeks=1)
    (stale,) = dashboard_list(user=member, today=next_week)
    (board,) = dashboard_list(user=member, today=next_week)

    assert stale.counts_stale and not board.counts_stale
    weeks = board.weeks
    assert (weeks[-2].applications, weeks[-1].applications) == (1, 0)


def test_a_change_made_outside_the_app_shows_within_the_time_limit(
    study, member, time_machine, settings
):
    settings.DASHBOARD_COUNTS_CACHE_SECONDS = 60
    person = applicant(study)
    assert counts_of(the_dashboard(member).funnel)["New"] == 1
    # SQL by hand: no history row, no status change (the app never writes statuses so).
    Participant.objects.filter(pk=person.pk).update(status=Status.SCREENING)

    assert counts_of(the_dashboard(member).funnel)["New"] == 1
    time_machine.move_to(NOW + dt.timedelta(seconds=61))
    assert counts_of(recounted(member).funnel)["Screening"] == 1


def test_with_no_time_limit_every_view_counts(study, member, client, settings):
    settings.DASHBOARD_COUNTS_CACHE_SECONDS = 0
    applicant(study)
    client.force_login(member)

    first, _ = queries_of(client)
    second, _ = queries_of(client)

    assert first == second
    person = Participant.objects.get()
    Participant.objects.filter(pk=person.pk).update(status=Status.SCREENING)
    assert counts_of(the_dashboard(member).funnel)["Screening"] == 1
