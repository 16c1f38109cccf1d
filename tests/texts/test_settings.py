"""The text settings come from the environment; `check --deploy` is quiet with texts off
(the production default) or Twilio fully set, and warns when production texts would go
nowhere (the console, or Twilio without its account, token or number)."""

import pytest

from tests.test_settings import manage, production, read_settings

TWILIO = {
    "TEXT_BACKEND": "twilio",
    "TEXT_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TEXT_TWILIO_AUTH_TOKEN": "secret",
    "TEXT_FROM_NUMBER": "+12055550100",
}


def test_twilio_is_named_by_its_short_name_with_its_settings_and_the_reminder_defaults():
    found = read_settings(
        "TEXT_BACKEND",
        "TEXT_FROM_NUMBER",
        "TEXT_API_BASE_URL",
        "TEXT_RETRY_DELAYS",
        "VISIT_REMINDER_DAYS_BEFORE",
        "VISIT_REMINDER_FROM_HOUR",
        **production(**TWILIO),
    )

    assert found == {
        "TEXT_BACKEND": "recruitment.texts.backends.TwilioTextBackend",
        "TEXT_FROM_NUMBER": "+12055550100",
        "TEXT_API_BASE_URL": "https://api.twilio.com",
        "TEXT_RETRY_DELAYS": [60, 300, 1800, 7200],
        "VISIT_REMINDER_DAYS_BEFORE": 1,
        "VISIT_REMINDER_FROM_HOUR": 9,
    }


@pytest.mark.parametrize(
    ("environment", "warning"),
    [
        ({}, None),
        (TWILIO, None),
        ({"TEXT_BACKEND": "console"}, "recruitment.W003"),
        ({**TWILIO, "TEXT_TWILIO_AUTH_TOKEN": ""}, "recruitment.W004"),
    ],
)
def test_check_deploy_warns_only_when_texts_would_go_nowhere(environment, warning):
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production(**environment))

    if warning is None:
        assert result.returncode == 0, result.stderr
    else:
        assert f"({warning})" in result.stderr
        assert result.returncode != 0
