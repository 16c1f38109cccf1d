"""The patient's withdraw link: signed, expiring, working once, showing no personal data."""

import datetime as dt
import logging
import re

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse

from accounts.log_filters import RedactSignedLinks
from recruitment.intake import withdraw
from recruitment.intake.withdraw import WITHDRAW_SALT, withdraw_path
from recruitment.models import Participant, Status, StatusChange
from recruitment.screening.services import participant_transition
from tests.dates import NOV_25  # noon in Birmingham, Alabama
from tests.factories import (
    StudyFactory,
    applicant,
    ldn_form_data,
    walk,
)

pytestmark = pytest.mark.django_db

COORDINATORS = ["coordinators@example.edu"]
WITHDRAW_PAGE_QUERIES = 1
# Unique values no page or coordinator notice may show.
CANARY = {
    "first_name": "Zebulonia",
    "last_name": "Quixworthy",
    "email": "zq.canary.person@example.com",
    "phone": "205-555-0987",
    "date_of_birth": dt.date(1977, 3, 14),
    "zip_code": "35216",
    "note": "Canary note about my fatigue",
}
CANARY_TEXTS = (
    "Zebulonia",
    "Quixworthy",
    "zq.canary",
    "555-0987",
    "5550987",
    "1977",
    "35216",
    "Canary note",
)
LINK = re.compile(r"http://testserver(/withdraw/[^/\s]+/)")


@pytest.fixture(autouse=True)
def now(time_machine):
    time_machine.move_to(NOV_25, tick=False)
    return NOV_25


@pytest.fixture
def study():
    return StudyFactory(
        prefix="LDN",
        title="Low-dose naltrexone for ME/CFS",
        short_title="LDN for ME/CFS",
        contact_name="Dr Study Team",
        contact_email="ldn-team@example.edu",
        contact_phone="205-555-0100",
        target_enrolment=2,
    )


@pytest.fixture
def staff_study(study):
    """The role fixtures' users (tests/conftest.py) are members of this study."""
    return study


@pytest.fixture
def person(study, django_capture_on_commit_callbacks):
    """A participant as the public form makes one, with the emails it sends."""
    with django_capture_on_commit_callbacks(execute=True):
        participant = applicant(study, **CANARY)
    return participant


def link_in_email(participant) -> str:
    """The withdraw link's path, from the participant's confirmation email."""
    (email,) = [m for m in mail.outbox if m.to == [participant.email]]
    match = LINK.search(email.body)
    assert match, email.body
    return match.group(1)


def fresh(participant):
    return Participant.objects.get(pk=participant.pk)


def post(client, url, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(url)


def notices() -> list:
    return [m for m in mail.outbox if m.to == COORDINATORS]


def assert_no_personal_data(text: str) -> None:
    for canary in CANARY_TEXTS:
        assert canary not in text


def tampered(token: str) -> list[str]:
    """The same token with one character of its payload, or of its signature, changed."""
    payload, timestamp, signature = token.rsplit(":", 2)
    flip = {"A": "B"}.get(signature[-1], "A")
    first = "B" if payload[0] != "B" else "C"
    return [
        f"{payload}:{timestamp}:{signature[:-1]}{flip}",
        f"{first}{payload[1:]}:{timestamp}:{signature}",
        f"{payload}:{timestamp}:",
        "not-a-token",
    ]


# -- the email and the thank-you page ------------------------------------------------------------
def test_the_confirmation_email_holds_a_signed_link_to_withdraw(person):
    path = link_in_email(person)
    token = path.split("/")[2]

    assert signing.loads(token, salt=WITHDRAW_SALT) == {
        "p": person.pk,
        "n": person.withdraw_nonce,
    }
    assert len(person.withdraw_nonce) >= 20
    (email,) = [m for m in mail.outbox if m.to == [person.email]]
    assert "It works once, for 180 days" in email.body


def test_each_participant_gets_a_nonce_of_their_own(study):
    first, second = applicant(study), applicant(study)

    assert first.withdraw_nonce and second.withdraw_nonce
    assert first.withdraw_nonce != second.withdraw_nonce


def test_the_thank_you_page_says_the_email_has_the_withdraw_link(client, ldn_study):
    response = client.post(
        reverse("recruitment:interest", args=[ldn_study.slug]), ldn_form_data(), follow=True
    )

    assert response.status_code == 200
    assert "also has a link you can open to withdraw your interest" in response.content.decode()


# -- the confirmation page (GET) -----------------------------------------------------------------
def test_the_page_asks_the_question_and_shows_no_personal_data(client, person, study):
    response = client.get(link_in_email(person))

    body = response.content.decode()
    assert response.status_code == 200
    assert f"Do you want to stop taking part in {study.title}?" in body
    assert "Yes, withdraw my interest" in body
    assert person.screening_number in body
    assert 'name="csrfmiddlewaretoken"' in body
    assert_no_personal_data(body)


def test_opening_the_page_changes_nothing(client, person):
    client.get(link_in_email(person))
    client.get(link_in_email(person))

    row = fresh(person)
    assert row.status == Status.NEW
    assert row.withdraw_nonce == person.withdraw_nonce
    assert not StatusChange.objects.exists()
    assert len(notices()) == 1  # the notice of the submission itself, no other


def test_the_page_sends_no_referrer_and_is_never_cached(client, person):
    response = client.get(link_in_email(person))

    assert response["Referrer-Policy"] == "strict-origin"
    assert "no-cache" in response["Cache-Control"]


# -- withdrawing (POST) --------------------------------------------------------------------------
def test_confirming_declines_the_participant_by_their_own_hand_with_the_reason(
    client, person, django_capture_on_commit_callbacks
):
    response = post(client, link_in_email(person), django_capture_on_commit_callbacks)

    body = response.content.decode()
    assert response.status_code == 200
    assert "You have withdrawn your interest" in body
    assert_no_personal_data(body)
    row = fresh(person)
    assert row.status == Status.DECLINED
    assert row.withdraw_nonce == ""
    (change,) = StatusChange.objects.filter(participant=person)
    assert (change.from_status, change.to_status) == (Status.NEW, Status.DECLINED)
    assert change.reason == "withdrew interest (patient link)"
    assert change.by is None
    assert "the participant, through their signed link" in str(change)
    latest = row.history.first()
    assert latest.history_user is None
    assert latest.history_change_reason == (
        "Status new → declined: withdrew interest (patient link)"
    )


@pytest.mark.parametrize(
    "status", [Status.SCREENING, Status.ELIGIBLE, Status.CONSENTED], ids=lambda s: s.value
)
def test_anyone_not_yet_enrolled_can_withdraw(
    client, study, coordinator, django_capture_on_commit_callbacks, status
):
    with django_capture_on_commit_callbacks(execute=True):
        participant = applicant(study, **CANARY)
    walk(participant, status, by=coordinator)

    post(client, link_in_email(participant), django_capture_on_commit_callbacks)

    assert fresh(participant).status == Status.DECLINED
    last = StatusChange.objects.filter(participant=participant).last()
    assert (last.from_status, last.by) == (status, None)


def test_the_coordinators_are_told_by_screening_number_only_after_commit(
    client, person, django_capture_on_commit_callbacks
):
    url = link_in_email(person)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(url)
    assert mail.outbox == []

    for callback in callbacks:
        callback()
    (notice,) = notices()
    assert person.screening_number in notice.subject
    assert person.screening_number in notice.body
    assert "withdrew their interest" in notice.body
    assert f"/admin/recruitment/participant/{person.pk}/change/" in notice.body
    assert_no_personal_data(notice.subject + notice.body)


def test_the_link_works_once(client, person, django_capture_on_commit_callbacks):
    url = link_in_email(person)
    post(client, url, django_capture_on_commit_callbacks)
    mail.outbox.clear()

    again = post(client, url, django_capture_on_commit_callbacks)
    page = client.get(url)

    for response in (again, page):
        assert response.status_code == 200
        assert "This is already done" in response.content.decode()
        assert_no_personal_data(response.content.decode())
    assert fresh(person).status == Status.DECLINED
    assert StatusChange.objects.filter(participant=person).count() == 1
    assert mail.outbox == []


def test_the_link_works_until_its_max_age(
    client, person, time_machine, django_capture_on_commit_callbacks
):
    url = link_in_email(person)
    time_machine.move_to(NOV_25 + dt.timedelta(days=179), tick=False)

    response = post(client, url, django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert fresh(person).status == Status.DECLINED


def test_the_link_expires(client, person, time_machine, django_capture_on_commit_callbacks):
    url = link_in_email(person)
    time_machine.move_to(NOV_25 + dt.timedelta(days=180, seconds=1), tick=False)
    mail.outbox.clear()

    page = client.get(url)
    response = post(client, url, django_capture_on_commit_callbacks)

    for answer in (page, response):
        assert answer.status_code == 404
        assert "This link does not work" in answer.content.decode()
    assert fresh(person).status == Status.NEW
    assert not StatusChange.objects.exists()
    assert mail.outbox == []


def test_the_max_age_is_a_setting(
    client, person, settings, time_machine, django_capture_on_commit_callbacks
):
    settings.WITHDRAW_LINK_MAX_AGE_DAYS = 7
    url = link_in_email(person)
    time_machine.move_to(NOV_25 + dt.timedelta(days=8), tick=False)

    response = post(client, url, django_capture_on_commit_callbacks)

    assert response.status_code == 404
    assert fresh(person).status == Status.NEW


def test_a_tampered_link_does_not_work_and_says_why_to_nobody(
    client, person, django_capture_on_commit_callbacks
):
    token = link_in_email(person).split("/")[2]
    mail.outbox.clear()

    for bad in tampered(token):
        url = reverse("recruitment:withdraw", args=[bad])
        for response in (client.get(url), post(client, url, django_capture_on_commit_callbacks)):
            body = response.content.decode()
            assert response.status_code == 404
            assert "This link does not work" in body
            assert "ignature" not in body
            assert person.screening_number not in body

    assert fresh(person).status == Status.NEW
    assert mail.outbox == []


def test_a_token_signed_for_another_purpose_does_not_work(
    client, person, django_capture_on_commit_callbacks
):
    payload = {"p": person.pk, "n": person.withdraw_nonce}
    for salt in ("", "another-purpose"):
        url = reverse("recruitment:withdraw", args=[signing.dumps(payload, salt=salt)])
        assert post(client, url, django_capture_on_commit_callbacks).status_code == 404

    assert fresh(person).status == Status.NEW


def test_the_link_cannot_withdraw_another_participant(
    client, study, person, django_capture_on_commit_callbacks
):
    other = applicant(study)
    # Signed with the server's key but carrying the other person's pk: their nonce is missing.
    forged = signing.dumps({"p": other.pk, "n": person.withdraw_nonce}, salt=WITHDRAW_SALT)

    forged_response = post(
        client, reverse("recruitment:withdraw", args=[forged]), django_capture_on_commit_callbacks
    )
    post(client, link_in_email(person), django_capture_on_commit_callbacks)

    assert forged_response.status_code == 404
    assert fresh(other).status == Status.NEW
    assert fresh(other).withdraw_nonce == other.withdraw_nonce
    assert fresh(person).status == Status.DECLINED


def test_a_link_of_a_participant_made_without_a_nonce_does_not_work(client, study):
    participant = applicant(study)
    Participant.objects.filter(pk=participant.pk).update(withdraw_nonce="")
    participant.withdraw_nonce = ""

    response = client.get(withdraw_path(participant=participant))

    assert response.status_code == 404


def test_the_post_needs_the_csrf_token(person, django_capture_on_commit_callbacks):
    browser = Client(enforce_csrf_checks=True)
    url = link_in_email(person)

    refused = browser.post(url)
    assert refused.status_code == 403
    assert fresh(person).status == Status.NEW

    browser.get(url)
    with django_capture_on_commit_callbacks(execute=True):
        done = browser.post(url, {"csrfmiddlewaretoken": browser.cookies["csrftoken"].value})
    assert done.status_code == 200
    assert fresh(person).status == Status.DECLINED


# -- enrolled and finished participants ----------------------------------------------------------
def test_an_enrolled_participant_is_not_withdrawn_and_the_coordinators_are_told(
    client, study, person, coordinator, django_capture_on_commit_callbacks
):
    url = link_in_email(person)
    walk(person, Status.ENROLLED, by=coordinator)
    changes = StatusChange.objects.count()
    mail.outbox.clear()

    page = client.get(url)
    response = post(client, url, django_capture_on_commit_callbacks)

    assert "Yes, withdraw my interest" in page.content.decode()
    body = response.content.decode()
    assert response.status_code == 200
    assert "Please talk to the study team" in body
    for contact in (study.contact_name, study.contact_email, study.contact_phone):
        assert contact in body
    assert_no_personal_data(body)
    assert fresh(person).status == Status.ENROLLED
    assert StatusChange.objects.count() == changes
    (notice,) = notices()
    assert person.screening_number in notice.subject
    assert "did not withdraw them" in notice.body
    assert_no_personal_data(notice.subject + notice.body)


def test_an_enrolled_participants_link_also_works_once(
    client, person, coordinator, django_capture_on_commit_callbacks
):
    url = link_in_email(person)
    walk(person, Status.ENROLLED, by=coordinator)
    post(client, url, django_capture_on_commit_callbacks)
    mail.outbox.clear()

    again = post(client, url, django_capture_on_commit_callbacks)

    assert again.status_code == 404
    assert notices() == []


@pytest.mark.parametrize(
    "status",
    [Status.DECLINED, Status.INELIGIBLE, Status.WITHDRAWN, Status.COMPLETED],
    ids=lambda s: s.value,
)
def test_someone_who_already_left_sees_that_it_is_already_done(
    client, study, coordinator, django_capture_on_commit_callbacks, status
):
    with django_capture_on_commit_callbacks(execute=True):
        participant = applicant(study, **CANARY)
    url = link_in_email(participant)
    walk(participant, status, by=coordinator)
    changes = StatusChange.objects.count()
    mail.outbox.clear()

    for response in (client.get(url), post(client, url, django_capture_on_commit_callbacks)):
        body = response.content.decode()
        assert response.status_code == 200
        assert "This is already done" in body
        assert "Yes, withdraw my interest" not in body
        assert_no_personal_data(body)
    assert fresh(participant).status == status
    assert StatusChange.objects.count() == changes
    assert mail.outbox == []


# -- the audit trail: by=None only when the participant acts -------------------------------------
def test_the_transition_service_refuses_a_missing_user(person):
    with pytest.raises(ValueError, match="needs `by`"):
        participant_transition(participant=person, to=Status.DECLINED, by=None, reason="gone")

    assert fresh(person).status == Status.NEW
    assert not StatusChange.objects.exists()


@pytest.mark.parametrize("with_user", [True, False])
def test_the_participant_may_only_decline_and_never_with_a_user(person, coordinator, with_user):
    by, to = (coordinator, Status.DECLINED) if with_user else (None, Status.SCREENING)

    with pytest.raises(ValueError, match="only for declining"):
        participant_transition(participant=person, to=to, by=by, reason="x", by_participant=True)

    assert not StatusChange.objects.exists()


def test_the_admin_history_names_the_participant_as_the_one_who_withdrew(
    admin_client, person, django_capture_on_commit_callbacks
):
    post(Client(), link_in_email(person), django_capture_on_commit_callbacks)

    response = admin_client.get(reverse("admin:recruitment_participant_history", args=[person.pk]))

    assert "the participant, through their signed link" in response.content.decode()


# -- never a 500, never the token in a log -------------------------------------------------------
def test_an_unexpected_error_is_a_friendly_page_and_the_log_has_no_token(
    client, person, monkeypatch, caplog
):
    url = link_in_email(person)
    token = url.split("/")[2]

    def broken(**kwargs):
        raise RuntimeError(f"something mentioning {kwargs['token']}")

    monkeypatch.setattr(withdraw, "withdraw_link_check", broken)
    with caplog.at_level(logging.INFO):
        response = client.get(url)

    assert response.status_code == 503
    assert "Something went wrong on our side" in response.content.decode()
    assert token not in caplog.text
    assert "RuntimeError" in caplog.text


def test_log_lines_that_quote_a_withdraw_path_lose_the_token():
    record = logging.LogRecord(
        "django.security.csrf",
        logging.WARNING,
        __file__,
        1,
        "Forbidden (%s): %s",
        ("CSRF cookie not set.", "/withdraw/eyJwIjoxfQ:1tXyZ:abc-DEF_123/"),
        None,
    )

    assert RedactSignedLinks().filter(record) is True
    assert record.getMessage() == "Forbidden (CSRF cookie not set.): /withdraw/[redacted]/"


def test_the_console_log_handler_redacts_withdraw_tokens():
    handlers = logging.getLogger("django.request").handlers + logging.getLogger().handlers
    console = [h for h in handlers if isinstance(h, logging.StreamHandler)]

    assert console
    for handler in console:
        if type(handler).__module__.startswith("_pytest"):
            continue
        assert any(isinstance(f, RedactSignedLinks) for f in handler.filters)


@pytest.mark.parametrize("others", [3, 30])
def test_the_withdraw_page_runs_a_fixed_number_of_queries(
    client, study, person, others, django_assert_max_num_queries
):
    for _ in range(others):
        applicant(study)
    url = link_in_email(person)

    with django_assert_max_num_queries(WITHDRAW_PAGE_QUERIES):
        response = client.get(url)

    assert response.status_code == 200
