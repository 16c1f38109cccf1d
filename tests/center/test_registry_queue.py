"""The center's registry queue at /staff/registry/: each of the viewer's recruiting studies
with its matches in the same groups and order as the study's own page, by number, never by
name; a fixed number of queries."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from recruitment.models import MatchOutcome, MatchState, RegistryMatch
from tests.factories import StudyFactory, staff
from tests.registry.conftest import registry_person

pytestmark = pytest.mark.django_db

URL = "/staff/registry/"
LATER = dt.date(2027, 2, 1)


def member(n: int, *, study=None, outcome=MatchOutcome.LIKELY_ELIGIBLE, **fields):
    person = registry_person(email=f"member{n}@example.com", first_name=f"Mara{n}")
    if study is not None:
        RegistryMatch.objects.create(
            study=study,
            person=person,
            number=n,
            outcome=outcome,
            eligible_from=LATER if outcome == MatchOutcome.ELIGIBLE_FROM else None,
            verdicts=[{"criterion": "diagnosis", "verdict": "met", "reason": "Diagnosed"}],
            criteria_version=study.criteria_version,
            inputs_fingerprint="x",
            evaluated_at=timezone.now(),
            **fields,
        )
    return person


def order_of_matches(html: str, slug: str) -> list[int]:
    return [int(n) for n in re.findall(rf'id="{slug}-match-(\d+)"', html)]


def test_the_coordinator_sees_each_study_s_matches_by_number_with_reasons_and_no_name(
    client, coordinator, ldn_study
):
    member(7, study=ldn_study)
    client.force_login(coordinator)

    page = client.get(URL).content.decode()

    assert "M-0007" in page and "Likely eligible" in page and "(Diagnosed)" in page
    assert "Mara7" not in page and "member7@example.com" not in page
    assert "1 person agreed to hear of studies" in page


def test_the_queue_groups_likely_eligible_then_unknowns_then_later_dates_like_the_study_page(
    client, coordinator, ldn_study
):
    for n, outcome in (
        (1, MatchOutcome.ELIGIBLE_FROM),
        (2, MatchOutcome.NEEDS_ANSWERS),
        (3, MatchOutcome.LIKELY_ELIGIBLE),
        (4, MatchOutcome.INELIGIBLE),
        (5, MatchOutcome.LIKELY_ELIGIBLE),
    ):
        member(n, study=ldn_study, outcome=outcome)
    client.force_login(coordinator)

    queue = client.get(URL).content.decode()
    study_page = client.get(reverse("staff:registry_matches", args=[ldn_study.slug]))

    assert order_of_matches(queue, ldn_study.slug) == [3, 5, 2, 1]
    study_html = study_page.content.decode()
    assert [int(n) for n in re.findall(r'<tr id="match-(\d+)"', study_html)] == [3, 5, 2, 1]
    headings = ["Likely eligible</h3>", "Needs answers</h3>", "from a later date</h3>"]
    assert sorted(headings, key=queue.index) == headings
    assert queue.index("Needs answers</h3>") < queue.index(f'id="{ldn_study.slug}-match-2"')
    assert "Likely eligible: <strong>2</strong>" in queue
    assert "Needs answers: <strong>1</strong>" in queue


def test_the_monitor_sees_the_matches_by_number_too(client, monitor, ldn_study):
    member(3, study=ldn_study)
    client.force_login(monitor)

    page = client.get(URL).content.decode()

    assert "M-0003" in page and "Mara3" not in page


def test_matches_to_studies_the_viewer_does_not_work_on_are_not_shown(
    client, coordinator, ldn_study
):
    other = StudyFactory(slug="other", prefix="OTH")
    member(5, study=other)
    client.force_login(coordinator)

    page = client.get(URL).content.decode()

    assert "M-0005" not in page


def test_staff_of_no_recruiting_study_cannot_see_the_registry(client, ldn_study):
    client.force_login(staff("loner", roles.COORDINATOR, password=None))

    assert client.get(URL).status_code == 403


def test_people_who_left_the_registry_are_not_listed(client, coordinator, ldn_study):
    gone = member(4, study=ldn_study)
    gone.registry_left_at = timezone.now()
    gone.save()
    client.force_login(coordinator)

    page = client.get(URL).content.decode()

    assert "M-0004" not in page and "0 people agreed" in page


def test_the_queue_shows_the_first_matches_and_links_to_all_of_them(client, coordinator, ldn_study):
    for n in range(1, 13):
        member(n, study=ldn_study, state=MatchState.INVITED if n == 1 else MatchState.MATCHED)
    client.force_login(coordinator)

    page = client.get(URL).content.decode()

    assert order_of_matches(page, ldn_study.slug) == list(range(1, 11))
    assert "All 12 matches of" in page
    assert reverse("staff:registry_matches", args=[ldn_study.slug]) in page
    assert ">Invite</button>" not in page  # invitations are sent from the study's page


@pytest.mark.parametrize("rows", [3, 30])
def test_the_registry_queue_reads_a_fixed_number_of_queries(
    client, coordinator, ldn_study, django_assert_max_num_queries, rows
):
    second = StudyFactory(slug="second", prefix="SEC")
    second.members.add(coordinator)
    for n in range(1, rows + 1):
        member(n, study=ldn_study)
        member(100 + n, study=second, outcome=MatchOutcome.NEEDS_ANSWERS)
    client.force_login(coordinator)

    with django_assert_max_num_queries(9):
        response = client.get(URL)

    html = response.content.decode()
    assert order_of_matches(html, ldn_study.slug) == list(range(1, min(rows, 10) + 1))
    assert len(order_of_matches(html, second.slug)) == min(rows, 10)


def test_the_staff_menu_links_to_the_registry(client, coordinator, ldn_study):
    client.force_login(coordinator)

    assert f'href="{URL}"' in client.get(reverse("staff:calls")).content.decode()


def center_coordinator(username="cleo"):
    """A center coordinator: a member of no study."""
    return staff(username, roles.CENTER_COORDINATOR, password=None)


def test_a_center_coordinator_sees_who_is_in_the_registry_with_their_match_numbers(
    client, ldn_study
):
    signed_up = member(7, study=ldn_study)
    member(8)  # a member with no match yet
    client.force_login(center_coordinator())

    response = client.get(URL)
    page = response.content.decode()

    assert response.status_code == 200
    assert "Who is in the registry" in page
    assert "Mara7" in page and signed_up.email in page
    assert f"{ldn_study.short_title or ldn_study.title} #7 (Likely eligible)" in page
    assert "Mara8" in page and "No match yet" in page
    assert "2 people agreed to hear of studies" in page
    assert reverse("staff:registry_matches", args=[ldn_study.slug]) not in page


def test_a_study_s_team_never_sees_the_registry_s_people(client, coordinator, monitor, ldn_study):
    member(7, study=ldn_study)
    for user in (coordinator, monitor):
        client.force_login(user)

        page = client.get(URL).content.decode()

        assert "Who is in the registry" not in page and "Mara7" not in page


def test_a_center_coordinator_sees_no_study_s_applicants(client, ldn_study):
    """The role holds registry members only: no participant list, export or admin page."""
    client.force_login(center_coordinator())

    assert not client.get(URL).wsgi_request.user.has_perm("recruitment.view_participant")
    assert client.get(reverse("admin:recruitment_participant_changelist")).status_code in (
        302,
        403,
    )


@pytest.mark.parametrize("rows", [3, 30])
def test_the_registry_s_people_read_a_fixed_number_of_queries(
    client, ldn_study, django_assert_max_num_queries, rows
):
    for n in range(1, rows + 1):
        member(n, study=ldn_study)
    client.force_login(center_coordinator())

    # The study queue's reads, then the people's count, the page of people, their matches.
    with django_assert_max_num_queries(12):
        response = client.get(URL)

    assert response.content.decode().count("(Likely eligible)") >= min(rows, 10)
