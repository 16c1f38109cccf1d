"""The call card on the participant page and the contact-attempt page, the study's call
script, the verdicts in words, and the bulk actions' refusals with what to do instead."""

import datetime as dt
import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from recruitment.models import Participant, Status
from recruitment.screening.call_card import script_blocks, tel_uri
from recruitment.screening.services import contact_attempt_record
from recruitment.studies.services import study_load
from tests.factories import (
    LDN_ELIGIBLE_ANSWERS,
    applicant,
    overrides_ensure,
    participants_bulk,
    walk,
)

pytestmark = pytest.mark.django_db

NOTE = "Mornings are hard for me. Please call after 2pm."


def change_url(participant):
    return reverse("admin:recruitment_participant_change", args=[participant.pk])


def contact_url(participant):
    return reverse("admin:recruitment_participant_contact", args=[participant.pk])


def card_html(response) -> str:
    html = response.content.decode()
    start = html.index('<section class="call-card"')
    return html[start : html.index("</section>", start)]


def person_to_call(study, coordinator, *, attempts=5):
    person = applicant(
        study,
        answers={**LDN_ELIGIBLE_ANSWERS, "liver": "yes"},
        first_name="Ann",
        last_name="Mitchell",
        phone="(205) 555-0134",
        best_time="afternoon",
        note=NOTE,
    )
    now = timezone.now()
    for n in range(attempts):
        contact_attempt_record(
            participant=person,
            by=coordinator,
            method="phone",
            outcome="no_answer",
            at=now - dt.timedelta(hours=attempts - n),
            note=f"Attempt {n + 1}: rang out.",
            follow_up_on=timezone.localdate() + dt.timedelta(days=2),
        )
    return Participant.objects.get(pk=person.pk)


def test_the_card_shows_who_to_call_and_why(coord_client, coordinator, ldn_study):
    person = person_to_call(ldn_study, coordinator)

    card = card_html(coord_client.get(change_url(person)))

    assert "Ann Mitchell" in card
    assert '<a href="tel:+12055550134" id="call-card-phone">' in card
    assert person.phone in card
    assert "mailto:" in card and person.email in card
    assert "Phone call" in card and "Afternoon (12 to 5)" in card
    assert NOTE in card
    # The last three attempts, newest first; the earlier ones are in the contact log.
    assert re.findall(r"Attempt (\d): rang out", card) == ["5", "4", "3"]
    assert "Last 3 contact attempts" in card
    assert date_format(timezone.localdate() + dt.timedelta(days=2), "DATE_FORMAT") in card
    assert "not reached" in card
    assert "12 met, 1 not met: No liver disease or hepatitis; 5 staff checks pending" in card
    assert 'data-step="contact"' in card and 'data-step="screening"' in card


def test_a_monitor_gets_the_card_without_what_identifies_the_person(
    client, monitor, coordinator, ldn_study
):
    person = person_to_call(ldn_study, coordinator)
    client.force_login(monitor)

    card = card_html(client.get(change_url(person)))

    for secret in ("Ann", "Mitchell", "555", person.email, NOTE, "Afternoon", "rang out"):
        assert secret not in card
    assert person.screening_number in card
    assert "No liver disease or hepatitis" in card
    assert "note recorded, hidden" in card
    assert "Next steps" not in card


def test_the_contact_page_shows_the_same_card_and_the_studys_call_script(
    coord_client, coordinator, ldn_study
):
    person = person_to_call(ldn_study, coordinator, attempts=1)

    response = coord_client.get(contact_url(person))

    card = card_html(response)
    assert "Ann Mitchell" in card and "tel:+12055550134" in card and NOTE in card
    assert "Next steps" not in card  # the form below is the step
    html = response.content.decode()
    assert '<aside class="call-script"' in html
    assert "May I speak with [first name]?" in html
    assert "<li>Are you still interested in taking part?</li>" in html


def test_a_study_without_a_call_script_shows_none(coord_client, coordinator, ldn_study):
    ldn_study.call_script = ""
    ldn_study.save()
    person = person_to_call(ldn_study, coordinator, attempts=0)

    html = coord_client.get(contact_url(person)).content.decode()

    assert "call-script" not in html
    assert "Nobody has contacted them yet." in html


def test_the_study_file_carries_the_call_script_and_the_loader_updates_it(ldn_study):
    assert ldn_study.call_script.startswith("Say: Hello, this is [your name]")

    result = study_load(data={"slug": ldn_study.slug, "call_script": "Say: hello."})

    assert result.study.call_script == "Say: hello."
    assert "study call_script" in result.changes


def test_an_investigator_edits_the_call_script_in_the_admin(client, investigator, ldn_study):
    from tests.admin_posts import form_data

    url = reverse("admin:recruitment_study_change", args=[ldn_study.pk])
    client.force_login(investigator)
    page = client.get(url)
    assert 'name="call_script"' in page.content.decode()

    response = client.post(url, form_data(page, call_script="Ask: are you still interested?"))

    assert response.status_code == 302
    ldn_study.refresh_from_db()
    assert ldn_study.call_script == "Ask: are you still interested?"


def test_the_call_script_is_read_as_paragraphs_and_lists():
    text = "Say: hello.\nHow are you?\n\nAsk:\n- One\n  more words\n- Two\n\nThanks."

    assert script_blocks(text) == [
        ("p", ["Say: hello. How are you?"]),
        ("p", ["Ask:"]),
        ("ul", ["One more words", "Two"]),
        ("p", ["Thanks."]),
    ]


def test_a_phone_link_dials_in_the_us_or_as_given():
    assert tel_uri("2055550134") == "tel:+12055550134"
    assert tel_uri("442071234567") == "tel:+442071234567"
    assert tel_uri("") == ""


# ---------------------------------------------------------------------------------------------
# The verdicts at a glance
# ---------------------------------------------------------------------------------------------
def test_the_verdicts_open_with_not_met_then_not_sure_in_words(coord_client, ldn_study):
    person = applicant(
        ldn_study,
        answers={
            **LDN_ELIGIBLE_ANSWERS,
            "can-attend": "unsure",
            "liver": "yes",
        },
    )

    html = coord_client.get(change_url(person)).content.decode()

    table = html[html.index('<table class="verdicts">') :]
    words = re.findall(r'<strong class="verdict verdict-[a-z-]+">([^<]+)</strong>', table)
    assert words[:2] == ["Not met", "Not sure"]
    assert set(words[2:7]) == {"Staff check pending"}
    assert set(words[7:]) == {"Met"}
    first_row = table[: table.index("</tr>", table.index("<tbody>"))]
    assert "No liver disease or hepatitis" in first_row
    assert "Exclusion · asked of the patient · criteria version 1" in first_row
    assert "answered by the patient" in first_row
    assert "liver: not_met" not in html and "v1 ·" not in html and "Provenance" not in html
    # Read-only: the page carries the formset's management form, and nothing posted back for
    # these rows is read (recruitment.admin.inlines.ReadOnlyInlineFormSet).
    assert 'name="verdicts-TOTAL_FORMS"' in html


# ---------------------------------------------------------------------------------------------
# Bulk actions: why not, and what to do instead
# ---------------------------------------------------------------------------------------------
def run_action(client, action, participants):
    return client.post(
        reverse("admin:recruitment_participant_changelist"),
        {"action": action, "_selected_action": [p.pk for p in participants], "index": 0},
    )


def messages_of(response, level):
    return [str(m) for m in get_messages(response.wsgi_request) if m.level == level]


def eligible_applicant(study):
    return applicant(study, answers=LDN_ELIGIBLE_ANSWERS)


def test_marking_eligible_in_bulk_in_a_full_study_waitlists_and_says_so(
    coord_client, coordinator, ldn_study
):
    people = [walk(eligible_applicant(ldn_study), "screening", by=coordinator) for _ in "ab"]
    for person in people:
        overrides_ensure(person)
    participants_bulk(ldn_study, 20, status=Status.ENROLLED)

    response = run_action(coord_client, "mark_eligible", people)

    numbers = ", ".join(p.screening_number for p in people)
    assert messages_of(response, 30) == [
        f"The study is full: 2 participants marked eligible are on the waitlist: {numbers}."
    ]
    assert {Participant.objects.get(pk=p.pk).status for p in people} == {Status.WAITLISTED}


def test_a_bulk_enrollment_in_a_full_study_says_why_for_each_and_what_to_do(
    coord_client, coordinator, ldn_study
):
    people = [walk(eligible_applicant(ldn_study), "consented", by=coordinator) for _ in "ab"]
    participants_bulk(ldn_study, 20, status=Status.ENROLLED)

    response = run_action(coord_client, "enrol", people)

    assert messages_of(response, 40) == [
        f"{p.screening_number}: Enroll: the study is full; add to the waitlist instead."
        for p in people
    ]


# ---------------------------------------------------------------------------------------------
# Query counts: fixed, whatever the study's size
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("others", [10, 1000])
@pytest.mark.parametrize("status", ["new", "consented", "waitlisted"])
def test_the_participant_and_contact_pages_run_a_fixed_number_of_queries(
    coord_client, coordinator, ldn_study, others, status, django_assert_max_num_queries
):
    participants_bulk(ldn_study, others, status=Status.NEW)
    if status == "waitlisted":
        participants_bulk(ldn_study, 20, status=Status.ENROLLED)
        participants_bulk(ldn_study, 3, status=Status.WAITLISTED)
    person = walk(eligible_applicant(ldn_study), status, by=coordinator)
    person = person_to_call(ldn_study, coordinator) if status == "new" else person
    coord_client.get(change_url(person))  # fills Django's caches

    # The page, its inlines and the call card (the person's other applications included; the
    # inline and the card each read the study's criteria for the staff checks not entered), the
    # staff notes, the count of answers to verify and whether a duplicate is unreviewed; a
    # waitlisted participant's steps also ask the waitlist. The card also asks whether texts
    # to the number are stopped; before enrollment, whether the allocation list has strata.
    with django_assert_max_num_queries(25):
        page = coord_client.get(change_url(person))
    with django_assert_max_num_queries(11):
        contact = coord_client.get(contact_url(person))

    assert page.status_code == contact.status_code == 200
    assert 'id="call-card"' in page.content.decode()


# ---------------------------------------------------------------------------------------------
# The workflow pages say what the step did
# ---------------------------------------------------------------------------------------------
def status_url(participant):
    return reverse("admin:recruitment_participant_status", args=[participant.pk])


def test_the_status_page_comes_with_the_move_chosen_on_the_card(coord_client, ldn_study):
    person = eligible_applicant(ldn_study)

    html = coord_client.get(status_url(person) + "?to=screening").content.decode()

    assert '<option value="screening" selected>' in html


def test_marking_eligible_on_the_page_in_a_full_study_says_they_are_on_the_waitlist(
    coord_client, coordinator, ldn_study
):

    person = walk(eligible_applicant(ldn_study), "screening", by=coordinator)
    overrides_ensure(person)
    participants_bulk(ldn_study, 20, status=Status.ENROLLED)

    response = coord_client.post(status_url(person), {"to": "eligible"})

    assert response.status_code == 302
    assert messages_of(response, 25) == [
        f"{person.screening_number} is eligible; the study is full, so they are on the "
        "waitlist (number 1)."
    ]
    assert Participant.objects.get(pk=person.pk).status == Status.WAITLISTED


def test_consent_on_the_page_for_a_waitlisted_participant_says_they_keep_their_place(
    coord_client, coordinator, ldn_study
):
    participants_bulk(ldn_study, 20, status=Status.ENROLLED)
    person = walk(eligible_applicant(ldn_study), "waitlisted", by=coordinator)

    response = coord_client.post(
        reverse("admin:recruitment_participant_consent", args=[person.pk]),
        {
            "consented_on": timezone.localdate().isoformat(),
            "form_version": "ICF v2.0",
            "obtained_by": coordinator.pk,
        },
    )

    assert response.status_code == 302
    assert messages_of(response, 25) == [
        "Informed consent recorded: the study is full, so "
        f"{person.screening_number} keeps their place on the waitlist (number 1)."
    ]
    assert Participant.objects.get(pk=person.pk).status == Status.WAITLISTED
