"""axe-core's WCAG 2.0, 2.1 and 2.2 A and AA rules on every page a patient or coordinator meets,
in light and in dark mode (color contrast differs), run in Debian's Chromium.

A failure lists each violated rule with its impact and the CSS selectors of the elements.
"""

import datetime as dt

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts import roles
from accounts.services import roles_ensure
from recruitment.intake.withdraw import withdraw_token_make
from recruitment.models import Status, Visit
from recruitment.studies.services import study_load_file
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
    assert_accessible(page)
