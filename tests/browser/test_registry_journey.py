"""The registry's journey in a real browser: a person applies to the LDN study with consent
to hear about other studies and fails its opioid washout (last opioid a month ago); a second
study opens whose criteria name shared questions (and not opioids) and ask one new question;
its coordinator sees the match, with reasons and without a name, and invites; the person opens
the emailed link, says yes, answers only the new question and is in the second study's queue,
the answers carried over marked as such."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts import roles
from accounts.services import roles_ensure
from recruitment.models import CriterionKind, Outcome, Participant, SharedQuestion
from recruitment.people.consent import REGISTRY_CONSENT_TEXT
from recruitment.registry.services import study_rematch
from recruitment.studies.services import study_load_file
from tests.browser.test_accessibility import assert_accessible
from tests.browser.test_patient_journey import (
    ELIGIBLE_ANSWERS,
    fill_about_you,
    fill_last_few_things,
    open_interest_form,
    send,
)
from tests.conftest import LDN_FILE
from tests.factories import PASSWORD, CriterionFactory, StaffFactory, StudyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OPIOIDS = "Have you taken a strong painkiller called an opioid"
REGISTRY_BOX = str(REGISTRY_CONSENT_TEXT)


def apply_to_ldn_with_a_recent_opioid(page: Page, base_url: str) -> None:
    open_interest_form(page, base_url)
    fill_about_you(page, date_of_birth="1980-04-28", zip_code="35203")
    for question, answer in ELIGIBLE_ANSWERS.items():
        if question != OPIOIDS:
            page.get_by_role("group", name=question).get_by_role(
                "radio", name=answer, exact=True
            ).check()
    page.get_by_role("group", name=OPIOIDS).get_by_role("radio", name="Yes", exact=True).check()
    a_month_ago = timezone.localdate() - dt.timedelta(days=30)
    page.get_by_label("If yes, when did you last take it?").fill(a_month_ago.isoformat())
    fill_last_few_things(page)
    page.get_by_label(REGISTRY_BOX).check()
    send(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you. We got your answers.")


def a_second_study_opens():
    """A sleep study: ME/CFS and not pregnant from the question bank (no opioid criterion),
    and one question of its own."""
    study = StudyFactory(
        slug="sleep-aid",
        title="A sleep aid for people with ME/CFS",
        short_title="Sleep aid study",
        prefix="SLP",
        summary="We test if a sleep aid helps people with ME/CFS feel less tired.",
        what_it_involves="One night in our sleep lab\nA pill each night for 8 weeks",
    )
    bank = {q.code: q for q in SharedQuestion.objects.all()}
    CriterionFactory(
        study=study,
        code="diagnosis",
        title="ME/CFS diagnosed",
        question="Has a doctor told you that you have ME/CFS?",
        shared_question=bank["mecfs_diagnosis"],
        order=1,
    )
    CriterionFactory(
        study=study,
        code="pregnancy",
        kind=CriterionKind.EXCLUSION,
        title="Not pregnant or breastfeeding",
        question="Are you pregnant or breastfeeding?",
        params={"required": "no"},
        shared_question=bank["pregnancy"],
        order=2,
    )
    CriterionFactory(
        study=study,
        code="sleep-lab",
        title="Can spend a night in the sleep lab",
        question="Can you spend one night in our sleep lab?",
        order=3,
    )
    study_rematch(study=study, today=timezone.localdate())
    return study


def sign_in(page: Page, url: str, username: str) -> None:
    # The first staff page of the run: the server may still be busy with the patient's
    # emails on a loaded machine (a 5 s default timed out once on PostgreSQL).
    page.goto(url, timeout=20_000)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click(timeout=20_000)


def test_a_registry_member_is_matched_invited_says_yes_and_joins_the_second_study_s_queue(
    open_page, live_server
):
    ldn = study_load_file(path=LDN_FILE).study
    patient = open_page()
    apply_to_ldn_with_a_recent_opioid(patient, live_server.url)
    first = Participant.objects.get(study=ldn)
    assert first.outcome == Outcome.ELIGIBLE_FROM  # the washout still runs
    assert first.person.registry_consent

    study = a_second_study_opens()
    sam = StaffFactory(username="sam")
    sam.groups.add(roles_ensure()[roles.COORDINATOR])
    study.members.add(sam)
    staff_page = open_page(viewport={"width": 1366, "height": 900})
    sign_in(staff_page, f"{live_server.url}/staff/registry/sleep-aid/matches/", "sam")

    row = staff_page.locator("tr#match-1")
    expect(row).to_contain_text("M-0001")
    expect(row).to_contain_text("Met: ME/CFS diagnosed")
    expect(row).to_contain_text("Met: Not pregnant or breastfeeding")
    expect(row).to_contain_text("Unknown: Can spend a night in the sleep lab")
    html = staff_page.content()
    for identifier in ("Ann", "Lee", "ann.lee", "555-0134", "35203", "1980"):
        assert identifier not in html, identifier
    staff_page.get_by_role("button", name="Invite M-0001").click()
    expect(staff_page.get_by_role("status")).to_contain_text("M-0001 is invited")
    expect(row).to_contain_text("Invited")

    (email,) = [m for m in mail.outbox if m.subject == "A new study may fit you"]
    lines = email.body.splitlines()
    yes_url = lines[lines.index("Yes, tell me more and let me apply:") + 1].strip()
    patient.goto(yes_url)
    expect(patient.get_by_role("heading", level=1)).to_have_text("Apply to Sleep aid study")
    carried = patient.locator("#carried-answers")
    expect(carried).to_contain_text("Has a doctor told you that you have ME/CFS?")
    expect(carried.locator(".carried-from").first).to_contain_text("From your form of")
    questions = patient.locator("#invitation-form input[type=radio]")
    assert {questions.nth(i).get_attribute("name") for i in range(questions.count())} == {
        "q_sleep-lab"
    }
    assert_accessible(patient)
    patient.get_by_role("group", name="Can you spend one night in our sleep lab?").get_by_role(
        "radio", name="Yes", exact=True
    ).check()
    patient.get_by_label("I agree that the study team may contact me.").check()
    patient.get_by_role("button", name="Send my answers").click()
    expect(patient.locator("#screening-number")).to_have_text("SLP-S-0001")

    applicant = Participant.objects.get(study=study)
    assert applicant.person == first.person
    staff_page.goto(f"{live_server.url}/admin/recruitment/participant/")
    expect(staff_page.get_by_text("SLP-S-0001")).to_be_visible()
    staff_page.goto(f"{live_server.url}/admin/recruitment/participant/{applicant.pk}/change/")
    expect(staff_page.get_by_text("carried over from the registry").first).to_be_visible()
    assert staff_page.get_by_text("carried over from the registry").count() == 2
