"""Staff see a person's other applications only in the studies they are members of: on the
participant page's call card, "Other applications of this person" lists them (screening
number, study, status), with a fixed number of queries however many there are."""

import pytest
from django.urls import reverse

from accounts import roles
from recruitment.models import Participant, Status
from tests.factories import StudyFactory, applicant, participants_bulk, staff, walk

pytestmark = pytest.mark.django_db

HEADING = "Other applications of this person"
# The participant page as tests/admin/test_call_card.py pins it, plus the other applications.
CHANGE_PAGE_QUERIES = 24
CONTACT_PAGE_QUERIES = 10


def change_url(participant):
    return reverse("admin:recruitment_participant_change", args=[participant.pk])


def contact_url(participant):
    return reverse("admin:recruitment_participant_contact", args=[participant.pk])


def others_html(response) -> str:
    html = response.content.decode()
    if HEADING not in html:
        return ""
    start = html.index('<div class="call-card-others">')
    return html[start : html.index("</div>", start)]


@pytest.fixture
def studies():
    return StudyFactory(short_title="Study A"), StudyFactory(short_title="Study B")


@pytest.fixture
def elsewhere():
    return StudyFactory(short_title="Study C")


@pytest.fixture
def ann(studies, elsewhere, coordinator):
    """Ann applied to A, B and C (the same email): three applications of one person."""
    a, b = studies
    made = {
        "a": applicant(a, email="ann@example.com"),
        "b": applicant(b, email="ann@example.com"),
        "c": applicant(elsewhere, email="ann@example.com"),
    }
    walk(made["b"], Status.SCREENING, by=staff("b-coordinator", roles.COORDINATOR, b))
    assert len({p.person_id for p in made.values()}) == 1
    return made


def test_a_coordinator_sees_the_other_applications_in_their_own_studies_only(client, studies, ann):
    client.force_login(staff("ab-coordinator", roles.COORDINATOR, *studies))

    others = others_html(client.get(change_url(ann["a"])))

    assert ann["b"].screening_number in others
    assert "Study B" in others and "Screening" in others
    assert ann["c"].screening_number not in others and "Study C" not in others
    assert ann["a"].screening_number not in others  # not the page's own application


def test_a_member_of_one_study_sees_no_other_application(client, studies, ann):
    client.force_login(staff("a-coordinator", roles.COORDINATOR, studies[0]))

    response = client.get(change_url(ann["a"]))

    assert response.status_code == 200
    assert HEADING not in response.content.decode()


def test_a_superuser_sees_every_other_application(admin_client, ann):
    others = others_html(admin_client.get(change_url(ann["a"])))

    assert ann["b"].screening_number in others and ann["c"].screening_number in others


def test_someone_who_applied_once_has_no_such_list(client, studies):
    alone = applicant(studies[0])
    client.force_login(staff("ab-coordinator", roles.COORDINATOR, *studies))

    assert HEADING not in client.get(change_url(alone)).content.decode()


def test_the_contact_page_card_shows_them_too(client, studies, ann):
    client.force_login(staff("ab-coordinator", roles.COORDINATOR, *studies))

    assert ann["b"].screening_number in others_html(client.get(contact_url(ann["a"])))


@pytest.mark.parametrize("count", [3, 30])
def test_the_pages_run_a_fixed_number_of_queries_however_many_applications(
    client, studies, count, django_assert_max_num_queries
):
    first = applicant(studies[0], email="ann@example.com")
    others = participants_bulk(studies[1], count)
    Participant.objects.filter(pk__in=[p.pk for p in others]).update(person=first.person)
    client.force_login(staff("ab-coordinator", roles.COORDINATOR, *studies))
    client.get(change_url(first))  # fills Django's caches

    with django_assert_max_num_queries(CHANGE_PAGE_QUERIES):
        page = client.get(change_url(first))
    with django_assert_max_num_queries(CONTACT_PAGE_QUERIES):
        contact = client.get(contact_url(first))

    assert others_html(page).count("<li>") == others_html(contact).count("<li>") == count
