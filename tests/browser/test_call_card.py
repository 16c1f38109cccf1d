"""The call card in a real browser: on a laptop (1366 x 768) the whole card is on the first
screen of the participant page, with no scrolling; on a phone (390 x 844) it is at the top;
the verdicts never scroll sideways on a phone. The test also photographs the card, light and
dark, for docs/coordinators.md (docs/screenshots/call-card-<width>-<scheme>.png).
"""

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts import roles
from accounts.services import roles_ensure
from recruitment.screening.services import contact_attempt_record, lab_values_record
from recruitment.studies.services import study_load_file
from tests.conftest import LDN_FILE
from tests.factories import LDN_ELIGIBLE_ANSWERS, LDN_NORMAL_LABS, PASSWORD, StaffFactory, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(base_url + "/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()  # on the call list


def a_person_to_call(study, coordinator):
    """Ann Lee: an opioid painkiller three weeks ago (eligible from 15 Feb next year, on the
    washout's count), "not sure" of one core symptom, her lab values in range, two calls
    without an answer and a follow-up set."""
    today = timezone.localdate()
    last_dose = today - dt.timedelta(days=22)
    person = submit(
        study,
        answers={
            **LDN_ELIGIBLE_ANSWERS,
            "core-symptoms": {
                "pem": "yes",
                "sleep": "yes",
                "cognitive": "no",
                "orthostatic": "unsure",
            },
            "opioids": {"taken": "yes", "last": last_dose.isoformat()},
        },
        best_time="afternoon",
        note="Mornings are hard for me. Please call after 2pm; texts are fine too.",
    )
    lab_values_record(participant=person, values=LDN_NORMAL_LABS, by=coordinator)
    now = timezone.now()
    for days_ago, outcome in ((3, "no_answer"), (1, "voicemail")):
        contact_attempt_record(
            participant=person,
            by=coordinator,
            method="phone",
            outcome=outcome,
            at=now - dt.timedelta(days=days_ago),
            note="Left the team's number." if outcome == "voicemail" else "",
            follow_up_on=today,
        )
    return person


@pytest.fixture
def card_page(live_server, open_page):
    study = study_load_file(path=LDN_FILE).study
    coordinator = StaffFactory(username="casey", first_name="Casey")
    coordinator.groups.add(roles_ensure()[roles.COORDINATOR])
    study.members.add(coordinator)
    person = a_person_to_call(study, coordinator)
    url = f"{live_server.url}/admin/recruitment/participant/{person.pk}/change/"

    def open_card(viewport, color_scheme="light"):
        page = open_page(viewport=viewport, color_scheme=color_scheme)
        sign_in(page, live_server.url, "casey")
        page.goto(url)
        expect(page.locator("#call-card")).to_be_visible()
        return page

    return open_card


def box(page: Page, selector: str) -> dict:
    return page.locator(selector).bounding_box()


def test_the_whole_call_card_is_on_the_first_screen_of_a_laptop(card_page):
    page = card_page(LAPTOP)

    card = box(page, "#call-card")
    assert page.evaluate("window.scrollY") == 0
    assert card["y"] >= 0
    assert card["y"] + card["height"] <= LAPTOP["height"]
    expect(page.locator("#call-card-title")).to_have_text("Ann Lee")
    expect(page.locator("#call-card-phone")).to_have_attribute("href", "tel:+12055550134")
    expect(page.locator("#call-card-summary")).to_contain_text(
        "16 met, 1 not met: No opioid painkiller in the last 3 months, eligible from"
    )
    expect(page.locator("#call-card-summary")).to_contain_text(
        "1 not sure: orthostatic intolerance"
    )
    expect(page.locator("#call-card")).to_contain_text("Please call after 2pm")
    expect(page.locator("#call-card .call-card-attempts li")).to_have_count(2)


def test_on_a_phone_the_call_card_comes_first_and_nothing_scrolls_sideways(card_page):
    page = card_page(PHONE)

    card = box(page, "#call-card")
    # Below the admin's header, the breadcrumbs, the page title and the "History" button.
    assert card["y"] < PHONE["height"] / 2
    phone = box(page, "#call-card-phone")
    assert phone["y"] + phone["height"] <= PHONE["height"]
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    # The verdicts are cards on a phone: each row as wide as the screen at most.
    widths = page.locator("table.verdicts tr").evaluate_all("rows => rows.map(r => r.scrollWidth)")
    assert widths and max(widths) <= PHONE["width"]


def test_the_verdicts_open_with_what_is_not_met_then_not_sure_in_words(card_page):
    page = card_page(LAPTOP)

    verdicts = page.locator("table.verdicts td.field-verdict_shown").all_inner_texts()
    assert [v.strip("✗?✓… ") for v in verdicts[:2]] == ["Not met", "Not sure"]
    assert all(v.strip("✗?✓… ") == "Met" for v in verdicts[2:])
    first = page.locator("table.verdicts tbody tr").first
    expect(first).to_contain_text("No opioid painkiller in the last 3 months")
    expect(first).to_contain_text("criteria version 1")
    expect(first).to_contain_text("answered by the patient")
    background = first.locator("td").first.evaluate("td => getComputedStyle(td).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366px", "390px"])
def test_screenshots_of_the_call_card_for_the_coordinators_guide(card_page, viewport, scheme):
    """Saves docs/screenshots/call-card-<width>-<scheme>.png: the first screen."""
    page = card_page(viewport, color_scheme=scheme)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"call-card-{viewport['width']}-{scheme}.png")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366px", "390px"])
def test_the_call_card_and_the_verdicts_have_no_axe_violation(card_page, viewport, scheme):
    """axe-core's WCAG A and AA rules on the card and the verdicts (the admin's own inlines
    around them are the admin's)."""
    from tests.browser.axe import assert_no_axe_violation

    page = card_page(viewport, color_scheme=scheme)

    assert_no_axe_violation(page, {"include": [["#call-card"], ["#verdicts-group"]]})
