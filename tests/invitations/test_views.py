"""The study's registry matches at /staff/registry/<slug>/matches/ and its "Invite" button:
study members only, no identity on the page, likely eligible first, one query count for
any number of matches."""

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from recruitment.invitations.services import registry_invitation_send
from recruitment.models import (
    MatchOutcome,
    MatchState,
    Person,
    RegistryInvitation,
    RegistryMatch,
)
from tests.factories import StudyFactory, staff
from tests.invitations.scenario import (
    ANN,
    ANN_IDENTIFIERS,
    DEC_7,
    match_of,
    person_in_registry,
    shared_answers_give,
    sleep_study,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def now(time_machine):
    time_machine.move_to(DEC_7, tick=False)
    return DEC_7


@pytest.fixture
def staff_study():
    """The role fixtures' users are members of the sleep study."""
    return sleep_study()


@pytest.fixture
def study(staff_study):
    return staff_study


@pytest.fixture
def person(ldn_study):
    person = person_in_registry(ldn_study)
    shared_answers_give(person)
    mail.outbox.clear()
    return person


def matches_url(study) -> str:
    return reverse("staff:registry_matches", args=[study.slug])


def invite_url(study, number) -> str:
    return reverse("staff:registry_match_invite", args=[study.slug, number])


BATCH = 2000  # rows per INSERT: 10,000 people and their matches in a few statements


def people(count: int, *, start: int = 0) -> list[Person]:
    return Person.objects.bulk_create(
        (
            Person(
                first_name=f"P{n}",
                last_name="Bulk",
                name_normalised=f"p{n} bulk",
                email=f"p{n}@example.com",
                email_normalised=f"p{n}@example.com",
                zip_code="35203",
                date_of_birth=dt.date(1980, 1, 1),
                registry_consent=True,
                registry_consent_at=timezone.now(),
            )
            for n in range(start, start + count)
        ),
        batch_size=BATCH,
    )


def matches_bulk(study, count: int, *, start: int = 0) -> None:
    outcomes = [
        MatchOutcome.ELIGIBLE_FROM,
        MatchOutcome.NEEDS_ANSWERS,
        MatchOutcome.LIKELY_ELIGIBLE,
    ]
    RegistryMatch.objects.bulk_create(
        (
            RegistryMatch(
                study=study,
                person=person,
                number=start + i + 1,
                outcome=outcomes[i % 3],
                eligible_from=dt.date(2027, 1, 1) if i % 3 == 0 else None,
                verdicts=[{"criterion": "diagnosis", "verdict": "met", "reason": "Diagnosed"}],
                criteria_version=1,
                evaluated_at=timezone.now(),
            )
            for i, person in enumerate(people(count, start=start))
        ),
        batch_size=BATCH,
    )


def test_a_coordinator_sees_the_matches_likely_eligible_first_then_unknowns_then_later_dates(
    coord_client, study
):
    for number, outcome, later in (
        (1, MatchOutcome.ELIGIBLE_FROM, dt.date(2027, 2, 1)),
        (2, MatchOutcome.NEEDS_ANSWERS, None),
        (3, MatchOutcome.LIKELY_ELIGIBLE, None),
        (4, MatchOutcome.INELIGIBLE, None),
        (5, MatchOutcome.ELIGIBLE_FROM, dt.date(2027, 1, 1)),
        (6, MatchOutcome.LIKELY_ELIGIBLE, None),
    ):
        match_of(
            study, people(1, start=number)[0], number=number, outcome=outcome, eligible_from=later
        )

    html = coord_client.get(matches_url(study)).content.decode()

    shown = [n for n in range(1, 7) if f'id="match-{n}"' in html]
    order = sorted(shown, key=lambda n: html.index(f'id="match-{n}"'))
    assert order == [3, 6, 2, 5, 1]  # the ineligible match 4 is not listed


def test_each_match_shows_its_number_reasons_when_matched_and_invitation_state(
    coord_client, study, person
):
    match_of(study, person, number=7)

    html = coord_client.get(matches_url(study)).content.decode()

    row = html[html.index('id="match-7"') :]
    row = row[: row.index("</tr>")]
    assert "M-0007" in row
    assert "Met</strong>: ME/CFS diagnosed" in row
    assert "Unknown</strong>: Can spend a night in the sleep lab" in row
    assert "never asked" in row
    assert "Dec 7, 2026" in row
    assert "Matched" in row
    assert ">Invite</button>" in row


def test_the_page_shows_none_of_the_persons_identifiers(coord_client, study, person):
    match_of(study, person, number=7)

    html = coord_client.get(matches_url(study)).content.decode()

    assert "M-0007" in html
    for identifier in ANN_IDENTIFIERS:
        assert identifier.lower() not in html.lower(), identifier
    assert ANN["email"] not in html


def test_staff_of_another_study_cannot_see_its_matches(client, study, person):
    match_of(study, person)
    outsider = staff("outsider", roles.COORDINATOR, StudyFactory(), password=None)
    client.force_login(outsider)

    assert client.get(matches_url(study)).status_code == 404
    assert client.post(invite_url(study, 7)).status_code == 404


def test_a_monitor_sees_the_matches_without_an_invite_button_and_cannot_invite(
    client, monitor, study, person
):
    match_of(study, person, number=7)
    client.force_login(monitor)

    html = client.get(matches_url(study)).content.decode()

    assert "M-0007" in html
    assert ">Invite</button>" not in html
    assert client.post(invite_url(study, 7)).status_code == 403
    assert not RegistryInvitation.objects.exists()


def test_someone_signed_out_is_sent_to_sign_in(client, study):
    page = client.get(matches_url(study))

    assert page.status_code == 302
    assert "login" in page["Location"]


def test_the_invite_button_invites_and_says_so(
    coord_client, coordinator, study, person, django_capture_on_commit_callbacks
):
    match_of(study, person, number=7)

    with django_capture_on_commit_callbacks(execute=True):
        sent = coord_client.post(invite_url(study, 7), {"page": "1"})

    assert sent.status_code == 302
    assert sent["Location"] == f"{matches_url(study)}?page=1#match-7"
    invitation = RegistryInvitation.objects.get()
    assert invitation.sent_by == coordinator
    assert len(mail.outbox) == 1
    html = coord_client.get(sent["Location"]).content.decode()
    assert "M-0007 is invited. The email is on its way." in html
    row = html[html.index('id="match-7"') :]
    assert "Invited" in row[: row.index("</tr>")]
    assert ">Invite</button>" not in row[: row.index("</tr>")]


def test_a_refused_invitation_tells_the_coordinator_why(
    coord_client, study, person, coordinator, django_capture_on_commit_callbacks
):
    other = match_of(StudyFactory(), person, number=1)
    with django_capture_on_commit_callbacks(execute=True):
        registry_invitation_send(match=other, by=coordinator)
    match_of(study, person, number=7)

    page = coord_client.post(invite_url(study, 7), follow=True)

    html = page.content.decode()
    assert "M-0007 was not invited: this person was invited to a study on Dec 7, 2026." in html
    assert "can be invited from Jan 6, 2027" in html
    assert RegistryMatch.objects.get(number=7, study=study).state == MatchState.MATCHED


def test_a_match_waiting_for_its_person_s_last_invitation_says_from_when(
    coord_client, study, person, coordinator
):
    registry_invitation_send(match=match_of(StudyFactory(), person, number=1), by=coordinator)
    match_of(study, person, number=7)

    html = coord_client.get(matches_url(study)).content.decode()

    row = html[html.index('id="match-7"') :]
    row = row[: row.index("</tr>")]
    assert "can be invited from Jan 6, 2027" in row


def queries_of(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_both_match_lists_cost_the_same_queries_at_10_and_at_10000_matches_on_every_page(
    coord_client, study, django_assert_max_num_queries
):
    """The study's page (50 a page, 200 pages) and the center's queue; 10,000 people and
    their matches are inserted in a few statements."""
    queue = reverse("staff:registry")
    matches_bulk(study, 10)
    at_10 = queries_of(coord_client, matches_url(study))
    queue_at_10 = queries_of(coord_client, queue)

    matches_bulk(study, 9990, start=10)

    for page in ("", "?page=2", "?page=100", "?page=200"):
        with django_assert_max_num_queries(at_10):
            html = coord_client.get(f"{matches_url(study)}{page}").content.decode()
        assert html.count('<tr id="match-') == 50
        assert queries_of(coord_client, f"{matches_url(study)}{page}") == at_10
    assert "10000 matches" in html
    with django_assert_max_num_queries(queue_at_10):
        html = coord_client.get(queue).content.decode()
    assert html.count(f'id="{study.slug}-match-') == 10
    assert at_10 <= 8


def test_the_page_with_3_and_with_30_matches_stays_within_its_pinned_queries(
    coord_client, study, django_assert_max_num_queries
):
    matches_bulk(study, 3)
    with django_assert_max_num_queries(8):
        coord_client.get(matches_url(study))
    matches_bulk(study, 27, start=3)
    with django_assert_max_num_queries(8):
        html = coord_client.get(matches_url(study)).content.decode()
    assert html.count('<tr id="match-') == 30


def test_people_who_left_the_registry_or_applied_on_their_own_are_not_listed(
    coord_client, study, person, ldn_study
):
    left = person_in_registry(ldn_study, first_name="Lou", email="lou@example.com")
    Person.objects.filter(pk=left.pk).update(registry_left_at=timezone.now())
    applied = person_in_registry(ldn_study, first_name="Al", email="al@example.com")
    person_in_registry(study, first_name="Al", email="al@example.com")  # the same person
    said_yes = person_in_registry(ldn_study, first_name="Yu", email="yu@example.com")
    match_of(study, person, number=1)
    match_of(study, left, number=2)
    match_of(study, applied, number=3)
    match_of(study, said_yes, number=4, state=MatchState.ACCEPTED)

    html = coord_client.get(matches_url(study)).content.decode()

    assert [n for n in (1, 2, 3, 4) if f'id="match-{n}"' in html] == [1, 4]
