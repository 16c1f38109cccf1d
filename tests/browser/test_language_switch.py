"""The language switch in a real browser: under the pages' Content-Security-Policy, with the
keyboard, with no JavaScript; and a Spanish-speaking browser's first visit."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_switch_turns_the_site_to_spanish_and_back_and_keeps_the_choice(
    page, live_server, ldn_study
):
    blocked = []
    page.on("console", lambda m: blocked.append(m.text) if "Content-Security" in m.text else None)
    page.goto(live_server.url + "/studies/ldn-mecfs/")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    switch = page.get_by_role("button", name="Español")
    switch.focus()
    page.keyboard.press("Enter")

    page.wait_for_url(live_server.url + "/studies/ldn-mecfs/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("link", name="Me interesa")).to_be_visible()
    # The cookie keeps the choice on the next page.
    page.get_by_role("link", name="Me interesa").click()
    expect(page.get_by_role("button", name="Enviar mi interés")).to_be_visible()

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Send my interest")).to_be_visible()
    assert blocked == []


def test_a_browser_set_to_spanish_gets_spanish_first(open_page, live_server, ldn_study):
    page = open_page(locale="es-MX")
    page.goto(live_server.url + "/")

    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Estudios que buscan participantes")
    expect(page.get_by_role("button", name="English")).to_have_attribute("lang", "en")
