"""Health answers do not outlive their use in a patient's session: the answers kept by a
switch of language on the interest form leave the session store when the form is sent or
saved to finish later, and the nightly retention command deletes expired sessions."""

import datetime as dt
import re
from io import StringIO

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone

from recruitment.intake.draft_views import KEPT_SESSION_KEY
from recruitment.models import Draft, Participant
from tests.factories import ldn_form_data

FORM_URL = "/studies/ldn-mecfs/interest/"
SAVE_URL = "/studies/ldn-mecfs/interest/save/"


def served_form_issued(client) -> str:
    html = client.get(FORM_URL).content.decode()
    return re.search(r'name="form_issued" value="([^"]+)"', html).group(1)


def switch_language_without_coming_back(client, form_issued: str) -> None:
    """The header's language switch posts the answers; the patient's browser never comes
    back for the form (a lost connection, a closed tab), so they stay in the session."""
    data = ldn_form_data(form_issued=form_issued, q_opioids="yes", language="es")
    response = client.post(FORM_URL, data)
    assert response.status_code == 302
    assert client.session[KEPT_SESSION_KEY]["data"]["q_opioids"] == ["yes"]


def stored_session(client) -> dict:
    """The session as its store holds it (the database row), not as the client remembers it."""
    key = client.cookies["sessionid"].value
    return Session.objects.get(session_key=key).get_decoded()


def test_sending_the_form_leaves_no_answer_in_the_session_store(
    client, ldn_study, django_capture_on_commit_callbacks
):
    form_issued = served_form_issued(client)
    switch_language_without_coming_back(client, form_issued)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(FORM_URL, ldn_form_data(form_issued=form_issued, token="t-1"))

    assert response.status_code == 302
    assert response["Location"] == f"{FORM_URL}thanks/"
    assert Participant.objects.count() == 1
    assert KEPT_SESSION_KEY not in stored_session(client)


def test_saving_to_finish_later_leaves_no_answer_in_the_session_store(client, ldn_study):
    form_issued = served_form_issued(client)
    switch_language_without_coming_back(client, form_issued)

    response = client.post(SAVE_URL, ldn_form_data(form_issued=form_issued))

    assert response.status_code == 302
    assert response["Location"] == f"{FORM_URL}saved/"
    assert Draft.objects.count() == 1
    assert KEPT_SESSION_KEY not in stored_session(client)


def test_a_form_sent_with_errors_also_drops_the_answers_kept_before(client, ldn_study):
    form_issued = served_form_issued(client)
    switch_language_without_coming_back(client, form_issued)

    response = client.post(FORM_URL, ldn_form_data(form_issued=form_issued, email="not-an-email"))

    assert response.status_code == 200  # shown again with its errors, from this POST
    assert KEPT_SESSION_KEY not in stored_session(client)


# -- expired sessions -------------------------------------------------------------------------
def session_row(*, expires_in: dt.timedelta) -> str:
    store = SessionStore()
    store[KEPT_SESSION_KEY] = {"study": 1, "data": {"q_opioids": ["yes"]}}
    store.create()
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() + expires_in
    )
    return store.session_key


def erase(*args: str) -> str:
    out = StringIO()
    call_command("erase_expired_participants", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_the_nightly_command_deletes_expired_sessions_and_keeps_live_ones():
    expired = session_row(expires_in=-dt.timedelta(minutes=1))
    live = session_row(expires_in=dt.timedelta(minutes=30))

    out = erase()

    assert set(Session.objects.values_list("session_key", flat=True)) == {live}
    assert expired != live
    assert "Deleted the expired sessions." in out
    assert "Nothing to erase." in out  # no participant or draft was due


@pytest.mark.django_db
def test_a_dry_run_deletes_no_session():
    expired = session_row(expires_in=-dt.timedelta(minutes=1))

    out = erase("--dry-run")

    assert list(Session.objects.values_list("session_key", flat=True)) == [expired]
    assert "sessions" not in out
