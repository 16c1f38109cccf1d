"""The language switch on the interest form in a real browser, without JavaScript: answers
typed before the switch are all there after it, and Enter in a field still sends the form."""

import pytest
from playwright.sync_api import expect

from recruitment.models import Draft, Participant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FORM_PATH = "/studies/ldn-mecfs/interest/"


def test_switching_to_spanish_keeps_every_answer(open_page, live_server, ldn_study):
    page = open_page(java_script_enabled=False)
    page.goto(live_server.url + FORM_PATH)
    page.fill("#id_first_name", "Ana")
    page.fill("#id_date_of_birth", "1979-03-14")
    page.check('input[name="q_diagnosis"][value="yes"]')
    page.check('input[name="q_core-symptoms__sleep"][value="unsure"]')
    page.fill("#id_note", "Tired after short walks.\nBetter in the morning.")

    page.get_by_role("button", name="Español").click()

    page.wait_for_url(live_server.url + FORM_PATH)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("button", name="Enviar mi interés")).to_be_visible()
    expect(page.locator("#id_first_name")).to_have_value("Ana")
    expect(page.locator("#id_date_of_birth")).to_have_value("1979-03-14")
    expect(page.locator('input[name="q_diagnosis"][value="yes"]')).to_be_checked()
    expect(page.locator('input[name="q_core-symptoms__sleep"][value="unsure"]')).to_be_checked()
    expect(page.locator("#id_note")).to_have_value(
        "Tired after short walks.\nBetter in the morning."
    )
    expect(page.locator("#error-summary")).to_have_count(0)
    assert Participant.objects.count() == 0 and Draft.objects.count() == 0


def test_enter_in_a_field_sends_the_form_not_the_switch(open_page, live_server, ldn_study):
    page = open_page(java_script_enabled=False)
    page.goto(live_server.url + FORM_PATH)
    page.fill("#id_first_name", "Ana")

    page.press("#id_first_name", "Enter")

    # Sent (and refused: most answers are missing), still in English.
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#id_first_name")).to_have_value("Ana")
