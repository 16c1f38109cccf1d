"""The visits' workflow pages on a participant: book from the plan (each visit with its
window), change, cancel, mark attended or missed; bad input keeps what was typed; only staff
who may book see the pages."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from recruitment.calls.selectors import MISSED_VISIT, call_list
from recruitment.models import Visit, VisitStatus
from tests.factories import applicant, participants_bulk
from tests.visits.conftest import at
from tests.visits.test_selectors import visit

pytestmark = pytest.mark.django_db


def url(name, participant, visit=None, **query):
    address = reverse(f"admin:recruitment_participant_{name}", args=[participant.pk])
    params = {**({"visit": visit.pk} if visit else {}), **query}
    return address + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def booking(plan, **changes):
    data = {
        "planned_visit": plan["baseline-start"].pk,
        "on": "2026-12-14",
        "at": "09:30",
        "place": "",
        "with_whom": "Dr. Rivera",
        "reason": "",
    }
    return {**data, **changes}


def test_the_visits_page_offers_the_plan_with_each_windows_for_this_participant(
    consented, coord_client
):
    html = coord_client.get(url("visits", consented)).content.decode()

    assert "Start of the baseline weeks (target Dec 14, window Dec 11 to Dec 21)" in html
    assert "End of the baseline weeks (window unknown until the run-in starts)" in html
    assert "No visit booked yet." in html


def test_booking_from_the_page_books_the_visit_at_its_usual_place_and_emails_the_participant(
    consented, coord_client, plan, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = coord_client.post(url("visits", consented), booking(plan), follow=True)

    (booked,) = Visit.objects.all()
    assert (booked.starts_at, booked.place) == (at(14, 9, 30), plan["baseline-start"].place)
    assert "Start of the baseline weeks booked for" in response.content.decode()
    assert [m.to for m in mail.outbox][-1] == [consented.email]
    assert f'id="visit-{booked.pk}"' in response.content.decode()


def test_a_missing_date_is_said_next_to_the_field_and_what_was_typed_stays(
    consented, coord_client, plan
):
    response = coord_client.post(url("visits", consented), booking(plan, on="", place="Room 9"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in html
    assert 'value="Room 9"' in html and 'value="Dr. Rivera"' in html
    assert Visit.objects.count() == 0


def test_a_time_already_past_is_refused_on_the_date(consented, coord_client, plan):
    response = coord_client.post(
        url("visits", consented), booking(plan, on="2026-12-07", at="08:00")
    )

    assert "Choose a date and time from now on." in response.content.decode()
    assert Visit.objects.count() == 0


def test_a_participant_not_yet_consented_gets_no_booking(now, coord_client, ldn_study, plan):
    person = applicant(ldn_study)

    html = coord_client.get(url("visits", person)).content.decode()
    response = coord_client.post(url("visits", person), booking(plan))

    assert "Visits can be booked only for participants who have consented" in html
    assert "Visits can be booked only" in response.content.decode()
    assert Visit.objects.count() == 0


def test_changing_a_visit_moves_it_and_needs_a_reason(consented, coord_client, plan):
    booked = visit(consented, plan["screening"], at(10))
    data = {"on": "2026-12-11", "at": "14:00", "place": "Room 2", "with_whom": "Dr. Rivera"}

    refused = coord_client.post(url("visit_rebook", consented, booked), {**data, "reason": ""})
    moved = coord_client.post(url("visit_rebook", consented, booked), {**data, "reason": "Asked"})

    assert "This field is required." in refused.content.decode()
    assert moved.status_code == 302
    booked.refresh_from_db()
    assert (booked.starts_at, booked.place, booked.sequence) == (at(11, 14), "Room 2", 1)


def test_cancelling_a_visit_from_its_page(consented, coord_client, plan):
    booked = visit(consented, plan["screening"], at(10))

    coord_client.post(url("visit_cancel", consented, booked), {"reason": "Feels unwell"})

    booked.refresh_from_db()
    assert booked.status == VisitStatus.CANCELLED


def test_marking_a_visit_missed_puts_the_participant_on_the_call_list(
    consented, coord_client, coordinator, plan, time_machine
):
    booked = visit(consented, plan["screening"], at(10))
    time_machine.move_to(at(10, 12), tick=False)
    coord_client.force_login(coordinator)

    page = coord_client.get(url("visits", consented)).content.decode()
    form = coord_client.get(url("visit_outcome", consented, booked, outcome="missed"))
    coord_client.post(url("visit_outcome", consented, booked), {"outcome": "missed"})

    assert "outcome=missed" in page
    assert re.search(r'<input[^>]*value="missed"[^>]*checked', form.content.decode())
    booked.refresh_from_db()
    assert booked.status == VisitStatus.MISSED
    (calls,) = call_list(user=coordinator, today=at(10, 12).date(), identify=True)
    assert [r.screening_number for r in calls.group(MISSED_VISIT).rows] == [
        consented.screening_number
    ]
    html = coord_client.get("/staff/calls/").content.decode()
    assert "Missed the visit “Screening visit”" in html


def test_another_participants_visit_is_not_found(consented, coord_client, plan, ldn_study):
    (other,) = participants_bulk(ldn_study, 1, status="consented")
    theirs = visit(other, plan["screening"], at(10))

    response = coord_client.get(url("visit_cancel", consented, theirs))

    assert response.status_code == 404


def test_a_monitor_cannot_open_the_booking_pages(consented, client, monitor, plan):
    client.force_login(monitor)

    assert client.get(url("visits", consented)).status_code == 403


def test_the_participant_page_offers_the_visits_step_and_lists_the_visits(
    consented, coord_client, plan
):
    visit(consented, plan["screening"], at(10))

    html = coord_client.get(
        reverse("admin:recruitment_participant_change", args=[consented.pk])
    ).content.decode()

    assert 'data-step="visits"' in html
    assert "Screening visit" in html and 'id="visits"' in html
