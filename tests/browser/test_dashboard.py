"""The staff dashboard in a real browser: a coordinator signs in through the admin's login
form, opens /staff/ and sees the LDN study's progress, CONSORT box and weekly chart.

The test also saves the screenshot the README shows (docs/dashboard.png, 1280 pixels wide).
"""

import datetime as dt
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts import roles
from accounts.services import roles_ensure
from recruitment.models import Status, Study
from recruitment.screening.services import contact_attempt_record, participant_transition
from recruitment.studies.services import study_load_file
from tests.conftest import LDN_FILE
from tests.factories import LDN_ELIGIBLE_ANSWERS, PASSWORD, StaffFactory, applicant, walk

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"

# Applications per week, the oldest of the last twelve weeks first: a burst after an article.
APPLICATIONS_PER_WEEK = [1, 2, 1, 2, 3, 9, 7, 4, 3, 2, 3, 2]
# What happened to some of them (the rest are still new), in order of application.
FAILED_ANSWERS = [
    {"allergy": "yes"},
    {"recent-ldn": "yes", "liver": "yes"},
    {"liver": "yes"},
    {"autoimmune": "yes"},
    {"allergy": "yes", "other-trial": "yes"},
]
DECLINE_REASONS = ["not reached", "not reached", "no longer interested", "moved out of state"]
# Where applicants heard of the study, in turn.
SOURCES = [
    "prohealth",
    "prohealth",
    "support_group",
    "doctor",
    "patientslikeme",
    "prohealth",
    "social_media",
    "support_group",
    "friend",
    "",
]
ENROLLED = 12


def a_recruitment_history(study, coordinator) -> None:
    """Twelve weeks of applications, screening and enrolments, dated in the past."""
    now = timezone.now()
    people = []
    for weeks_ago, count in zip(range(11, -1, -1), APPLICATIONS_PER_WEEK, strict=True):
        for i in range(count):
            when = now - dt.timedelta(weeks=weeks_ago, hours=2 + 9 * i)
            with time_machine.travel(when, tick=False):
                source = SOURCES[len(people) % len(SOURCES)]
                person = applicant(study, answers=LDN_ELIGIBLE_ANSWERS, referral_source=source)
                people.append((when, person))
    for failed in FAILED_ANSWERS:
        with time_machine.travel(now - dt.timedelta(weeks=6, hours=3), tick=False):
            person = applicant(study, answers={**LDN_ELIGIBLE_ANSWERS, **failed})
            walk(person, Status.INELIGIBLE, by=coordinator)
    # Enrolments a week or so after applying, the most recent ones no later than an hour ago.
    for when, person in people[5 : 5 + ENROLLED]:
        enrolled_at = min(when + dt.timedelta(days=9), now - dt.timedelta(hours=1))
        with time_machine.travel(enrolled_at, tick=False):
            walk(person, Status.ENROLLED, by=coordinator)
    rest = people[5 + ENROLLED :]
    for reason, (when, person) in zip(DECLINE_REASONS, rest, strict=False):
        with time_machine.travel(when + dt.timedelta(days=4), tick=False):
            participant_transition(
                participant=person, to=Status.DECLINED, by=coordinator, reason=reason
            )
    for status, (_when, person) in zip(
        [Status.SCREENING, Status.SCREENING, Status.ELIGIBLE, Status.CONSENTED],
        rest[len(DECLINE_REASONS) :],
        strict=False,
    ):
        walk(person, status, by=coordinator)
    for _when, person in people[-4:]:
        contact_attempt_record(
            participant=person,
            by=coordinator,
            method="phone",
            outcome="call_back",
            follow_up_on=timezone.localdate(),
        )
    for _when, person in people[:2]:
        for _ in range(3):
            contact_attempt_record(
                participant=person, by=coordinator, method="phone", outcome="no_answer"
            )


def sign_in_through_the_admin(page: Page, base_url: str) -> None:
    page.goto(base_url + "/staff/")
    expect(page).to_have_url(base_url + "/admin/login/?next=/staff/")
    page.get_by_label("Username").fill("casey")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(base_url + "/staff/")


def test_a_coordinator_sees_the_progress_the_consort_box_and_the_weekly_chart(
    page, live_server, requested_urls
):
    study = study_load_file(path=LDN_FILE).study
    Study.objects.filter(pk=study.pk).update(run_in_days=0)  # enrolled straight after consent
    coordinator = StaffFactory(username="casey", first_name="Casey")
    coordinator.groups.add(roles_ensure()[roles.COORDINATOR])
    study.members.add(coordinator)
    a_recruitment_history(study, coordinator)
    page.set_viewport_size({"width": 1280, "height": 900})

    sign_in_through_the_admin(page, live_server.url)

    expect(page.get_by_role("heading", level=1)).to_have_text("Recruitment dashboard")
    expect(page.get_by_role("heading", level=2)).to_have_text(study.title)
    progress = page.get_by_role("progressbar", name=f"{ENROLLED} of 20 enrolled")
    expect(progress).to_be_visible()
    expect(progress).to_have_attribute("value", str(ENROLLED))
    expect(progress).to_have_attribute("max", "20")
    expect(page.locator("label[for=progress-ldn-mecfs]")).to_have_text(f"{ENROLLED} of 20 enrolled")

    consort = page.get_by_role("img", name="CONSORT enrollment box: LDN for ME/CFS")
    weekly = page.get_by_role("img", name="Applications and enrollments per week: LDN for ME/CFS")
    for image in (consort, weekly):
        expect(image).to_be_visible()
        box = image.bounding_box()
        assert box["width"] > 300 and box["height"] > 150
    expect(consort).to_contain_text("Assessed for eligibility (n=44)")
    expect(consort).to_contain_text(f"Enrolled (n={ENROLLED})")
    expect(weekly.locator("rect").first).to_be_visible()
    # Screening numbers, never names.
    expect(page.get_by_role("main")).not_to_contain_text("Pat1 ")
    server = urlsplit(live_server.url).netloc
    assert [url for url in requested_urls if urlsplit(url).netloc != server] == []

    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000
