"""Save and finish later: a patient leaves the form and comes back through a
link emailed to them, valid for DRAFT_MAX_AGE_DAYS (7) days, and finds every answer as they
left it. A draft is not a participant, is never shown to staff, and is erased when it expires.
The link works once per resume and shows nothing without its token."""

import datetime as dt
import html
import logging
import re
from io import StringIO

import pytest
import time_machine
from django.contrib.admin import site as admin_site
from django.core import mail
from django.core.management import call_command
from django.test import Client, TestCase
from django.test.html import Element
from django.test.signals import template_rendered
from django.utils import translation

from accounts.log_filters import RedactSignedLinks
from recruitment.intake import drafts
from recruitment.intake.draft_views import DRAFT_SESSION_KEY
from recruitment.models import Answer, Draft, Participant, StatusChange
from tests.dates import NOV_25_EARLY as NOW  # 06:00 on the 25th in Birmingham
from tests.factories import UserFactory, ldn_form_data
from tests.html_reading import (
    attrs,
    by_id,
    elements,
    find_all,
    parse,
    rendered_values,
    text,
    without_random_tokens,
)

pytestmark = pytest.mark.django_db

FORM_URL = "/studies/ldn-mecfs/interest/"
SAVE_URL = "/studies/ldn-mecfs/interest/save/"
SAVED_URL = "/studies/ldn-mecfs/interest/saved/"
THANKS_URL = "/studies/ldn-mecfs/interest/thanks/"
RESUME_PREFIX = "/studies/ldn-mecfs/interest/resume/"
LINK = re.compile(r"http://testserver(/studies/[\w-]+/interest/resume/([\w-]+)/)")

EMAIL = "ann.lee@example.com"
NOTE = "Line one of my note.\nLine two: canary-note-7731."
# Every kind of control the form has: text boxes, radios, a list, dates, the note, the box.
ANSWERS = ldn_form_data(
    email=EMAIL,
    note=NOTE,
    q_opioids="yes",
    **{"q_opioids__last": "2026-10-01", "q_core-symptoms__orthostatic": "unsure"},
)
# What must never be in an email, a log line or a page that has no business showing them.
PRIVATE = ["Ann", "Lee", EMAIL, "canary-note-7731", "1980-04-28", "35203", "555-0134"]


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


# -- reading pages -------------------------------------------------------------------------------
def form_values(tree: Element) -> dict[str, str]:
    """What the interest form would send if the patient pressed a button now (whitespace
    collapsed: see `typed_note` for the note as sent)."""
    (form,) = find_all(tree, "form", id="interest-form")
    return rendered_values(form)


def typed_note(response) -> str:
    """The note as the browser would send it (line breaks kept)."""
    match = re.search(
        r'<textarea name="note"[^>]*>\n?(.*?)</textarea>', response.content.decode(), re.S
    )
    assert match
    return html.unescape(match.group(1))


def answers_only(values: dict) -> dict:
    """Drop the per-page tokens and empty values: what the patient typed or chose."""
    skip = {"csrfmiddlewaretoken", "form_issued", "submission_token", "website"}
    return {
        name: " ".join(value.split())
        for name, value in values.items()
        if name not in skip and value != ""
    }


# -- the patient's steps -------------------------------------------------------------------------
def post_save(client, data, **extra):
    """Press "Save and finish later": the email's task runs as the save commits (the tests'
    immediate task backend), as a worker would run it just after."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(SAVE_URL, data, **extra)


def save(client, **overrides):
    return post_save(client, {**ANSWERS, **overrides})


def emailed_link(message=None) -> tuple[str, str]:
    """The resume link's path and token, from the (last) email."""
    message = message or mail.outbox[-1]
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1), match.group(2)


def saved_link(client, **overrides) -> str:
    response = save(client, **overrides)
    assert response.status_code == 302, response.content.decode()[:500]
    return emailed_link()[0]


def resume(client, path):
    """Open the link and press "Show my saved answers"."""
    assert client.get(path).status_code == 200
    return client.post(path)


# ---------------------------------------------------------------------------------------------
# The button on the form
# ---------------------------------------------------------------------------------------------
def test_the_form_offers_save_and_finish_later_after_send_my_interest(client, ldn_study):
    tree = parse(client.get(FORM_URL))

    buttons = [e for e in elements(tree) if attrs(e).get("type") == "submit" and e.name != "button"]
    buttons += [e for e in elements(tree) if e.name == "button" and "formaction" in attrs(e)]
    labels = [attrs(b).get("value") or text(b) for b in buttons]
    assert labels == ["Send my interest", "Save and finish later"]
    save_button = buttons[1]
    assert attrs(save_button)["formaction"] == SAVE_URL
    help_text = text(by_id(tree)[attrs(save_button)["aria-describedby"]])
    assert help_text == (
        "Need a break? Type your email above and press Save and finish later. "
        "We will email you a link. It works for 7 days."
    )
    assert not [e for e in elements(tree) if e.name == "script"]


def test_the_help_text_follows_the_setting(client, ldn_study, settings):
    settings.DRAFT_MAX_AGE_DAYS = 3

    assert "It works for 3 days." in client.get(FORM_URL).content.decode()


# ---------------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("email", "message"),
    [("", "Enter your email address."), ("ann.lee@", "Enter an email address like")],
)
def test_saving_needs_a_valid_email_shown_next_to_the_field_with_every_answer_kept(
    client, ldn_study, email, message
):
    response = save(client, email=email)

    assert response.status_code == 200
    assert response.templates[0].name == "recruitment/interest.html"
    tree = parse(response)
    ids = by_id(tree)
    summary = [(attrs(a)["href"], text(a)) for a in elements(ids["error-summary"]) if a.name == "a"]
    assert len(summary) == 1
    assert summary[0][0] == "#id_email" and summary[0][1].startswith(message)
    email_box = ids["id_email"]
    assert attrs(email_box)["aria-invalid"] == "true"
    described = attrs(email_box)["aria-describedby"].split()
    assert any(text(ids[i]).startswith(message) for i in described if i in ids)
    expected = answers_only({**ANSWERS, "email": email})
    assert answers_only(form_values(tree)) == expected
    assert Draft.objects.count() == 0
    assert mail.outbox == []


def test_a_get_of_the_save_address_goes_to_the_form(client, ldn_study):
    """The language switch on a form re-shown by a save returns to the save address."""
    response = client.get(SAVE_URL)

    assert response.status_code == 302
    assert response["Location"] == FORM_URL
    assert Draft.objects.count() == 0


def test_saving_needs_nothing_but_the_email(client, ldn_study):
    response = client.post(SAVE_URL, {"email": EMAIL, "first_name": "Ann"})

    assert response.status_code == 302
    draft = Draft.objects.get()
    assert draft.data == {"first_name": ["Ann"], "email": [EMAIL]}


def test_a_save_writes_a_draft_and_no_participant(client, ldn_study):
    seq_before = ldn_study.last_screening_seq

    response = save(client)

    assert response.status_code == 302
    assert response["Location"] == SAVED_URL
    draft = Draft.objects.get()
    assert draft.study == ldn_study
    assert draft.email == EMAIL
    assert draft.language == "en"
    assert draft.expires_at == NOW + dt.timedelta(days=7)
    assert draft.data["note"] == [NOTE]
    assert draft.data["q_opioids__last"] == ["2026-10-01"]
    for token_field in ("csrfmiddlewaretoken", "website", "form_issued", "submission_token"):
        assert token_field not in draft.data
    # Not a participant: no row, no screening number used, no answers, verdicts or history.
    assert Participant.objects.count() == 0
    assert Participant.history.count() == 0
    assert Answer.objects.count() == 0
    assert StatusChange.objects.count() == 0
    ldn_study.refresh_from_db()
    assert ldn_study.last_screening_seq == seq_before


def test_the_saved_page_says_where_the_link_went_and_that_nothing_was_sent(client, ldn_study):
    response = client.get(save(client)["Location"])

    assert response.status_code == 200
    tree = parse(response)
    assert text(by_id(tree)["draft-email"]) == EMAIL
    body = text(tree)
    assert "We emailed you a link." in body
    assert "The link works for 7 days." in body
    assert "Your answers are not sent to the study team until you press “Send my interest”." in (
        body
    )
    assert "canary-note-7731" not in body
    assert response.request["PATH_INFO"] == SAVED_URL  # nothing about the draft in the URL


def test_the_saved_page_without_a_save_in_the_session_goes_to_the_study_page(client, ldn_study):
    response = client.get(SAVED_URL)

    assert response.status_code == 302
    assert response["Location"] == "/studies/ldn-mecfs/"


def test_the_email_has_the_link_and_no_answers(client, ldn_study):
    save(client)

    (message,) = mail.outbox
    assert message.to == [EMAIL]
    assert message.subject == "Your saved answers for LDN for ME/CFS"
    path, token = emailed_link(message)
    assert path == f"{RESUME_PREFIX}{token}/"
    assert len(token) >= 40
    assert Draft.objects.get().token_hash == drafts.token_hash(token)
    assert token not in Draft.objects.get().token_hash
    assert "The link works once, for 7 days (until Dec 2, 2026)." in message.body
    assert "Send my interest" in message.body
    for private in PRIVATE:
        if private != EMAIL:
            assert private not in without_random_tokens(message.body), private
    for health_word in ("opioid", "ME/CFS diagnosis", "pregnan", "Yes", "Not sure"):
        assert health_word not in message.body


def test_a_filled_honeypot_is_answered_like_a_save_and_saves_nothing(client, ldn_study):
    response = save(client, website="http://spam.example")

    assert response.status_code == 302
    assert response["Location"] == SAVED_URL
    assert client.get(SAVED_URL).status_code == 200
    assert Draft.objects.count() == 0
    assert mail.outbox == []


def test_saving_a_form_of_a_closed_study_saves_nothing(client, ldn_study):
    ldn_study.is_recruiting = False
    ldn_study.save()

    response = save(client)

    assert response.templates[0].name == "recruitment/closed.html"
    assert Draft.objects.count() == 0


def test_when_the_email_cannot_be_sent_the_answers_are_kept_and_no_address_is_logged(
    client, ldn_study, settings, caplog
):
    # A real SMTP connection to a port where nothing listens. The tests' immediate task
    # backend cannot retry later (tests/notifications/ retry through the worker).
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2

    response = save(client)

    assert response.status_code == 302
    assert response["Location"] == SAVED_URL
    assert Draft.objects.get().email == EMAIL
    assert mail.outbox == []
    assert "Draft link email (draft " in caplog.text
    assert EMAIL not in caplog.text


# ---------------------------------------------------------------------------------------------
# Resuming
# ---------------------------------------------------------------------------------------------
def test_opening_the_link_changes_nothing_until_the_button_is_pressed(client, ldn_study):
    path = saved_link(client)
    stranger = Client()  # an email scanner, say, that opens every link

    first, second = stranger.get(path), stranger.get(path)

    for response in (first, second):
        assert response.status_code == 200
        assert response.templates[0].name == "recruitment/draft_resume.html"
        assert response["Referrer-Policy"] == "strict-origin"
        body = without_random_tokens(response.content.decode())
        for private in PRIVATE:
            assert private not in body, private
    assert DRAFT_SESSION_KEY not in stranger.session
    assert resume(Client(), path).status_code == 302


def test_resuming_brings_back_every_answer_with_a_notice_and_no_token_in_the_url(client, ldn_study):
    path = saved_link(client)
    patient = Client()  # later, on another device

    response = resume(patient, path)

    assert response.status_code == 302
    assert response["Location"] == FORM_URL
    form_page = patient.get(FORM_URL)
    tree = parse(form_page)
    assert answers_only(form_values(tree)) == answers_only(ANSWERS)
    notice = text(by_id(tree)["draft-resumed"])
    assert notice.startswith(
        "Your saved answers are back. Check them and press “Send my interest”."
    )
    assert "works only once" in notice
    assert "error-summary" not in by_id(tree)
    ids = by_id(tree)
    assert attrs(ids["id_form_issued"])["value"]
    assert attrs(ids["id_submission_token"])["value"]


def test_the_link_works_once(client, ldn_study):
    path = saved_link(client)
    assert resume(Client(), path).status_code == 302

    for method in ("get", "post"):
        response = getattr(Client(), method)(path)

        assert response.status_code == 404
        assert response.templates[0].name == "recruitment/draft_invalid.html"
        body = without_random_tokens(response.content.decode())
        assert "This link has expired or was already used." in body
        for private in PRIVATE:
            assert private not in body, private
    assert Draft.objects.count() == 1  # the answers are kept, for the session that used it


def test_of_two_requests_with_one_link_only_one_gets_the_answers(client, ldn_study):
    path = saved_link(client)
    token = path.rstrip("/").rsplit("/", 1)[1]

    first = drafts.draft_resume(study=ldn_study, token=token)
    second = drafts.draft_resume(study=ldn_study, token=token)

    assert first is not None and second is None


def test_an_expired_link_is_refused_before_any_clean_up_runs(client, ldn_study, time_machine):
    path = saved_link(client)

    time_machine.move_to(NOW + dt.timedelta(days=7), tick=False)

    assert Draft.objects.count() == 1
    for method in ("get", "post"):
        response = getattr(Client(), method)(path)
        assert response.status_code == 404
        assert "canary-note-7731" not in response.content.decode()


def test_a_link_still_works_just_before_it_expires(client, ldn_study, time_machine):
    path = saved_link(client)

    time_machine.move_to(NOW + dt.timedelta(days=7, seconds=-1), tick=False)

    assert resume(Client(), path).status_code == 302


def test_a_link_of_another_study_is_refused(client, ldn_study):
    from tests.factories import StudyFactory

    path = saved_link(client)
    other = StudyFactory(slug="other-study")

    response = Client().get(path.replace("/ldn-mecfs/", f"/{other.slug}/"))

    assert response.status_code == 404
    assert "canary-note-7731" not in response.content.decode()
    assert resume(Client(), path).status_code == 302  # and it still works for its own study


@pytest.mark.parametrize(
    "path",
    [
        RESUME_PREFIX,
        f"{RESUME_PREFIX}not-a-token/",
        f"{RESUME_PREFIX}{'A' * 43}/",
    ],
)
def test_without_the_token_nothing_is_shown(client, ldn_study, path):
    saved_link(Client())

    for method in ("get", "post"):
        response = getattr(client, method)(path)
        assert response.status_code == 404
        body = without_random_tokens(response.content.decode())
        for private in PRIVATE:
            assert private not in body, private


def test_a_fresh_visitor_never_sees_someone_elses_draft(client, ldn_study):
    saved_link(Client())

    tree = parse(client.get(FORM_URL))

    assert answers_only(form_values(tree)) == {}
    assert "draft-resumed" not in by_id(tree)


def test_resuming_gives_the_session_a_new_id(client, ldn_study):
    path = saved_link(client)
    patient = Client()
    patient.get(path)
    before = patient.session.session_key

    patient.post(path)

    assert patient.session.session_key != before
    assert patient.session[DRAFT_SESSION_KEY]["draft"] == Draft.objects.get().pk


def test_a_resumed_draft_that_expires_is_no_longer_shown(client, ldn_study, time_machine):
    path = saved_link(client)
    patient = Client()
    resume(patient, path)

    time_machine.move_to(NOW + dt.timedelta(days=7), tick=False)
    tree = parse(patient.get(FORM_URL))

    assert answers_only(form_values(tree)) == {}
    assert DRAFT_SESSION_KEY not in patient.session


def test_going_back_after_saving_shows_the_answers_without_the_used_link_warning(client, ldn_study):
    save(client)

    tree = parse(client.get(FORM_URL))

    assert answers_only(form_values(tree)) == answers_only(ANSWERS)
    notice = text(by_id(tree)["draft-resumed"])
    assert "works only once" not in notice


# ---------------------------------------------------------------------------------------------
# Saving again and sending
# ---------------------------------------------------------------------------------------------
def test_saving_again_after_resuming_updates_the_same_draft_with_a_new_link(
    client, ldn_study, time_machine
):
    first_path = saved_link(client)
    patient = Client()
    resume(patient, first_path)
    later = NOW + dt.timedelta(minutes=20)
    time_machine.move_to(later, tick=False)

    response = post_save(patient, {**ANSWERS, "email": "ann.new@example.com", "zip_code": ""})

    assert response.status_code == 302
    draft = Draft.objects.get()
    assert draft.email == "ann.new@example.com"
    assert draft.expires_at == later + dt.timedelta(days=7)
    assert "zip_code" not in draft.data
    second_path, _token = emailed_link()
    assert mail.outbox[-1].to == ["ann.new@example.com"]
    assert second_path != first_path
    assert Client().get(first_path).status_code == 404
    other_device = Client()
    assert resume(other_device, second_path).status_code == 302
    values = answers_only(form_values(parse(other_device.get(FORM_URL))))
    assert values["email"] == "ann.new@example.com"
    assert "zip_code" not in values


def test_sending_after_resuming_deletes_the_draft_and_creates_the_participant(
    client, ldn_study, django_capture_on_commit_callbacks
):
    path = saved_link(client)
    patient = Client()
    resume(patient, path)
    form_page = patient.get(FORM_URL)
    values = form_values(parse(form_page))
    values["note"] = typed_note(form_page)
    values["q_opioids"], values["q_opioids__last"] = "no", ""

    with django_capture_on_commit_callbacks(execute=True):
        response = patient.post(FORM_URL, values)

    assert response.status_code == 302
    assert response["Location"] == THANKS_URL
    assert Draft.objects.count() == 0
    participant = Participant.objects.get()
    assert participant.email == EMAIL
    assert participant.note == NOTE
    assert participant.screening_number == "LDN-S-0001"
    assert participant.answers.count() > 0
    assert DRAFT_SESSION_KEY not in patient.session
    assert "LDN-S-0001" in patient.get(THANKS_URL).content.decode()
    assert answers_only(form_values(parse(patient.get(FORM_URL)))) == {}


def test_a_send_with_errors_keeps_the_draft(client, ldn_study):
    path = saved_link(client)
    patient = Client()
    resume(patient, path)
    values = form_values(parse(patient.get(FORM_URL)))
    values["first_name"] = ""

    response = patient.post(FORM_URL, values)

    assert response.status_code == 200
    assert Draft.objects.count() == 1
    assert Participant.objects.count() == 0


# ---------------------------------------------------------------------------------------------
# Staff never see drafts
# ---------------------------------------------------------------------------------------------
STAFF_PAGES = [
    "/staff/",
    "/staff/studies/ldn-mecfs/screening-log.csv",
    "/staff/studies/ldn-mecfs/identification-list.csv",
    "/staff/studies/ldn-mecfs/fhir-bundle.json",
    "/admin/",
    "/admin/recruitment/participant/",
]
CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')


def content(response) -> bytes:
    """A staff page or export, without its per-response CSRF token."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return CSRF.sub(b"", body)


def test_a_draft_is_not_in_the_admin(ldn_study):
    assert not admin_site.is_registered(Draft)


def test_staff_pages_and_exports_are_the_same_with_or_without_drafts(client, ldn_study):
    from tests.factories import submit

    submit(ldn_study, email="someone@example.com", first_name="Sam")
    staff = Client()
    staff.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    before = {url: content(staff.get(url)) for url in STAFF_PAGES}

    saved_link(client)
    save(Client(), email="bea@example.com", first_name="Bea")

    assert Draft.objects.count() == 2
    for url in STAFF_PAGES:
        response = staff.get(url)
        assert response.status_code == 200, url
        page = content(response)
        assert page == before[url], url
        assert b"canary-note-7731" not in page
        assert b"bea@example.com" not in page
    assert b"Draft" not in staff.get("/admin/").content


# ---------------------------------------------------------------------------------------------
# Expiry: the retention command
# ---------------------------------------------------------------------------------------------
def make_draft(study, *, expires_at, email="someone@example.com") -> Draft:
    return Draft.objects.create(
        study=study,
        email=email,
        token_hash=drafts.token_hash(email + str(expires_at)),
        data={"email": [email]},
        expires_at=expires_at,
    )


def run(*args) -> str:
    out = StringIO()
    call_command("erase_expired_participants", *args, stdout=out)
    return out.getvalue()


def test_the_command_deletes_expired_drafts_only(ldn_study):
    expired = make_draft(ldn_study, expires_at=NOW - dt.timedelta(days=1), email="a@example.com")
    due_now = make_draft(ldn_study, expires_at=NOW, email="b@example.com")
    kept = make_draft(ldn_study, expires_at=NOW + dt.timedelta(seconds=1), email="c@example.com")

    out = run()

    assert list(Draft.objects.all()) == [kept]
    assert not Draft.objects.filter(pk__in=[expired.pk, due_now.pk]).exists()
    assert "Deleted 2 expired drafts (forms saved to finish later, kept 7 days)." in out
    assert "Erased 2 in all." in out
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        assert email not in out


def test_a_dry_run_counts_expired_drafts_and_deletes_nothing(ldn_study):
    make_draft(ldn_study, expires_at=NOW - dt.timedelta(days=1))

    out = run("--dry-run")

    assert Draft.objects.count() == 1
    assert "Would delete 1 expired draft (forms saved to finish later, kept 7 days)." in out
    assert "Dry run: 1 in all; nothing was changed." in out


def test_with_no_expired_draft_the_command_has_nothing_to_erase(ldn_study):
    make_draft(ldn_study, expires_at=NOW + dt.timedelta(days=1))

    assert "Nothing to erase." in run()
    assert Draft.objects.count() == 1


def test_a_saved_draft_is_erased_by_the_command_once_seven_days_have_passed(
    client, ldn_study, time_machine
):
    saved_link(client)

    time_machine.move_to(NOW + dt.timedelta(days=7), tick=False)
    run()

    assert Draft.objects.count() == 0


# ---------------------------------------------------------------------------------------------
# Abuse, queries, logs
# ---------------------------------------------------------------------------------------------
def test_saves_count_against_the_interest_forms_rate_limit(client, ldn_study, settings):
    settings.RATELIMIT_ENABLE = True
    settings.INTEREST_RATE_LIMIT = "2/h"

    assert client.post(FORM_URL, {"email": "nope"}).status_code == 200  # one form POST
    assert save(client).status_code == 302  # one save
    response = save(client, email="third@example.com")

    assert response.status_code == 429
    assert response.templates[0].name == "429.html"
    assert Draft.objects.count() == 1
    assert len(mail.outbox) == 1
    other_ip = Client(REMOTE_ADDR="198.51.100.8")
    assert post_save(other_ip, ANSWERS, REMOTE_ADDR="198.51.100.8").status_code == 302


@pytest.mark.parametrize("others", [3, 30])
def test_saving_and_resuming_run_a_fixed_number_of_queries(
    client, ldn_study, django_assert_max_num_queries, others
):
    """Each includes the session's queries (a new one is created, then saved, in savepoints)."""
    for n in range(others):
        make_draft(ldn_study, expires_at=NOW + dt.timedelta(days=1), email=f"p{n}@example.com")
    # The request's queries; the email's task runs after it (a worker's queries, not the page's).
    with TestCase.captureOnCommitCallbacks() as send_the_email, django_assert_max_num_queries(9):
        assert client.post(SAVE_URL, ANSWERS).status_code == 302
    send_the_email[0]()
    path = emailed_link()[0]
    with django_assert_max_num_queries(3):
        client.get(SAVED_URL)
    patient = Client()
    with django_assert_max_num_queries(2):
        patient.get(path)
    with django_assert_max_num_queries(10):
        patient.post(path)
    with django_assert_max_num_queries(4):
        patient.get(FORM_URL)
    with TestCase.captureOnCommitCallbacks(), django_assert_max_num_queries(10):
        patient.post(SAVE_URL, ANSWERS)


def test_no_answer_email_or_token_reaches_the_logs(client, ldn_study, caplog):
    caplog.set_level(logging.DEBUG)

    path = saved_link(client)
    token = path.rstrip("/").rsplit("/", 1)[1]
    patient = Client()
    resume(patient, path)
    patient.get(FORM_URL)
    Client().get(path)  # used: the 404 page

    for private in [*PRIVATE, token, drafts.token_hash(token)]:
        assert private not in caplog.text, private


def test_log_lines_that_quote_a_resume_path_lose_the_token():
    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "Not Found: %s",
        ("/studies/ldn-mecfs/interest/resume/Ab-c_DEF123xyz/",),
        None,
    )

    assert RedactSignedLinks().filter(record) is True
    assert record.getMessage() == "Not Found: /studies/ldn-mecfs/interest/resume/[redacted]/"


# ---------------------------------------------------------------------------------------------
# Spanish
# ---------------------------------------------------------------------------------------------
def test_a_save_in_spanish_keeps_the_language_and_sends_the_email_in_spanish(client, ldn_study):
    languages = {}

    def record(sender, template, context, **kwargs):
        languages.setdefault(template.name, translation.get_language())

    template_rendered.connect(record)
    try:
        response = post_save(client, ANSWERS, HTTP_ACCEPT_LANGUAGE="es")
    finally:
        template_rendered.disconnect(record)

    assert response.status_code == 302
    assert Draft.objects.get().language == "es"
    assert languages["recruitment/email/draft_link.txt"] == "es"
    assert languages["recruitment/email/draft_link_subject.txt"] == "es"
    (message,) = mail.outbox
    assert LINK.search(message.body)
