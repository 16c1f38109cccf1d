import pytest
from django.urls import reverse
from django.utils import timezone

from recruitment.models import RegistryMatch
from tests.factories import StudyFactory, staff
from tests.registry.conftest import registry_person

pytestmark = pytest.mark.django_db

URL = "/staff/registry/"


def member(n: int, *, study=None):
    person = registry_person(email=f"member{n}@example.com", first_name=f"Mara{n}")
    if study is not None:
        RegistryMatch.objects.create(
            study=study,
            person=person,
            number=n,
            outcome="likely_eligible",
            criteria_version=study.criteria_version,
            inputs_fingerprint="x",
            evaluated_at=timezone.now(),
        )
    return person


def test_the_coordinator_sees_each_member_with_their_match_numbers_and_names(
    client, coordinator, ldn_study
):
    member(7, study=ldn_study)
    client.force_login(coordinator)

    page = client.get(URL).content.decode()

    assert "Mara7" in page and "member7@example.com" in page
    assert "M-0007" in page and "Likely eligible" in page


def test_the_monitor_sees_members_without_names(client, monitor, ldn_study):
    person = member(3, study=ldn_study)
    client.force_login(monitor)

    page = client.get(URL).content.decode()

    assert f"Person {person.pk}" in page and "M-0003" in page
    assert "Mara3" not in page and "member3@example.com" not in page


def test_matches_to_studies_the_viewer_does_not_work_on_are_not_shown(
    client, coordinator, ldn_study
):
    other = StudyFactory(slug="other", prefix="OTH")
    member(5, study=other)
    client.force_login(coordinator)

    page = client.get(URL).content.decode()

    assert "Mara5" in page and "M-0005" not in page


def test_staff_of_no_recruiting_study_cannot_see_the_registry(client, ldn_study):
    from accounts import roles

    client.force_login(staff("loner", roles.COORDINATOR, password=None))

    assert client.get(URL).status_code == 403


def test_people_who_left_the_registry_are_not_listed(client, coordinator, ldn_study):
    gone = member(4, study=ldn_study)
    gone.registry_left_at = timezone.now()
    gone.save()
    client.force_login(coordinator)

    assert "Mara4" not in client.get(URL).content.decode()


@pytest.mark.parametrize("rows", [3, 30])
def test_the_registry_queue_reads_a_fixed_number_of_queries(
    client, coordinator, ldn_study, django_assert_max_num_queries, rows
):
    for n in range(1, rows + 1):
        member(n, study=ldn_study)
    client.force_login(coordinator)

    with django_assert_max_num_queries(9):
        response = client.get(URL)

    assert response.content.decode().count("M-00") == rows


def test_the_staff_menu_links_to_the_registry(client, coordinator, ldn_study):
    client.force_login(coordinator)

    assert f'href="{URL}"' in client.get(reverse("staff:calls")).content.decode()
