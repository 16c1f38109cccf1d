"""No personal or health data in logs, staff emails, the admin log or error pages.

A patient's unique "canary" values go through the happy path, a validation error and a
server error; then every log record (all loggers, DEBUG and up, `django.request` and
`django.security` included), the coordinators' email, the admin log and the error page are
searched for them.
"""

import logging
import sys

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.sessions.middleware import SessionMiddleware
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse
from django.views.debug import ExceptionReporter

from recruitment import eligibility
from recruitment.intake import views, withdraw_views
from recruitment.models import Participant
from tests.admin_posts import form_data
from tests.factories import ldn_form_data, submit

pytestmark = pytest.mark.django_db

FIRST = "Quillonae"
LAST = "Vexbrandt"
EMAIL = "quillonae.vexbrandt7@example.com"
PHONE = "(205) 555-0187"
DOB = "1961-09-17"
ZIP = "35216"
NOTE = "Zorptastic crash after gardening"  # free text: a health answer in the patient's words
LATER_NOTE = "Wibblesnatch relapse in March"  # typed in by a coordinator in the admin

# Every way a canary could show up: as typed, normalised or in part.
IDENTITY = [FIRST, LAST, "quillonae.vexbrandt7", "555-0187", "5550187", "1961", "09-17"]
HEALTH = ["Zorptastic", "gardening", "Wibblesnatch"]
EVERYTHING = IDENTITY + HEALTH + [ZIP]

CANARY_POST = ldn_form_data(
    first_name=FIRST,
    last_name=LAST,
    email=EMAIL,
    phone=PHONE,
    date_of_birth=DOB,
    zip_code=ZIP,
    note=NOTE,
)
INTEREST = reverse("recruitment:interest", args=["ldn-mecfs"])


def found(text: str, canaries=EVERYTHING) -> list[str]:
    lowered = text.lower()
    return [canary for canary in canaries if canary.lower() in lowered]


@pytest.fixture
def logs(caplog):
    """Every record of every logger at DEBUG, also from loggers that do not propagate to the
    root (`django.request` in our settings)."""
    caplog.set_level(logging.DEBUG)
    changed = []
    for name in ["django", "django.request", "django.security", "django.server", "recruitment"]:
        logger = logging.getLogger(name)
        changed.append((logger, logger.level))
        logger.setLevel(logging.DEBUG)
    silent = [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    for logger in silent:
        logger.addHandler(caplog.handler)
    yield caplog
    for logger in silent:
        logger.removeHandler(caplog.handler)
    for logger, level in changed:
        logger.setLevel(level)


def template_debug(record) -> bool:
    """Django's own DEBUG record of a failed template lookup: its traceback holds the whole
    template context (the bound form). See test_template_debug_records_hold_no_personal_data."""
    return record.name == "django.template" and record.levelno == logging.DEBUG


# A record's clock and process numbers: never personal, and their digits may happen to contain
# a canary's (the birth year, "1961"), which failed the test by chance.
RECORD_NUMBERS = {"created", "msecs", "relativeCreated", "thread", "process"}


def log_text(caplog, *, template_debug_too=False) -> str:
    """Each record as a handler would write it (message and traceback), with its extras."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(
        f"{formatter.format(r)} { {k: v for k, v in vars(r).items() if k not in RECORD_NUMBERS}!r}"
        for r in caplog.records
        if template_debug_too or not template_debug(r)
    )


def error_reports(caplog) -> list[str]:
    """What `mail_admins` would send for each logged request error (SafeExceptionReporterFilter
    applied), as text."""
    return [
        ExceptionReporter(r.request, *r.exc_info, is_email=True).get_traceback_text()
        for r in caplog.records
        if getattr(r, "request", None) is not None and r.exc_info
    ]


def email_text(message) -> str:
    parts = [message.subject, message.body, *(c for c, _ in getattr(message, "alternatives", []))]
    return "\n".join(str(part) for part in parts)


# ---------------------------------------------------------------------------------------------
# (a) The happy path, and staff working on the participant
# ---------------------------------------------------------------------------------------------
def test_a_submission_leaves_no_personal_data_in_logs_staff_email_urls_or_the_admin_log(
    client, ldn_study, coordinator, logs, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(INTEREST, CANARY_POST, follow=True)
    assert callbacks, "the emails are sent after commit"
    assert response.status_code == 200
    participant = Participant.objects.get(email=EMAIL)
    assert participant.note == NOTE
    # URLs: the redirect and the thank-you page's address hold none of it.
    for url, _ in response.redirect_chain:
        assert found(url) == []

    # Staff: a status change, a bulk action and a contact edit through the admin.
    client.force_login(coordinator)
    status_url = reverse("admin:recruitment_participant_status", args=[participant.pk])
    assert client.post(status_url, {"to": "screening"}).status_code == 302
    changelist = reverse("admin:recruitment_participant_changelist")
    action = {"action": "mark_eligible", "_selected_action": [participant.pk]}
    assert client.post(changelist, action).status_code == 302
    change_url = reverse("admin:recruitment_participant_change", args=[participant.pk])
    edit = form_data(client.get(change_url), note=LATER_NOTE, change_reason="Patient called")
    assert client.post(change_url, edit).status_code == 302
    participant.refresh_from_db()
    assert participant.note == LATER_NOTE

    assert found(log_text(logs)) == []

    to_staff = [m for m in mail.outbox if m.to != [EMAIL]]
    to_patient = [m for m in mail.outbox if m.to == [EMAIL]]
    assert len(to_staff) == 1 and len(to_patient) == 1
    assert found(email_text(to_staff[0])) == []
    # The patient's own confirmation may greet them by name, never repeat a health answer.
    assert found(email_text(to_patient[0]), HEALTH) == []

    entries = LogEntry.objects.filter(object_id=str(participant.pk))
    assert entries.count() >= 2
    for entry in entries:
        assert found(f"{entry.object_repr}\n{entry.change_message}\n{entry}") == []


# ---------------------------------------------------------------------------------------------
# (b) A validation error
# ---------------------------------------------------------------------------------------------
def test_a_refused_submission_logs_and_sends_nothing_personal(
    client, ldn_study, logs, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(INTEREST, {**CANARY_POST, "zip_code": "ABCDE"})

    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"zip_code"}
    assert not Participant.objects.filter(email=EMAIL).exists()
    assert mail.outbox == []
    assert found(log_text(logs)) == []


# ---------------------------------------------------------------------------------------------
# (c) A server error
# ---------------------------------------------------------------------------------------------
def test_a_server_error_shows_and_logs_nothing_personal(
    client, ldn_study, logs, monkeypatch, django_capture_on_commit_callbacks
):
    """The pre-screen engine is made to fail (the one thing replaced): the view, the form and
    the service run for real with the canaries, and the request ends in a 500."""

    def broken_rules(*args, **kwargs):
        raise RuntimeError("pre-screen engine failed")

    monkeypatch.setattr(eligibility, "evaluate", broken_rules)
    client.raise_request_exception = False

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(INTEREST, CANARY_POST)

    assert response.status_code == 500
    assert found(response.content.decode()) == []
    assert not Participant.objects.filter(email=EMAIL).exists()
    assert mail.outbox == []
    assert any(r.name == "django.request" and r.levelno == logging.ERROR for r in logs.records)
    assert found(log_text(logs)) == []
    reports = error_reports(logs)
    assert reports, "the request error was logged with its request"
    for report in reports:
        assert "pre-screen engine failed" in report
        assert found(report) == []


# ---------------------------------------------------------------------------------------------
# sensitive_post_parameters: an error report never shows what was posted
# ---------------------------------------------------------------------------------------------
def report_for(request) -> str:
    try:
        raise RuntimeError("after the view")
    except RuntimeError:
        return ExceptionReporter(request, *sys.exc_info(), is_email=True).get_traceback_text()


def test_the_interest_view_hides_every_posted_value_from_error_reports(rf: RequestFactory, db):
    from recruitment.studies.services import study_load_file
    from tests.conftest import LDN_FILE

    study_load_file(path=LDN_FILE)
    request = rf.post(INTEREST, {**CANARY_POST, "zip_code": "ABCDE"})
    SessionMiddleware(lambda request: None).process_request(request)  # as the stack gives it
    views.interest(request, slug="ldn-mecfs")

    assert request.sensitive_post_parameters == "__ALL__"
    report = report_for(request)
    assert "first_name" in report  # the keys are listed, the values starred out
    assert found(report) == []


def test_the_withdraw_view_hides_every_posted_value_from_error_reports(rf: RequestFactory, db):
    request = rf.post("/withdraw/not-a-token/", {"note": NOTE, "email": EMAIL})
    withdraw_views.withdraw(request, token="not-a-token")

    assert getattr(request, "sensitive_post_parameters", None) == "__ALL__"
    assert found(report_for(request)) == []


def test_template_debug_records_hold_no_personal_data(client, ldn_study, logs):
    client.post(INTEREST, {**CANARY_POST, "zip_code": "ABCDE"})

    assert found(log_text(logs, template_debug_too=True)) == []


def test_the_admin_change_form_hides_posted_values_from_error_reports(admin_client, ldn_study):
    participant = submit(ldn_study)
    url = reverse("admin:recruitment_participant_change", args=[participant.pk])

    response = admin_client.post(url, {"first_name": FIRST, "note": NOTE})

    request = response.wsgi_request
    assert request.sensitive_post_parameters == "__ALL__"
    assert found(report_for(request)) == []
