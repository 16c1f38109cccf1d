"""axe-core's WCAG 2.0, 2.1 and 2.2 A and AA rules on every page a patient or coordinator meets,
in light and in dark mode (color contrast differs), run in Debian's Chromium.

A failure lists each violated rule with its impact and the CSS selectors of the elements.
"""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts import roles
from accounts.services import roles_ensure
from recruitment.intake.withdraw import withdraw_token_make
from recruitment.invitations.services import registry_invitation_send
from recruitment.links import INVITATION_NO, INVITATION_YES, invitation_path, registry_leave_path
from recruitment.models import Status, Visit
from recruitment.studies.services import study_load_file
from tests.browser.axe import assert_no_axe_violation
from tests.browser.test_layout import open_thank_you_page, send
from tests.conftest import LDN_FILE
from tests.factories import (
    LDN_ELIGIBLE_ANSWERS,
    PASSWORD,
    StaffFactory,
    applicant,
    participants_bulk,
    walk,
)
from tests.invitations.scenario import (
    match_of,
    person_in_registry,
    shared_answers_give,
    sleep_study,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COLOR_SCHEMES = ["light", "dark"]
INTEREST = "/studies/ldn-mecfs/interest/"


def assert_accessible(page: Page) -> None:
    assert_no_axe_violation(page)


@pytest.fixture(params=COLOR_SCHEMES)
def patient_page(request, open_page, live_server, ldn_study):
    """A patient's browser in light or dark mode, with the LDN study recruiting."""
    return open_page(color_scheme=request.param)


def test_the_home_page_has_no_axe_violation(patient_page, live_server):
    patient_page.goto(live_server.url + "/")
    expect(patient_page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(patient_page)


def test_the_study_page_has_no_axe_violation(patient_page, live_server):
    patient_page.goto(live_server.url + "/studies/ldn-mecfs/")
    expect(patient_page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(patient_page)


def test_the_empty_interest_form_has_no_axe_violation(patient_page, live_server):
    patient_page.goto(live_server.url + INTEREST)
    expect(patient_page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(patient_page)


def test_the_interest_form_after_a_failed_submission_has_no_axe_violation(
    patient_page, live_server
):
    patient_page.goto(live_server.url + INTEREST)
    send(patient_page)  # empty: an error for every required field
    expect(patient_page.locator("#error-summary")).to_be_visible()
    assert_accessible(patient_page)


def test_the_thank_you_page_has_no_axe_violation(patient_page, live_server):
    open_thank_you_page(patient_page, live_server.url)
    expect(patient_page.locator("#screening-number")).to_be_visible()
    assert_accessible(patient_page)


def test_the_withdraw_pages_have_no_axe_violation(patient_page, live_server, ldn_study):
    person = applicant(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)
    token = withdraw_token_make(participant=person)

    patient_page.goto(f"{live_server.url}/withdraw/{token}/")
    expect(patient_page.get_by_role("button", name="Yes, withdraw my interest")).to_be_visible()
    assert_accessible(patient_page)

    patient_page.goto(f"{live_server.url}/withdraw/not-a-real-link/")
    expect(patient_page.get_by_role("heading", level=1)).to_have_text("This link does not work")
    assert_accessible(patient_page)


def test_the_page_after_withdrawing_has_no_axe_violation(patient_page, live_server, ldn_study):
    person = applicant(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)
    token = withdraw_token_make(participant=person)
    patient_page.goto(f"{live_server.url}/withdraw/{token}/")

    patient_page.get_by_role("button", name="Yes, withdraw my interest").click()

    expect(patient_page.get_by_role("heading", level=1)).to_have_text(
        "You have withdrawn your interest", timeout=2_000
    )
    assert_accessible(patient_page)


def test_the_registry_pages_have_no_axe_violation(patient_page, live_server, ldn_study):
    member = applicant(ldn_study, answers=LDN_ELIGIBLE_ANSWERS, registry_consent=True)
    patient_page.goto(f"{live_server.url}/withdraw/{withdraw_token_make(participant=member)}/")
    second = patient_page.get_by_role("button", name="Stop contacting me about other studies")
    expect(second).to_be_visible()
    assert_accessible(patient_page)

    patient_page.goto(f"{live_server.url}{registry_leave_path(person=member.person)}")
    expect(second).to_be_visible()
    assert_accessible(patient_page)

    second.click()
    expect(patient_page.get_by_role("heading", level=1)).to_have_text(
        "We will not contact you about other studies", timeout=2_000
    )
    assert_accessible(patient_page)

    patient_page.goto(f"{live_server.url}/registry/leave/not-a-real-link/")
    expect(patient_page.get_by_role("heading", level=1)).to_have_text("This link does not work")
    assert_accessible(patient_page)


@pytest.fixture
def casey(ldn_study):
    """Casey, a coordinator of the LDN study, which has participants at several stages; unlike
    tests/conftest.py's `coordinator`, Casey has a password, to sign in through the page."""
    user = StaffFactory(username="casey", first_name="Casey")
    user.groups.add(roles_ensure()[roles.COORDINATOR])
    ldn_study.members.add(user)
    for status in [Status.NEW, Status.SCREENING, Status.ELIGIBLE, Status.ENROLLED]:
        walk(applicant(ldn_study, answers=LDN_ELIGIBLE_ANSWERS), status, by=user)
    walk(
        applicant(ldn_study, answers={**LDN_ELIGIBLE_ANSWERS, "liver": "yes"}),
        Status.INELIGIBLE,
        by=user,
    )
    return user


@pytest.mark.parametrize("color_scheme", COLOR_SCHEMES)
def test_the_login_page_and_the_staff_dashboard_have_no_axe_violation(
    open_page, live_server, casey, color_scheme
):
    page = open_page(color_scheme=color_scheme, viewport={"width": 1280, "height": 900})
    page.goto(live_server.url + "/staff/")
    expect(page).to_have_url(live_server.url + "/admin/login/?next=/staff/")
    assert_accessible(page)

    page.get_by_label("Username").fill("casey")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recruitment dashboard")
    assert_accessible(page)


# -- Registry invitations: the pages behind the email's links, and the study team's matches --
@pytest.fixture
def invitation_links(ldn_study, django_capture_on_commit_callbacks):
    """Ann's invitation to the sleep study: its yes and no links (paths)."""

    person = person_in_registry(ldn_study)
    shared_answers_give(person)
    invitation = registry_invitation_send(
        match=match_of(sleep_study(), person), by=StaffFactory(username="inviter")
    )
    return {
        "yes": invitation_path(invitation=invitation, response=INVITATION_YES),
        "no": invitation_path(invitation=invitation, response=INVITATION_NO),
    }


def test_the_invitation_s_yes_page_has_no_axe_violation_empty_and_after_an_error(
    patient_page, live_server, invitation_links
):
    patient_page.goto(live_server.url + invitation_links["yes"])
    expect(patient_page.get_by_role("heading", level=1)).to_have_text("Apply to Sleep study")
    assert_accessible(patient_page)

    patient_page.get_by_role("button", name="Send my answers").click()
    expect(patient_page.locator("#error-summary")).to_be_visible()
    assert_accessible(patient_page)


def test_the_invitation_s_no_pages_have_no_axe_violation(
    patient_page, live_server, invitation_links
):
    patient_page.goto(live_server.url + invitation_links["no"])
    assert_accessible(patient_page)

    patient_page.get_by_role("button", name="No, thanks").click()
    expect(patient_page.get_by_role("heading", level=1)).to_have_text(
        "Thank you for your answer", timeout=2_000
    )
    assert_accessible(patient_page)

    patient_page.goto(live_server.url + invitation_links["no"])
    expect(patient_page.get_by_role("heading", level=1)).to_have_text("This link does not work")
    assert_accessible(patient_page)


@pytest.mark.parametrize(
    "viewport",
    [{"width": 1366, "height": 768}, {"width": 390, "height": 844}],
    ids=["wide", "phone"],
)
def test_the_registry_matches_page_has_no_axe_violation_and_fits_a_phone(
    open_page, live_server, ldn_study, viewport
):

    study = sleep_study()
    user = StaffFactory(username="sam")
    user.groups.add(roles_ensure()[roles.COORDINATOR])
    study.members.add(user)
    match_of(study, person_in_registry(ldn_study), number=7)
    page = open_page(viewport=viewport)
    # Signing in hashes the password (Argon2): slow on a loaded machine, so a longer wait.
    page.goto(f"{live_server.url}/staff/registry/{study.slug}/matches/", timeout=20_000)
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click(timeout=20_000)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Registry matches")
    page.wait_for_load_state("load")

    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    expect(page.get_by_role("button", name="Invite M-0007")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Invite M-0007").click()
    expect(page.get_by_role("status")).to_contain_text("M-0007 is invited")

    # The center's queue lists the same matches in the same groups.
    page.goto(f"{live_server.url}/staff/registry/")
    expect(page.get_by_role("heading", level=1)).to_have_text("The center's registry")
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    expect(page.get_by_role("rowheader", name="M-0007")).to_be_visible()
    assert_accessible(page)


@pytest.mark.parametrize("color_scheme", COLOR_SCHEMES)
def test_the_criteria_amendment_pages_have_no_axe_violation(
    open_page, live_server, ldn_study, color_scheme
):
    from recruitment.amendments.services import criteria_draft_create

    ivy = StaffFactory(username="ivy", first_name="Ivy")
    ivy.groups.add(roles_ensure()[roles.INVESTIGATOR])
    ldn_study.members.add(ivy)
    applicant(ldn_study, answers={**LDN_ELIGIBLE_ANSWERS, "opioids": {"taken": "no"}})
    draft = criteria_draft_create(study=ldn_study, by=ivy, note="Amendment 3")
    page = open_page(color_scheme=color_scheme, viewport={"width": 1280, "height": 900})
    page.goto(live_server.url + "/admin/login/?next=/staff/studies/ldn-mecfs/amendments/")
    page.get_by_label("Username").fill("ivy")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Amending criteria: LDN for ME/CFS")
    assert_accessible(page)

    page.get_by_role("link", name=f"Draft {draft.pk}").click()
    expect(page.get_by_role("heading", level=2, name="What if it were published")).to_be_visible()
    assert_accessible(page)

    page.locator("#id_params_0").fill("{not json")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page)


def test_the_center_form_its_errors_and_its_thank_you_page_have_no_axe_violation(
    patient_page, live_server
):
    patient_page.goto(live_server.url + "/center/interest/")
    assert_accessible(patient_page)

    patient_page.get_by_role("button", name="Send my interest").click()
    expect(patient_page.locator("#error-summary")).to_be_visible()
    assert_accessible(patient_page)

    patient_page.goto(live_server.url + "/center/interest/thanks/")
    assert_accessible(patient_page)


@pytest.mark.parametrize("color_scheme", COLOR_SCHEMES)
def test_the_registry_queue_has_no_axe_violation(open_page, live_server, casey, color_scheme):
    from tests.registry.conftest import registry_person

    registry_person(email="member@example.com")
    page = open_page(color_scheme=color_scheme, viewport={"width": 1280, "height": 900})
    page.goto(live_server.url + "/admin/login/?next=/staff/registry/")
    page.get_by_label("Username").fill("casey")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The center's registry")


# ---------------------------------------------------------------------------------------------
# The visits page, and a participant's visits
# ---------------------------------------------------------------------------------------------
VISITS = "/staff/visits/"


def a_week_of_visits(study, coordinator) -> list:
    """Visits today (one of them outside its window) and on another day of this week."""
    today = timezone.localdate()
    other_day = today + dt.timedelta(days=1 if today.weekday() == 0 else -1)
    plan = {p.code: p for p in study.planned_visits.all()}
    people = participants_bulk(study, 4, status=Status.CONSENTED, by=coordinator)
    times = [(today, 9, "screening"), (today, 14, "baseline-start"), (other_day, 10, "screening")]
    times.append((other_day, 15, "screening"))
    return [
        Visit.objects.create(
            participant=person,
            planned_visit=plan[code],
            starts_at=timezone.make_aware(dt.datetime.combine(day, dt.time(hour))),
            place=plan[code].place,
            with_whom="Dr. Rivera, research coordinator",
            booked_by=coordinator,
        )
        for person, (day, hour, code) in zip(people, times, strict=True)
    ]


def visits_coordinator(study):
    """Casey, a coordinator of `study` who signs in with a password."""
    user = StaffFactory(username="casey", first_name="Casey")
    user.groups.add(roles_ensure()[roles.COORDINATOR])
    study.members.add(user)
    return user


def sign_in_to(page: Page, base_url: str, path: str) -> None:
    page.goto(f"{base_url}/admin/login/?next={path}")
    page.get_by_label("Username").fill("casey")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(base_url + path)
    page.wait_for_load_state("load")


@pytest.mark.parametrize("scheme", COLOR_SCHEMES)
def test_the_visits_page_and_a_participants_visits_have_no_axe_violation(
    open_page, live_server, scheme
):
    study = study_load_file(path=LDN_FILE).study
    visits = a_week_of_visits(study, visits_coordinator(study))
    page = open_page(viewport={"width": 1280, "height": 900}, color_scheme=scheme)

    sign_in_to(page, live_server.url, VISITS)
    expect(page.locator(".outside-window").first).to_be_visible()
    assert_accessible(page)

    page.goto(f"{live_server.url}/admin/recruitment/participant/{visits[0].participant_id}/visits/")
    expect(page.get_by_role("heading", name="Book a visit")).to_be_visible()


@pytest.fixture
def run_in_investigator(ldn_study_with_run_in):
    """Ira, an investigator of the LDN study with its run-in, who may override it; one
    participant consented and one in the run-in."""
    study = ldn_study_with_run_in
    user = StaffFactory(username="ira", first_name="Ira")
    user.groups.add(roles_ensure()[roles.INVESTIGATOR])
    study.members.add(user)
    consented = walk(applicant(study, answers=LDN_ELIGIBLE_ANSWERS), Status.CONSENTED, by=user)
    in_run_in = walk(applicant(study, answers=LDN_ELIGIBLE_ANSWERS), Status.RUN_IN, by=user)
    return user, consented, in_run_in


@pytest.mark.parametrize("color_scheme", COLOR_SCHEMES)
def test_the_run_in_pages_and_the_dashboards_run_in_list_have_no_axe_violation(
    open_page, live_server, run_in_investigator, color_scheme
):
    _user, consented, in_run_in = run_in_investigator
    page = open_page(color_scheme=color_scheme, viewport={"width": 1280, "height": 900})
    page.goto(live_server.url + "/admin/login/?next=/staff/")
    page.get_by_label("Username").fill("ira")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="In the run-in")).to_be_visible()
    assert_accessible(page)

    def assert_content_accessible(page: Page) -> None:
        # The pages' own content: the admin's breadcrumbs (Django's style, on every admin
        # page) are links told apart by color alone.
        assert_no_axe_violation(page, {"include": [["#content"]]})

    base = f"{live_server.url}/admin/recruitment/participant"
    for url in (
        f"{base}/{consented.pk}/run-in/start/",
        f"{base}/{in_run_in.pk}/change/",
        f"{base}/{in_run_in.pk}/run-in/failed/",
        f"{base}/{in_run_in.pk}/run-in/override/",
        f"{base}/{in_run_in.pk}/run-in/adherence/",
    ):
        page.goto(url)
        assert_content_accessible(page)

    # The adherence page with an error next to its field.
    page.get_by_label("Days with a completed daily report").fill("9")
    page.get_by_role("button", name="Record adherence").click()
    expect(page.locator(".errornote")).to_be_visible()
    assert_content_accessible(page)


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(base_url + "/admin/login/?next=/staff/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recruitment dashboard")


@pytest.fixture
def unblinding_team(ldn_study):
    """Sam, the LDN study's unblinded statistician, with a sealed list; Ivy, its investigator;
    one participant enrolled from the list (pack K-0001)."""
    from recruitment.allocation.services import allocation_list_upload

    sam = StaffFactory(username="sam")
    sam.groups.add(roles_ensure()[roles.UNBLINDED_STATISTICIAN])
    ivy = StaffFactory(username="ivy")
    ivy.groups.add(roles_ensure()[roles.INVESTIGATOR])
    ldn_study.members.add(sam, ivy)
    allocation_list_upload(
        study=ldn_study,
        content=b"sequence,stratum,arm,pack_code\n1,,AB,K-0001\n2,,BA,K-0002\n",
        filename="list.csv",
        arms=["AB", "BA"],
        strata=[],
        by=sam,
    )
    enrolled = walk(applicant(ldn_study, answers=LDN_ELIGIBLE_ANSWERS), Status.ENROLLED, by=ivy)
    return sam, ivy, enrolled


@pytest.mark.parametrize("color_scheme", COLOR_SCHEMES)
def test_the_allocation_pages_have_no_axe_violation(
    open_page, live_server, unblinding_team, color_scheme
):
    _sam, _ivy, enrolled = unblinding_team
    page = open_page(color_scheme=color_scheme, viewport={"width": 1280, "height": 900})
    sign_in(page, live_server.url, "sam")
    page.goto(live_server.url + "/staff/allocation/ldn-mecfs/")
    expect(page.locator("#remaining")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Allocation list (CSV)").set_input_files(
        files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": b"sequence,arm\n1,AB\n"}]
    )
    page.get_by_role("button", name="Check and store the list").click()
    expect(page.locator("#file-errors")).to_be_visible()
    assert_accessible(page)

    page = open_page(color_scheme=color_scheme, viewport={"width": 1280, "height": 900})
    sign_in(page, live_server.url, "ivy")
    assert_accessible(page)  # the dashboard, with its packs left and unblindings
    page.goto(f"{live_server.url}/staff/allocation/ldn-mecfs/participants/{enrolled.pk}/unblind/")
    page.get_by_role("button", name="Unblind this participant").click()
    expect(page.locator("#id_reason_errors")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Medical reason for unblinding").fill("Serious adverse event")
    page.get_by_role("button", name="Unblind this participant").click()
    expect(page.locator("#arm")).to_have_text("Arm: AB")
    assert_accessible(page)
    page.get_by_role("link", name="Emergency unblindings").click()
    expect(page.locator("#unblindings")).to_be_visible()
    assert_accessible(page)
