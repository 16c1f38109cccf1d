"""A coordinator's whole day with one applicant, in a real browser at 1366 x 768: sign in to
the call list, find today's call, log it with the call card in view, move to screening, verify
the answer the patient was not sure of, record the lab values, mark eligible, record consent,
enroll. Every page load after signing in is counted.

From the call list: the participant's page (1), the contact attempt with the card (2), the
one-click move to screening (1), the verified answer (2), the lab values (2), the one-click
eligible (1), consent (2) and enrollment (2): 13. Through the pages as they were before the
call list and the call card (the queue, a participant page, then each step's form and its
answer, with no way to verify an answer), the same path took 14 loads and stopped short at the
"not sure" answer.
"""

import pytest
from playwright.sync_api import expect

from accounts import roles
from accounts.services import roles_ensure
from recruitment.models import CriterionVerdict, Participant, Provenance, Status, Study
from recruitment.studies.services import study_load_file
from tests.browser.pages import card_step, count_page_loads, success_message
from tests.conftest import LDN_FILE
from tests.factories import LDN_ELIGIBLE_ANSWERS, PASSWORD, StaffFactory, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

JOURNEY_PAGE_LOADS = 13
NOT_SURE_OF_VISITS = {**LDN_ELIGIBLE_ANSWERS, "can-attend": "unsure"}


def test_a_coordinator_takes_todays_call_from_the_call_list_to_enrollment(open_page, live_server):
    study = study_load_file(path=LDN_FILE).study
    # The journey before the run-in existed: enrolled straight after consent.
    Study.objects.filter(pk=study.pk).update(run_in_days=0)
    study.refresh_from_db()
    coordinator = StaffFactory(username="casey", first_name="Casey")
    coordinator.groups.add(roles_ensure()[roles.COORDINATOR])
    study.members.add(coordinator)
    person = submit(study, answers=NOT_SURE_OF_VISITS, note="Afternoons are best.")
    page = open_page(viewport={"width": 1366, "height": 768})
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill("casey")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # Signing in lands on the call list: Ann is a new applicant nobody has called.
    expect(page.get_by_role("heading", name="Call list", level=1)).to_be_visible()
    page.wait_for_load_state("load")
    loads = count_page_loads(page)
    new_applicants = page.get_by_role("region", name="New, not contacted yet (1)")
    new_applicants.get_by_role("link", name="Ann Lee").click()

    # The call card is the first screen: who, the number, why.
    expect(page.locator("#call-card-title")).to_have_text("Ann Lee")
    assert page.locator("#call-card").bounding_box()["y"] < 768
    expect(page.locator("#call-card-summary")).to_contain_text("1 not sure")
    card_step(page, "Log a contact attempt")
    expect(page.locator("#call-card-phone")).to_have_text("205-555-0134")
    expect(page.locator(".call-script")).to_contain_text("May I speak with [first name]?")
    page.get_by_label("How").select_option(label="Phone call")
    page.get_by_label("Outcome").select_option(label="Reached")
    page.get_by_label("Note").fill("She can come on Monday for the screening visit.")
    page.get_by_role("button", name="Log the attempt").click()
    expect(success_message(page)).to_have_text("Contact attempt logged for LDN-S-0001: Reached.")

    card_step(page, "Move to screening")
    expect(success_message(page)).to_have_text("LDN-S-0001 is now “Screening”.")

    # The answer she was not sure of, asked again on the phone.
    page.locator("ul.object-tools").get_by_role(
        "link", name="Verify answers (1 not sure)", exact=True
    ).click()
    page.get_by_label("Can attend visits in Birmingham").select_option(label="Yes")
    page.get_by_label("How it was confirmed").select_option(label="Asked on the phone")
    page.get_by_role("button", name="Save the verified answers").click()
    expect(success_message(page)).to_contain_text("Verified answers saved for LDN-S-0001.")

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

    card_step(page, "Mark eligible")
    expect(success_message(page)).to_have_text("LDN-S-0001 is now “Eligible”.")

    card_step(page, "Record informed consent")
    page.get_by_label("Consent form version").fill("ICF v2.0")
    page.get_by_role("button", name="Record consent").click()
    expect(success_message(page)).to_have_text(
        "Informed consent recorded: LDN-S-0001 is now “Consented”."
    )

    card_step(page, "Enroll")
    page.get_by_role("button", name="Enroll").click()
    expect(success_message(page)).to_have_text("LDN-S-0001 is enrolled as LDN-001.")

    page.wait_for_load_state("load")
    assert len(loads) == JOURNEY_PAGE_LOADS, loads
    participant = Participant.objects.get(pk=person.pk)
    assert (participant.status, participant.participant_id) == (Status.ENROLLED, "LDN-001")
    verified = CriterionVerdict.objects.get(participant=participant, criterion__code="can-attend")
    assert verified.provenance == Provenance.STAFF_VERIFIED
