"""The visits page at /staff/visits/: today's visits and the rest of the week per study, the
window flag, names only for staff who may see them, a fixed number of queries."""

import pytest
from django.urls import reverse

from recruitment.models import Status
from tests.factories import StaffFactory, participants_bulk
from tests.visits.conftest import at
from tests.visits.test_selectors import visit

pytestmark = pytest.mark.django_db

URL = "/staff/visits/"


def test_the_page_shows_todays_and_this_weeks_visits_with_time_person_place_and_status(
    consented, coord_client, plan
):
    today = visit(consented, plan["screening"], at(7, 15, 30))
    later = visit(consented, plan["baseline-start"], at(12, 9))

    html = coord_client.get(URL).content.decode()

    assert reverse("staff:visits") == URL
    today_part = html[html.index('id="today-ldn-mecfs"') : html.index('id="week-ldn-mecfs"')]
    week_part = html[html.index('id="week-ldn-mecfs"') :]
    assert f'id="visit-{today.pk}"' in today_part
    assert "3:30 p.m." in today_part
    assert "Ann Lee" in today_part and consented.screening_number in today_part
    assert "Screening visit" in today_part
    assert today.place in today_part and "Dr. Rivera" in today_part and "Booked" in today_part
    assert f'id="visit-{later.pk}"' in week_part
    assert "Sat, Dec 12, 9 a.m." in week_part


def test_a_visit_outside_its_window_is_flagged_with_its_window(consented, coord_client, plan):
    visit(consented, plan["baseline-start"], at(10, 9))  # window Dec 11 to Dec 21

    html = coord_client.get(URL).content.decode()

    assert "Outside window: target Dec 14, window Dec 11 to Dec 21" in html


def test_a_visit_inside_its_window_is_not_flagged(consented, coord_client, plan):
    visit(consented, plan["baseline-start"], at(12, 9))

    assert "Outside window" not in coord_client.get(URL).content.decode()


def test_a_monitor_sees_screening_numbers_only(client, monitor, consented, plan):
    visit(consented, plan["screening"], at(7, 15))
    client.force_login(monitor)

    html = client.get(URL).content.decode()

    assert consented.screening_number in html
    assert "Ann" not in html and "Lee" not in html


def test_the_page_is_for_signed_in_staff_only(client, ldn_study):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_of_other_studies_see_none_of_its_visits(client, consented, plan):
    visit(consented, plan["screening"], at(7, 15))
    outsider = StaffFactory(username="outsider", password=None)
    client.force_login(outsider)

    html = client.get(URL).content.decode()

    assert consented.screening_number not in html
    assert "not a member of any study" in html


@pytest.mark.parametrize("size", [3, 30])
def test_the_page_takes_the_same_number_of_queries_for_3_and_30_visits(
    client, coordinator, now, ldn_study, plan, django_assert_max_num_queries, size
):
    people = participants_bulk(ldn_study, size, status=Status.CONSENTED)
    for i, person in enumerate(people):
        visit(person, plan["screening"], at(7 + i % 7, 8 + i % 10))
    client.force_login(coordinator)

    with django_assert_max_num_queries(VISITS_PAGE_QUERIES):
        response = client.get(URL)

    assert response.status_code == 200
    assert response.content.decode().count('id="visit-') == size


# session, user, the user's own and group permissions, the studies, the week's visits
VISITS_PAGE_QUERIES = 6
