"""Security of the public side: the interest form resists abuse, and
every response carries the security headers. tests/conftest.py switches the form's rate limit
and minimum time off for every other test; the tests here switch them back on."""

import datetime as dt
import re

import pytest
import time_machine
from django.conf import settings
from django.core import mail, signing
from django.test import Client, RequestFactory

from accounts.client_ip import client_ip
from recruitment.intake import form_timing
from recruitment.models import Participant
from tests.dates import NOV_25_EARLY as NOW
from tests.factories import UserFactory, ldn_form_data, submit

STUDY_URL = "/studies/ldn-mecfs/"
FORM_URL = "/studies/ldn-mecfs/interest/"
THANKS_URL = "/studies/ldn-mecfs/interest/thanks/"
ADMIN_URL = "/admin/"
ADMIN_LOGIN_URL = "/admin/login/"
STAFF_URL = "/staff/"
EXPORT_URLS = [
    "/staff/studies/ldn-mecfs/screening-log.csv",
    "/staff/studies/ldn-mecfs/identification-list.csv",
    "/staff/studies/ldn-mecfs/fhir-bundle.json",
]
CLIENT_A = "198.51.100.7"
CLIENT_B = "198.51.100.8"


@pytest.fixture
def rate_limited(settings):
    settings.RATELIMIT_ENABLE = True
    settings.INTEREST_RATE_LIMIT = "10/h"


@pytest.fixture
def timed_form(settings):
    settings.INTEREST_FORM_MIN_SECONDS = 3


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def served_form_issued(client) -> str:
    """The signed time in the form, as a browser receives it on GET."""
    html = client.get(FORM_URL).content.decode()
    match = re.search(r'name="form_issued" value="([^"]+)"', html)
    assert match, "the form carries no signed time"
    return match.group(1)


def post_form(client, ip=CLIENT_A, **data):
    return client.post(FORM_URL, ldn_form_data(**data), REMOTE_ADDR=ip)


# ---------------------------------------------------------------------------------------------
# 6. Rate limit
# ---------------------------------------------------------------------------------------------
def test_the_eleventh_post_in_an_hour_from_one_ip_gets_a_friendly_429_and_writes_nothing(
    client, ldn_study, rate_limited, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOW, tick=False):
        for n in range(10):
            response = post_form(client, email=f"person{n}@example.com", first_name=f"P{n}")
            assert response.status_code == 302, n
        assert Participant.objects.count() == 10
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = post_form(client, email="eleventh@example.com", first_name="Eleventh")

    assert response.status_code == 429
    assert [t.name for t in response.templates][0] == "429.html"
    page = response.content.decode()
    assert "Please wait a little" in page
    assert ldn_study.contact_email in page
    assert ldn_study.contact_phone in page
    assert "eleventh@example.com" not in page and "Eleventh" not in page
    assert Participant.objects.count() == 10
    assert callbacks == []  # no email


def test_the_rate_limit_counts_per_ip_so_another_ip_is_unaffected(client, ldn_study, settings):
    settings.RATELIMIT_ENABLE = True
    settings.INTEREST_RATE_LIMIT = "2/h"
    with time_machine.travel(NOW, tick=False):
        for n in range(2):
            assert post_form(client, CLIENT_A, email=f"a{n}@example.com").status_code == 302
        assert post_form(client, CLIENT_A, email="a3@example.com").status_code == 429

        response = post_form(client, CLIENT_B, email="b@example.com")

    assert response.status_code == 302
    assert Participant.objects.filter(email="b@example.com").exists()
    assert not Participant.objects.filter(email="a3@example.com").exists()


def test_reading_the_form_is_never_rate_limited(client, ldn_study, settings):
    settings.RATELIMIT_ENABLE = True
    settings.INTEREST_RATE_LIMIT = "1/h"
    post_form(client)
    assert post_form(client, email="again@example.com").status_code == 429

    assert client.get(FORM_URL, REMOTE_ADDR=CLIENT_A).status_code == 200


def test_the_limit_is_counted_again_after_the_hour(client, ldn_study, settings):
    settings.RATELIMIT_ENABLE = True
    settings.INTEREST_RATE_LIMIT = "1/h"
    with time_machine.travel(NOW, tick=False) as traveller:
        assert post_form(client, email="first@example.com").status_code == 302
        assert post_form(client, email="second@example.com").status_code == 429
        traveller.shift(dt.timedelta(hours=1, minutes=1))
        assert post_form(client, email="third@example.com").status_code == 302


def ip_of(remote_addr, forwarded=None) -> str:
    extra = {"REMOTE_ADDR": remote_addr}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **extra))


def test_without_a_trusted_proxy_the_client_ip_is_remote_addr_and_x_forwarded_for_is_ignored(
    settings,
):
    settings.TRUSTED_PROXY_COUNT = 0

    assert ip_of("203.0.113.9", forwarded="1.2.3.4") == "203.0.113.9"


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (1, "203.0.113.50", "203.0.113.50"),
        # The client forged the left entry; the one proxy appended the real address.
        (1, "1.2.3.4, 203.0.113.50", "203.0.113.50"),
        # Load balancer then nginx: the client is the second entry from the right.
        (2, "1.2.3.4, 203.0.113.50, 10.0.0.2", "203.0.113.50"),
        # Fewer entries than trusted proxies (proxy bypassed): fall back to REMOTE_ADDR.
        (2, "203.0.113.50", "10.0.0.1"),
        (1, "", "10.0.0.1"),
    ],
)
def test_the_trusted_proxy_count_picks_the_client_ip_counted_from_the_right(
    settings, count, forwarded, expected
):
    settings.TRUSTED_PROXY_COUNT = count

    assert ip_of("10.0.0.1", forwarded=forwarded) == expected


def test_behind_a_proxy_the_rate_limit_counts_the_forwarded_client_not_the_proxy(
    client, ldn_study, settings
):
    settings.RATELIMIT_ENABLE = True
    settings.INTEREST_RATE_LIMIT = "1/h"
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.1"

    first = client.post(FORM_URL, ldn_form_data(), REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=CLIENT_A)
    again = client.post(
        FORM_URL,
        ldn_form_data(email="x@example.com"),
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR=f"{CLIENT_B}, {CLIENT_A}",  # a forged left entry changes nothing
    )
    other = client.post(
        FORM_URL,
        ldn_form_data(email="b@example.com"),
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR=CLIENT_B,
    )

    assert (first.status_code, again.status_code, other.status_code) == (302, 429, 302)


# ---------------------------------------------------------------------------------------------
# 6. Signed time in the form, honeypot
# ---------------------------------------------------------------------------------------------
def assert_dropped_like_the_honeypot(client, response, callbacks):
    assert callbacks == []  # no email, nothing else scheduled after the (empty) commit
    assert response.status_code == 302
    assert response["Location"] == THANKS_URL
    assert Participant.objects.count() == 0
    assert mail.outbox == []
    # The session was written at NOW (+ 5 minutes at most): read it back while it is still
    # fresh, whatever today's real date is.
    with time_machine.travel(NOW + dt.timedelta(minutes=6), tick=False):
        thanks = client.get(THANKS_URL)
    assert thanks.status_code == 200
    assert "recruitment/thanks.html" in [t.name for t in thanks.templates]


def test_a_submission_faster_than_the_threshold_is_dropped_like_the_honeypot(
    client, ldn_study, timed_form, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOW, tick=False) as traveller:
        issued = served_form_issued(client)
        traveller.shift(dt.timedelta(seconds=2))
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = client.post(FORM_URL, ldn_form_data(form_issued=issued))

    assert_dropped_like_the_honeypot(client, response, callbacks)


def test_a_submission_slower_than_the_threshold_is_saved(
    client, ldn_study, timed_form, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOW, tick=False) as traveller:
        issued = served_form_issued(client)
        traveller.shift(dt.timedelta(seconds=3))
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(FORM_URL, ldn_form_data(form_issued=issued))

    assert response.status_code == 302
    assert Participant.objects.count() == 1
    assert len(mail.outbox) == 2  # the patient's confirmation and the coordinators' notice


@pytest.mark.parametrize(
    "form_issued",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("not-a-signed-value", id="garbage"),
        pytest.param(
            signing.dumps((NOW - dt.timedelta(minutes=5)).timestamp(), salt="another-salt"),
            id="signed-for-something-else",
        ),
    ],
)
def test_a_missing_or_tampered_timestamp_is_dropped_like_the_honeypot(
    client, ldn_study, timed_form, django_capture_on_commit_callbacks, form_issued
):
    data = ldn_form_data()
    if form_issued is not None:
        data["form_issued"] = form_issued
    with (
        time_machine.travel(NOW, tick=False),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        response = client.post(FORM_URL, data)

    assert_dropped_like_the_honeypot(client, response, callbacks)


def test_an_edited_timestamp_is_dropped_like_the_honeypot(
    client, ldn_study, timed_form, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOW, tick=False) as traveller:
        issued = served_form_issued(client)
        payload, _, signature = issued.partition(":")
        tampered = signing.dumps((NOW - dt.timedelta(hours=1)).timestamp()).partition(":")[0]
        traveller.shift(dt.timedelta(minutes=5))
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = client.post(FORM_URL, ldn_form_data(form_issued=f"{tampered}:{signature}"))

    assert_dropped_like_the_honeypot(client, response, callbacks)


def test_the_honeypot_is_still_answered_with_the_thank_you_page_and_saves_nothing(
    client, ldn_study, timed_form, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOW, tick=False) as traveller:
        issued = served_form_issued(client)
        traveller.shift(dt.timedelta(minutes=5))
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = client.post(
                FORM_URL, ldn_form_data(form_issued=issued, website="http://spam.example")
            )

    assert_dropped_like_the_honeypot(client, response, callbacks)


def test_a_person_correcting_errors_keeps_the_time_the_form_was_first_served(
    client, ldn_study, timed_form
):
    with time_machine.travel(NOW, tick=False) as traveller:
        issued = served_form_issued(client)
        traveller.shift(dt.timedelta(minutes=5))
        with_error = client.post(FORM_URL, ldn_form_data(form_issued=issued, zip_code="1"))
        assert with_error.status_code == 200
        assert f'name="form_issued" value="{issued}"' in with_error.content.decode()
        traveller.shift(dt.timedelta(seconds=1))  # a quick fix, well under the threshold
        fixed = client.post(FORM_URL, ldn_form_data(form_issued=issued))

    assert fixed.status_code == 302
    assert Participant.objects.count() == 1


def test_a_form_re_shown_after_an_invalid_timestamp_carries_a_fresh_one(
    client, ldn_study, timed_form
):
    with time_machine.travel(NOW, tick=False) as traveller:
        response = client.post(FORM_URL, ldn_form_data(form_issued="forged", zip_code="1"))
        assert response.status_code == 200
        fresh = re.search(r'name="form_issued" value="([^"]+)"', response.content.decode())[1]
        assert fresh != "forged"
        traveller.shift(dt.timedelta(seconds=5))
        fixed = client.post(FORM_URL, ldn_form_data(form_issued=fresh))

    assert fixed.status_code == 302
    assert Participant.objects.count() == 1


def test_a_form_open_for_more_than_a_day_is_shown_again_with_the_answers_not_dropped(
    client, ldn_study, timed_form
):
    with time_machine.travel(NOW, tick=False) as traveller:
        issued = served_form_issued(client)
        traveller.shift(dt.timedelta(days=1, minutes=1))
        response = client.post(FORM_URL, ldn_form_data(form_issued=issued))
        assert response.status_code == 200
        page = response.content.decode()
        assert 'id="form-expired"' in page
        assert 'value="ann.lee@example.com"' in page
        assert Participant.objects.count() == 0
        fresh = re.search(r'name="form_issued" value="([^"]+)"', page)[1]
        assert fresh != issued
        traveller.shift(dt.timedelta(seconds=10))
        again = client.post(FORM_URL, ldn_form_data(form_issued=fresh))

    assert again.status_code == 302
    assert Participant.objects.count() == 1


def test_the_timestamp_check_is_off_when_the_threshold_is_zero():
    assert form_timing.form_timing(None, now=NOW, min_seconds=0) is form_timing.FormTiming.OK


# ---------------------------------------------------------------------------------------------
# 6. New and known emails get identical answers
# ---------------------------------------------------------------------------------------------
def test_responses_for_a_new_and_an_already_known_email_are_identical(client, ldn_study):
    known = submit(ldn_study, email="known@example.com", first_name="Kim")
    responses = {}
    for label, email in (("new", "new@example.com"), ("known", "known@example.com")):
        browser = Client()
        posted = browser.post(FORM_URL, ldn_form_data(email=email))
        thanks = browser.get(THANKS_URL)
        responses[label] = (posted, thanks)

    (new_post, new_thanks), (known_post, known_thanks) = responses["new"], responses["known"]
    assert new_post.status_code == known_post.status_code == 302
    assert new_post["Location"] == known_post["Location"] == THANKS_URL
    assert new_post.content == known_post.content
    assert new_thanks.status_code == known_thanks.status_code == 200
    assert [t.name for t in new_thanks.templates] == [t.name for t in known_thanks.templates]
    numbers = re.compile(r'<strong id="screening-number">[^<]*</strong>')
    assert numbers.search(new_thanks.content.decode())
    assert numbers.search(known_thanks.content.decode())
    # The language switch's CSRF token is masked afresh on every page (Django's BREACH guard).
    tokens = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
    assert numbers.sub("", tokens.sub("", new_thanks.content.decode())) == numbers.sub(
        "", tokens.sub("", known_thanks.content.decode())
    )
    assert known.screening_number not in known_thanks.content.decode()


# ---------------------------------------------------------------------------------------------
# 7. Headers
# ---------------------------------------------------------------------------------------------
def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_security_headers(response):
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    directives = csp_directives(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    for values in directives.values():
        for source in values:
            assert source in {"'self'", "'none'", "'unsafe-inline'", "data:"}, source


def assert_no_store(response):
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


@pytest.mark.parametrize("path", ["/", STUDY_URL, FORM_URL])
def test_a_public_page_carries_every_security_header_and_a_strict_policy(client, ldn_study, path):
    response = client.get(path, secure=True)

    assert response.status_code == 200
    assert_security_headers(response)
    directives = csp_directives(response)
    assert directives["style-src"] == ["'self'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "style-src-attr" not in directives


def test_public_pages_have_no_inline_script_or_style_the_policy_would_block(client, ldn_study):
    for path in ("/", STUDY_URL, FORM_URL):
        html = client.get(path).content.decode()
        assert "<style" not in html, path
        assert " style=" not in html, path
        assert re.search(r"<script(?![^>]*\bsrc=)", html) is None, path
        assert re.search(r"\son[a-z]+=", html) is None, path


def test_the_thank_you_and_429_pages_carry_the_headers_and_no_store(client, ldn_study, settings):
    settings.RATELIMIT_ENABLE = True
    settings.INTEREST_RATE_LIMIT = "1/h"
    client.post(FORM_URL, ldn_form_data(), secure=True)
    thanks = client.get(THANKS_URL, secure=True)
    limited = client.post(FORM_URL, ldn_form_data(email="b@example.com"), secure=True)

    assert thanks.status_code == 200 and limited.status_code == 429
    for response in (thanks, limited):
        assert_security_headers(response)
    assert_no_store(thanks)
    assert_no_store(client.get(FORM_URL, secure=True))


def test_cookies_are_secure_and_http_only_when_debug_is_off(client, ldn_study):
    form = client.get(FORM_URL, secure=True)
    posted = client.post(FORM_URL, ldn_form_data(), secure=True)

    assert form.cookies["csrftoken"]["secure"] is True
    # The thank-you page's number rides in a signed cookie, not in a session.
    assert "sessionid" not in posted.cookies
    assert posted.cookies["interest_submitted"]["secure"] is True
    assert posted.cookies["interest_submitted"]["httponly"] is True
    assert posted.cookies["interest_submitted"]["samesite"] == "Lax"
    switched = client.post("/i18n/setlang/", {"language": "es", "next": "/"}, secure=True)
    language_cookie = switched.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert language_cookie.value == "es"
    assert language_cookie["secure"] is True
    assert language_cookie["httponly"] is True
    assert language_cookie["samesite"] == "Lax"


def test_an_admin_page_carries_every_header_and_no_store(client, superuser):
    client.force_login(superuser)
    for path in (ADMIN_URL, "/admin/recruitment/participant/"):
        response = client.get(path, secure=True)
        assert response.status_code == 200, path
        assert_security_headers(response)
        assert_no_store(response)
        # The admin's extra room is for style attributes only, never for scripts.
        assert csp_directives(response)["style-src-attr"] == ["'unsafe-inline'"]


def test_the_admin_login_page_is_never_stored(client, db):
    response = client.get(ADMIN_LOGIN_URL, secure=True)

    assert response.status_code == 200
    assert_security_headers(response)
    assert_no_store(response)


def test_a_staff_page_carries_every_header_and_no_store(client, ldn_study, superuser):
    client.force_login(superuser)
    response = client.get(STAFF_URL, secure=True)

    assert response.status_code == 200
    assert_security_headers(response)
    assert_no_store(response)


@pytest.mark.parametrize("path", EXPORT_URLS)
def test_every_export_is_never_stored(client, ldn_study, superuser, path):
    submit(ldn_study)
    client.force_login(superuser)
    response = client.get(path, secure=True)

    assert response.status_code == 200
    assert_security_headers(response)
    assert_no_store(response)


def test_the_policy_names_no_third_party_host(client, ldn_study, superuser, settings):
    pages = [client.get("/", secure=True), client.get(FORM_URL, secure=True)]
    client.force_login(superuser)
    pages += [client.get(ADMIN_URL, secure=True), client.get(STAFF_URL, secure=True)]

    for response in pages:
        header = response["Content-Security-Policy"]
        assert not re.search(r"https?:|//|\*|\.[a-z]{2,}\b", header), header
