"""Save and finish later in a real browser: a patient fills part of the form, saves it, opens
the emailed link later in another browser, finds every answer, finishes and sends it."""

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from recruitment.models import Draft, Participant
from recruitment.studies.services import study_load_file
from tests.browser.axe import assert_no_axe_violation
from tests.browser.conftest import TIMEOUT_MS
from tests.conftest import LDN_FILE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FORM_PATH = "/studies/ldn-mecfs/interest/"
LINK = re.compile(r"https?://[^/\s]+(/studies/ldn-mecfs/interest/resume/[\w-]+/)")
NOTE = "I crash for days after a short walk.\nMornings are worst."

# Health answers by field name (the criteria's codes: their questions' wording may change).
# Answered before the break, and found again after it:
FIRST_PART = {
    "q_diagnosis": "yes",
    "q_core-symptoms__pem": "yes",
    "q_core-symptoms__sleep": "yes",
    "q_core-symptoms__cognitive": "unsure",
    "q_opioids": "yes",
}
# Answered after coming back:
SECOND_PART = {
    "q_core-symptoms__orthostatic": "no",
    "q_can-attend": "yes",
    "q_recent-ldn": "no",
    "q_allergy": "no",
    "q_pregnancy": "no",
    "q_liver": "no",
    "q_autoimmune": "no",
    "q_substance-misuse": "no",
    "q_other-trial": "no",
}


def assert_accessible(page: Page) -> None:
    """No axe-core violation of the WCAG 2.0 to 2.2 A and AA rules on the page as it is."""
    assert_no_axe_violation(page)


def radio(page: Page, name: str, value: str):
    return page.locator(f'input[type="radio"][name="{name}"][value="{value}"]')


def answer(page: Page, answers: dict[str, str]) -> None:
    for name, value in answers.items():
        radio(page, name, value).check()


def expect_answered(page: Page, answers: dict[str, str]) -> None:
    for name, value in answers.items():
        expect(radio(page, name, value)).to_be_checked()


def test_a_patient_saves_the_form_comes_back_through_the_emailed_link_and_sends_it(
    page, live_server, browser
):
    study_load_file(path=LDN_FILE)
    page.goto(live_server.url + FORM_PATH)

    # Part of the form, then a break.
    page.get_by_label("First name").fill("Ann")
    page.get_by_label("Last name").fill("Lee")
    page.get_by_label("Date of birth").fill("1980-04-28")
    page.get_by_label("ZIP code").fill("35203")
    page.get_by_label("Email address").fill("ann.lee@example.com")
    contact = page.get_by_role("group", name="How should we contact you?")
    contact.get_by_role("radio", name="Email", exact=True).check()
    answer(page, FIRST_PART)
    page.get_by_label("If yes, when did you last take it?").fill("2026-01-15")
    page.get_by_label("Anything else you want us to know?").fill(NOTE)
    assert_accessible(page)
    page.get_by_role("button", name="Save and finish later").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your answers are saved")
    expect(page.locator("#draft-email")).to_have_text("ann.lee@example.com")
    assert_accessible(page)
    assert Participant.objects.count() == 0
    (message,) = mail.outbox
    assert message.to == ["ann.lee@example.com"]
    path = LINK.search(message.body).group(1)

    # Later, on another device: the link, then the button.
    context = browser.new_context(locale="en-US", timezone_id="America/Chicago")
    context.set_default_timeout(TIMEOUT_MS)
    later = context.new_page()
    try:
        later.goto(live_server.url + path)
        assert_accessible(later)
        later.get_by_role("button", name="Show my saved answers").click()

        expect(later).to_have_url(live_server.url + FORM_PATH)
        expect(later.locator("#draft-resumed")).to_contain_text("Your saved answers are back.")
        expect(later.get_by_label("First name")).to_have_value("Ann")
        expect(later.get_by_label("Last name")).to_have_value("Lee")
        expect(later.get_by_label("Date of birth")).to_have_value("1980-04-28")
        expect(later.get_by_label("ZIP code")).to_have_value("35203")
        expect(later.get_by_label("Email address")).to_have_value("ann.lee@example.com")
        contact = later.get_by_role("group", name="How should we contact you?")
        expect(contact.get_by_role("radio", name="Email", exact=True)).to_be_checked()
        expect_answered(later, FIRST_PART)
        expect(later.get_by_label("If yes, when did you last take it?")).to_have_value("2026-01-15")
        expect(later.get_by_label("Anything else you want us to know?")).to_have_value(NOTE)
        assert_accessible(later)

        # Finish and send.
        answer(later, SECOND_PART)
        later.get_by_label(
            "I agree that the study team may store what I write on this form"
        ).check()
        later.get_by_role("button", name="Send my interest").click()

        expect(later.get_by_role("heading", level=1)).to_have_text(
            "Thank you. We got your answers."
        )
        participant = Participant.objects.get()
        assert participant.note == NOTE
        assert participant.email == "ann.lee@example.com"
        assert Draft.objects.count() == 0

        # The link worked once.
        later.goto(live_server.url + path)
        expect(later.get_by_role("heading", level=1)).to_have_text("This link does not work")
        expect(later.get_by_role("main")).not_to_contain_text("Ann")
        assert_accessible(later)
    finally:
        context.close()
