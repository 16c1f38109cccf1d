"""The participant queue as a coordinator reads it: names for staff who may see identities
(never for monitors), "applied today / this week" and "new, not contacted" filters, the
waitlist in waitlist order, and titles that say what each page is."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from recruitment.models import Participant, Status
from recruitment.screening.services import contact_attempt_record
from tests.factories import applicant, participants_bulk

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:recruitment_participant_changelist")
# A Wednesday, at noon in Birmingham, Alabama.
NOW = dt.datetime(2026, 12, 9, 18, 0, tzinfo=dt.UTC)


def listed(response) -> list[str]:
    return [p.screening_number for p in response.context["cl"].result_list]


def test_a_search_by_name_shows_the_names_it_found(coord_client, ldn_study):
    ann = applicant(ldn_study, first_name="Ann", last_name="Mitchell")
    bob = applicant(ldn_study, first_name="Bob", last_name="Mitchell")
    applicant(ldn_study, first_name="Cy", last_name="Other")

    response = coord_client.get(CHANGELIST, {"q": "Mitchell"})
    html = response.content.decode()

    assert sorted(listed(response)) == sorted([ann.screening_number, bob.screening_number])
    assert '<td class="field-name_shown">Ann Mitchell</td>' in html
    assert '<td class="field-name_shown">Bob Mitchell</td>' in html
    assert 'class="sortable column-name_shown"' in html  # its header, sorted by last name


def test_the_queue_sorts_by_last_name_for_staff_who_may_see_names(coord_client, ldn_study):
    zed = applicant(ldn_study, first_name="Ann", last_name="Zed")
    abe = applicant(ldn_study, first_name="Zoe", last_name="Abe")
    response = coord_client.get(CHANGELIST)
    column = response.context["cl"].list_display.index("name_shown")

    response = coord_client.get(CHANGELIST, {"o": str(column)})

    assert listed(response) == [abe.screening_number, zed.screening_number]


def test_a_monitor_never_sees_a_name_column(client, monitor, ldn_study):
    applicant(ldn_study, first_name="Ann", last_name="Mitchell")
    client.force_login(monitor)

    response = client.get(CHANGELIST)
    html = response.content.decode()

    assert "name_shown" not in response.context["cl"].list_display
    assert "Mitchell" not in html
    assert "name_shown" not in html


@pytest.mark.parametrize(
    ("choice", "expected"),
    [("today", ["today"]), ("week", ["today", "monday"]), ("7days", ["today", "monday", "friday"])],
)
def test_applied_today_and_this_week_are_at_hand(client, coordinator, ldn_study, choice, expected):
    with time_machine.travel(NOW, tick=False):
        client.force_login(coordinator)  # a session of that day
        people = {}
        for name, day in [
            ("today", dt.date(2026, 12, 9)),
            ("monday", dt.date(2026, 12, 7)),
            ("friday", dt.date(2026, 12, 4)),
            ("last_month", dt.date(2026, 11, 20)),
        ]:
            person = applicant(ldn_study)
            at = timezone.make_aware(dt.datetime.combine(day, dt.time(0, 30)))
            Participant.objects.filter(pk=person.pk).update(created_at=at)
            people[name] = person.screening_number

        response = client.get(CHANGELIST, {"applied": choice})

    assert sorted(listed(response)) == sorted(people[name] for name in expected)
    filters = [spec.title for spec in response.context["cl"].filter_specs]
    assert filters[:3] == ["study", "applied", "contact"]


def test_new_not_contacted_lists_the_call_lists_first_group(coord_client, coordinator, ldn_study):
    waiting = applicant(ldn_study)
    called = applicant(ldn_study)
    contact_attempt_record(participant=called, by=coordinator, method="phone", outcome="no_answer")
    (screening,) = participants_bulk(ldn_study, 1, status=Status.SCREENING)

    response = coord_client.get(CHANGELIST, {"contacted": "no"})

    assert listed(response) == [waiting.screening_number]
    assert "New, not contacted yet" in response.content.decode()


def test_a_monitor_may_use_the_new_filters(client, monitor, ldn_study):
    applicant(ldn_study)
    client.force_login(monitor)
    for params in ({"contacted": "no"}, {"applied": "today"}, {"applied": "week"}):
        response = client.get(CHANGELIST, params)
        assert response.status_code == 200, params
        assert len(listed(response)) == 1, params


def test_the_waitlist_filter_lists_people_in_waitlist_order(coord_client, ldn_study):
    participants_bulk(ldn_study, 20, status=Status.ENROLLED)
    waiting = participants_bulk(ldn_study, 4, status=Status.WAITLISTED)
    became_eligible = [40, 10, 30, 20]  # minutes ago, in screening-number order
    for minutes, person in zip(became_eligible, waiting, strict=True):
        Participant.objects.filter(pk=person.pk).update(
            eligible_at=timezone.now() - dt.timedelta(minutes=minutes)
        )

    response = coord_client.get(CHANGELIST, {"status__exact": "waitlisted"})

    assert listed(response) == [waiting[i].screening_number for i in (0, 2, 3, 1)]
    # The default order elsewhere: newest application first.
    everyone = listed(coord_client.get(CHANGELIST))
    assert everyone[0] == waiting[-1].screening_number


def test_the_participant_pages_say_what_they_are(coord_client, client, monitor, ldn_study):
    person = applicant(ldn_study)

    queue = coord_client.get(CHANGELIST).content.decode()
    page = coord_client.get(
        reverse("admin:recruitment_participant_change", args=[person.pk])
    ).content.decode()

    assert "<h1>Participants</h1>" in queue
    assert "<title>Participants |" in queue
    assert "Select participant to change" not in queue
    assert "<h1>Participant</h1>" in page
    assert f"<h2>{person.screening_number}</h2>" in page
    assert "Change participant" not in page

    client.force_login(monitor)  # read only: Django would say "Select participant to view"
    assert "<h1>Participants</h1>" in client.get(CHANGELIST).content.decode()
    view = client.get(reverse("admin:recruitment_participant_change", args=[person.pk]))
    assert "<h1>Participant</h1>" in view.content.decode()
    assert "View participant" not in view.content.decode()


@pytest.mark.parametrize("language", ["en", "es"])
def test_each_row_s_checkbox_is_the_one_django_s_widget_renders(coord_client, ldn_study, language):
    """The queue writes each row's checkbox directly (rendering the widget's template for
    every row is a large share of the page): the markup must stay Django's, in each language."""
    from django.contrib import admin
    from django.utils import translation

    person = applicant(ldn_study)
    model_admin = admin.site.get_model_admin(Participant)

    with translation.override(language):
        ours = model_admin.action_checkbox(person)
        django_s = admin.ModelAdmin.action_checkbox(model_admin, person)
    response = coord_client.get(CHANGELIST)

    assert ours == django_s
    assert f'value="{person.pk}" class="action-select"' in response.content.decode()


def test_the_status_and_pre_screen_columns_read_in_words(coord_client, ldn_study):
    person = applicant(ldn_study)

    html = coord_client.get(CHANGELIST).content.decode()

    assert f'<td class="field-status_shown">{Status(person.status).label}</td>' in html
    assert f'<td class="field-outcome_shown">{person.get_outcome_display()}</td>' in html
