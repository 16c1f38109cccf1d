"""Light, dark and small screens: the public pages follow the system's dark mode, respect
reduced motion, never scroll sideways at 320 px wide or at 200% zoom, and are photographed
at 375 px and 1280 px in light and dark mode for the README (docs/screenshots/).
"""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from recruitment.intake.withdraw import withdraw_token_make
from recruitment.models import Study
from tests.factories import LDN_ELIGIBLE_ANSWERS, applicant, ldn_form_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
STUDY = "/studies/ldn-mecfs/"
INTEREST = STUDY + "interest/"
# A phone (375 x 812) and a laptop (1280 x 900).
SCREENS = {375: 812, 1280: 900}
# The interest form is long: its screenshots show its first two screens (files stay small).
FORM_SCREENS = 2

TEXT_FIELDS = ["first_name", "last_name", "date_of_birth", "zip_code", "email", "phone"]


def fill_the_form(page: Page, **overrides) -> None:
    """Fill the LDN interest form with `ldn_form_data()` (an eligible patient), found by the
    fields' names so the test does not depend on the questions' wording."""
    data = ldn_form_data(**overrides)
    for name in TEXT_FIELDS:
        page.locator(f"#id_{name}").fill(data[name])
    for name, value in data.items():
        if name.startswith("q_") or name in ("preferred_contact", "best_time"):
            page.locator(f"input[type=radio][name='{name}'][value='{value}']").check()
    page.locator("#id_referral_source").select_option(data["referral_source"])
    page.locator("#id_contact_consent").check()


def send(page: Page) -> None:
    page.get_by_role("button", name="Send my interest").click()


def open_thank_you_page(page: Page, base_url: str) -> None:
    page.goto(base_url + INTEREST)
    fill_the_form(page)
    send(page)
    expect(page.locator("#screening-number")).to_be_visible()


def open_form_with_errors(page: Page, base_url: str) -> None:
    page.goto(base_url + INTEREST)
    fill_the_form(page, zip_code="3529", date_of_birth="2999-01-01")
    send(page)
    expect(page.locator("#error-summary")).to_be_visible()


def open_withdraw_page(page: Page, base_url: str) -> None:
    person = applicant(Study.objects.get(slug="ldn-mecfs"), answers=LDN_ELIGIBLE_ANSWERS)
    page.goto(f"{base_url}/withdraw/{withdraw_token_make(participant=person)}/")


# Every public page a patient meets, opened the way they reach it.
PAGES = {
    "home": lambda page, url: page.goto(url + "/"),
    "study": lambda page, url: page.goto(url + STUDY),
    "interest": lambda page, url: page.goto(url + INTEREST),
    "interest-errors": open_form_with_errors,
    "thanks": open_thank_you_page,
    "withdraw": open_withdraw_page,
}
PHOTOGRAPHED = ["home", "study", "interest", "interest-errors", "thanks"]


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("width", [320, 640], ids=["320px", "200pc-zoom"])
@pytest.mark.parametrize("name", list(PAGES))
def test_no_public_page_scrolls_sideways_on_a_small_screen_or_at_200_percent_zoom(
    open_page, live_server, ldn_study, name, width
):
    # 200% zoom of a 1280 px window lays the page out in 640 CSS pixels.
    page = open_page(viewport={"width": width, "height": 800})
    PAGES[name](page, live_server.url)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert horizontal_overflow(page) <= 0


def test_public_pages_follow_the_systems_dark_mode(open_page, live_server, ldn_study):
    backgrounds = {}
    for scheme in ("light", "dark"):
        page = open_page(color_scheme=scheme)
        page.goto(live_server.url + STUDY)
        backgrounds[scheme] = page.evaluate(
            "[getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body)"
            ".color, getComputedStyle(document.querySelector('main a[href^=mailto]')).color]"
        )
    assert backgrounds["light"] == ["rgb(255, 255, 255)", "rgb(33, 37, 41)", "rgb(13, 110, 253)"]
    # Bootstrap's own dark theme colors: light text on a dark gray, lighter blue links.
    assert backgrounds["dark"] == ["rgb(33, 37, 41)", "rgb(222, 226, 230)", "rgb(110, 168, 254)"]


# Each kind of element on the form that Bootstrap animates, and the page's scrolling.
MOTION = """() => ['.btn', '.form-control', '.form-select', '.form-check-input', 'header a']
  .map(selector => getComputedStyle(document.querySelector(selector)).transitionDuration)
  .concat([getComputedStyle(document.documentElement).scrollBehavior])"""


def test_nothing_moves_when_the_system_asks_for_reduced_motion(open_page, live_server, ldn_study):
    page = open_page(reduced_motion="reduce")
    page.goto(live_server.url + INTEREST)
    durations = page.evaluate(MOTION)
    assert durations == ["0s"] * 5 + ["auto"]

    # The same page without the preference does animate: the check above is not vacuous.
    page = open_page(reduced_motion="no-preference")
    page.goto(live_server.url + INTEREST)
    assert page.evaluate(MOTION)[0] != "0s"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", list(SCREENS), ids=[f"{w}px" for w in SCREENS])
@pytest.mark.parametrize("name", PHOTOGRAPHED)
def test_screenshots_of_the_public_pages_for_the_readme(
    open_page, live_server, ldn_study, name, width, scheme
):
    """Saves docs/screenshots/<page>-<width>-<scheme>.png, e.g. interest-375-dark.png."""
    height = SCREENS[width]
    page = open_page(viewport={"width": width, "height": height}, color_scheme=scheme)
    PAGES[name](page, live_server.url)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert horizontal_overflow(page) <= 0
    page.evaluate("window.scrollTo(0, 0)")  # the error summary's autofocus scrolls to it

    path = SCREENSHOTS / f"{name}-{width}-{scheme}.png"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    full_height = page.evaluate("document.documentElement.scrollHeight")
    if name.startswith("interest"):
        clip_height = min(full_height, height * FORM_SCREENS)
        page.screenshot(
            path=str(path),
            full_page=True,
            clip={"x": 0, "y": 0, "width": width, "height": clip_height},
        )
    else:
        page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000
