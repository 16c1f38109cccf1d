"""Staff sign-in: two-factor, lockout, session limits, passwords, and
the security events they write to the log."""

import datetime as dt
import json
import logging

import pytest
import time_machine
from django.contrib import admin as django_admin
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.security import StaffAdminSite
from recruitment.models import Participant
from tests.conftest import PRODUCTION_PASSWORD_HASHERS
from tests.factories import PASSWORD, UserFactory, applicant

pytestmark = pytest.mark.django_db

VERIFY = "/staff/2fa/verify/"
ENROL = "/staff/2fa/enrol/"
WORKFLOW_PAGES = (
    "status",
    "consent",
    "enrol",
    "lab_values",
    "contact",
    "duplicate_confirm",
    "duplicate_dismiss",
)
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def two_factor(settings):
    settings.STAFF_2FA_REQUIRED = True
    return settings


@pytest.fixture
def axes(settings):
    settings.AXES_ENABLED = True
    return settings


@pytest.fixture
def boss(db):
    """A superuser: every staff page is open to them once verified."""
    return UserFactory(username="boss", is_staff=True, is_superuser=True)


def device_for(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):0{device.digits}d}"


@pytest.fixture
def staff_urls(ldn_study) -> list[str]:
    """The admin index, list, change pages and every workflow page; /staff/ and its exports."""
    participant = applicant(ldn_study)
    participant_admin = django_admin.site.get_model_admin(Participant)
    slug = ldn_study.slug
    return [
        reverse("admin:index"),
        reverse("admin:recruitment_participant_changelist"),
        reverse("admin:recruitment_participant_change", args=[participant.pk]),
        reverse("admin:recruitment_study_change", args=[ldn_study.pk]),
        reverse("admin:recruitment_study_import", args=[ldn_study.pk]),
        reverse("admin:auth_user_changelist"),
        *(participant_admin.workflow_url(name, participant.pk) for name in WORKFLOW_PAGES),
        reverse("staff:dashboard"),
        reverse("staff:screening_log", args=[slug]),
        reverse("staff:identification_list", args=[slug]),
        reverse("staff:fhir_bundle", args=[slug]),
    ]


def admin_form_login(client, username, password=PASSWORD, **extra):
    return client.post(
        reverse("admin:login") + "?next=/admin/",
        {"username": username, "password": password},
        **extra,
    )


def security_events(caplog) -> list[dict]:
    return [
        json.loads(record.getMessage())
        for record in caplog.records
        if record.name == "ldn_trial.security"
    ]


# ---------------------------------------------------------------------------------------------
# Point 2: staff two-factor authentication
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("login_path", ["admin login form", "client.login"])
@pytest.mark.parametrize("has_device", [True, False], ids=["with a device", "without one"])
def test_a_password_only_staff_session_reaches_no_admin_or_staff_page_when_2fa_is_required(
    two_factor, client, boss, staff_urls, login_path, has_device
):
    if has_device:
        device_for(boss)
    if login_path == "client.login":
        assert client.login(username="boss", password=PASSWORD)
    else:
        assert admin_form_login(client, "boss").status_code == 302
    assert client.session["_auth_user_id"] == str(boss.pk)  # the password alone did sign in

    expected = VERIFY if has_device else ENROL
    for url in [*staff_urls, reverse("admin:login")]:
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(expected + "?next="), url


def test_the_admin_site_itself_refuses_an_unverified_staff_user(two_factor, boss):
    """The second layer, should a request ever get past the middleware."""
    assert isinstance(django_admin.site, StaffAdminSite)
    request = RequestFactory().get("/admin/")
    request.user = boss
    boss.is_verified = lambda: False
    assert not django_admin.site.has_permission(request)
    boss.is_verified = lambda: True
    assert django_admin.site.has_permission(request)


def test_after_a_valid_token_every_admin_and_staff_page_opens(two_factor, client, boss, staff_urls):
    device = device_for(boss)
    admin_form_login(client, "boss")
    key_before = client.session.session_key

    response = client.post(VERIFY, {"token": code(device), "next": "/admin/"})

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.session.session_key != key_before  # verifying rotates the key too
    for url in staff_urls:
        response = client.get(url)
        assert response.status_code in (200, 302), url
        if response.status_code == 302:  # a workflow page that does not apply here
            assert "/2fa/" not in response["Location"] and "login" not in response["Location"]
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("staff:dashboard")).status_code == 200


def test_a_wrong_token_is_refused_and_logged_as_a_2fa_failure(two_factor, client, boss, caplog):
    device = device_for(boss)
    client.login(username="boss", password=PASSWORD)
    wrong = f"{(int(code(device)) + 1) % 1_000_000:06d}"

    with caplog.at_level(logging.INFO, logger="ldn_trial.security"):
        response = client.post(VERIFY, {"token": wrong, "next": "/admin/"})

    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert client.get(reverse("admin:index"))["Location"].startswith(VERIFY)
    failures = [e for e in security_events(caplog) if e["event"] == "2fa_failure"]
    assert failures == [{"event": "2fa_failure", "user_id": boss.pk, "time": failures[0]["time"],
                         "ip": "127.0.0.1"}]  # fmt: skip


def test_enrolment_shows_an_svg_qr_code_and_the_secret_and_a_code_confirms_the_device(
    two_factor, client, boss
):
    client.login(username="boss", password=PASSWORD)

    page = client.get(ENROL + "?next=/staff/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and 'class="segno"' in html
    device = TOTPDevice.objects.get(user=boss, confirmed=False)
    assert page.context["secret"] in html
    assert "http" not in html.split('id="otp-qr"')[1].split("</figure>")[0]  # drawn here
    assert client.get(ENROL).context["secret"] == page.context["secret"]  # stable on reload

    response = client.post(ENROL, {"token": code(device), "next": "/staff/"})

    assert response.status_code == 302
    assert response["Location"] == "/staff/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("admin:index")).status_code == 200


def test_enrolment_is_closed_once_the_user_has_a_confirmed_device(two_factor, client, boss):
    """Else a password alone would let anyone add their own phone to the account."""
    device_for(boss)
    client.login(username="boss", password=PASSWORD)

    response = client.get(ENROL)

    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=boss).count() == 1


def test_the_2fa_pages_send_anonymous_users_to_login_and_refuse_non_staff(two_factor, client):
    for url in (ENROL, VERIFY):
        assert client.get(url)["Location"].startswith(reverse("admin:login"))
    client.force_login(UserFactory())
    for url in (ENROL, VERIFY):
        assert client.get(url).status_code == 403


def test_with_2fa_off_a_password_login_reaches_the_admin_and_staff_pages_as_before(
    settings, client, boss, ldn_study
):
    assert settings.STAFF_2FA_REQUIRED is False
    settings.AXES_ENABLED = True  # as in `make run`
    assert admin_form_login(client, "boss")["Location"] == "/admin/"
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("staff:dashboard")).status_code == 200


# ---------------------------------------------------------------------------------------------
# Point 3: lockout
# ---------------------------------------------------------------------------------------------
def fail_five_times(client, username, ip="10.0.0.1"):
    for _ in range(5):
        admin_form_login(client, username, "not-the-password", REMOTE_ADDR=ip)


def test_five_failed_logins_lock_the_username_and_the_right_password_is_refused(axes, client, boss):
    fail_five_times(client, "boss")

    response = admin_form_login(client, "boss", REMOTE_ADDR="10.0.0.1")

    assert response.status_code == 429
    html = response.content.decode()
    assert "Sign-in paused" in html and "Traceback" not in html
    assert "_auth_user_id" not in client.session


def test_four_failed_logins_do_not_lock(axes, client, boss):
    for _ in range(4):
        admin_form_login(client, "boss", "not-the-password", REMOTE_ADDR="10.0.0.1")
    assert admin_form_login(client, "boss", REMOTE_ADDR="10.0.0.1")["Location"] == "/admin/"


def test_a_lockout_leaves_the_same_username_from_another_ip_and_another_username_alone(axes, boss):
    UserFactory(username="casey", is_staff=True)
    fail_five_times(Client(), "boss", ip="10.0.0.1")

    other_ip = admin_form_login(Client(), "boss", REMOTE_ADDR="10.0.0.2")
    other_user = admin_form_login(Client(), "casey", REMOTE_ADDR="10.0.0.1")

    assert other_ip.status_code == 302 and other_ip["Location"] == "/admin/"
    assert other_user.status_code == 302 and other_user["Location"] == "/admin/"


def test_the_lockout_ends_after_the_cool_off(axes, client, boss):
    assert axes.AXES_COOLOFF_TIME == 1
    with time_machine.travel(START, tick=False) as traveller:
        fail_five_times(client, "boss")
        traveller.shift(dt.timedelta(minutes=59))
        assert admin_form_login(client, "boss", REMOTE_ADDR="10.0.0.1").status_code == 429
        traveller.shift(dt.timedelta(minutes=2))
        assert admin_form_login(client, "boss", REMOTE_ADDR="10.0.0.1")["Location"] == "/admin/"


def test_behind_a_trusted_proxy_the_lock_is_per_forwarded_client_ip(axes, boss):
    axes.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.9.9.9"}
    for _ in range(5):
        admin_form_login(Client(), "boss", "wrong", HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy)

    locked = admin_form_login(Client(), "boss", HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy)
    neighbour = admin_form_login(Client(), "boss", HTTP_X_FORWARDED_FOR="203.0.113.6", **proxy)
    # A client cannot dodge the lock by prepending an address of its own choosing.
    forged = admin_form_login(
        Client(), "boss", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5", **proxy
    )

    assert locked.status_code == 429
    assert forged.status_code == 429
    assert neighbour["Location"] == "/admin/"


# ---------------------------------------------------------------------------------------------
# Point 4: sessions
# ---------------------------------------------------------------------------------------------
def test_a_session_ends_after_30_minutes_without_a_request(client, boss, ldn_study):
    dashboard = reverse("staff:dashboard")
    with time_machine.travel(START, tick=False) as traveller:
        client.force_login(boss)
        for _ in range(3):  # activity keeps it alive
            traveller.shift(dt.timedelta(minutes=29))
            assert client.get(dashboard).status_code == 200
        traveller.shift(dt.timedelta(minutes=31))
        response = client.get(dashboard)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_a_session_ends_12_hours_after_login_however_active(client, boss, ldn_study):
    dashboard = reverse("staff:dashboard")
    with time_machine.travel(START, tick=False) as traveller:
        client.force_login(boss)
        for _ in range(24):  # every 29 minutes for 11 h 36 min
            traveller.shift(dt.timedelta(minutes=29))
            assert client.get(dashboard).status_code == 200
        traveller.shift(dt.timedelta(minutes=25))  # 12 h 1 min after login
        response = client.get(dashboard)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert "_auth_user_id" not in client.session


def test_the_session_key_changes_at_login(client, boss):
    before = SessionStore()
    before["probe"] = 1
    before.create()
    client.cookies["sessionid"] = before.session_key

    admin_form_login(client, "boss")

    assert client.session["_auth_user_id"] == str(boss.pk)
    assert client.session.session_key != before.session_key
    assert not SessionStore().exists(before.session_key)


def test_logging_out_kills_the_session(client, boss, ldn_study):
    client.force_login(boss)
    old_key = client.session.session_key

    client.post(reverse("admin:logout"))

    assert not SessionStore().exists(old_key)
    replay = Client()
    replay.cookies["sessionid"] = old_key
    response = replay.get(reverse("staff:dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_a_deactivated_users_next_request_fails(client, boss, ldn_study):
    client.force_login(boss)
    assert client.get(reverse("staff:dashboard")).status_code == 200

    boss.is_active = False
    boss.save()

    assert client.get(reverse("staff:dashboard"))["Location"].startswith(reverse("admin:login"))
    assert client.get(reverse("admin:index"))["Location"].startswith(reverse("admin:login"))


# ---------------------------------------------------------------------------------------------
# Point 5: passwords
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "password",
    ["Xq7!vR2#pL9", "password1234", "qwertyuiop123"],
    ids=["11 characters", "common", "common too"],
)
def test_short_and_common_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password, user=get_user_model()(username="casey"))


def test_a_long_uncommon_password_is_accepted():
    validate_password("violet-harbour-tractor-91", user=get_user_model()(username="casey"))


def test_a_new_users_password_is_hashed_with_argon2(settings):
    settings.PASSWORD_HASHERS = PRODUCTION_PASSWORD_HASHERS
    user = get_user_model().objects.create_user("casey", password="violet-harbour-tractor-91")
    assert user.password.startswith("argon2$")
    assert user.check_password("violet-harbour-tractor-91")


# ---------------------------------------------------------------------------------------------
# Security events in the log
# ---------------------------------------------------------------------------------------------
def test_security_events_are_one_line_each_with_no_username_and_no_password(
    axes, two_factor, boss, caplog
):
    typed_username = "ann.patient@example.com"
    UserFactory(username=typed_username, is_staff=True)
    secret_typed = "my-secret-wrong-guess"
    device = device_for(boss)
    with caplog.at_level(logging.DEBUG):
        admin_form_login(Client(), typed_username, secret_typed)  # login failure
        for _ in range(5):  # the 5th failure locks
            admin_form_login(Client(), typed_username, secret_typed, REMOTE_ADDR="10.0.0.7")
        signed_in = Client()
        admin_form_login(signed_in, "boss")  # login success
        signed_in.post(VERIFY, {"token": f"{(int(code(device)) + 1) % 1_000_000:06d}"})
        outsider = Client()
        outsider.force_login(UserFactory())
        outsider.get(reverse("staff:dashboard"))  # 403

    events = security_events(caplog)
    kinds = [event["event"] for event in events]
    for kind in ("login_failure", "lockout", "login_success", "2fa_failure", "permission_denied"):
        assert kind in kinds
    assert kinds.count("lockout") == 1
    for event in events:
        assert set(event) == {"event", "user_id", "time", "ip"}
        timezone.datetime.fromisoformat(event["time"])
    assert next(e for e in events if e["event"] == "lockout")["ip"] == "10.0.0.7"
    assert next(e for e in events if e["event"] == "login_success")["user_id"] == boss.pk
    everything = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (typed_username, "ann.patient", secret_typed, PASSWORD):
        assert secret not in everything
