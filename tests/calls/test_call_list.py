"""The call list: who to contact now, in six groups, each person once; the promise's working
days; names and phones only for staff who may see identities; the page's query count; the
dashboard's "To do today" counting the same groups; signing in landing on it."""

import datetime as dt
import re

import pytest
import time_machine
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from accounts import roles
from recruitment.calls.selectors import (
    CALL_BACK,
    FOLLOW_UP,
    GROUPS,
    MISSED_VISIT,
    NEW,
    NOT_REACHED,
    WAITLIST,
    call_list,
    last_applied_on_overdue,
    promise_for,
)
from recruitment.calls.working_days import working_days_after, working_days_between
from recruitment.models import ContactAttempt, Participant, Status, Visit
from recruitment.reports.dashboard import dashboard_list
from recruitment.screening.services import contact_attempt_record
from tests.factories import PASSWORD, StudyFactory, applicant, participants_bulk, staff

pytestmark = pytest.mark.django_db

# A Wednesday; the week before began on Monday 30 November.
TODAY = dt.date(2026, 12, 9)
NOON = dt.datetime(2026, 12, 9, 18, 0, tzinfo=dt.UTC)  # noon in Birmingham, Alabama
URL = "/staff/calls/"


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOON, tick=False):
        yield


def applied(participant, day: dt.date) -> Participant:
    """Date the application to noon (site time) of `day`."""
    at = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
    Participant.objects.filter(pk=participant.pk).update(created_at=at)
    participant.refresh_from_db()
    return participant


def attempt(participant, by, outcome, *, follow_up_on=None, days_ago=1):
    return contact_attempt_record(
        participant=participant,
        by=by,
        method="phone",
        outcome=outcome,
        at=timezone.now() - dt.timedelta(days=days_ago),
        follow_up_on=follow_up_on,
    )


def missed_visit(participant, by, *, days_ago):
    """A visit of the study's plan, marked missed `days_ago` days ago."""
    when = timezone.now() - dt.timedelta(days=days_ago)
    return Visit.objects.create(
        participant=participant,
        planned_visit=participant.study.planned_visits.get(code="screening"),
        starts_at=when,
        place="The lab",
        with_whom="Dr. Rivera",
        booked_by=by,
        status="missed",
        outcome_at=when,
    )


def groups_of(user, *, identify=True, study=None) -> dict[str, list[str]]:
    calls = call_list(user=user, today=TODAY, identify=identify)
    study_calls = calls[0] if study is None else [c for c in calls if c.study == study][0]
    return {key: [row.screening_number for row in study_calls.group(key).rows] for key in GROUPS}


# ---------------------------------------------------------------------------------------------
# Working days and the promise
# ---------------------------------------------------------------------------------------------
def test_working_days_skip_the_weekend():
    friday = dt.date(2026, 12, 4)
    assert working_days_after(friday, 1) == dt.date(2026, 12, 7)  # Monday
    assert working_days_after(friday, 5) == dt.date(2026, 12, 11)  # the next Friday
    assert working_days_after(dt.date(2026, 12, 5), 1) == dt.date(2026, 12, 7)  # from Saturday
    assert working_days_between(friday, dt.date(2026, 12, 11)) == 5
    assert working_days_between(friday, dt.date(2026, 12, 6)) == 0  # Saturday and Sunday
    assert working_days_between(dt.date(2026, 12, 11), friday) == -5
    assert working_days_between(friday, dt.date(2026, 12, 25)) == 15


def test_the_promise_counts_working_days_left_and_says_when_it_ran_out():
    monday = dt.date(2026, 12, 7)
    promise = promise_for(applied_on=monday, working_days=5, today=TODAY)  # Wednesday
    assert (promise.due_on, promise.days_left, promise.overdue) == (dt.date(2026, 12, 14), 3, False)
    on_the_day = promise_for(applied_on=monday, working_days=5, today=dt.date(2026, 12, 14))
    assert (on_the_day.days_left, on_the_day.overdue) == (0, False)
    late = promise_for(applied_on=monday, working_days=5, today=dt.date(2026, 12, 15))
    assert (late.days_left, late.overdue) == (-1, True)
    # Overdue over the weekend too, though no working day has passed since Friday.
    weekend = promise_for(
        applied_on=dt.date(2026, 11, 27), working_days=5, today=dt.date(2026, 12, 5)
    )
    assert weekend.overdue and weekend.days_left == 0


@pytest.mark.parametrize("days", [1, 2, 5, 10])
def test_the_overdue_cutoff_agrees_with_the_promise_of_every_day_before(days):
    cutoff = last_applied_on_overdue(working_days=days, today=TODAY)
    for back in range(0, 30):
        day = TODAY - dt.timedelta(days=back)
        assert promise_for(applied_on=day, working_days=days, today=TODAY).overdue == (
            day <= cutoff
        )


# ---------------------------------------------------------------------------------------------
# The groups
# ---------------------------------------------------------------------------------------------
def test_new_applicants_not_contacted_come_oldest_first_with_the_days_left(coordinator, ldn_study):
    young = applied(applicant(ldn_study), TODAY)
    oldest = applied(applicant(ldn_study), dt.date(2026, 11, 30))  # due Monday 7 Dec: overdue
    middle = applied(applicant(ldn_study), dt.date(2026, 12, 3))  # due Thursday 10 Dec
    called = applied(applicant(ldn_study), dt.date(2026, 12, 1))
    attempt(called, coordinator, "reached")

    new = call_list(user=coordinator, today=TODAY, identify=True)[0].group(NEW)

    assert [row.screening_number for row in new.rows] == [
        oldest.screening_number,
        middle.screening_number,
        young.screening_number,
    ]
    assert [row.promise.overdue for row in new.rows] == [True, False, False]
    assert [row.promise.days_left for row in new.rows] == [-2, 1, 5]
    assert (new.total, new.overdue) == (3, 1)


def test_the_promise_is_the_studys_own(coordinator, ldn_study):
    ldn_study.call_within_working_days = 2
    ldn_study.save()
    person = applied(applicant(ldn_study), dt.date(2026, 12, 4))  # Friday: due Tuesday

    new = call_list(user=coordinator, today=TODAY, identify=True)[0].group(NEW)

    assert new.rows[0].pk == person.pk
    assert new.rows[0].promise.due_on == dt.date(2026, 12, 8)
    assert new.rows[0].promise.overdue
    assert new.overdue == 1


def test_each_person_is_listed_once_in_the_first_group_that_fits(coordinator, ldn_study):
    ldn_study.not_reached_after = 2
    ldn_study.save()
    new = applicant(ldn_study)
    call_back = applicant(ldn_study)
    attempt(call_back, coordinator, "call_back")
    call_back_later = applicant(ldn_study)  # asked to be called next week: not today
    attempt(call_back_later, coordinator, "call_back", follow_up_on=TODAY + dt.timedelta(days=5))
    call_back_due = applicant(ldn_study)  # asked for today: a follow-up due
    attempt(call_back_due, coordinator, "call_back", follow_up_on=TODAY)
    due = applicant(ldn_study)
    attempt(due, coordinator, "no_answer", follow_up_on=TODAY - dt.timedelta(days=1))
    unreached_due = applicant(ldn_study)  # not reached, but a follow-up is due: a follow-up
    attempt(unreached_due, coordinator, "no_answer", days_ago=3)
    attempt(unreached_due, coordinator, "voicemail", follow_up_on=TODAY)
    unreached = applicant(ldn_study)
    attempt(unreached, coordinator, "no_answer", days_ago=3)
    attempt(unreached, coordinator, "wrong_number")
    reached = applicant(ldn_study)  # reached, nothing planned: nobody to call
    attempt(reached, coordinator, "reached")
    scheduled = applicant(ldn_study)
    attempt(scheduled, coordinator, "reached", follow_up_on=TODAY + dt.timedelta(days=1))
    missed = applicant(ldn_study)  # missed a visit after the last call
    attempt(missed, coordinator, "reached", days_ago=3)
    missed_visit(missed, coordinator, days_ago=1)
    missed_called = applicant(ldn_study)  # called since: nobody to call
    missed_visit(missed_called, coordinator, days_ago=2)
    attempt(missed_called, coordinator, "reached")
    missed_unreached = applicant(ldn_study)  # not reached too: the missed visit comes first
    attempt(missed_unreached, coordinator, "no_answer", days_ago=3)
    attempt(missed_unreached, coordinator, "wrong_number", days_ago=2)
    missed_visit(missed_unreached, coordinator, days_ago=1)

    groups = groups_of(coordinator)

    assert groups == {
        NEW: [new.screening_number],
        WAITLIST: [],
        CALL_BACK: [call_back.screening_number],
        FOLLOW_UP: [
            due.screening_number,
            call_back_due.screening_number,
            unreached_due.screening_number,
        ],
        MISSED_VISIT: [missed.screening_number, missed_unreached.screening_number],
        NOT_REACHED: [unreached.screening_number],
    }
    listed = [number for numbers in groups.values() for number in numbers]
    assert len(listed) == len(set(listed))


def test_each_study_counts_not_reached_after_its_own_number_of_attempts(coordinator, ldn_study):
    ldn_study.not_reached_after = 2
    ldn_study.save()
    other = StudyFactory(prefix="OTH", not_reached_after=3)
    other.members.add(coordinator)
    outsider = StudyFactory(prefix="OUT", not_reached_after=1)  # not the coordinator's
    twice = {study: applicant(study) for study in (ldn_study, other, outsider)}
    thrice = applicant(other)
    for person in [*twice.values(), thrice]:
        attempt(person, coordinator, "no_answer", days_ago=3)
        attempt(person, coordinator, "wrong_number", days_ago=2)
    attempt(thrice, coordinator, "voicemail")

    assert groups_of(coordinator, study=ldn_study)[NOT_REACHED] == [
        twice[ldn_study].screening_number
    ]
    assert groups_of(coordinator, study=other)[NOT_REACHED] == [thrice.screening_number]
    listed = {c.study for c in call_list(user=coordinator, today=TODAY, identify=False)}
    assert listed == {ldn_study, other}


def test_a_later_attempt_takes_a_person_off_the_call_backs(coordinator, ldn_study):
    person = applicant(ldn_study)
    attempt(person, coordinator, "call_back", days_ago=2)
    attempt(person, coordinator, "reached", days_ago=1)

    assert groups_of(coordinator)[CALL_BACK] == []


def test_closed_participants_are_never_on_the_list(coordinator, ldn_study):
    for status in Status.final():
        (person,) = participants_bulk(ldn_study, 1, status=status)
        Participant.objects.filter(pk=person.pk).update(
            next_follow_up_on=TODAY, unanswered_attempts=5
        )

    assert call_list(user=coordinator, today=TODAY, identify=True)[0].total == 0


def test_waitlisted_people_are_listed_in_order_while_slots_are_free(coordinator, ldn_study):
    participants_bulk(ldn_study, 18, status=Status.ENROLLED)  # 2 of 20 slots free
    waiting = participants_bulk(ldn_study, 3, status=Status.WAITLISTED)
    for minutes, person in zip([30, 10, 20], waiting, strict=True):
        Participant.objects.filter(pk=person.pk).update(
            eligible_at=timezone.now() - dt.timedelta(minutes=minutes)
        )
    first, third, second = waiting
    # The first in line also has a follow-up due: the free slot is the better reason to call.
    attempt(first, coordinator, "no_answer", follow_up_on=TODAY)

    groups = groups_of(coordinator)

    assert groups[WAITLIST] == [first.screening_number, second.screening_number]
    assert groups[FOLLOW_UP] == []


def test_a_full_study_lists_nobody_from_its_waitlist(coordinator, ldn_study):
    participants_bulk(ldn_study, 20, status=Status.ENROLLED)
    participants_bulk(ldn_study, 2, status=Status.WAITLISTED)

    assert groups_of(coordinator)[WAITLIST] == []


def test_only_the_users_studies_are_listed(coordinator, ldn_study):
    other = StudyFactory(prefix="OTH")
    applicant(other)
    mine = applicant(ldn_study)

    calls = call_list(user=coordinator, today=TODAY, identify=True)

    assert [c.study for c in calls] == [ldn_study]
    assert [row.pk for row in calls[0].group(NEW).rows] == [mine.pk]


def test_the_selector_reads_no_names_unless_the_user_may_see_them(coordinator, ldn_study):
    applicant(ldn_study, first_name="Ann", last_name="Mitchell", phone="205-555-0134")

    (row,) = call_list(user=coordinator, today=TODAY, identify=False)[0].group(NEW).rows
    assert (row.name, row.phone, row.tel, row.preferred_contact, row.best_time) == (
        "",
        "",
        "",
        "",
        "",
    )

    (row,) = call_list(user=coordinator, today=TODAY, identify=True)[0].group(NEW).rows
    assert (row.name, row.phone, row.tel) == ("Ann Mitchell", "205-555-0134", "tel:+12055550134")
    assert (row.preferred_contact_label, row.best_time_label) == ("Phone call", "Morning (9 to 12)")


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------
def test_the_page_shows_name_phone_link_preferences_outcome_and_a_log_a_call_button(
    coord_client, ldn_study
):
    person = applicant(ldn_study, first_name="Ann", last_name="Mitchell", phone="205-555-0134")

    html = coord_client.get(URL).content.decode()

    assert "Ann Mitchell" in html
    assert person.screening_number in html
    assert '<a href="tel:+12055550134">205-555-0134</a>' in html
    assert "Phone call" in html and "Morning (9 to 12)" in html
    assert person.get_outcome_display() in html
    contact = reverse("admin:recruitment_participant_contact", args=[person.pk])
    assert f'href="{contact}?next=/staff/calls/"' in html
    assert ">Log a call<" in html


def test_overdue_applicants_are_marked_in_words_as_well_as_colour(coord_client, ldn_study):
    applied(applicant(ldn_study), dt.date(2026, 11, 30))
    applied(applicant(ldn_study), TODAY)

    html = coord_client.get(URL).content.decode()

    assert html.count('<strong class="overdue">Overdue</strong>') == 1
    assert "5 working days left" in html
    assert "1 new applicant past the promise" in html


def test_a_monitor_sees_screening_numbers_only_and_no_button(client, monitor, ldn_study):
    person = applicant(ldn_study, first_name="Ann", last_name="Mitchell", phone="205-555-0134")
    client.force_login(monitor)

    html = client.get(URL).content.decode()

    assert person.screening_number in html
    assert "Mitchell" not in html
    assert "tel:" not in html and "555-0134" not in html
    assert "Phone call" not in html
    assert "Log a call" not in html


def test_the_page_is_for_signed_in_staff_only(client, ldn_study):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("size", [10, 1000])
def test_the_call_list_takes_the_same_number_of_queries_for_10_and_1000_participants(
    client, coordinator, ldn_study, django_assert_max_num_queries, size
):
    people = participants_bulk(ldn_study, size)
    # Some in every group: a quarter contacted with a follow-up due, asked to call back, not
    # reached; a waitlist behind a free slot; a second study of the user's.
    quarter = [p.pk for p in people[: max(size // 4, 6)]]
    by = staff("caller", None)
    ContactAttempt.objects.bulk_create(
        ContactAttempt(
            participant_id=pk,
            by=by,
            at=timezone.now(),
            method="phone",
            outcome=("call_back", "no_answer", "voicemail")[i % 3],
            follow_up_on=TODAY if i % 3 == 1 else None,
        )
        for i, pk in enumerate(quarter)
    )
    # What the contact-attempt service keeps on the participant (skipped by the bulk insert).
    for i, outcome in enumerate(("call_back", "no_answer", "voicemail")):
        Participant.objects.filter(pk__in=quarter[i::3]).update(
            last_attempt_at=timezone.now(), last_attempt_outcome=outcome
        )
    Participant.objects.filter(pk__in=quarter[1::3]).update(next_follow_up_on=TODAY)
    Participant.objects.filter(pk__in=quarter[2::3]).update(unanswered_attempts=3)
    participants_bulk(ldn_study, 3, status=Status.WAITLISTED)
    for person in participants_bulk(ldn_study, 3, status=Status.CONSENTED, by=by):
        missed_visit(person, by, days_ago=1)
    other = StudyFactory(prefix="OTH")
    other.members.add(coordinator)
    participants_bulk(other, size // 10)
    client.force_login(coordinator)

    with django_assert_max_num_queries(CALL_LIST_QUERIES):
        response = client.get(URL)

    assert response.status_code == 200
    calls = call_list(user=coordinator, today=TODAY, identify=True)
    ldn = [c for c in calls if c.study == ldn_study][0]
    assert all(ldn.group(key).total for key in GROUPS)
    assert ldn.group(NEW).total == size - len(quarter)
    if size == 1000:
        assert len(ldn.group(NEW).rows) == 50
        assert "The first 50 of 750." in response.content.decode()


# session, user, the user's permissions (groups), the studies, five queries for six groups
CALL_LIST_QUERIES = 10


# ---------------------------------------------------------------------------------------------
# The dashboard agrees; signing in lands here; a logged call comes back here
# ---------------------------------------------------------------------------------------------
def test_the_dashboards_to_do_today_counts_the_call_lists_groups(
    coord_client, coordinator, ldn_study
):
    for _ in range(11):
        applicant(ldn_study)  # nobody has called them yet
    due = applicant(ldn_study)
    attempt(due, coordinator, "no_answer", follow_up_on=TODAY)
    asked = applicant(ldn_study)
    attempt(asked, coordinator, "call_back")

    (board,) = dashboard_list(user=coordinator, today=TODAY)
    (calls,) = call_list(user=coordinator, today=TODAY, identify=True)

    assert {key: board.calls.group(key).total for key in GROUPS} == {
        key: calls.group(key).total for key in GROUPS
    }
    assert board.calls.group(NEW).total == 11
    assert board.follow_ups_due_total == 1
    html = coord_client.get("/staff/").content.decode()
    assert "11 new, not contacted yet" in html
    assert "1 asked to call back" in html
    assert f'href="{URL}"' in html


def test_signing_in_lands_a_coordinator_on_the_call_list(client, ldn_study):
    staff("signs-in", roles.COORDINATOR, ldn_study)  # with the factories' password
    page = client.get(reverse("admin:login"))
    assert 'name="next" value="/staff/start/"' in page.content.decode()

    response = client.post(
        reverse("admin:login"),
        {"username": "signs-in", "password": PASSWORD, "next": "/staff/start/"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == URL
    assert response.status_code == 200


def test_signing_in_keeps_the_page_asked_for(client, coordinator):
    page = client.get(reverse("admin:login") + "?next=/staff/")
    assert re.search(r'name="next" value="/staff/"', page.content.decode())


def test_a_monitor_lands_on_the_admin_index(client, monitor):
    client.force_login(monitor)
    response = client.get("/staff/start/")
    assert response["Location"] == reverse("admin:index")


def test_the_admin_header_and_index_link_to_the_call_list(coord_client):
    html = coord_client.get(reverse("admin:index")).content.decode()
    assert html.count(f'href="{URL}"') == 2  # the header and the index's staff pages
    dashboard = coord_client.get("/staff/").content.decode()
    assert f'href="{URL}"' in dashboard


def test_logging_a_call_from_the_list_comes_back_to_it(coord_client, coordinator, ldn_study):
    person = applicant(ldn_study)
    contact = reverse("admin:recruitment_participant_contact", args=[person.pk])
    form = {
        "at": f"{TODAY.isoformat()}T05:00",
        "method": "phone",
        "outcome": "call_back",
        "note": "",
        "follow_up_on": "",
    }

    response = coord_client.post(f"{contact}?next={URL}", form)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == URL
    page = coord_client.get(URL).content.decode()
    assert "Contact attempt logged" in page
    assert groups_of(coordinator)[CALL_BACK] == [person.screening_number]


def test_a_next_page_elsewhere_is_ignored(coord_client, ldn_study):
    person = applicant(ldn_study)
    contact = reverse("admin:recruitment_participant_contact", args=[person.pk])
    form = {"at": f"{TODAY.isoformat()}T05:00", "method": "phone", "outcome": "reached"}

    response = coord_client.post(f"{contact}?next=https://evil.example/", form)

    assert response["Location"] == reverse("admin:recruitment_participant_change", args=[person.pk])


@pytest.mark.parametrize(
    ("days", "words", "spanish"),
    [
        (5, "within 5 working days", "dentro de 5 días hábiles"),
        (1, "within 1 working day", "dentro de 1 día hábil"),
    ],
)
def test_the_patient_is_promised_the_studys_own_number_of_working_days(
    ldn_study, days, words, spanish
):
    ldn_study.call_within_working_days = days
    for method in ("phone", "text", "email", ""):
        context = {"study": ldn_study, "method": method}
        assert words in render_to_string("recruitment/includes/who_calls.html", context)
        with translation.override("es"):
            assert spanish in render_to_string("recruitment/includes/who_calls.html", context)
