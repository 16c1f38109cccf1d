"""The coordinator's day in a real browser: sign in, land on the call list, find today's calls,
log a call from the list and come back to it with the person moved; the queue fitting a
1366-pixel screen; and the call list's screenshots for the guide (docs/screenshots/).

Page loads are documents the browser rendered (redirects are not counted): signing in and
logging one call takes 4 (the login page, the call list, the contact page, the call list).
Before the call list the same call took 7: the login page, the admin's index, the queue, the
search, the participant's page, the contact page and the participant's page again.
"""

import datetime as dt
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts import roles
from accounts.services import roles_ensure
from recruitment.calls.working_days import is_working_day
from recruitment.models import Participant, Status
from recruitment.screening.services import contact_attempt_record
from recruitment.studies.services import study_load_file
from tests.browser.pages import count_page_loads
from tests.browser.test_accessibility import assert_accessible
from tests.conftest import LDN_FILE
from tests.factories import (
    LDN_ELIGIBLE_ANSWERS,
    PASSWORD,
    StaffFactory,
    applicant,
    participants_bulk,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CALLS = "/staff/calls/"


def working_days_ago(n: int) -> dt.date:
    day = timezone.localdate()
    while n > 0:
        day -= dt.timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day


def applied_on(person, day: dt.date):
    at = timezone.make_aware(dt.datetime.combine(day, dt.time(9, 40)))
    Participant.objects.filter(pk=person.pk).update(created_at=at)
    return person


def a_coordinators_morning(study, coordinator) -> dict[str, Participant]:
    """New applicants (one past the 5-working-day promise), a call-back, a follow-up due and
    someone not reached: the call list of an ordinary morning."""
    people = {}
    new = [
        ("Maria", "Alvarez", "205-555-0142", "phone", "morning", 6),
        ("James", "Mitchell", "205-555-0178", "phone", "afternoon", 3),
        ("Dana", "Brooks", "205-555-0113", "text", "evening", 1),
        ("Lee", "Nguyen", "", "email", "any", 0),
    ]
    for first, last, phone, method, time, days in new:
        answers = {**LDN_ELIGIBLE_ANSWERS}
        if first == "Dana":
            answers["liver"] = "not_sure"
        person = applicant(
            study,
            first_name=first,
            last_name=last,
            phone=phone,
            preferred_contact=method,
            best_time=time,
            answers=answers,
        )
        people[first] = applied_on(person, working_days_ago(days))
    earlier = working_days_ago(8)
    for first, last, phone, outcome, follow_up in [
        ("Robert", "Hayes", "205-555-0161", "call_back", None),
        ("Linda", "Carter", "205-555-0187", "voicemail", timezone.localdate()),
        ("Keisha", "Moore", "205-555-0125", "no_answer", None),
    ]:
        person = applied_on(
            applicant(
                study, first_name=first, last_name=last, phone=phone, answers=LDN_ELIGIBLE_ANSWERS
            ),
            earlier,
        )
        tries = 3 if first == "Keisha" else 1
        for n in range(tries):
            contact_attempt_record(
                participant=person,
                by=coordinator,
                method="phone",
                outcome=outcome,
                at=timezone.now() - dt.timedelta(days=tries - n, hours=3),
                follow_up_on=follow_up if n == tries - 1 else None,
            )
        people[first] = person
    return people


def coordinator_of(study):
    coordinator = StaffFactory(username="casey", first_name="Casey")
    coordinator.groups.add(roles_ensure()[roles.COORDINATOR])
    study.members.add(coordinator)
    return coordinator


def sign_in(page: Page, base_url: str) -> None:
    page.goto(base_url + "/admin/login/")
    page.get_by_label("Username").fill("casey")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def group(page: Page, key: str):
    return page.locator(f"#{key}-ldn-mecfs")


def test_a_coordinator_signs_in_to_the_call_list_and_logs_a_call_from_it(
    page, live_server, requested_urls
):
    study = study_load_file(path=LDN_FILE).study
    coordinator = coordinator_of(study)
    people = a_coordinators_morning(study, coordinator)
    page.set_viewport_size({"width": 1366, "height": 768})
    loads = count_page_loads(page)

    # Sign in: the call list is the landing page.
    sign_in(page, live_server.url)
    expect(page).to_have_url(live_server.url + CALLS)
    expect(page.get_by_role("heading", level=1)).to_have_text("Call list")

    # Today's calls: the new applicants oldest first, the one past the promise marked.
    new = group(page, "new")
    expect(new.get_by_role("heading")).to_have_text("New, not contacted yet (4)")
    rows = new.locator("tbody tr")
    expect(rows.first).to_contain_text("Maria Alvarez")
    expect(rows.first.locator(".overdue")).to_have_text("Overdue")
    expect(rows.nth(3)).to_contain_text("Lee Nguyen")
    expect(rows.nth(3)).to_contain_text("5 working days left")
    expect(new.get_by_role("link", name="205-555-0178")).to_have_attribute(
        "href", "tel:+12055550178"
    )
    expect(group(page, "call_back")).to_contain_text("Robert Hayes")
    expect(group(page, "follow_up")).to_contain_text("Linda Carter")
    expect(group(page, "not_reached")).to_contain_text("Keisha Moore")

    # Log the call to James Mitchell from his row: he asks to be called back.
    james = people["James"]
    row = page.locator(f"#call-{james.pk}")
    row.get_by_role("link", name="Log a call").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Log a contact attempt")
    page.get_by_label("Outcome").select_option(label="Asked to call back")
    page.get_by_role("button", name="Log the attempt").click()

    # Back on the list, he has moved from the new applicants to the call-backs.
    expect(page).to_have_url(live_server.url + CALLS)
    expect(page.get_by_role("status")).to_contain_text(
        f"Contact attempt logged for {james.screening_number}: Asked to call back."
    )
    expect(new.get_by_role("heading")).to_have_text("New, not contacted yet (3)")
    expect(new).not_to_contain_text("James Mitchell")
    expect(group(page, "call_back").locator(f"#call-{james.pk}")).to_contain_text("James Mitchell")
    assert page.locator(f"#call-{james.pk}").count() == 1

    assert loads == [
        "/admin/login/",
        CALLS,
        f"/admin/recruitment/participant/{james.pk}/contact/",
        CALLS,
    ]
    server = urlsplit(live_server.url).netloc
    assert [url for url in requested_urls if urlsplit(url).netloc != server] == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_call_list_is_accessible_and_its_screenshots_are_saved_for_the_guide(
    open_page, live_server, scheme
):
    """No axe violation, no sideways scrolling at 1366 pixels; saves
    docs/screenshots/call-list-1366-<scheme>.png."""
    study = study_load_file(path=LDN_FILE).study
    a_coordinators_morning(study, coordinator_of(study))
    page = open_page(viewport={"width": 1366, "height": 768}, color_scheme=scheme)
    sign_in(page, live_server.url)
    expect(page).to_have_url(live_server.url + CALLS)
    expect(page.locator(".overdue").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    assert_accessible(page)

    path = SCREENSHOTS / f"call-list-1366-{scheme}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000


def test_on_a_phone_each_person_on_the_call_list_is_a_card_and_nothing_scrolls_sideways(
    open_page, live_server
):
    study = study_load_file(path=LDN_FILE).study
    a_coordinators_morning(study, coordinator_of(study))
    page = open_page(viewport={"width": 390, "height": 844})
    sign_in(page, live_server.url)
    expect(page).to_have_url(live_server.url + CALLS)
    page.wait_for_load_state("load")  # the stylesheets applied, not just the address changed

    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    boxes = page.evaluate(
        "[...document.querySelectorAll('.table-responsive')]"
        ".map(e => e.scrollWidth - e.clientWidth)"
    )
    assert boxes and max(boxes) <= 0, boxes
    first = page.locator("table.calls tbody tr").first
    expect(first.get_by_role("link", name="Log a call")).to_be_visible()
    assert first.locator("a[href^='tel:']").bounding_box()["x"] >= 0
    assert_accessible(page)


@pytest.mark.parametrize("who", ["coordinator", "monitor"])
def test_the_queue_of_100_rows_fits_a_1366_pixel_screen(open_page, live_server, who):
    study = study_load_file(path=LDN_FILE).study
    user = StaffFactory(username="casey")
    role = roles.COORDINATOR if who == "coordinator" else roles.MONITOR
    user.groups.add(roles_ensure()[role])
    study.members.add(user)
    participants_bulk(study, 60)
    participants_bulk(study, 20, status=Status.SCREENING)
    participants_bulk(study, 20, status=Status.WAITLISTED)
    Participant.objects.filter(study=study).update(
        first_name="Christopher-Alexander", last_name="Montgomery-Fitzgerald"
    )
    page = open_page(viewport={"width": 1366, "height": 768})
    sign_in(page, live_server.url)

    page.goto(live_server.url + "/admin/recruitment/participant/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Participants")
    assert page.locator("#result_list tbody tr").count() == 100
    names = page.locator("#result_list td.field-name_shown")
    assert names.count() == (100 if who == "coordinator" else 0)
    width = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1], width
    # Nor inside the page: the admin lets the table scroll sideways in its own box.
    box = page.evaluate("(e => [e.scrollWidth, e.clientWidth])(document.querySelector('.results'))")
    assert box[0] <= box[1], box
