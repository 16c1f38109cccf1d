"""A coordinator stops texts from the call card, as asked on a call, then turns them back on
when the person asks again: the links on the card, the pages with their reason, and the card
afterwards, each with no axe violation."""

import pytest
from playwright.sync_api import expect

from accounts import roles
from accounts.services import roles_ensure
from recruitment.models import TextOptOut
from tests.browser.axe import assert_no_axe_violation
from tests.factories import PASSWORD, StaffFactory, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def assert_accessible(page):
    """The page's own content, as the other admin pages are audited: the admin's breadcrumbs
    (Django's style, on every admin page) are links told apart by color alone."""
    assert_no_axe_violation(page, {"include": [["#content"]]})


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_stop_texts_from_the_call_card_is_accessible_and_recorded(
    open_page, live_server, ldn_study, color_scheme
):
    user = StaffFactory(username="casey", first_name="Casey")
    user.groups.add(roles_ensure()[roles.COORDINATOR])
    ldn_study.members.add(user)
    person = submit(ldn_study, preferred_contact="text")
    page = open_page(color_scheme=color_scheme, viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("casey")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click(no_wait_after=True)
    expect(page.get_by_role("button", name="Log out")).to_be_visible(timeout=30_000)

    page.goto(f"{live_server.url}/admin/recruitment/participant/{person.pk}/change/")
    page.get_by_role("link", name="Stop texts (asked on the call)").click()
    expect(page.get_by_label("Reason")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Reason").fill("Asked on the call for no more texts")
    page.get_by_role("button", name="Stop texts").click(no_wait_after=True)

    expect(page.locator("#call-card-texts")).to_contain_text("Texts stopped on", timeout=30_000)
    assert_accessible(page)
    assert TextOptOut.objects.get().by == user

    page.get_by_role("link", name="Turn texts back on (asked on the call)").click()
    expect(page.get_by_label("The person asked for texts again")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("The person asked for texts again").check()
    page.get_by_label("Reason").fill("Asked on the call for texts again")
    page.get_by_role("button", name="Turn texts back on").click(no_wait_after=True)

    expect(page.get_by_role("link", name="Stop texts (asked on the call)")).to_be_visible(
        timeout=30_000
    )
    assert not TextOptOut.objects.get().stopped
