"""Texts go through the backend TEXT_BACKEND names, as emails through EMAIL_BACKEND: the
console's for development, an outbox in memory for tests, and Twilio's Messages API (here a
stand-in on loopback)."""

import io
import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from recruitment import texts
from recruitment.texts.backends import ConsoleTextBackend, TwilioTextBackend
from tests.texts.conftest import FROM, SID

TO = "+12055550134"


def test_the_in_memory_backend_keeps_each_text_in_the_outbox():
    sid = texts.send_text(to=TO, body="See you tomorrow.")

    assert texts.outbox == [texts.TextMessage(to=TO, body="See you tomorrow.", sid=sid)]


def test_an_empty_text_backend_turns_texts_off(settings):
    settings.TEXT_BACKEND = ""

    assert not texts.texts_enabled()
    with pytest.raises(texts.TextsOff):
        texts.send_text(to=TO, body="Hello")


def test_the_console_backend_masks_the_number_and_shows_the_body_only_with_debug(settings):
    stream = io.StringIO()
    settings.DEBUG = False
    ConsoleTextBackend(stream=stream).send(to=TO, body="Your visit is tomorrow.")
    settings.DEBUG = True
    ConsoleTextBackend(stream=stream).send(to=TO, body="Your visit is tomorrow.")

    production, development = stream.getvalue().split("-" * 40)[:2]
    assert TO not in stream.getvalue()
    assert "+1********34" in production
    assert "Your visit is tomorrow." not in production
    assert "Your visit is tomorrow." in development


def test_the_settings_name_the_console_backend_in_development_and_none_in_production():
    def backend(debug: str) -> str:
        code = "from django.conf import settings; print(repr(settings.TEXT_BACKEND))"
        env = {name: value for name, value in os.environ.items() if not name.startswith("TEXT_")}
        env.update(DEBUG=debug, SECRET_KEY="x" * 50, DJANGO_SETTINGS_MODULE="ldn_trial.settings")
        run = subprocess.run(  # noqa: S603 (this interpreter, a fixed program)
            [sys.executable, "-c", f"import django; django.setup(); {code}"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return run.stdout.strip().splitlines()[-1]

    assert backend("1") == repr("recruitment.texts.backends.ConsoleTextBackend")
    assert backend("0") == repr("")


def test_twilio_gets_the_fields_with_basic_auth_and_its_message_id_is_returned(twilio):
    sid = texts.send_text(to=TO, body="Reminder: visit tomorrow at 9:00.")

    assert sid == "SM" + "a" * 32
    ((path, auth_ok, form),) = twilio.received
    assert path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert auth_ok
    assert form == {"To": TO, "From": FROM, "Body": "Reminder: visit tomorrow at 9:00."}


def test_a_400_from_twilio_is_a_refusal_for_good_with_its_code_and_no_number(twilio):
    twilio.answers = [(400, {"code": 21211, "message": f"The 'To' number {TO} is not valid."})]

    with pytest.raises(texts.TextRefused) as refused:
        texts.send_text(to=TO, body="Hello")

    assert refused.value.permanent
    assert refused.value.code == "21211"
    assert TO not in str(refused.value)


def test_a_5xx_from_twilio_is_a_refusal_for_now(twilio):
    twilio.answers = [(503, {"code": 20503, "message": "Service unavailable"})]

    with pytest.raises(texts.TextRefused) as refused:
        texts.send_text(to=TO, body="Hello")

    assert not refused.value.permanent


def test_too_many_requests_is_a_refusal_for_now(twilio):
    twilio.answers = [(429, {"code": 20429, "message": "Too many requests"})]

    with pytest.raises(texts.TextRefused) as refused:
        texts.send_text(to=TO, body="Hello")

    assert not refused.value.permanent


def test_a_wrong_auth_token_is_refused_for_good(twilio, settings):
    settings.TEXT_TWILIO_AUTH_TOKEN = "wrong"

    with pytest.raises(texts.TextRefused) as refused:
        texts.send_text(to=TO, body="Hello")

    assert refused.value.permanent
    assert twilio.received[0][1] is False


def test_no_answer_from_the_provider_is_a_refusal_for_now(twilio, settings):
    settings.TEXT_API_BASE_URL = "http://127.0.0.1:9"  # the discard port: nothing listens

    with pytest.raises(texts.TextRefused) as refused:
        texts.send_text(to=TO, body="Hello")

    assert not refused.value.permanent


def test_twilio_without_its_settings_is_refused_at_once(settings):
    settings.TEXT_TWILIO_ACCOUNT_SID = ""

    with pytest.raises(ImproperlyConfigured):
        TwilioTextBackend()


def test_a_number_in_a_log_line_shows_only_its_country_code_and_last_two_digits():
    assert texts.masked("+12055550134") == "+1********34"
