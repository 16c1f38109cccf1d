"""Two screening steps in a real browser, each with the page loads it takes counted: ruling
out new applicants the pre-screen found likely ineligible (from the queue, several at once,
and from one participant's page), and verifying a "not sure" answer on the phone.

Page loads are the pages the coordinator waits for (a form posted and the page it redirects
to count as one). Without these steps, ruling out one applicant took 5 (the page, "Change
status" to screening and back, "Change status" to ineligible with a criterion and back), and
a "not sure" could not be resolved at all (only an investigator's override got past it).
"""

import pytest
from playwright.sync_api import Page, expect

from accounts import roles
from accounts.services import roles_ensure
from recruitment.models import CriterionVerdict, Participant, Provenance, Status, StatusChange
from recruitment.studies.services import study_load_file
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.pages import count_page_loads, success_message
from tests.conftest import LDN_FILE
from tests.factories import LDN_ELIGIBLE_ANSWERS, PASSWORD, StaffFactory, applicant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FAILS_TWO = {**LDN_ELIGIBLE_ANSWERS, "allergy": "yes", "liver": "yes"}
UNSURE_ATTENDANCE = {**LDN_ELIGIBLE_ANSWERS, "can-attend": "unsure"}


@pytest.fixture
def study(live_server):
    return study_load_file(path=LDN_FILE).study


@pytest.fixture
def admin(browser, live_server, study):
    """The coordinator's browser, signed in; `admin.loads` counts the pages it loads from
    then on."""
    coordinator = StaffFactory(username="casey", first_name="Casey")
    coordinator.groups.add(roles_ensure()[roles.COORDINATOR])
    study.members.add(coordinator)
    context = browser.new_context(locale="en-US", timezone_id="America/Chicago")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(live_server.url + "/admin/")
    page.get_by_label("Username").fill("casey")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Participants", exact=True)).to_be_visible()
    page.wait_for_load_state("load")  # the admin's index after signing in is not counted
    page.loads = count_page_loads(page)
    yield page
    context.close()


def page_loads(page: Page) -> int:
    """The pages loaded so far (the last one has shown what the test waited for)."""
    page.wait_for_load_state("load")
    return len(page.loads)


def open_step(page: Page, label: str) -> None:
    page.locator("ul.object-tools").get_by_role("link", name=label, exact=True).click()


def open_participant(page: Page, number: str) -> None:
    """From the admin's index: the queue, then the participant (2 page loads)."""
    page.get_by_role("link", name="Participants", exact=True).click()
    page.locator("#result_list").get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", name=number, exact=True)).to_be_visible()


def test_a_coordinator_rules_out_two_likely_ineligible_applicants_from_the_queue(admin, study):
    first, second = applicant(study, answers=FAILS_TWO), applicant(study, answers=FAILS_TWO)
    unsure = applicant(study, answers=UNSURE_ATTENDANCE)

    admin.get_by_role("link", name="Participants", exact=True).click()
    for participant in (first, second, unsure):
        admin.locator(f"input.action-select[value='{participant.pk}']").check()
    admin.locator("select[name=action]").select_option(label="Rule out (pre-screen ineligible)")
    admin.get_by_role("button", name="Go").click()

    expect(success_message(admin)).to_have_text(
        "2 participants ruled out as “Ineligible”: "
        f"{first.screening_number}, {second.screening_number}."
    )
    expect(admin.locator("ul.messagelist li.error")).to_contain_text(
        f"{unsure.screening_number} cannot be ruled out from “New”"
    )
    assert page_loads(admin) == 2  # the queue, the queue after the action
    statuses = dict(Participant.objects.values_list("pk", "status"))
    assert [statuses[p.pk] for p in (first, second, unsure)] == ["ineligible", "ineligible", "new"]


def test_a_coordinator_rules_out_one_applicant_from_their_page(admin, study):
    participant = applicant(study, answers=FAILS_TWO)
    number = participant.screening_number

    open_participant(admin, number)
    open_step(admin, "Rule out (pre-screen ineligible)")
    expect(admin.locator("#rule-out-criteria")).to_contain_text(
        "No allergy to naltrexone or naloxone"
    )
    admin.get_by_role("button", name="Rule out as ineligible").click()

    expect(success_message(admin)).to_have_text(
        f"{number} is ruled out: now “Ineligible” (Fails a criterion)."
    )
    # The queue, the page, the rule-out page, the page again: 4 (5 from the queue before).
    assert page_loads(admin) == 4
    (change,) = StatusChange.objects.filter(participant=participant)
    assert (change.from_status, change.to_status, change.reason_criterion) == (
        Status.NEW,
        Status.INELIGIBLE,
        "allergy",
    )


def test_a_coordinator_verifies_a_not_sure_on_the_phone(admin, study):
    participant = applicant(study, answers=UNSURE_ATTENDANCE)
    number = participant.screening_number

    open_participant(admin, number)
    open_step(admin, "Verify answers (1 not sure)")
    expect(admin.locator("#content-main")).to_contain_text("The patient answered: Not sure.")
    admin.get_by_label("Can attend visits in Birmingham").select_option(label="Yes")
    admin.get_by_label("How it was confirmed").select_option(label="Asked on the phone")
    admin.get_by_label("Note").fill("Her daughter will drive her.")
    admin.get_by_role("button", name="Save the verified answers").click()

    expect(success_message(admin)).to_have_text(
        f"Verified answers saved for {number}. "
        "Pre-screen outcome: Likely eligible (staff checks pending)."
    )
    # The queue, the page, the verify page, the page again.
    assert page_loads(admin) == 4
    verdict = CriterionVerdict.objects.get(participant=participant, criterion__code="can-attend")
    assert (verdict.verdict, verdict.provenance) == ("met", Provenance.STAFF_VERIFIED)
    expect(admin.locator("ul.object-tools")).not_to_contain_text("not sure")
