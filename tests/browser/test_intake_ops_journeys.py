"""Two coordinator journeys in a real browser, each with its page loads counted:

- a phone-in applicant: the coordinator enters the interest form for someone on the phone;
- a duplicate merge: confirming a duplicate and copying its new phone number to the kept record.

A page load is a document the browser requests (a redirect after a form counts as its own).
"""

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from accounts import roles
from accounts.services import roles_ensure
from recruitment.models import EntrySource, Participant
from recruitment.studies.services import study_load_file
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.pages import success_message
from tests.conftest import LDN_FILE
from tests.factories import StaffFactory, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple"  # StaffFactory's


@pytest.fixture
def study(live_server):
    return study_load_file(path=LDN_FILE).study


@pytest.fixture
def coordinator(study):
    user = StaffFactory(username="casey", first_name="Casey")
    user.groups.add(roles_ensure()[roles.COORDINATOR])
    study.members.add(user)
    return user


@pytest.fixture
def admin_page(browser, live_server, coordinator):
    """The coordinator's browser, signed in, counting the documents it loads from then on."""
    context = browser.new_context(
        locale="en-US", timezone_id="America/Chicago", viewport={"width": 1366, "height": 768}
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(live_server.url + "/admin/")
    page.get_by_label("Username").fill("casey")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Participants", exact=True)).to_be_visible()
    page.loads = []
    page.on(
        "request",
        lambda request: (
            page.loads.append(request.url)
            if request.resource_type == "document" and request.frame == page.main_frame
            else None
        ),
    )
    yield page
    context.close()


def choose(page: Page, field: str, label: str) -> None:
    page.locator(f".field-{field}").get_by_label(label, exact=True).check()


def test_a_coordinator_enters_a_phone_in_applicant_in_four_page_loads(admin_page, study):
    page = admin_page
    page.get_by_role("link", name="Participants", exact=True).click()
    page.get_by_role("link", name="Enter an applicant (phone call)").click()
    expect(page.get_by_role("heading", name="Enter an applicant (phone call)")).to_be_visible()

    page.get_by_label("First name").fill("Dana")
    page.get_by_label("Last name").fill("Mitchell")
    page.get_by_label("Date of birth").fill("1975-03-14")
    page.get_by_label("ZIP code").fill("35209")
    page.get_by_label("Email address").fill("dana.mitchell@example.com")
    page.get_by_label("Phone number").fill("(205) 555-0188")
    choose(page, "preferred_contact", "Phone call")
    for field in ("q_diagnosis", "q_core-symptoms__pem", "q_core-symptoms__sleep"):
        choose(page, field, "Yes")
    choose(page, "q_core-symptoms__cognitive", "Not sure")
    choose(page, "q_can-attend", "Yes")
    for field in ("q_opioids", "q_recent-ldn", "q_allergy", "q_pregnancy", "q_liver"):
        choose(page, field, "No")
    page.get_by_label("The person agreed on the phone to be contacted").check()
    choose(page, "entry_source", "Phone call (entered by staff)")
    expect(page.get_by_label("Send the confirmation email")).not_to_be_checked()
    page.get_by_role("button", name="Save the applicant").click()

    expect(success_message(page)).to_contain_text(
        "LDN-S-0001 entered (Phone call (entered by staff))"
    )
    expect(success_message(page)).to_contain_text("No email was sent to the person.")
    expect(page.get_by_role("heading", name="LDN-S-0001", exact=True)).to_be_visible()
    # Queue, the entry page, then the form's POST and the participant page it leads to.
    assert len(page.loads) == 4, page.loads
    participant = Participant.objects.get()
    assert participant.entry_source == EntrySource.PHONE
    assert participant.entered_by.username == "casey"
    assert participant.outcome == "needs_review"  # some questions left unanswered or unsure
    assert [m.to for m in mail.outbox] == [["coordinators@example.edu"]]


def test_a_coordinator_confirms_a_duplicate_keeping_its_new_phone_in_six_page_loads(
    admin_page, study
):
    kept = submit(study, phone="205-555-0134", first_name="Ann", last_name="Lee")
    duplicate = submit(study, phone="(205) 555-0199", first_name="Ann", last_name="Lee")
    assert duplicate.duplicate_of == kept
    page = admin_page

    page.get_by_role("link", name="Participants", exact=True).click()
    page.locator("#result_list").get_by_role("link", name="LDN-S-0002").click()
    expect(page.locator("#duplicate-warning")).to_contain_text("LDN-S-0001")
    page.locator("ul.object-tools").get_by_role("link", name="Confirm duplicate").click()
    expect(page.locator("#details-that-differ")).to_contain_text("205-555-0199")
    page.get_by_label("Copy the phone to LDN-S-0001").check()
    page.get_by_role("button", name="Confirm duplicate and close").click()
    expect(success_message(page)).to_contain_text("Copied to LDN-S-0001: phone.")
    page.get_by_role("link", name="LDN-S-0001").first.click()
    expect(page.get_by_label("Phone")).to_have_value("+12055550199")

    # Queue, the duplicate, its confirm page, the POST and its redirect, the kept record.
    assert len(page.loads) == 6, page.loads
    kept.refresh_from_db()
    assert kept.phone == "+12055550199"  # stored in E.164
    assert kept.history.filter(history_change_reason="Copied from duplicate LDN-S-0002").exists()


def test_the_entry_page_with_errors_and_the_confirm_page_have_no_axe_violation_in_their_content(
    admin_page, study
):
    from tests.browser.axe import assert_no_axe_violation

    def assert_accessible(page):
        # The pages' own content: the admin's breadcrumbs (Django's style, on every admin
        # page) are links told apart by color alone.
        assert_no_axe_violation(page, {"include": [["#content"]]})

    page = admin_page
    page.goto(page.url.split("/admin/")[0] + "/admin/recruitment/participant/add/")
    page.get_by_role("button", name="Save the applicant").click()
    expect(page.locator(".errornote")).to_be_visible()
    assert_accessible(page)

    submit(study, phone="205-555-0134")
    duplicate = submit(study, phone="(205) 555-0199")
    page.goto(
        page.url.split("/admin/")[0]
        + f"/admin/recruitment/participant/{duplicate.pk}/duplicate/confirm/"
    )
    expect(page.locator("#details-that-differ")).to_be_visible()
    assert_accessible(page)
