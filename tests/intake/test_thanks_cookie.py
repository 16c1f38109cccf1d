"""The thank-you page shows the screening number only to the browser that sent the form: a
signed, short-lived, HttpOnly cookie carries it there, not a session row."""

import datetime as dt

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from recruitment.intake.views import SUBMITTED_COOKIE, SUBMITTED_MAX_AGE
from tests.factories import ldn_form_data

pytestmark = pytest.mark.django_db

FORM_URL = "/studies/ldn-mecfs/interest/"
THANKS_URL = "/studies/ldn-mecfs/interest/thanks/"


def test_the_browser_that_submitted_sees_its_number_and_no_session_is_written(client, ldn_study):
    response = client.post(FORM_URL, ldn_form_data())

    cookie = response.cookies[SUBMITTED_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["path"] == THANKS_URL
    assert int(cookie["max-age"]) == SUBMITTED_MAX_AGE
    assert "LDN-S-0001" not in cookie.value
    assert "LDN-S-0001" in client.get(THANKS_URL).content.decode()
    assert not Session.objects.exists()


def test_another_browser_gets_no_number(client, ldn_study):
    client.post(FORM_URL, ldn_form_data())

    other = Client().get(THANKS_URL)

    assert other.status_code == 302
    assert "LDN-S-0001" not in other.content.decode()


def test_a_forged_cookie_shows_no_number(client, ldn_study):
    client.post(FORM_URL, ldn_form_data())
    value = client.cookies[SUBMITTED_COOKIE].value
    study_and_participant = value.split(":")[0:2]
    forged = Client()
    forged.cookies[SUBMITTED_COOKIE] = ":".join(study_and_participant) + ":forged-signature"

    response = forged.get(THANKS_URL)

    assert response.status_code == 302
    assert "LDN-S-0001" not in response.content.decode()


def test_the_cookie_expires(client, ldn_study):
    client.post(FORM_URL, ldn_form_data())
    later = timezone.now() + dt.timedelta(seconds=SUBMITTED_MAX_AGE + 60)

    with time_machine.travel(later, tick=False):
        response = client.get(THANKS_URL)

    assert response.status_code == 302
    assert "LDN-S-0001" not in response.content.decode()
