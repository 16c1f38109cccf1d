"""The windows each participant's visits are judged by, and the reads of the visits page and
the dashboard: today and this week, flagged outside their window, in a fixed number of
queries, names only for staff who may see them."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from recruitment.models import Status, StatusChange, Visit, VisitStatus
from recruitment.visits import selectors
from recruitment.visits.selectors import (
    planned_visit_windows,
    visit_list_of_participant,
    visit_week_list,
    visits_this_week_by_study,
)
from tests.factories import StaffFactory, StudyFactory, participants_bulk
from tests.visits.conftest import at

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 12, 7)


def visit(participant, planned, starts_at, **fields):
    """A visit written straight to the table (the services are tested on their own)."""
    values = {
        "participant": participant,
        "planned_visit": planned,
        "starts_at": starts_at,
        "place": planned.place,
        "with_whom": "Dr. Rivera",
        "booked_by": StaffFactory(username="booker", password=None),
    }
    return Visit.objects.create(**{**values, **fields})


def test_a_visit_counted_from_consent_has_its_window_from_the_day_of_consent(consented, plan):
    windows = {w.planned.code: w for w in planned_visit_windows(participant=consented)}

    baseline = windows["baseline-start"]
    assert (baseline.window.target, baseline.window.earliest, baseline.window.latest) == (
        dt.date(2026, 12, 14),
        dt.date(2026, 12, 11),
        dt.date(2026, 12, 21),
    )
    assert baseline.words == "target Dec 14, window Dec 11 to Dec 21"
    assert windows["screening"].words == "target Dec 7, window Dec 7 to Dec 21"


def test_windows_counted_from_a_date_not_reached_yet_are_unknown(consented):
    windows = {w.planned.code: w for w in planned_visit_windows(participant=consented)}

    assert windows["baseline-end"].window is None
    assert windows["baseline-end"].words == "window unknown until the run-in starts"
    assert windows["first-dose"].words == "window unknown until enrollment"


def test_the_first_doses_window_counts_from_the_day_of_enrollment(consented):
    StatusChange.objects.create(
        participant=consented, from_status="consented", to_status="enrolled"
    )
    StatusChange.objects.filter(participant=consented, to_status="enrolled").update(at=at(9, 12))

    windows = {w.planned.code: w for w in planned_visit_windows(participant=consented)}

    assert windows["first-dose"].words == "target Dec 9, window Dec 9 to Dec 12"


def test_a_visit_booked_outside_its_window_is_flagged_with_the_window_in_words(consented, plan):
    visit(consented, plan["baseline-start"], at(22))
    visit(consented, plan["screening"], at(21, 16))

    rows = {r.visit.planned_visit.code: r for r in visit_list_of_participant(participant=consented)}
    assert rows["baseline-start"].outside_window
    assert rows["baseline-start"].window_words == (
        "outside window: target Dec 14, window Dec 11 to Dec 21"
    )
    assert not rows["screening"].outside_window
    assert rows["screening"].window_words == "target Dec 7, window Dec 7 to Dec 21"


def test_the_week_lists_todays_visits_apart_from_the_rest_of_the_week(
    consented, plan, coordinator, ldn_study
):
    today = visit(consented, plan["screening"], at(7, 15))
    friday = visit(consented, plan["baseline-start"], at(11, 9))
    others = participants_bulk(ldn_study, 3, status=Status.CONSENTED)
    visit(others[0], plan["screening"], at(6, 10))  # last Sunday
    visit(others[1], plan["screening"], at(14, 0, 0))  # next Monday, midnight
    sunday_night = visit(others[2], plan["screening"], at(13, 23, 30))

    (week,) = visit_week_list(user=coordinator, today=MONDAY, identify=True)

    assert [r.visit for r in week.today] == [today]
    assert [r.visit for r in week.this_week] == [friday, sunday_night]
    assert week.today[0].name == "Ann Lee"


def test_the_week_reads_no_names_for_staff_who_may_not_see_them(consented, plan, monitor):
    visit(consented, plan["screening"], at(7, 15))

    with CaptureQueriesContext(connection) as queries:
        (week,) = visit_week_list(user=monitor, today=MONDAY, identify=False)

    assert week.today[0].name == ""
    assert week.today[0].visit.participant.screening_number == consented.screening_number
    read = " ".join(q["sql"] for q in queries.captured_queries)
    for column in ("first_name", "last_name", "email", "phone"):
        assert f'"recruitment_participant"."{column}"' not in read


def test_only_the_users_studies_are_listed(consented, plan):
    outsider = StaffFactory(username="outsider", password=None)
    StudyFactory().members.add(outsider)
    visit(consented, plan["screening"], at(7, 15))

    (week,) = visit_week_list(user=outsider, today=MONDAY, identify=True)

    assert week.total == 0


def test_the_dashboard_counts_this_weeks_visits_but_not_cancelled_ones(consented, plan, ldn_study):
    visit(consented, plan["screening"], at(7, 15))
    visit(
        consented,
        plan["baseline-start"],
        at(8, 15),
        status=VisitStatus.CANCELLED,
        outcome_at=at(7, 9),
    )
    (other,) = participants_bulk(ldn_study, 1, status=Status.CONSENTED)
    visit(other, plan["screening"], at(14, 15))

    assert visits_this_week_by_study(study_ids=[ldn_study.pk], today=MONDAY) == {ldn_study.pk: 1}
    assert selectors.week_of(MONDAY) == (MONDAY, dt.date(2026, 12, 13))
