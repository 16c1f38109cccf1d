"""The visits page on a phone (390 px): each visit is a card and nothing scrolls sideways, with
no axe violation (its audit in light and dark mode, with a participant's visits page, is in
tests/browser/test_accessibility.py)."""

import pytest
from playwright.sync_api import expect

from recruitment.studies.services import study_load_file
from tests.browser.test_accessibility import (
    VISITS,
    a_week_of_visits,
    assert_accessible,
    sign_in_to,
)
from tests.browser.test_call_list import coordinator_of
from tests.conftest import LDN_FILE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_on_a_phone_each_visit_is_a_card_and_nothing_scrolls_sideways(open_page, live_server):
    study = study_load_file(path=LDN_FILE).study
    a_week_of_visits(study, coordinator_of(study))
    page = open_page(viewport={"width": 390, "height": 844})

    sign_in_to(page, live_server.url, VISITS)

    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    boxes = page.evaluate(
        "[...document.querySelectorAll('.table-responsive')]"
        ".map(e => e.scrollWidth - e.clientWidth)"
    )
    assert boxes and max(boxes) <= 0, boxes
    first = page.locator("table.visits tbody tr").first
    expect(first.get_by_role("link")).to_be_visible()
    assert_accessible(page)
