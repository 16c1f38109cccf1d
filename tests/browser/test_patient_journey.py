"""A patient's journey in a real browser: home, study page, interest form, thank-you page.

Fields are found the way a patient (or a screen reader) finds them: by their labels, radio
buttons by their name inside the question's group, the button by what it says.
"""

import datetime as dt
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from recruitment.intake.forms import DOB_FUTURE, ZIP_INVALID
from recruitment.models import Outcome, Participant, Status
from recruitment.studies.services import study_load_file
from tests.conftest import LDN_FILE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Each health question (a distinctive part of the question's text) and the answer an eligible
# patient gives; together they cover every question the LDN form asks.
ELIGIBLE_ANSWERS = {
    "Has a doctor told you that you have ME/CFS?": "Yes",
    "Crash after effort": "Yes",
    "Sleep that does not refresh you": "Yes",
    "Brain fog": "Yes",
    "Feeling worse when you stand or sit up": "No",
    "Can you come to our lab in Birmingham": "Yes",
    "Have you taken a strong painkiller called an opioid": "No",
    "Have you taken naltrexone or LDN": "No",
    "Are you allergic to naltrexone?": "No",
    "Are you pregnant or breastfeeding": "No",
    "Do you have liver disease or hepatitis?": "No",
    "Do you have an autoimmune disease?": "No",
    "Do you have a problem with alcohol or drugs": "No",
    "another study that tested a medicine": "No",
}


def open_interest_form(page: Page, base_url: str) -> None:
    page.goto(base_url + "/")
    page.get_by_role("link", name="Read about LDN for ME/CFS").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Low-dose naltrexone (LDN) for ME/CFS"
    )
    page.get_by_role("link", name="I'm interested").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Say you are interested in LDN for ME/CFS"
    )


def fill_about_you(page: Page, *, date_of_birth: str, zip_code: str) -> None:
    page.get_by_label("First name").fill("Ann")
    page.get_by_label("Last name").fill("Lee")
    page.get_by_label("Date of birth").fill(date_of_birth)
    page.get_by_label("ZIP code").fill(zip_code)
    page.get_by_label("Email address").fill("ann.lee@example.com")
    page.get_by_label("Phone number").fill("(205) 555-0134")
    contact = page.get_by_role("group", name="How should we contact you?")
    contact.get_by_role("radio", name="Phone call", exact=True).check()
    best_time = page.get_by_role("group", name="Best time to reach you")
    best_time.get_by_role("radio", name="Morning (9 to 12)", exact=True).check()


def answer_health_questions(page: Page) -> None:
    for question, answer in ELIGIBLE_ANSWERS.items():
        group = page.get_by_role("group", name=question)
        group.get_by_role("radio", name=answer, exact=True).check()


def fill_last_few_things(page: Page) -> None:
    page.get_by_label("How did you hear about this study?").select_option(label="ProHealth")
    page.get_by_label("I agree that the study team may store what I write on this form").check()


def send(page: Page) -> None:
    page.get_by_role("button", name="Send my interest").click()


def assert_only_the_live_server_was_asked(requested_urls: list[str], base_url: str) -> None:
    server = urlsplit(base_url).netloc
    assert any(url.endswith("/bootstrap/css/bootstrap.min.css") for url in requested_urls)
    assert [url for url in requested_urls if urlsplit(url).netloc != server] == []


def test_a_patient_finds_the_study_says_they_are_interested_and_gets_a_screening_number(
    page, live_server, requested_urls
):
    study_load_file(path=LDN_FILE)

    open_interest_form(page, live_server.url)
    fill_about_you(page, date_of_birth="1980-04-28", zip_code="35203")
    answer_health_questions(page)
    fill_last_few_things(page)
    send(page)

    expect(page).to_have_url(live_server.url + "/studies/ldn-mecfs/interest/thanks/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you. We got your answers.")
    expect(page.locator("#screening-number")).to_have_text("LDN-S-0001")
    # The pre-screen verdict is for the coordinators, never shown to the patient.
    expect(page.get_by_role("main")).not_to_contain_text("eligib", ignore_case=True)

    participant = Participant.objects.get()
    assert participant.screening_number == "LDN-S-0001"
    assert (participant.first_name, participant.last_name) == ("Ann", "Lee")
    assert participant.email == "ann.lee@example.com"
    assert participant.date_of_birth == dt.date(1980, 4, 28)
    assert participant.zip_code == "35203"
    assert participant.preferred_contact == "phone"
    assert participant.referral_source == "prohealth"
    assert participant.status == Status.NEW
    assert participant.outcome == Outcome.LIKELY_ELIGIBLE
    assert_only_the_live_server_was_asked(requested_urls, live_server.url)


def test_a_patient_sees_every_error_at_the_top_keeps_their_answers_and_can_fix_them(
    page, live_server, requested_urls
):
    study_load_file(path=LDN_FILE)
    next_year = (dt.date.today() + dt.timedelta(days=400)).isoformat()

    open_interest_form(page, live_server.url)
    fill_about_you(page, date_of_birth=next_year, zip_code="3529")
    answer_health_questions(page)
    fill_last_few_things(page)
    send(page)

    expect(page).to_have_title("Error: Say you are interested · LDN for ME/CFS · ldn-trial")
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading")).to_have_text("Please fix these and send again")
    links = summary.get_by_role("link")
    expect(links).to_have_text([str(DOB_FUTURE), str(ZIP_INVALID)])
    assert [links.nth(i).get_attribute("href") for i in range(2)] == [
        "#id_date_of_birth",
        "#id_zip_code",
    ]
    # The summary comes before the form's first field.
    summary_box = summary.bounding_box()
    first_field_box = page.get_by_label("First name").bounding_box()
    assert summary_box["y"] + summary_box["height"] <= first_field_box["y"]
    # Each link leads to its field.
    links.nth(1).click()
    assert page.evaluate("document.activeElement.id") == "id_zip_code"
    # What the patient typed is still there.
    expect(page.get_by_label("First name")).to_have_value("Ann")
    expect(page.get_by_label("Email address")).to_have_value("ann.lee@example.com")
    expect(page.get_by_label("ZIP code")).to_have_value("3529")
    brain_fog = page.get_by_role("group", name="Brain fog")
    expect(brain_fog.get_by_role("radio", name="Yes", exact=True)).to_be_checked()
    expect(page.get_by_label("I agree that the study team may store")).to_be_checked()
    assert Participant.objects.count() == 0

    page.get_by_label("Date of birth").fill("1980-04-28")
    page.get_by_label("ZIP code").fill("35203")
    send(page)

    expect(page.locator("#screening-number")).to_have_text("LDN-S-0001")
    participant = Participant.objects.get()
    assert participant.date_of_birth == dt.date(1980, 4, 28)
    assert participant.zip_code == "35203"
    assert participant.outcome == Outcome.LIKELY_ELIGIBLE
    assert_only_the_live_server_was_asked(requested_urls, live_server.url)
