"""From consent to first dose in a real browser, through the staff pages, over five weeks of
the study's calendar (time_machine moves the clock; the live server's thread reads the same
clock):

the unblinded statistician uploads the sealed allocation list; a coordinator records the
informed consent of an eligible participant of the LDN study (its 28-day run-in included),
books the screening visit from the participant's page (the email carries the calendar
file); the scheduler runs twice the day before and the participant gets one reminder; the
visit is marked attended, the run-in started, 28 days later 26 daily reports recorded, and
the participant enrolled: the coordinator is shown the pack code and never the arm; an
investigator unblinds in an emergency and alone sees the arm; the statistician and the other
investigator are emailed without it; the unblinding is in its report.

Each staff page is audited with axe the first time the journey meets it.
"""

import datetime as dt
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import Page, expect

from accounts import roles
from accounts.services import roles_ensure
from recruitment.models import Reminder, RunIn, Status, Unblinding, Visit, VisitStatus
from tests.browser.axe import assert_no_axe_violation
from tests.browser.pages import card_step, success_message
from tests.factories import LDN_ELIGIBLE_ANSWERS, PASSWORD, StaffFactory, applicant, walk

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Arms no page could show by chance (unlike "AB", which is in "UAB study lab").
ARMS = ("Sequence-X7", "Sequence-Y3")
SEALED_LIST = (
    b"sequence,stratum,arm,pack_code\n1,,Sequence-X7,K-0001\n2,,Sequence-Y3,K-0002\n"
    b"3,,Sequence-Y3,K-0003\n4,,Sequence-X7,K-0004\n"
)
# Signing in hashes the password (Argon2): slow on a loaded machine.
SIGN_IN_MS = 20_000


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


class Audit:
    """axe on each kind of page once (its path with ids blanked): the admin's pages on their
    own content (its breadcrumbs are Django's, links told apart by color alone), the staff
    pages whole."""

    def __init__(self):
        self.seen: set[str] = set()

    def __call__(self, page: Page) -> None:
        path = urlsplit(page.url).path
        kind = "/".join("<id>" if part.isdigit() else part for part in path.split("/"))
        if kind in self.seen:
            return
        self.seen.add(kind)
        page.wait_for_load_state("load")
        context = {"include": [["#content"]]} if path.startswith("/admin/") else None
        assert_no_axe_violation(page, context)


def sign_in(page: Page, base_url: str, username: str, path: str, audit: Audit) -> None:
    """Sign in on the way to `path` (after a jump of days the last session has expired)."""
    page.goto(f"{base_url}/admin/login/?next={path}", timeout=SIGN_IN_MS)
    audit(page)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click(timeout=SIGN_IN_MS)
    expect(page).to_have_url(base_url + path, timeout=SIGN_IN_MS)


def member(study, username: str, role: str, email: str):
    user = StaffFactory(username=username, first_name=username.title(), email=email)
    user.groups.add(roles_ensure()[role])
    study.members.add(user)
    return user


def test_from_consent_to_first_dose_a_coordinator_never_sees_the_arm_an_investigator_unblinds(
    open_page, live_server, ldn_study_with_run_in
):
    study = ldn_study_with_run_in
    base = live_server.url
    audit = Audit()
    # Day 0 is a few days ahead of the real clock, so the browser keeps the cookies the
    # server sets with the moved clock.
    day0 = timezone.localdate() + dt.timedelta(days=3)
    visit_day = day0 + dt.timedelta(days=2)

    with time_machine.travel(local(day0, 10), tick=True) as clock:
        casey = member(study, "casey", roles.COORDINATOR, "casey@example.edu")
        member(study, "ivy", roles.INVESTIGATOR, "ivy@example.edu")
        member(study, "iris", roles.INVESTIGATOR, "iris@example.edu")
        member(study, "sam", roles.UNBLINDED_STATISTICIAN, "sam@example.edu")
        participant = walk(
            applicant(study, answers=LDN_ELIGIBLE_ANSWERS, preferred_contact="email"),
            Status.ELIGIBLE,
            by=casey,
        )
        number = participant.screening_number
        change_path = f"/admin/recruitment/participant/{participant.pk}/change/"

        # -- The statistician uploads the sealed list. -------------------------------------
        stats = open_page(viewport={"width": 1280, "height": 900})
        sign_in(stats, base, "sam", f"/staff/allocation/{study.slug}/", audit)
        audit(stats)
        stats.get_by_label("Arms").fill(", ".join(ARMS))
        stats.get_by_label("Allocation list (CSV)").set_input_files(
            files=[{"name": "sealed.csv", "mimeType": "text/csv", "buffer": SEALED_LIST}]
        )
        stats.get_by_role("button", name="Check and store the list").click()
        expect(stats.get_by_text("The allocation list is stored.")).to_be_visible()

        # -- The coordinator records informed consent. -------------------------------------
        admin = open_page(viewport={"width": 1280, "height": 900})
        sign_in(admin, base, "casey", change_path, audit)
        expect(admin.get_by_role("heading", name=number, exact=True)).to_be_visible()
        audit(admin)
        card_step(admin, "Record informed consent")
        audit(admin)
        admin.get_by_label("Consent form version").fill("ICF v2.0")
        admin.get_by_role("button", name="Record consent").click()
        expect(success_message(admin)).to_have_text(
            f"Informed consent recorded: {number} is now “Consented”."
        )

        # -- Books the screening visit from the participant's page. ------------------------
        mail.outbox.clear()
        card_step(admin, "Book or manage visits")
        expect(admin.get_by_role("heading", name="Book a visit")).to_be_visible()
        audit(admin)
        choice = admin.get_by_label("Visit")
        screening = choice.locator("option", has_text="Screening visit").text_content()
        choice.select_option(label=screening)
        admin.get_by_label("Date").fill(visit_day.isoformat())
        admin.get_by_label("Time").fill("10:00")
        admin.get_by_label("With whom").fill("Dr. Rivera")
        admin.get_by_role("button", name="Book the visit and email the participant").click()
        expect(success_message(admin)).to_contain_text(f"Screening visit booked for {number}")

        (booked,) = mail.outbox
        assert booked.to == [participant.email]
        (attachment,) = booked.attachments
        calendar = Calendar.from_ical(attachment.get_payload(decode=True))
        (event,) = calendar.walk("VEVENT")
        starts = event.decoded("DTSTART")
        assert timezone.localtime(starts).date() == visit_day
        assert timezone.localtime(starts).time() == dt.time(10)
        visit = Visit.objects.get(participant=participant)
        assert str(event["UID"]).startswith(str(visit.calendar_uid))

        # -- The day before, the scheduler runs twice: one reminder. -----------------------
        mail.outbox.clear()
        clock.move_to(local(visit_day - dt.timedelta(days=1), 9, 30))
        call_command("send_reminders")
        call_command("send_reminders")
        reminders = [m for m in mail.outbox if m.subject.startswith("Reminder:")]
        assert len(reminders) == 1, [m.subject for m in mail.outbox]
        assert reminders[0].to == [participant.email]
        assert Reminder.objects.filter(visit=visit).count() == 1

        # -- The visit: marked attended (a new day: sign in again). ------------------------
        clock.move_to(local(visit_day, 11))
        visits_path = f"/admin/recruitment/participant/{participant.pk}/visits/"
        sign_in(admin, base, "casey", visits_path, audit)
        admin.locator(f"#visit-{visit.pk}").get_by_role("link", name="Attended").click()
        audit(admin)
        admin.get_by_role("button", name="Save").click()
        expect(success_message(admin)).to_have_text("Screening visit marked attended.")
        visit.refresh_from_db()
        assert visit.status == VisitStatus.ATTENDED

        # -- The run-in starts today. ------------------------------------------------------
        admin.goto(base + change_path)
        card_step(admin, "Start run-in")
        audit(admin)
        admin.get_by_role("button", name="Start the run-in").click()
        expect(success_message(admin)).to_have_text(f"{number} is now in the run-in.")

        # -- 28 days pass: 26 daily reports recorded, then enrollment. ---------------------
        clock.move_to(local(visit_day + dt.timedelta(days=28), 10))
        sign_in(admin, base, "casey", change_path, audit)
        audit(admin)  # the participant page in the run-in (the call card's run-in line)
        card_step(admin, "Record adherence")
        audit(admin)
        admin.get_by_label("Days with a completed daily report").fill("26")
        admin.get_by_role("button", name="Record adherence").click()
        expect(success_message(admin)).to_have_text(f"Run-in of {number}: 26 of 28 days, 92%.")
        assert RunIn.objects.get(participant=participant).passed

        card_step(admin, "Enroll")
        audit(admin)
        admin.get_by_role("button", name="Enroll").click()
        expect(success_message(admin)).to_have_text(
            f"{number} is enrolled as LDN-001. Pack code: K-0001"
        )
        html = admin.content()
        assert "K-0001" in html
        assert not any(arm in html for arm in ARMS)

        # -- An investigator unblinds in an emergency. -------------------------------------
        mail.outbox.clear()
        ivy = open_page(viewport={"width": 1280, "height": 900})
        sign_in(ivy, base, "ivy", change_path, audit)
        assert not any(arm in ivy.content() for arm in ARMS)
        ivy.locator("ul.object-tools").get_by_role("link", name="Emergency unblinding").click()
        audit(ivy)
        ivy.get_by_label("Medical reason for unblinding").fill("Serious adverse event")
        ivy.get_by_role("button", name="Unblind this participant").click()
        expect(ivy.locator("#arm")).to_have_text("Arm: Sequence-X7")
        audit(ivy)

        (notice,) = mail.outbox
        # The statistician and the other investigators (the one who entered the lab values
        # included), never the one who unblinded.
        assert {"iris@example.edu", "sam@example.edu"} <= set(notice.to)
        assert "ivy@example.edu" not in notice.to
        assert notice.subject == f"Emergency unblinding in LDN for ME/CFS: {number}"
        assert number in notice.body and "LDN-001" in notice.body
        assert not any(arm in notice.subject + notice.body for arm in ARMS)
        assert participant.email not in notice.body

        ivy.get_by_role("link", name="Emergency unblindings").click()
        report = ivy.locator("#unblindings")
        expect(report).to_contain_text(number)
        expect(report).to_contain_text("Serious adverse event")
        audit(ivy)
        assert not any(arm in ivy.content() for arm in ARMS)
        assert Unblinding.objects.get().by.username == "ivy"
