"""axe-core's WCAG 2.0, 2.1 and 2.2 A and AA rules on every page a patient or coordinator meets,
in light and in dark mode (color contrast differs), run in Debian's Chromium.

A failure lists each violated rule with its impact and the CSS selectors of the elements.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from accounts import roles
from accounts.services import roles_ensure
from recruitment.intake.withdraw import withdraw_token_make
from recruitment.models import Status
from tests.browser.test_layout import open_thank_you_page, send
from tests.factories import LDN_ELIGIBLE_ANSWERS, PASSWORD, StaffFactory, applicant, walk

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
COLOR_SCHEMES = ["light", "dark"]
INTEREST = "/studies/ldn-mecfs/interest/"

_axe = Axe()


def axe_violations(page: Page) -> list[str]:
    """One line per violated rule: id, impact and the selectors of every offending element."""
    results = _axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"])
        for v in results.response["violations"]
    ]


def assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], f"axe found violations on {page.url}:\n" + "\n".join(violations)


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
        results = _axe.run(
            page,
            context={"include": [["#content"]]},
            options={"runOnly": {"type": "tag", "values": WCAG_TAGS}},
        )
        assert results.response["violations"] == [], results.generate_report()

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
