"""A coordinator's day in a real browser: a patient applies on the public form, and the
coordinator works them in the admin from the first call to enrolment.

The coordinator signs in with a username and password and finds every button and field by what
it says, as a person would.
"""

import pytest
from playwright.sync_api import Page, expect

from accounts import roles
from accounts.services import roles_ensure
from recruitment.models import ContactAttempt, Participant, Status, StatusChange, Study
from recruitment.studies.services import study_load_file
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.pages import success_message
from tests.browser.test_patient_journey import (
    answer_health_questions,
    fill_about_you,
    fill_last_few_things,
    open_interest_form,
    send,
)
from tests.conftest import LDN_FILE
from tests.factories import PASSWORD, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def coordinator_page(browser):
    """A second browser, the coordinator's, with no cookie from the patient's."""
    context = browser.new_context(locale="en-US", timezone_id="America/Chicago")
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def a_patient_applies(page: Page, base_url: str) -> None:
    open_interest_form(page, base_url)
    fill_about_you(page, date_of_birth="1980-04-28", zip_code="35203")
    answer_health_questions(page)
    fill_last_few_things(page)
    send(page)
    expect(page.locator("#screening-number")).to_have_text("LDN-S-0001")


def open_step(page: Page, label: str) -> None:
    """Follow one of the workflow buttons at the top of the participant page."""
    page.locator("ul.object-tools").get_by_role("link", name=label, exact=True).click()


def test_a_coordinator_works_a_new_applicant_from_the_first_call_to_enrolment(
    page, coordinator_page, live_server
):
    study = study_load_file(path=LDN_FILE).study
    # The journey before the run-in existed: enrolled straight after consent.
    Study.objects.filter(pk=study.pk).update(run_in_days=0)
    study.refresh_from_db()
    coordinator = StaffFactory(username="casey", first_name="Casey")
    coordinator.groups.add(roles_ensure()[roles.COORDINATOR])
    study.members.add(coordinator)
    a_patient_applies(page, live_server.url)
    admin = coordinator_page

    # Sign in.
    admin.goto(live_server.url + "/admin/")
    admin.get_by_label("Username").fill("casey")
    admin.get_by_label("Password").fill(PASSWORD)
    admin.get_by_role("button", name="Log in").click()

    # Find the patient who just applied, by screening number.
    admin.get_by_role("link", name="Participants", exact=True).click()
    expect(admin.locator("#study-progress")).to_contain_text("0 of 20 enrolled, 20 slots free")
    admin.locator("#searchbar").fill("LDN-S-0001")
    admin.get_by_role("button", name="Search").click()
    admin.locator("#result_list").get_by_role("link", name="LDN-S-0001").click()
    expect(admin.get_by_role("heading", name="LDN-S-0001", exact=True)).to_be_visible()
    expect(admin.get_by_label("First name")).to_have_value("Ann")

    # Log the first call.
    open_step(admin, "Log a contact attempt")
    admin.get_by_label("How").select_option(label="Phone call")
    admin.get_by_label("Outcome").select_option(label="Reached")
    admin.get_by_label("Note").fill("She can come in for the screening visit on Monday.")
    admin.get_by_role("button", name="Log the attempt").click()
    expect(success_message(admin)).to_have_text("Contact attempt logged for LDN-S-0001: Reached.")
    expect(admin.locator("body")).to_contain_text("She can come in for the screening visit")

    # Move to screening.
    open_step(admin, "Change status")
    admin.get_by_label("New status").select_option(label="Screening")
    admin.get_by_role("button", name="Change status").click()
    expect(success_message(admin)).to_have_text("LDN-S-0001 is now “Screening”.")

    # Record the lab values from the screening visit; the evaluation updates.
    open_step(admin, "Record lab values")
    admin.get_by_label("hs-CRP under 3 mg/L (value in mg/L)").fill("1.2")
    admin.get_by_label("ESR not above 60 mm/h (value in mm/h)").fill("12")
    admin.get_by_label("Rheumatoid factor negative").select_option(label="Negative")
    admin.get_by_label("Antinuclear antibodies (ANA) negative").select_option(label="Negative")
    admin.get_by_label("Thyroid tests in range").select_option(label="In range")
    admin.get_by_role("button", name="Save the values").click()
    expect(success_message(admin)).to_have_text(
        "Values saved for LDN-S-0001. Pre-screen outcome: All criteria met."
    )
    expect(admin.locator("body")).to_contain_text("hs-CRP under 3 mg/L 1.2 mg/L; needs under 3")

    # Mark eligible: every criterion is met, so no reason is asked.
    open_step(admin, "Change status")
    admin.get_by_label("New status").select_option(label="Eligible")
    admin.get_by_role("button", name="Change status").click()
    expect(success_message(admin)).to_have_text("LDN-S-0001 is now “Eligible”.")

    # Record informed consent (today, obtained by the coordinator: both filled in already).
    open_step(admin, "Record informed consent")
    admin.get_by_label("Consent form version").fill("ICF v2.0")
    admin.get_by_role("button", name="Record consent").click()
    expect(success_message(admin)).to_have_text(
        "Informed consent recorded: LDN-S-0001 is now “Consented”."
    )

    # Enrol: the first participant ID is given.
    open_step(admin, "Enroll")
    expect(admin.locator("#content-main")).to_contain_text("0 of 20 enrolled, 20 slots free")
    admin.get_by_role("button", name="Enroll").click()
    expect(success_message(admin)).to_have_text("LDN-S-0001 is enrolled as LDN-001.")
    expect(admin.get_by_text("LDN-001", exact=True)).to_be_visible()

    participant = Participant.objects.get()
    assert (participant.status, participant.participant_id) == (Status.ENROLLED, "LDN-001")
    assert ContactAttempt.objects.get().by == coordinator
    assert list(
        StatusChange.objects.filter(participant=participant).values_list("to_status", flat=True)
    ) == ["screening", "eligible", "consented", "enrolled"]
