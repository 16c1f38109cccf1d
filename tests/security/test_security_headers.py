"""Permissions-Policy on every page: the pages run no script, so the browser features they
could be made to ask for (camera, location, payment, ...) are denied to the site and to
anything it embeds. And Retry-After on every 429, so a client knows when to come back.
"""

import pytest
from django.test import Client

from tests.factories import UserFactory, ldn_form_data

pytestmark = pytest.mark.django_db

DENIED = (
    "camera",
    "microphone",
    "geolocation",
    "payment",
    "usb",
    "bluetooth",
    "serial",
    "hid",
    "midi",
    "display-capture",
    "clipboard-read",
    "publickey-credentials-get",
    "browsing-topics",
    "interest-cohort",
    "fullscreen",
    "autoplay",
)


def policy(response) -> dict[str, str]:
    """Feature -> allowlist, as the header lists them ("camera=()")."""
    assert "Permissions-Policy" in response, "no Permissions-Policy header"
    entries = [entry.strip() for entry in response["Permissions-Policy"].split(",")]
    return dict(entry.split("=", 1) for entry in entries)


def assert_denies_every_feature(response):
    features = policy(response)
    for feature in DENIED:
        assert features.get(feature) == "()", feature
    assert set(features.values()) == {"()"}, "a feature is allowed to some origin"
    assert "autofill" not in features  # helps patients fill the form


@pytest.mark.parametrize(
    "path", ["/", "/studies/ldn-mecfs/", "/studies/ldn-mecfs/interest/", "/healthz"]
)
def test_public_pages_deny_every_browser_feature(client, ldn_study, path):
    response = client.get(path)

    assert response.status_code == 200
    assert_denies_every_feature(response)


def test_error_pages_deny_every_browser_feature_too(ldn_study):
    client = Client(raise_request_exception=False)

    assert_denies_every_feature(client.get("/studies/ldn-mecfs/no-such-page/"))


@pytest.mark.parametrize("path", ["/admin/", "/admin/recruitment/participant/", "/staff/"])
def test_staff_pages_deny_every_browser_feature(client, ldn_study, path):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    response = client.get(path)

    assert response.status_code == 200
    assert_denies_every_feature(response)


def test_the_admin_login_page_denies_every_browser_feature(client):
    assert_denies_every_feature(client.get("/admin/login/"))


def test_the_interest_form_past_its_limit_says_when_to_try_again(client, ldn_study, settings):
    settings.RATELIMIT_ENABLE = True
    settings.INTEREST_RATE_LIMIT = "1/h"
    client.post("/studies/ldn-mecfs/interest/", ldn_form_data())
    limited = client.post("/studies/ldn-mecfs/interest/", ldn_form_data(email="b@example.com"))

    assert limited.status_code == 429
    assert 0 < int(limited["Retry-After"]) <= 3600
    assert_denies_every_feature(limited)


def test_save_and_finish_later_past_the_limit_says_when_to_try_again(client, ldn_study, settings):
    settings.RATELIMIT_ENABLE = True
    settings.INTEREST_RATE_LIMIT = "1/h"
    client.post("/studies/ldn-mecfs/interest/", ldn_form_data())
    limited = client.post(
        "/studies/ldn-mecfs/interest/save/", ldn_form_data(email="draft@example.com")
    )

    assert limited.status_code == 429
    assert 0 < int(limited["Retry-After"]) <= 3600


def test_a_locked_out_staff_login_says_when_to_try_again(client, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 1
    UserFactory(username="boss", is_staff=True)
    login = {"username": "boss", "password": "wrong-password", "next": "/admin/"}
    client.post("/admin/login/?next=/admin/", login)
    locked = client.post("/admin/login/?next=/admin/", login)

    assert locked.status_code == 429
    assert int(locked["Retry-After"]) == int(settings.AXES_COOLOFF_TIME * 3600)
