"""The coordinators' admin: the queue, the bulk actions, the participant page and its workflow
pages, the audit trail, the roles and the scope of each staff user."""

import datetime as dt
import re
import tomllib

import pytest
from django.contrib import admin as django_admin
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.safestring import SafeString

from accounts import roles
from recruitment.admin.inlines import (
    ConsentInline,
    ContactAttemptInline,
    StatusChangeInline,
    VerdictInline,
)
from recruitment.admin.participants import ParticipantAdmin
from recruitment.errors import RecruitmentError, StudyFileError
from recruitment.models import (
    Answer,
    ConsentRecord,
    ContactAttempt,
    CriterionVerdict,
    DuplicateReview,
    EligibilityCriterion,
    EnrolmentSlot,
    Participant,
    Status,
    StatusChange,
    Study,
)
from recruitment.screening import services as screening
from recruitment.screening.staff_notes import staff_note_add
from recruitment.screening.verified_answers import answer_verify
from recruitment.studies.services import WITHDRAWAL_RULE_LOCKED, study_load
from tests.admin_posts import form_data
from tests.conftest import LDN_FILE
from tests.factories import (
    LDN_ELIGIBLE_ANSWERS,
    LDN_NORMAL_LABS,
    StudyFactory,
    UserFactory,
    applicant,
    participants_bulk,
    staff,
    submit,
    walk,
)
from tests.html_reading import without_random_tokens

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:recruitment_participant_changelist"
# Every value of the LDN study's staff-assessed criteria in range, as the form posts them.
NORMAL_LABS = {"hs-crp": "1.2", "esr": "12", "rf": "negative", "ana": "negative"}
NORMAL_LABS_ALL = {**NORMAL_LABS, "thyroid": "in_range"}


def change_url(participant):
    return reverse("admin:recruitment_participant_change", args=[participant.pk])


def page_url(name, participant):
    return reverse(f"admin:recruitment_participant_{name}", args=[participant.pk])


def fresh(participant):
    return Participant.objects.get(pk=participant.pk)


def message_texts(response, level=None):
    return [
        str(m) for m in get_messages(response.wsgi_request) if level is None or m.level == level
    ]


def eligible_applicant(study, **contact):
    """A patient whose every answer on the form meets the criteria (staff checks pending)."""
    return applicant(study, answers=LDN_ELIGIBLE_ANSWERS, **contact)


# ---------------------------------------------------------------------------------------------
# The queue
# ---------------------------------------------------------------------------------------------
def test_the_queue_shows_step_outcome_attempts_follow_up_and_a_link_to_a_possible_duplicate(
    coord_client, coordinator, ldn_study
):
    first = submit(ldn_study)
    second = submit(ldn_study, email="ANN.LEE@example.com")
    for _ in range(3):
        screening.contact_attempt_record(
            participant=first,
            by=coordinator,
            method="phone",
            outcome="no_answer",
            follow_up_on=timezone.localdate(),
        )

    html = coord_client.get(reverse(CHANGELIST)).content.decode()

    assert "LDN-S-0001" in html and "LDN-S-0002" in html
    assert f'<a href="{change_url(first)}">LDN-S-0001</a> <small>(to review)</small>' in html
    assert '3 <strong class="not-reached">not reached</strong>' in html
    assert "Needs review" in html
    assert second.duplicate_of_id == first.pk


def test_the_queue_shows_names_only_to_staff_who_may_see_them_and_never_contact_details(
    client, monitor, coordinator, ldn_study
):
    submit(ldn_study, note="My name is Ann and I live at 12 Oak Street")
    for user, name_shown in ((coordinator, True), (monitor, False)):
        client.force_login(user)
        html = without_random_tokens(client.get(reverse(CHANGELIST)).content.decode())
        assert "LDN-S-0001" in html
        assert ("Ann Lee" in html) is name_shown
        if not name_shown:
            assert "Lee" not in html
        for detail in ("ann.lee@example.com", "555-0134", "35203", "Oak Street"):
            assert detail not in html


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"status__exact": "screening"}, {"LDN-S-0002"}),
        ({"outcome__exact": "likely_ineligible"}, {"LDN-S-0003"}),
        ({"follow_up": "due"}, {"LDN-S-0001"}),
        ({"not_reached": "yes"}, {"LDN-S-0001"}),
        ({"duplicate": "pending"}, {"LDN-S-0004"}),
        ({"referral_source__exact": "doctor"}, {"LDN-S-0003"}),
    ],
    ids=["status", "outcome", "follow-up due", "not reached", "possible duplicate", "source"],
)
def test_the_queue_filters_narrow_the_list(coord_client, coordinator, ldn_study, params, expected):
    unreached = applicant(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)
    for _ in range(3):
        screening.contact_attempt_record(
            participant=unreached,
            by=coordinator,
            method="phone",
            outcome="voicemail",
            follow_up_on=timezone.localdate(),
        )
    walk(applicant(ldn_study, answers=LDN_ELIGIBLE_ANSWERS), Status.SCREENING, by=coordinator)
    applicant(
        ldn_study,
        answers={**LDN_ELIGIBLE_ANSWERS, "pregnancy": "yes"},
        referral_source="doctor",
    )
    applicant(ldn_study, email=unreached.email)  # LDN-S-0004, a possible duplicate
    # A closed participant is neither due for follow-up nor "not reached".
    closed = applicant(ldn_study)
    for _ in range(3):
        screening.contact_attempt_record(
            participant=closed,
            by=coordinator,
            method="phone",
            outcome="no_answer",
            follow_up_on=timezone.localdate(),
        )
    walk(closed, Status.DECLINED, by=coordinator)

    response = coord_client.get(reverse(CHANGELIST), params)

    shown = {p.screening_number for p in response.context["cl"].result_list}
    assert shown == expected


def test_the_study_filter_lists_only_the_users_studies(coord_client, ldn_study):
    other = StudyFactory(short_title="Secret other study")

    html = coord_client.get(reverse(CHANGELIST)).content.decode()

    assert "Secret other study" not in html
    assert f"?study={other.pk}" not in html


def test_the_study_filter_lists_the_header_s_studies_in_title_order(
    coord_client, coordinator, admin_client, ldn_study
):
    """The filter reuses the studies the progress header read (no query of its own)."""
    mine = StudyFactory(title="A first study", short_title="First")
    mine.members.add(coordinator)
    StudyFactory(title="Another study", short_title="Not mine")

    html = coord_client.get(reverse(CHANGELIST)).content.decode()
    everything = admin_client.get(reverse(CHANGELIST)).content.decode()

    assert html.index(f"?study={mine.pk}") < html.index(f"?study={ldn_study.pk}")
    assert ">Not mine</a>" not in html
    assert ">Not mine</a>" in everything and f"?study={ldn_study.pk}" in everything


def test_coordinators_search_by_screening_number_name_email_or_phone(coord_client, ldn_study):
    submit(ldn_study)
    submit(ldn_study, email="bo@example.com", phone="(205) 555-0177", first_name="Bo")
    url = reverse(CHANGELIST)

    def found(term):
        response = coord_client.get(url, {"q": term})
        return {p.screening_number for p in response.context["cl"].result_list}

    assert found("LDN-S-0002") == {"LDN-S-0002"}
    assert found("bo@example.com") == {"LDN-S-0002"}
    assert found("Bo Lee") == {"LDN-S-0002"}
    assert found("2055550177") == {"LDN-S-0002"}
    assert found("205-555-0177") == {"LDN-S-0002"}


def test_a_monitor_searches_by_screening_number_only(client, monitor, ldn_study):
    submit(ldn_study)
    client.force_login(monitor)
    url = reverse(CHANGELIST)

    def found(term):
        response = client.get(url, {"q": term})
        return {p.screening_number for p in response.context["cl"].result_list}

    assert found("LDN-S-0001") == {"LDN-S-0001"}
    assert found("Ann") == set()
    assert found("ann.lee@example.com") == set()
    assert found("2055550134") == set()

    def autocompleted(term):
        params = {"app_label": "recruitment", "model_name": "participant"}
        params |= {"field_name": "duplicate_of", "term": term}
        response = client.get(reverse("admin:autocomplete"), params)
        return [item["text"] for item in response.json()["results"]]

    assert autocompleted("LDN-S") == ["LDN-S-0001"]
    assert autocompleted("Ann") == []


def test_the_queue_shows_each_study_s_progress_and_who_is_next_when_a_slot_is_free(
    coord_client, ldn_study
):
    participants_bulk(ldn_study, 3, status=Status.ENROLLED)
    participants_bulk(ldn_study, 2, status=Status.WAITLISTED)

    html = coord_client.get(reverse(CHANGELIST)).content.decode()

    assert "3 of 20 enrolled, 17 slots free" in html
    assert "Next on the waitlist:" in html
    assert ">LDN-S-0004</a>" in html


def test_the_queue_names_nobody_next_while_the_study_is_full(coord_client, ldn_study):
    participants_bulk(ldn_study, 20, status=Status.ENROLLED)
    participants_bulk(ldn_study, 1, status=Status.WAITLISTED)

    html = coord_client.get(reverse(CHANGELIST)).content.decode()

    assert "20 of 20 enrolled, 0 slots free" in html
    assert "Next on the waitlist" not in html


@pytest.mark.parametrize("rows", [3, 30])
def test_the_participant_list_runs_a_fixed_number_of_queries(
    coord_client, coordinator, ldn_study, rows, django_assert_max_num_queries
):
    people = [eligible_applicant(ldn_study) for _ in range(rows)]
    applicant(ldn_study, email=people[0].email)  # a possible duplicate
    participants_bulk(ldn_study, 2, status=Status.WAITLISTED)
    screening.contact_attempt_record(
        participant=people[1], by=coordinator, method="phone", outcome="no_answer"
    )

    with django_assert_max_num_queries(11):
        response = coord_client.get(reverse(CHANGELIST), {"status__exact": "new"})

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == rows + 1


# The queue's queries at 10 participants and at a few hundred (more than a page of 100): the
# same, and never a count of the whole table (show_full_result_count off).
QUEUE_QUERIES = 11


@pytest.mark.parametrize("size", [10, 300])
@pytest.mark.parametrize("query", [{}, {"status__exact": "screening", "o": "-9"}])
def test_the_queue_takes_the_same_queries_at_10_and_300_participants(
    coord_client, coordinator, ldn_study, size, query, django_assert_max_num_queries
):
    duplicate = applicant(ldn_study)
    applicant(ldn_study, email=duplicate.email)  # a possible duplicate, shown as a link
    participants_bulk(ldn_study, size // 2, status=Status.NEW)
    participants_bulk(ldn_study, size - size // 2 - 2, status=Status.SCREENING, by=coordinator)
    coord_client.get(reverse(CHANGELIST), query)  # a worker's first request fills caches

    with django_assert_max_num_queries(QUEUE_QUERIES) as captured:
        response = coord_client.get(reverse(CHANGELIST), query)

    assert response.status_code == 200
    shown = response.context["cl"].result_list
    assert len(shown) == min(100, response.context["cl"].result_count)
    counts = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith("SELECT COUNT(") or '"__count"' in q["sql"]
    ]
    assert len(counts) == 1  # the filtered count the pages need, not also the whole table's
    assert "LIMIT" in counts[0]  # capped: see the tests below
    # The rows come without their study (the header read it) or contact details.
    (rows,) = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith('SELECT "recruitment_participant"."id"')
        and '"recruitment_participant"."screening_number"' in q["sql"]
        and "COUNT" not in q["sql"]
    ]
    assert '"recruitment_study".' not in rows.split(" FROM ")[0]
    assert '"recruitment_participant"."email"' not in rows


def test_only_the_page_drawn_reads_only_what_its_columns_show_the_actions_get_whole_rows(
    coord_client, ldn_study
):
    from recruitment.admin.queue import QUEUE_ROW_FIELDS

    participants_bulk(ldn_study, 3, status=Status.NEW)

    response = coord_client.get(reverse(CHANGELIST))

    cl = response.context["cl"]
    drawn = cl.result_list[0]
    loaded = {f.attname for f in Participant._meta.concrete_fields} - drawn.get_deferred_fields()
    listed = {Participant._meta.get_field(name.split("__")[0]).attname for name in QUEUE_ROW_FIELDS}
    assert loaded == listed
    assert {"study_id", "duplicate_of_id", "status", "created_at"} <= loaded
    assert drawn.study == ldn_study  # the header's, not a copy joined to each row
    assert "email" in drawn.get_deferred_fields() and "note" in drawn.get_deferred_fields()
    for_actions = cl.get_queryset(response.wsgi_request)
    assert [p.study.get_deferred_fields() for p in for_actions] == [set()] * 3
    assert [p.get_deferred_fields() for p in for_actions] == [set()] * 3


# The count stops at the cap (1,000; 3 here, with pages of 2): past it the queue says "more
# than", pages stop at the cap, and there is no "select all across pages".
@pytest.fixture
def small_cap(monkeypatch):
    from django.contrib import admin as django_admin

    from recruitment.admin.queue import CappedCountPaginator
    from recruitment.models import Participant

    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    monkeypatch.setattr(django_admin.site.get_model_admin(Participant), "list_per_page", 2)


def test_the_count_stops_after_the_cap_and_is_exact_below_it(ldn_study, small_cap):
    from recruitment.admin.queue import CappedCountPaginator
    from recruitment.models import Participant

    participants_bulk(ldn_study, 3, status=Status.NEW)
    exact = CappedCountPaginator(Participant.objects.order_by("pk"), 2)
    assert (exact.count, exact.capped, exact.num_pages) == (3, False, 2)

    participants_bulk(ldn_study, 5, status=Status.NEW)
    capped = CappedCountPaginator(Participant.objects.order_by("pk"), 2)
    assert (capped.count, capped.capped, capped.num_pages) == (4, True, 2)


def test_a_queue_longer_than_the_cap_says_more_than_and_offers_no_select_all(
    coord_client, ldn_study, small_cap
):
    participants_bulk(ldn_study, 8, status=Status.NEW)

    listed = coord_client.get(reverse(CHANGELIST))
    searched = coord_client.get(reverse(CHANGELIST), {"q": "LDN"})

    text = listed.content.decode()
    assert "More than 3 participants: search or filter to see the rest." in text
    assert "8 participants" not in text and "4 participants" not in text
    assert "Select all 4" not in text and "Select all 8" not in text
    assert "More than 3 results" in searched.content.decode()
    assert len(listed.context["cl"].result_list) == 2
    assert coord_client.get(reverse(CHANGELIST), {"p": "3"}).status_code == 302  # past the cap


def test_a_queue_within_the_cap_shows_its_count_and_select_all(coord_client, ldn_study, small_cap):
    participants_bulk(ldn_study, 3, status=Status.NEW)

    listed = coord_client.get(reverse(CHANGELIST))
    searched = coord_client.get(reverse(CHANGELIST), {"q": "LDN"})

    text = listed.content.decode()
    assert "3 participants" in text and "More than" not in text
    assert "Select all 3 participants" in text
    assert "3 results" in searched.content.decode()


# The queue's rows are drawn from a plan made once per page (recruitment/templatetags/
# queue_rows.py); they must be Django's own rows, byte for byte, for participants of every kind.
@pytest.mark.parametrize(
    "query",
    [
        {},
        {"status__exact": "new", "o": "-9"},
        {"q": "LDN", "o": "2.1"},
        {"duplicate": "pending"},
        {"_popup": "1", "_to_field": "id"},
    ],
)
def test_the_queue_rows_are_djangos_rows(
    coord_client, coordinator, ldn_study, query, django_assert_num_queries
):
    from django.contrib.admin.templatetags import admin_list

    from recruitment.templatetags.queue_rows import queue_result_list, queue_results

    first = submit(ldn_study)
    submit(ldn_study, email="ANN.LEE@example.com")  # a possible duplicate of the first
    for _ in range(3):
        screening.contact_attempt_record(
            participant=first,
            by=coordinator,
            method="phone",
            outcome="no_answer",
            follow_up_on=timezone.localdate(),
        )
    recent_dose = (timezone.localdate() - dt.timedelta(days=20)).isoformat()
    applicant(
        ldn_study,
        answers={**LDN_ELIGIBLE_ANSWERS, "opioids": {"taken": "yes", "last": recent_dose}},
    )  # a washout: eligible from a date
    walk(eligible_applicant(ldn_study), Status.ENROLLED, by=coordinator)
    walk(applicant(ldn_study), Status.DECLINED, by=coordinator)
    walk(
        applicant(ldn_study, answers={**LDN_ELIGIBLE_ANSWERS, "allergy": "yes"}),
        Status.INELIGIBLE,
        by=coordinator,
    )
    applicant(ldn_study, first_name='Ann <b>"&', last_name="O'Neil")  # escaped as Django does
    failing = walk(eligible_applicant(ldn_study), Status.ELIGIBLE, by=coordinator)
    Participant.objects.filter(pk=failing.pk).update(  # as new lab values leave it
        criteria_failed_at=timezone.now(), criteria_failed_by="lab values"
    )

    response = coord_client.get(reverse(CHANGELIST), query)

    assert response.status_code == 200
    cl = response.context["cl"]
    assert len(cl.result_list) >= 1
    body = response.content.decode()
    # Every column reads only what the page fetched: no query for rows fetched afresh (the
    # page's own rendering has filled in whatever its rows lacked).
    cl.get_results(response.wsgi_request)
    with django_assert_num_queries(0):
        ours = [list(row) for row in queue_results(cl)]
    assert "fails-criterion" in str(ours) or query
    assert "<b>" not in str(ours) and "O'Neil" not in str(ours)
    djangos = [list(row) for row in admin_list.results(cl)]
    assert ours == djangos
    assert all(isinstance(cell, SafeString) for row in ours for cell in row)
    with translation.override("es"):  # labels and days kept per language
        spanish = [list(row) for row in queue_results(cl)]
        assert spanish == [list(row) for row in admin_list.results(cl)]
    assert spanish != ours
    assert all(cell in body for row in ours for cell in row)  # the page draws these rows
    # The whole table as drawn (headers, hidden fields, rows written in one string) is
    # Django's table, and the page draws it.
    ours = render_to_string("admin/queue_results.html", queue_result_list(cl))
    assert ours == render_to_string("admin/change_list_results.html", admin_list.result_list(cl))
    assert ours.strip() in body


def test_the_row_plan_draws_other_changelists_as_django_does(admin_client, ldn_study):
    """Booleans, numbers and a link column of another model, through the same plan."""
    from django.contrib.admin.templatetags import admin_list

    from recruitment.templatetags.queue_rows import queue_results

    StudyFactory(is_recruiting=False, target_enrolment=5)

    cl = admin_client.get(reverse("admin:recruitment_study_changelist")).context["cl"]

    assert len(cl.result_list) == 2
    assert [list(r) for r in queue_results(cl)] == [list(r) for r in admin_list.results(cl)]


# ---------------------------------------------------------------------------------------------
# Bulk actions
# ---------------------------------------------------------------------------------------------
def run_action(client, action, participants, reason=""):
    return client.post(
        reverse(CHANGELIST),
        {
            "action": action,
            "_selected_action": [p.pk for p in participants],
            "reason": reason,
            "index": 0,
        },
    )


def setup_for(action, ldn_study, coordinator):
    """A participant each bulk action can move (and the status it moves them to)."""
    person = eligible_applicant(ldn_study)
    start, target = {
        "move_to_screening": (Status.NEW, Status.SCREENING),
        "mark_eligible": (Status.SCREENING, Status.ELIGIBLE),
        "mark_ineligible": (Status.SCREENING, Status.INELIGIBLE),
        "waitlist": (Status.ELIGIBLE, Status.WAITLISTED),
        "close_as_declined": (Status.NEW, Status.DECLINED),
        "withdraw": (Status.ENROLLED, Status.WITHDRAWN),
        "complete": (Status.ENROLLED, Status.COMPLETED),
        "enrol": (Status.CONSENTED, Status.ENROLLED),
    }[action]
    person = walk(person, start, by=coordinator)
    if action == "mark_eligible":
        screening.lab_values_record(participant=person, values=LDN_NORMAL_LABS, by=coordinator)
    if action == "waitlist":
        participants_bulk(ldn_study, 20, status=Status.ENROLLED)
    return person, target


ACTIONS = [
    "move_to_screening",
    "mark_eligible",
    "mark_ineligible",
    "waitlist",
    "close_as_declined",
    "withdraw",
    "complete",
    "enrol",
]


@pytest.mark.parametrize("action", ACTIONS)
def test_each_bulk_action_moves_the_selected_participants_through_the_service(
    coord_client, coordinator, ldn_study, action
):
    person, target = setup_for(action, ldn_study, coordinator)
    changes = StatusChange.objects.filter(participant=person).count()

    response = run_action(coord_client, action, [person], reason="Reviewed by the team")

    assert response.status_code == 302
    assert fresh(person).status == target
    assert StatusChange.objects.filter(participant=person).count() == changes + 1
    latest = StatusChange.objects.filter(participant=person).latest("at", "pk")
    assert (latest.to_status, latest.by) == (target, coordinator)
    assert message_texts(response, level=25) == [
        f"1 participant is now “{target.label}”: {person.screening_number}."
    ]


# A participant each action refuses, and why (a missing reason, the status machine, a gate),
# with what to do instead where there is something to do.
REFUSALS = {
    "move_to_screening": (Status.ELIGIBLE, "Move to screening: not possible from “Eligible”."),
    "mark_eligible": (Status.NEW, "Mark eligible: move to screening first."),
    "mark_ineligible": (Status.SCREENING, "Give a reason to mark"),
    "waitlist": (
        Status.ELIGIBLE,
        "Add to the waitlist: the study has a free slot; record consent and enroll instead.",
    ),
    "close_as_declined": (Status.NEW, "Give a reason to mark"),
    "withdraw": (Status.ENROLLED, "Give a reason to mark"),
    "complete": (Status.CONSENTED, "Complete: enroll first."),
    "enrol": (Status.ELIGIBLE, "Enroll: record informed consent first."),
}


@pytest.mark.parametrize("action", ACTIONS)
def test_each_bulk_action_reports_a_refusal_by_screening_number_and_changes_nothing(
    coord_client, coordinator, ldn_study, action
):
    start, expected = REFUSALS[action]
    person = walk(eligible_applicant(ldn_study), start, by=coordinator)
    changes = StatusChange.objects.count()

    response = run_action(coord_client, action, [person])

    assert response.status_code == 302
    errors = message_texts(response, level=40)
    assert len(errors) == 1
    assert person.screening_number in errors[0] and expected in errors[0]
    assert message_texts(response, level=25) == []
    assert fresh(person).status == start
    assert StatusChange.objects.count() == changes


def test_a_bulk_action_reports_each_refusal_and_the_successes_in_one_message(
    coord_client, coordinator, ldn_study
):
    people = [eligible_applicant(ldn_study) for _ in range(3)]
    done = walk(eligible_applicant(ldn_study), Status.SCREENING, by=coordinator)

    response = run_action(coord_client, "move_to_screening", [*people, done])

    assert message_texts(response, level=40) == [
        f"{done.screening_number}: Move to screening: already “Screening”."
    ]
    numbers = ", ".join(p.screening_number for p in people)
    assert message_texts(response, level=25) == [f"3 participants are now “Screening”: {numbers}."]
    assert {fresh(p).status for p in people} == {Status.SCREENING}


def test_bulk_enrolment_follows_the_waitlist_order(coord_client, coordinator, ldn_study):
    people = [walk(eligible_applicant(ldn_study), Status.CONSENTED, by=coordinator) for _ in "ab"]

    response = run_action(coord_client, "enrol", list(reversed(people)))

    assert message_texts(response, level=40) == []
    assert [fresh(p).participant_id for p in people] == ["LDN-001", "LDN-002"]


def test_a_monitor_has_no_bulk_actions_and_cannot_run_one(client, monitor, ldn_study):
    person = submit(ldn_study)
    client.force_login(monitor)

    listing = client.get(reverse(CHANGELIST))
    response = run_action(client, "move_to_screening", [person])

    assert 'name="action"' not in listing.content.decode()
    assert fresh(person).status == Status.NEW
    assert response.status_code == 200  # the plain list again: the action does not exist for them


# ---------------------------------------------------------------------------------------------
# The participant page
# ---------------------------------------------------------------------------------------------
def test_a_coordinator_sees_the_evaluation_explained_for_every_criterion(coord_client, ldn_study):
    participant = submit(ldn_study, answers={**LDN_ELIGIBLE_ANSWERS, "pregnancy": "yes"})

    response = coord_client.get(change_url(participant))

    html = response.content.decode()
    assert response.status_code == 200
    assert "LDN-S-0001" in html
    assert "Likely ineligible" in html
    for verdict in participant.verdicts.all():
        assert (
            verdict.criterion_snapshot["title"] in html
            or verdict.criterion_snapshot["title"].replace("'", "&#x27;") in html
        )
        assert verdict.reason in html
    assert "Answered yes; needs no." in html
    assert "answered by the patient" in html
    assert "Assessed by staff at screening; not yet entered." in html


def test_a_coordinator_sees_contact_details_the_logs_and_the_workflow_buttons(
    coord_client, coordinator, ldn_study
):
    participant = walk(
        eligible_applicant(ldn_study, last_name="Lee"), Status.SCREENING, by=coordinator
    )
    screening.contact_attempt_record(
        participant=participant,
        by=coordinator,
        method="phone",
        outcome="call_back",
        note="Call after 3pm",
    )

    html = coord_client.get(change_url(participant)).content.decode()

    assert 'name="first_name"' in html and participant.email in html
    assert "Reason for change" in html
    assert "Status history" in html and "Contact log" in html and "Informed consent" in html
    assert "Call after 3pm" in html and "Asked to call back" in html
    for label, name in [
        ("Log a contact attempt", "contact"),
        ("Change status", "status"),
        ("Record lab values", "lab_values"),
    ]:
        assert f'<a href="{page_url(name, participant)}">{label}</a>' in html
    assert page_url("enrol", participant) not in html  # not consented yet
    assert page_url("duplicate_confirm", participant) not in html


def test_a_coordinator_edits_contact_details_with_a_reason_through_the_service(
    coord_client, coordinator, ldn_study
):
    participant = submit(ldn_study)
    page = coord_client.get(change_url(participant))

    response = coord_client.post(
        change_url(participant),
        form_data(
            page,
            first_name="Anne",
            phone="(205) 555-0199",
            change_reason="Patient corrected the spelling on the phone",
        ),
    )

    assert response.status_code == 302
    participant = fresh(participant)
    assert participant.first_name == "Anne"
    assert participant.phone == "+12055550199"  # stored in E.164
    assert participant.phone_normalised == "2055550199"
    assert participant.name_normalised == "anne lee"
    record = participant.history.latest()
    assert record.history_user == coordinator
    assert record.history_change_reason == "Patient corrected the spelling on the phone"
    assert record.prev_record.first_name == "Ann"
    entry = LogEntry.objects.get()
    assert entry.object_repr == "LDN-S-0001"
    for name in ("Ann", "Anne", "Lee", "555"):
        assert name not in entry.change_message


def test_an_edit_without_a_reason_is_refused_with_a_form_error(coord_client, ldn_study):
    participant = submit(ldn_study)
    versions = participant.history.count()
    page = coord_client.get(change_url(participant))

    response = coord_client.post(change_url(participant), form_data(page, first_name="Anne"))

    assert response.status_code == 200
    assert str(screening.EDIT_NEEDS_REASON) in response.content.decode()
    assert fresh(participant).first_name == "Ann"
    assert participant.history.count() == versions
    assert not LogEntry.objects.exists()


def test_an_edit_with_a_bad_phone_number_is_refused_with_a_form_error(coord_client, ldn_study):
    participant = submit(ldn_study)
    page = coord_client.get(change_url(participant))

    response = coord_client.post(
        change_url(participant), form_data(page, phone="12345", change_reason="typo")
    )

    assert response.status_code == 200
    assert "Enter a US phone number" in response.content.decode()
    assert fresh(participant).phone == "+12055550134"


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"date_of_birth": "2999-01-01"}, "date_of_birth", "cannot be in the future"),
        ({"zip_code": "00000"}, "zip_code", "not in the ZIP database"),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
    ],
    ids=["future birth date", "unknown ZIP code", "bad email"],
)
def test_an_edit_with_an_impossible_value_is_refused_with_a_form_error(
    coord_client, ldn_study, change, field, message
):
    participant = submit(ldn_study)
    versions = participant.history.count()
    page = coord_client.get(change_url(participant))

    response = coord_client.post(
        change_url(participant), form_data(page, change_reason="Typo", **change)
    )

    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors[field])
    assert participant.history.count() == versions


def test_a_new_zip_code_re_runs_the_pre_screen(coord_client, ldn_study):
    participant = submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)
    page = coord_client.get(change_url(participant))

    coord_client.post(
        change_url(participant),
        form_data(page, zip_code="10001", change_reason="Moved to New York"),
    )

    participant = fresh(participant)
    assert participant.zip_code == "10001"
    assert participant.outcome == "likely_ineligible"
    assert participant.verdicts.get(criterion__code="lives-nearby").verdict == "not_met"


def test_a_refusal_from_the_service_while_saving_is_shown_and_undoes_the_edit(
    coord_client, ldn_study, monkeypatch
):
    participant = submit(ldn_study)
    page = coord_client.get(change_url(participant))

    def refuse(**kwargs):
        raise RecruitmentError("Someone else changed this record; try again.")

    monkeypatch.setattr("recruitment.screening.services.participant_update", refuse)
    response = coord_client.post(
        change_url(participant),
        form_data(page, first_name="Anne", change_reason="Spelling"),
        follow=True,
    )

    assert response.status_code == 200
    assert message_texts(response) == ["Someone else changed this record; try again."]
    assert fresh(participant).first_name == "Ann"
    assert not LogEntry.objects.exists()


def test_saving_without_a_change_writes_no_history(coord_client, ldn_study):
    participant = submit(ldn_study)
    versions = participant.history.count()
    page = coord_client.get(change_url(participant))

    response = coord_client.post(change_url(participant), form_data(page))

    assert response.status_code == 302
    assert participant.history.count() == versions


def test_status_and_workflow_fields_cannot_be_posted_on_the_change_page(coord_client, ldn_study):
    participant = submit(ldn_study)
    page = coord_client.get(change_url(participant))

    coord_client.post(
        change_url(participant),
        form_data(
            page,
            status="enrolled",
            participant_id="LDN-001",
            outcome="all_met",
            screening_number="LDN-S-0999",
            change_reason="trying",
        ),
    )

    participant = fresh(participant)
    assert (participant.status, participant.participant_id) == (Status.NEW, None)
    assert participant.screening_number == "LDN-S-0001"
    assert participant.outcome != "all_met"


def test_a_monitor_sees_the_de_identified_record_only(client, monitor, coordinator, ldn_study):
    participant = walk(
        submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS, note="I live on Oak Street"),
        Status.SCREENING,
        by=coordinator,
    )
    screening.contact_attempt_record(
        participant=participant,
        by=coordinator,
        method="phone",
        outcome="reached",
        note="Spoke with her husband Jim",
    )
    client.force_login(monitor)

    response = client.get(change_url(participant))

    html = without_random_tokens(response.content.decode())
    assert response.status_code == 200
    assert "LDN-S-0001" in html and "Screening" in html and "Likely eligible" in html
    assert "Answered yes." in html  # the verdicts are there
    for detail in ("Lee", "ann.lee", "555-0134", "35203", "1980", "Oak Street", "Jim"):
        assert detail not in html, detail
    assert 'name="_save"' not in html
    assert "Change status" not in html and "Log a contact attempt" not in html


def test_a_monitor_cannot_change_a_participant(client, monitor, coordinator, ldn_study):
    participant = submit(ldn_study)
    client.force_login(coordinator)
    page = client.get(change_url(participant))
    client.force_login(monitor)

    response = client.post(
        change_url(participant), form_data(page, first_name="Mallory", change_reason="x")
    )

    assert response.status_code == 403
    assert fresh(participant).first_name == "Ann"


def test_nobody_deletes_participants_and_adding_one_is_the_interest_form(admin_client, ldn_study):
    participant = submit(ldn_study)

    delete = admin_client.post(page_url("delete", participant), {"post": "yes"})
    add = admin_client.get(reverse("admin:recruitment_participant_add"))

    assert delete.status_code == 403
    # No model form: the staff entry page posts the interest form to the submission service.
    assert add.status_code == 200
    assert 'id="staff-entry-form"' in add.content.decode()
    assert Participant.objects.filter(pk=participant.pk).exists()


@pytest.mark.parametrize(
    "inline", [VerdictInline, StatusChangeInline, ContactAttemptInline, ConsentInline]
)
def test_nobody_changes_or_deletes_verdicts_status_changes_contacts_or_consent_rows(
    inline, admin_user
):
    request = RequestFactory().get("/")
    request.user = admin_user  # a superuser
    instance = inline(Participant, django_admin.site)

    assert not instance.has_add_permission(request, None)
    assert not instance.has_change_permission(request, None)
    assert not instance.has_delete_permission(request, None)


def test_a_superuser_cannot_delete_audit_rows_through_the_change_page(
    admin_client, coordinator, ldn_study
):
    participant = walk(submit(ldn_study), Status.SCREENING, by=coordinator)
    screening.contact_attempt_record(
        participant=participant, by=coordinator, method="phone", outcome="reached"
    )
    page = admin_client.get(change_url(participant))
    html = page.content.decode()
    data = form_data(page)
    for prefix in ("status_changes", "contact_attempts", "verdicts"):
        data[f"{prefix}-0-DELETE"] = "on"
        data[f"{prefix}-0-reason"] = "tampered"

    admin_client.post(change_url(participant), data)

    assert "-DELETE" not in html
    assert StatusChange.objects.filter(participant=participant).count() == 1
    assert StatusChange.objects.get(participant=participant).reason == ""
    assert ContactAttempt.objects.filter(participant=participant).count() == 1
    assert CriterionVerdict.objects.filter(participant=participant).count() > 0


def test_audit_models_have_no_admin_pages_of_their_own():
    for model in (StatusChange, CriterionVerdict, ContactAttempt, ConsentRecord, Answer):
        assert not django_admin.site.is_registered(model)
    for model in (Participant.history.model, Answer.history.model, ConsentRecord.history.model):
        assert not django_admin.site.is_registered(model)
    with pytest.raises(NoReverseMatch):
        reverse("admin:recruitment_historicalparticipant_changelist")


# ---------------------------------------------------------------------------------------------
# The audit trail
# ---------------------------------------------------------------------------------------------
def test_the_history_page_shows_who_when_old_new_and_why(coord_client, coordinator, ldn_study):
    participant = submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)
    screening.participant_update(
        participant=participant,
        data={"first_name": "Anne"},
        by=coordinator,
        reason="Spelling corrected",
    )
    walk(participant, Status.SCREENING, by=coordinator)
    screening.lab_values_record(
        participant=fresh(participant),
        values={"hs-crp": 1.2},
        by=coordinator,
        reason="Lab report of 3 March",
    )
    screening.participant_transition(
        participant=fresh(participant), to=Status.INELIGIBLE, by=coordinator, reason="Moved away"
    )

    response = coord_client.get(page_url("history", participant))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Spelling corrected" in html
    assert "Ann&nbsp;&rarr;&nbsp;&nbsp;Anne" in html
    assert "New&nbsp;&rarr;&nbsp;&nbsp;Screening" in html
    assert "Moved away" in html
    assert "Lab report of 3 March" in html and "hs-CRP under 3 mg/L" in html
    assert "coord" in html
    assert not re.search(rf"/participant/{participant.pk}/history/\d+/", html)  # no version forms


def test_a_monitor_s_history_page_hides_identifying_values(client, monitor, coordinator, ldn_study):
    participant = submit(ldn_study)
    screening.participant_update(
        participant=participant,
        data={"first_name": "Anne", "email": "anne.lee@example.com", "zip_code": "35209"},
        by=coordinator,
        reason="Updated on the phone",
    )
    walk(participant, Status.SCREENING, by=coordinator)
    client.force_login(monitor)

    response = client.get(page_url("history", participant))

    html = without_random_tokens(response.content.decode())
    assert response.status_code == 200
    # The reason staff wrote may quote the person: the monitor reads only that there is one.
    assert "Updated on the phone" not in html
    assert "reason recorded, hidden" in html
    assert "New&nbsp;&rarr;&nbsp;&nbsp;Screening" in html
    for detail in ("Ann", "ann.lee", "anne.lee", "35203", "35209"):
        assert detail not in html, detail


def test_history_versions_cannot_be_opened_as_forms_or_reverted(admin_client, ldn_study):
    participant = submit(ldn_study)
    version = participant.history.earliest()
    url = reverse("admin:recruitment_participant_simple_history", args=[participant.pk, version.pk])

    get = admin_client.get(url)
    post = admin_client.post(url, {"first_name": "Mallory", "_change_history": "1"})

    assert get.status_code == 302 and get["Location"] == page_url("history", participant)
    assert post.status_code == 403
    assert fresh(participant).first_name == "Ann"


# ---------------------------------------------------------------------------------------------
# Workflow pages
# ---------------------------------------------------------------------------------------------
def test_change_status_offers_only_the_moves_the_status_machine_allows(coord_client, ldn_study):
    participant = submit(ldn_study)

    response = coord_client.get(page_url("status", participant))

    choices = [value for value, _label in response.context["form"].fields["to"].choices]
    assert choices == ["", "screening", "declined"]


def test_change_status_moves_the_participant_and_redirects_to_it(
    coord_client, coordinator, ldn_study
):
    participant = submit(ldn_study)

    response = coord_client.post(page_url("status", participant), {"to": "screening"})

    assert response.status_code == 302 and response["Location"] == change_url(participant)
    assert fresh(participant).status == Status.SCREENING
    change = StatusChange.objects.get(participant=participant)
    assert (change.from_status, change.to_status, change.by) == ("new", "screening", coordinator)
    assert message_texts(response) == ["LDN-S-0001 is now “Screening”."]


def test_change_status_refuses_a_missing_reason_with_a_form_error(
    coord_client, coordinator, ldn_study
):
    participant = walk(submit(ldn_study), Status.SCREENING, by=coordinator)

    response = coord_client.post(page_url("status", participant), {"to": "ineligible"})

    assert response.status_code == 200
    assert "Give a reason to mark LDN-S-0001 as “Ineligible”." in response.content.decode()
    assert fresh(participant).status == Status.SCREENING
    assert StatusChange.objects.filter(participant=participant).count() == 1


def test_change_status_refuses_a_move_the_machine_does_not_allow(coord_client, ldn_study):
    participant = submit(ldn_study)

    response = coord_client.post(page_url("status", participant), {"to": "enrolled"})

    assert response.status_code == 200
    assert response.context["form"].errors["to"]
    assert fresh(participant).status == Status.NEW


def test_record_consent_moves_an_eligible_participant_to_consented(
    coord_client, coordinator, ldn_study
):
    participant = walk(submit(ldn_study), Status.ELIGIBLE, by=coordinator)
    page = coord_client.get(page_url("consent", participant))

    response = coord_client.post(
        page_url("consent", participant),
        {
            "consented_on": timezone.localdate().isoformat(),
            "form_version": "ICF v2.0",
            "obtained_by": coordinator.pk,
        },
    )

    assert page.context["form"].fields["obtained_by"].initial == coordinator.pk
    assert response.status_code == 302
    assert fresh(participant).status == Status.CONSENTED
    consent = ConsentRecord.objects.get(participant=participant)
    assert (consent.form_version, consent.obtained_by, consent.recorded_by) == (
        "ICF v2.0",
        coordinator,
        coordinator,
    )


def test_record_consent_refuses_a_date_in_the_future(coord_client, coordinator, ldn_study):
    participant = walk(submit(ldn_study), Status.ELIGIBLE, by=coordinator)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)

    response = coord_client.post(
        page_url("consent", participant),
        {"consented_on": tomorrow.isoformat(), "form_version": "v2", "obtained_by": coordinator.pk},
    )

    assert response.status_code == 200
    assert str(screening.CONSENT_IN_FUTURE) in response.content.decode()
    assert fresh(participant).status == Status.ELIGIBLE
    assert not ConsentRecord.objects.exists()


def test_record_consent_refuses_a_participant_not_yet_eligible(
    coord_client, coordinator, ldn_study
):
    participant = submit(ldn_study)

    response = coord_client.post(
        page_url("consent", participant),
        {
            "consented_on": timezone.localdate().isoformat(),
            "form_version": "v2",
            "obtained_by": coordinator.pk,
        },
    )

    assert response.status_code == 200
    assert str(screening.CONSENT_STATUS) in response.content.decode()
    assert not ConsentRecord.objects.exists()


def test_consent_is_obtained_by_a_staff_member_of_the_study_only(
    coord_client, coordinator, ldn_study
):
    participant = walk(submit(ldn_study), Status.ELIGIBLE, by=coordinator)
    stranger = staff("stranger", roles.COORDINATOR, StudyFactory())

    response = coord_client.post(
        page_url("consent", participant),
        {
            "consented_on": timezone.localdate().isoformat(),
            "form_version": "v2",
            "obtained_by": stranger.pk,
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["obtained_by"]
    assert not ConsentRecord.objects.exists()


def test_enrol_assigns_the_participant_id_shown_on_the_page(coord_client, coordinator, ldn_study):
    participant = walk(submit(ldn_study), Status.CONSENTED, by=coordinator)

    response = coord_client.post(page_url("enrol", participant), {"reason": ""}, follow=True)

    assert fresh(participant).participant_id == "LDN-001"
    html = response.content.decode()
    assert "LDN-S-0001 is enrolled as LDN-001." in html
    assert "LDN-001" in html


def test_enrol_refuses_when_the_study_is_full(coord_client, coordinator, ldn_study):
    participant = walk(submit(ldn_study), Status.CONSENTED, by=coordinator)
    participants_bulk(ldn_study, 20, status=Status.ENROLLED)

    response = coord_client.post(page_url("enrol", participant), {"reason": ""})

    assert response.status_code == 200
    assert "The study is full (20 of 20 slots taken)" in response.content.decode()
    assert fresh(participant).status == Status.CONSENTED


def test_enrolling_out_of_waitlist_order_needs_a_reason(coord_client, coordinator, ldn_study):
    (waiting,) = participants_bulk(ldn_study, 1, status=Status.WAITLISTED)
    participant = walk(eligible_applicant(ldn_study), Status.CONSENTED, by=coordinator)

    page = coord_client.get(page_url("enrol", participant))
    refused = coord_client.post(page_url("enrol", participant), {"reason": ""})
    assert "Next on the waitlist: " + waiting.screening_number in page.content.decode()
    assert refused.status_code == 200
    assert f"{waiting.screening_number} is first on the waitlist" in refused.content.decode()
    assert fresh(participant).status == Status.CONSENTED

    accepted = coord_client.post(
        page_url("enrol", participant), {"reason": "The first on the list moved away"}
    )

    assert accepted.status_code == 302
    assert fresh(participant).status == Status.ENROLLED


def test_the_lab_values_form_has_one_field_per_staff_assessed_criterion(
    coord_client, coordinator, ldn_study
):
    participant = walk(submit(ldn_study), Status.SCREENING, by=coordinator)

    response = coord_client.get(page_url("lab_values", participant))

    form = response.context["form"]
    assert list(form.fields) == ["hs-crp", "esr", "rf", "ana", "thyroid", "reason"]
    assert form.fields["hs-crp"].label == "hs-CRP under 3 mg/L (value in mg/L)"
    assert form.fields["esr"].label == "ESR not above 60 mm/h (value in mm/h)"
    assert [v for v, _ in form.fields["rf"].choices] == ["", "negative", "positive"]
    assert [v for v, _ in form.fields["thyroid"].choices] == ["", "in_range", "out_of_range"]


def test_recording_lab_values_re_runs_the_evaluation_as_staff_verified(
    coord_client, coordinator, ldn_study
):
    participant = walk(eligible_applicant(ldn_study), Status.SCREENING, by=coordinator)

    response = coord_client.post(
        page_url("lab_values", participant), {**NORMAL_LABS_ALL, "reason": "Lab report 12"}
    )

    assert response.status_code == 302
    assert fresh(participant).outcome == "all_met"
    crp = Answer.objects.get(participant=participant, criterion__code="hs-crp")
    assert (crp.value, crp.answered_by, crp.recorded_by) == (1.2, "staff", coordinator)
    assert Answer.objects.get(participant=participant, criterion__code="esr").value == 12
    verdict = participant.verdicts.get(criterion__code="hs-crp")
    assert (verdict.verdict, verdict.provenance) == ("met", "staff_verified")
    assert message_texts(response) == [
        "Values saved for LDN-S-0001. Pre-screen outcome: All criteria met."
    ]
    page = coord_client.get(page_url("lab_values", participant)).content.decode()
    assert "hs-CRP under 3 mg/L 1.2 mg/L; needs under 3 mg/L." in page


def test_resending_the_same_lab_values_changes_nothing(coord_client, coordinator, ldn_study):
    participant = walk(eligible_applicant(ldn_study), Status.SCREENING, by=coordinator)
    coord_client.post(page_url("lab_values", participant), NORMAL_LABS_ALL)
    versions = participant.history.count()

    again = coord_client.post(page_url("lab_values", participant), NORMAL_LABS_ALL)

    assert again.status_code == 200
    assert "Enter or change at least one value." in again.content.decode()
    assert participant.history.count() == versions


def test_a_lab_value_out_of_range_is_shown_as_not_met(coord_client, coordinator, ldn_study):
    participant = walk(eligible_applicant(ldn_study), Status.SCREENING, by=coordinator)

    coord_client.post(page_url("lab_values", participant), {**NORMAL_LABS_ALL, "hs-crp": "4.5"})

    assert fresh(participant).outcome == "likely_ineligible"
    assert participant.verdicts.get(criterion__code="hs-crp").verdict == "not_met"


def test_the_lab_values_form_refuses_no_change_and_bad_numbers(
    coord_client, coordinator, ldn_study
):
    participant = walk(eligible_applicant(ldn_study), Status.SCREENING, by=coordinator)
    versions = participant.history.count()

    empty = coord_client.post(page_url("lab_values", participant), {"reason": ""})
    bad = coord_client.post(page_url("lab_values", participant), {"hs-crp": "high"})

    assert empty.status_code == 200
    assert "Enter or change at least one value." in empty.content.decode()
    assert bad.status_code == 200 and bad.context["form"].errors["hs-crp"]
    assert not Answer.objects.filter(participant=participant, answered_by="staff").exists()
    assert participant.history.count() == versions


def test_log_a_contact_attempt_adds_to_the_log_and_sets_the_follow_up(
    coord_client, coordinator, ldn_study
):
    participant = submit(ldn_study)
    at = timezone.localtime().replace(second=0, microsecond=0) - dt.timedelta(hours=1)
    follow_up = timezone.localdate() + dt.timedelta(days=2)

    response = coord_client.post(
        page_url("contact", participant),
        {
            "at": at.strftime("%Y-%m-%dT%H:%M"),
            "method": "phone",
            "outcome": "voicemail",
            "note": "Left a message",
            "follow_up_on": follow_up.isoformat(),
        },
    )

    assert response.status_code == 302
    attempt = ContactAttempt.objects.get(participant=participant)
    assert (attempt.by, attempt.at, attempt.outcome) == (coordinator, at, "voicemail")
    participant = fresh(participant)
    assert (participant.unanswered_attempts, participant.next_follow_up_on) == (1, follow_up)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"follow_up_on": "2020-01-01"}, screening.FOLLOW_UP_BEFORE_ATTEMPT),
        ({"at": "2999-01-01T10:00"}, screening.CONTACT_IN_FUTURE),
    ],
    ids=["follow-up before the attempt", "attempt in the future"],
)
def test_log_a_contact_attempt_refuses_impossible_dates(coord_client, ldn_study, change, message):
    participant = submit(ldn_study)
    data = {
        "at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "method": "phone",
        "outcome": "reached",
        **change,
    }

    response = coord_client.post(page_url("contact", participant), data)

    assert response.status_code == 200
    assert str(message) in response.content.decode()
    assert not ContactAttempt.objects.exists()


def test_a_possible_duplicate_links_to_its_match_and_can_be_confirmed(
    coord_client, coordinator, ldn_study
):
    first = submit(ldn_study)
    second = submit(ldn_study, email="ANN.LEE@example.com")

    change_page = coord_client.get(change_url(second)).content.decode()
    page = coord_client.get(page_url("duplicate_confirm", second)).content.decode()
    response = coord_client.post(page_url("duplicate_confirm", second))

    assert page_url("duplicate_confirm", second) in change_page
    assert f'<a href="{change_url(first)}">LDN-S-0001</a>' in page
    assert response.status_code == 302
    second = fresh(second)
    assert (second.status, second.duplicate_review) == (Status.DECLINED, "confirmed")
    assert StatusChange.objects.get(participant=second).reason == "duplicate"


def test_a_possible_duplicate_can_be_dismissed(coord_client, ldn_study):
    submit(ldn_study)
    second = submit(ldn_study, email="ANN.LEE@example.com", first_name="Annabel")

    response = coord_client.post(
        page_url("duplicate_dismiss", second), {"reason": "Her sister, same email"}
    )

    assert response.status_code == 302
    second = fresh(second)
    assert (second.status, second.duplicate_review) == (Status.NEW, DuplicateReview.DISMISSED)
    assert second.history.latest().history_change_reason == (
        "Duplicate dismissed: Her sister, same email"
    )


@pytest.mark.parametrize("name", ["duplicate_confirm", "duplicate_dismiss"])
def test_duplicate_reviews_refuse_a_participant_who_is_not_a_possible_duplicate(
    coord_client, ldn_study, name
):
    participant = submit(ldn_study)

    response = coord_client.post(page_url(name, participant), {"reason": ""})

    assert response.status_code == 200
    assert "LDN-S-0001 is not marked as a possible duplicate." in response.content.decode()
    assert fresh(participant).status == Status.NEW


# Queries per workflow page (session, user, permissions, the participant, the form's reads).
# The contact page shows the call card (its verdicts and the study's criteria for the staff
# checks not entered, overrides, latest attempts and the person's other applications in the
# user's studies); the
# consent and enroll pages (and the participant's) read whether a possible duplicate is
# unreviewed: one query.
WORKFLOW_PAGE_QUERIES = {
    "status": 5,
    "contact": 10,
    "enrol": 7,
    "consent": 8,
    "lab_values": 9,
    "verify": 9,
    "note": 9,
}
WORKFLOW_PAGES = [
    "status",
    "consent",
    "enrol",
    "lab_values",
    "contact",
    "duplicate_confirm",
    "duplicate_dismiss",
    "rule_out",
    "verify",
    "note",
]


@pytest.mark.parametrize("name", WORKFLOW_PAGES)
def test_every_workflow_page_answers_a_get(coord_client, ldn_study, name):
    submit(ldn_study)
    participant = submit(ldn_study, email="ANN.LEE@example.com")

    response = coord_client.get(page_url(name, participant))

    assert response.status_code == 200
    assert "LDN-S-0002" in response.content.decode()


@pytest.mark.parametrize("name", WORKFLOW_PAGES)
def test_a_monitor_cannot_open_or_post_any_workflow_page(client, monitor, ldn_study, name):
    participant = submit(ldn_study, email="ANN.LEE@example.com")
    client.force_login(monitor)

    get = client.get(page_url(name, participant))
    post = client.post(page_url(name, participant), {"to": "declined", "reason": "x"})

    assert (get.status_code, post.status_code) == (403, 403)
    assert fresh(participant).status == Status.NEW


# ---------------------------------------------------------------------------------------------
# Scope: a coordinator of study A never reads or changes a participant of study B
# ---------------------------------------------------------------------------------------------
def every_participant_url(participant) -> list[str]:
    version = participant.history.latest()
    return [
        *(page_url(name, participant) for name in ["change", "history", "delete"]),
        *(page_url(name, participant) for name in WORKFLOW_PAGES),
        reverse("admin:recruitment_participant_simple_history", args=[participant.pk, version.pk]),
        f"{reverse(CHANGELIST)}{participant.pk}/",
        # The admin's autocomplete searches a model through its ModelAdmin's queryset.
        reverse("admin:autocomplete")
        + "?app_label=recruitment&model_name=participant&field_name=duplicate_of&term=LDN",
    ]


def test_a_coordinator_of_another_study_cannot_reach_a_participant_through_any_admin_url(
    client, coordinator, ldn_study
):
    participant = walk(
        submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS), Status.ELIGIBLE, by=coordinator
    )
    submit(ldn_study, email="ANN.LEE@example.com")  # a possible duplicate of it
    before = (fresh(participant).updated_at, Participant.history.count())
    outsider = staff("outsider", roles.COORDINATOR, StudyFactory())
    client.force_login(outsider)
    today = timezone.localdate().isoformat()
    attempt = {
        "to": "consented",
        "reason": "mine now",
        "change_reason": "mine now",
        "first_name": "Mallory",
        "consented_on": today,
        "form_version": "v9",
        "obtained_by": outsider.pk,
        "at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "method": "phone",
        "outcome": "reached",
        "hs-crp": "9",
        "post": "yes",
    }

    for url in every_participant_url(participant):
        for response in (client.get(url, follow=True), client.post(url, attempt, follow=True)):
            html = response.content.decode()
            assert response.status_code in (200, 403, 405), url
            assert "LDN-S-0001" not in html, url
            assert "ann.lee@example.com" not in html, url
            if response.redirect_chain:
                assert response.redirect_chain[-1][0] == reverse("admin:index"), url

    listing = client.get(reverse(CHANGELIST), {"q": "LDN-S-0001"})
    client.post(
        reverse(CHANGELIST),
        {"action": "close_as_declined", "_selected_action": [participant.pk], "reason": "x"},
    )
    assert list(listing.context["cl"].result_list) == []
    assert (fresh(participant).updated_at, Participant.history.count()) == before
    assert fresh(participant).status == Status.ELIGIBLE
    assert fresh(participant).first_name == "Ann"
    assert not ContactAttempt.objects.exists()
    assert not ConsentRecord.objects.exists()
    # The lab values the coordinator entered on the way to eligible, and no more.
    assert Answer.objects.filter(answered_by="staff").count() == len(LDN_NORMAL_LABS)
    assert StatusChange.objects.count() == 2


def test_anonymous_and_non_staff_users_are_sent_to_the_login(client, ldn_study):
    participant = submit(ldn_study)
    urls = [change_url(participant), page_url("status", participant)]

    for user in (None, UserFactory()):
        if user is not None:
            client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("admin:login"))


# ---------------------------------------------------------------------------------------------
# Query counts
# ---------------------------------------------------------------------------------------------
def participant_with_a_long_record(study, coordinator, rows):
    """A participant with `rows` contact attempts, `rows` staff notes, a verified answer and
    well over `rows` history rows."""
    participant = walk(eligible_applicant(study), Status.SCREENING, by=coordinator)
    for n in range(rows):
        screening.contact_attempt_record(
            participant=participant,
            by=coordinator,
            method="phone",
            outcome="no_answer" if n % 2 else "reached",
            note=f"Attempt {n}",
            follow_up_on=timezone.localdate(),
        )
        staff_note_add(participant=participant, text=f"Staff note {n}", by=coordinator)
    answer_verify(
        participant=fresh(participant), answers={"can-attend": "yes"}, how="phone", by=coordinator
    )
    labs = {"hs-crp": 1.2, "esr": 12, "rf": "negative", "ana": "negative", "thyroid": "in_range"}
    screening.lab_values_record(participant=fresh(participant), values=labs, by=coordinator)
    screening.participant_transition(
        participant=fresh(participant), to=Status.ELIGIBLE, by=coordinator
    )
    screening.consent_record(
        participant=fresh(participant),
        consented_on=timezone.localdate(),
        form_version="v2",
        obtained_by=coordinator,
        by=coordinator,
    )
    return fresh(participant)


@pytest.mark.parametrize("rows", [3, 30])
def test_the_participant_page_runs_a_fixed_number_of_queries(
    coord_client, coordinator, ldn_study, rows, django_assert_max_num_queries
):
    participant = participant_with_a_long_record(ldn_study, coordinator, rows)
    assert participant.history.count() > rows
    coord_client.get(change_url(participant))  # a worker's first request fills Django's caches

    # 11 for the page and its inlines (the verdicts' with the study's criteria, for the staff
    # checks not entered), 8 for the call card (its verdicts and the study's criteria,
    # overrides, latest attempts, the study's staff criteria, the gates its steps ask, and the
    # person's other applications), 2 for the staff notes and the count of "not sure" answers
    # for "Verify answers", 1 for an unreviewed duplicate, 1 for whether the allocation list
    # has strata ("Set the stratum", before enrollment), 1 for whether texts to the number
    # are stopped.
    with django_assert_max_num_queries(24):
        response = coord_client.get(change_url(participant))

    assert response.status_code == 200
    assert response.content.decode().count("Attempt ") >= rows
    assert response.content.decode().count("Staff note ") == rows


@pytest.mark.parametrize("rows", [3, 30])
def test_the_history_page_runs_a_fixed_number_of_queries(
    coord_client, coordinator, ldn_study, rows, django_assert_max_num_queries
):
    participant = participant_with_a_long_record(ldn_study, coordinator, rows)
    coord_client.get(page_url("history", participant))  # fills Django's content-type cache

    # 12: with the staff notes.
    with django_assert_max_num_queries(12):
        response = coord_client.get(page_url("history", participant))

    assert response.status_code == 200
    assert response.content.decode().count("Contact attempt: ") == rows
    assert response.content.decode().count("Staff note ") == rows
    assert "Verified by staff: Asked on the phone" in response.content.decode()


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize("name", WORKFLOW_PAGE_QUERIES)
def test_each_workflow_page_runs_a_fixed_number_of_queries(
    coord_client, coordinator, ldn_study, rows, name, django_assert_max_num_queries
):
    participant = participant_with_a_long_record(ldn_study, coordinator, rows)
    coord_client.get(page_url(name, participant))  # fills Django's content-type cache

    with django_assert_max_num_queries(WORKFLOW_PAGE_QUERIES[name]):
        response = coord_client.get(page_url(name, participant))

    assert response.status_code == 200


# ---------------------------------------------------------------------------------------------
# Studies
# ---------------------------------------------------------------------------------------------
def study_url(study):
    return reverse("admin:recruitment_study_change", args=[study.pk])


def test_coordinators_and_monitors_cannot_change_a_study(client, coordinator, monitor, ldn_study):
    for user in (coordinator, monitor):
        client.force_login(user)
        response = client.post(study_url(ldn_study), {"title": "Changed"})
        assert response.status_code == 403
    assert Study.objects.get(pk=ldn_study.pk).title != "Changed"


@pytest.mark.parametrize("editor", ["investigator", "superuser"])
def test_an_edit_of_a_criterion_in_the_admin_makes_a_new_version(
    client, investigator, admin_user, ldn_study, editor
):
    client.force_login(investigator if editor == "investigator" else admin_user)
    page = client.get(study_url(ldn_study))
    inline = page.context["inline_admin_formsets"][0].formset
    age = next(i for i, f in enumerate(inline.forms) if f.instance.code == "age")

    response = client.post(
        study_url(ldn_study),
        form_data(page, **{f"{inline.prefix}-{age}-params": '{"min": 18, "max": 70}'}),
    )

    assert response.status_code == 302, response.context["errors"] if response.context else ""
    age = EligibilityCriterion.objects.get(study=ldn_study, code="age")
    assert age.params == {"min": 18, "max": 70}
    assert age.version == 2
    assert EligibilityCriterion.objects.get(study=ldn_study, code="liver").version == 1
    assert Study.objects.get(pk=ldn_study.pk).criteria_version == 2


def test_raising_the_target_in_the_admin_adds_slots(client, investigator, ldn_study):
    client.force_login(investigator)
    page = client.get(study_url(ldn_study))

    response = client.post(study_url(ldn_study), form_data(page, target_enrolment=24))

    assert response.status_code == 302
    assert EnrolmentSlot.objects.filter(study=ldn_study).count() == 24


def test_lowering_the_target_below_the_slots_taken_is_a_form_error(client, investigator, ldn_study):
    participants_bulk(ldn_study, 5, status=Status.ENROLLED)
    client.force_login(investigator)
    page = client.get(study_url(ldn_study))

    response = client.post(study_url(ldn_study), form_data(page, target_enrolment=4))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["target_enrolment"] == [
        "The target cannot be lower than the 5 slots already taken."
    ]
    assert Study.objects.get(pk=ldn_study.pk).target_enrolment == 20
    assert EnrolmentSlot.objects.filter(study=ldn_study).count() == 20


def test_the_withdrawal_rule_cannot_change_once_someone_has_withdrawn(
    client, investigator, ldn_study
):
    """Their slot was kept under the saved rule; a new rule would make slots and statuses
    disagree (check_enrolment would then fail the deploy gate on legitimate data)."""
    participants_bulk(ldn_study, 1, status=Status.WITHDRAWN)
    client.force_login(investigator)
    page = client.get(study_url(ldn_study))

    response = client.post(study_url(ldn_study), form_data(page, withdrawal_frees_slot="on"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["withdrawal_frees_slot"] == [
        str(WITHDRAWAL_RULE_LOCKED)
    ]
    assert Study.objects.get(pk=ldn_study.pk).withdrawal_frees_slot is False


def test_the_withdrawal_rule_can_change_while_nobody_has_withdrawn(client, investigator, ldn_study):
    participants_bulk(ldn_study, 2, status=Status.ENROLLED)
    client.force_login(investigator)
    page = client.get(study_url(ldn_study))

    response = client.post(study_url(ldn_study), form_data(page, withdrawal_frees_slot="on"))

    assert response.status_code == 302
    assert Study.objects.get(pk=ldn_study.pk).withdrawal_frees_slot is True


def test_the_study_file_cannot_change_the_withdrawal_rule_once_someone_has_withdrawn(
    ldn_study_with_run_in,
):
    ldn_study = ldn_study_with_run_in  # the study exactly as its file loads it
    participants_bulk(ldn_study, 1, status=Status.WITHDRAWN)
    data = tomllib.loads(LDN_FILE.read_text(encoding="utf-8"))

    with pytest.raises(StudyFileError, match="whether a withdrawal frees a slot"):
        study_load(data={**data, "withdrawal_frees_slot": True})

    assert Study.objects.get(pk=ldn_study.pk).withdrawal_frees_slot is False
    assert study_load(data=data).changes == ()  # the same rule loads as before


def test_a_slot_refusal_after_the_form_check_undoes_the_whole_edit(
    client, investigator, ldn_study, monkeypatch
):
    """An enrolment can race past the form's check; `study_slots_sync` then refuses and the
    edit is rolled back, with the refusal shown instead of a success."""
    participants_bulk(ldn_study, 5, status=Status.ENROLLED)
    client.force_login(investigator)
    page = client.get(study_url(ldn_study))
    monkeypatch.setattr("recruitment.selectors.study_slots_taken", lambda **kwargs: 0)

    response = client.post(
        study_url(ldn_study), form_data(page, target_enrolment=4, title="Renamed"), follow=True
    )

    assert message_texts(response) == ["The target cannot be lower than the 5 slots already taken."]
    study = Study.objects.get(pk=ldn_study.pk)
    assert (study.target_enrolment, study.title) == (20, ldn_study.title)
    assert EnrolmentSlot.objects.filter(study=ldn_study).count() == 20
    assert not LogEntry.objects.exists()


def test_an_investigator_sees_only_their_studies(client, investigator, ldn_study):
    other = StudyFactory()
    client.force_login(investigator)

    response = client.get(study_url(other))
    listing = client.get(reverse("admin:recruitment_study_changelist")).content.decode()

    assert response.status_code == 302
    assert other.title not in listing


def test_participant_admin_is_a_simple_history_admin():
    from simple_history.admin import SimpleHistoryAdmin

    assert isinstance(django_admin.site.get_model_admin(Participant), SimpleHistoryAdmin)
    assert isinstance(django_admin.site.get_model_admin(Participant), ParticipantAdmin)
