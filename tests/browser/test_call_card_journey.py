"""A coordinator works an applicant from the call card, in a real browser at 1366 x 768: log
the call with the card (name, number, call script) in view, move to screening, record the lab
values, mark eligible, record consent, enroll. Every page load is counted.

Through the workflow pages alone each of the six steps took two page loads (the step's form,
then its answer): 12. From the card, moves that need no form (to screening, eligible) are one
click each, so the journey takes 10.
"""

import pytest
from playwright.sync_api import expect

from accounts import roles
from accounts.services import roles_ensure
from recruitment.models import ContactAttempt, Participant, Status, StatusChange, Study
from recruitment.studies.services import study_load_file
from tests.browser.pages import card_step, success_message
from tests.conftest import LDN_FILE
from tests.factories import LDN_ELIGIBLE_ANSWERS, PASSWORD, StaffFactory, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

JOURNEY_PAGE_LOADS = 10


def test_a_coordinator_takes_an_applicant_from_the_first_call_to_enrollment_from_the_card(
    open_page, live_server
):
    study = study_load_file(path=LDN_FILE).study
    # The journey before the run-in existed: enrolled straight after consent.
    Study.objects.filter(pk=study.pk).update(run_in_days=0)
    study.refresh_from_db()
    coordinator = StaffFactory(username="casey", first_name="Casey")
    coordinator.groups.add(roles_ensure()[roles.COORDINATOR])
    study.members.add(coordinator)
    person = submit(study, answers=LDN_ELIGIBLE_ANSWERS, note="Afternoons are best.")
    page = open_page(viewport={"width": 1366, "height": 768})
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill("casey")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/admin/recruitment/participant/{person.pk}/change/")
    expect(page.locator("#call-card-title")).to_have_text("Ann Lee")
    loads = []
    page.on(
        "framenavigated",
        lambda frame: loads.append(frame.url) if frame == page.main_frame else None,
    )

    # Log the call, the card and the study's call script beside the form.
    card_step(page, "Log a contact attempt")
    expect(page.locator("#call-card-phone")).to_have_text("205-555-0134")
    expect(page.locator("#call-card")).to_contain_text("Afternoons are best.")
    expect(page.locator(".call-script")).to_contain_text("May I speak with [first name]?")
    assert page.locator("#call-card").bounding_box()["y"] < 768
    page.get_by_label("How").select_option(label="Phone call")
    page.get_by_label("Outcome").select_option(label="Reached")
    page.get_by_label("Note").fill("Can come in on Monday for the screening visit.")
    page.get_by_role("button", name="Log the attempt").click()
    expect(success_message(page)).to_have_text("Contact attempt logged for LDN-S-0001: Reached.")
    expect(page.locator("#call-card .call-card-attempts")).to_contain_text("Reached")

    # Screen: one click on the card.
    card_step(page, "Move to screening")
    expect(success_message(page)).to_have_text("LDN-S-0001 is now “Screening”.")
    # Not yet: the card says why, in words.
    expect(page.locator("#call-card .call-card-refused")).to_contain_text(
        "Mark eligible: the pre-screen has a criterion not met or not yet known (hs-CRP"
    )

    # The lab values from the screening visit.
    card_step(page, "Record lab values")
    page.get_by_label("hs-CRP under 3 mg/L (value in mg/L)").fill("1.2")
    page.get_by_label("ESR not above 60 mm/h (value in mm/h)").fill("12")
    page.get_by_label("Rheumatoid factor negative").select_option(label="Negative")
    page.get_by_label("Antinuclear antibodies (ANA) negative").select_option(label="Negative")
    page.get_by_label("Thyroid tests in range").select_option(label="In range")
    page.get_by_role("button", name="Save the values").click()
    expect(success_message(page)).to_have_text(
        "Values saved for LDN-S-0001. Pre-screen outcome: All criteria met."
    )
    expect(page.locator("#call-card-summary")).to_have_text("18 met")

    # Eligible: one click.
    card_step(page, "Mark eligible")
    expect(success_message(page)).to_have_text("LDN-S-0001 is now “Eligible”.")

    # Informed consent.
    card_step(page, "Record informed consent")
    page.get_by_label("Consent form version").fill("ICF v2.0")
    page.get_by_role("button", name="Record consent").click()
    expect(success_message(page)).to_have_text(
        "Informed consent recorded: LDN-S-0001 is now “Consented”."
    )

    # Enroll.
    card_step(page, "Enroll")
    page.get_by_role("button", name="Enrol").click()
    expect(success_message(page)).to_have_text("LDN-S-0001 is enrolled as LDN-001.")

    assert len(loads) == JOURNEY_PAGE_LOADS, loads
    participant = Participant.objects.get()
    assert (participant.status, participant.participant_id) == (Status.ENROLLED, "LDN-001")
    assert ContactAttempt.objects.get().by == coordinator
    assert list(
        StatusChange.objects.filter(participant=participant).values_list("to_status", flat=True)
    ) == ["screening", "eligible", "consented", "enrolled"]
