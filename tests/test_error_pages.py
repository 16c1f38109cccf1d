"""Error pages a patient can read: 400, 403, 404, 429, 500 and 503 in the site's style, in
English and Spanish, saying what happened, whether anything was saved (only when that is
known) and how to reach the study team; the 500 and 503 pages with the database unreachable.

The failing database is real, as in tests/test_healthz.py: the connection is pointed at a
target that cannot answer (a SQLite file in a missing directory, or PostgreSQL on port 1).
"""

import contextlib
import copy
import uuid
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client, RequestFactory
from django_ratelimit.exceptions import Ratelimited

from recruitment import error_pages, selectors
from recruitment.intake.inbox import sent_form_keep
from recruitment.models import Participant
from recruitment.study_contacts import study_contact_forget_all
from tests.factories import ldn_form_data
from tests.readability import fk_grade, page_blocks, prose

pytestmark = pytest.mark.django_db

STUDY_URL = "/studies/ldn-mecfs/"
FORM_URL = "/studies/ldn-mecfs/interest/"
MISSING_URL = "/studies/ldn-mecfs/no-such-page/"
EMAIL, PHONE = "ldn-study@example.edu", "205-555-0100"
GENERAL_CONTACT = "Their email and phone number are on each study's page."
BAD_CHARSET = "application/x-www-form-urlencoded; charset=nonsense-charset"
LATIN1 = "application/x-www-form-urlencoded; charset=latin-1"

HEADINGS = {
    400: ("We could not read this", "No pudimos leer esto"),
    403: ("This page is not open to you", "Esta página no está abierta para usted"),
    404: ("We cannot find this page", "No encontramos esta página"),
    500: ("Something went wrong on our side", "Algo falló de nuestro lado"),
    503: ("The site is down for a short time", "El sitio no funciona por un rato"),
}


@pytest.fixture(autouse=True)
def _fresh_worker():
    """Each test starts as a worker that has served no study page yet."""
    study_contact_forget_all()
    yield
    study_contact_forget_all()


def browser(language="en", **kwargs) -> Client:
    return Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE=language, **kwargs)


@contextlib.contextmanager
def database_unreachable(tmp_path):
    """The connection points at a database that cannot answer, then back at the real one."""
    saved = copy.deepcopy(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = str(tmp_path / "no-such-directory" / "db.sqlite3")
    else:
        connection.settings_dict["PORT"] = "1"
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


def html(response) -> str:
    return response.content.decode()


def main_text(response) -> str:
    return prose(page_blocks(html(response), regions=("main",)))


def assert_site_page(response, status: int, language: str = "en"):
    """The site's layout and stylesheet, the language asked for, and nothing from inside."""
    body = html(response)
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert f'<html lang="{language}">' in body
    assert "/static/css/site.css" in body
    assert 'id="language-switch"' in body
    for leak in ("Traceback", "Error:", "Exception", "OperationalError", "no-such-directory"):
        assert leak not in body
    assert fk_grade(main_text(response)) <= 8.0, main_text(response)


def raising(exception):
    return mock.Mock(side_effect=exception)


# ---------------------------------------------------------------------------------------------
# 404
# ---------------------------------------------------------------------------------------------
def test_a_missing_page_under_a_study_names_the_page_and_the_study_team(ldn_study):
    response = browser().get(MISSING_URL)

    assert_site_page(response, 404)
    assert HEADINGS[404][0] in html(response)
    assert EMAIL in html(response) and PHONE in html(response)
    assert f'href="{STUDY_URL}"' in html(response)


def test_a_missing_page_is_in_spanish_for_a_spanish_browser(ldn_study):
    response = browser("es").get(MISSING_URL)

    assert_site_page(response, 404, "es")
    assert HEADINGS[404][1] in html(response)
    assert "Escriba a ldn-study@example.edu o llame al 205-555-0100." in html(response)


def test_a_missing_study_gets_the_general_sentence(ldn_study):
    response = browser().get("/studies/no-such-study/")

    assert_site_page(response, 404)
    assert GENERAL_CONTACT in html(response)
    assert EMAIL not in html(response)


# ---------------------------------------------------------------------------------------------
# 400: a charset Python does not know, or a form Django refuses to decode
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("content_type", [BAD_CHARSET, LATIN1])
def test_a_form_in_a_charset_that_cannot_be_read_gets_the_400_page_and_nothing_is_saved(
    ldn_study, content_type
):
    client = browser(enforce_csrf_checks=True)
    client.get(FORM_URL)  # the CSRF cookie: Django reads the form to check the token
    response = client.generic("POST", FORM_URL, b"first_name=Ann", content_type=content_type)

    assert_site_page(response, 400)
    assert HEADINGS[400][0] in html(response)
    assert "Nothing you sent was saved." in html(response)
    assert EMAIL in html(response)
    assert not Participant.objects.exists()


def test_the_400_page_is_in_spanish(ldn_study):
    response = browser("es").generic("POST", FORM_URL, b"a=1", content_type=BAD_CHARSET)

    assert_site_page(response, 400, "es")
    assert HEADINGS[400][1] in html(response)
    assert "No se guardó nada de lo que envió." in html(response)


# ---------------------------------------------------------------------------------------------
# 403
# ---------------------------------------------------------------------------------------------
def test_a_form_refused_by_the_csrf_check_says_to_send_it_again(ldn_study):
    client = browser(enforce_csrf_checks=True)
    response = client.post(FORM_URL, ldn_form_data())

    assert_site_page(response, 403)
    assert "Please send the form again" in html(response)
    assert "Nothing you sent was saved." in html(response)
    assert EMAIL in html(response)
    assert "CSRF" not in html(response) and "Ann" not in html(response)


def test_a_refusal_is_the_403_page_in_both_languages(ldn_study):
    for language, heading in zip(("en", "es"), HEADINGS[403], strict=True):
        with mock.patch.object(selectors, "study_get_public", raising(PermissionDenied)):
            response = browser(language).get(STUDY_URL)
        assert_site_page(response, 403, language)
        assert heading in html(response)


# ---------------------------------------------------------------------------------------------
# 429
# ---------------------------------------------------------------------------------------------
def test_the_rate_limit_page_says_when_to_try_again(ldn_study, settings):
    settings.RATELIMIT_ENABLE = True
    settings.INTEREST_RATE_LIMIT = "1/h"
    client = browser()
    client.post(FORM_URL, ldn_form_data(token=str(uuid.uuid4())))
    response = client.post(FORM_URL, ldn_form_data(email="again@example.com"))

    assert_site_page(response, 429)
    assert 0 < int(response["Retry-After"]) <= 3600
    assert EMAIL in html(response)


def test_a_ratelimited_exception_gets_the_429_page_in_spanish_with_retry_after(ldn_study):
    client = browser("es")
    with mock.patch("recruitment.intake.views.sent_form_keep", raising(Ratelimited)):
        response = client.post(FORM_URL, ldn_form_data())

    assert_site_page(response, 429, "es")
    assert int(response["Retry-After"]) > 0
    assert "ldn-study@example.edu" in html(response)


# ---------------------------------------------------------------------------------------------
# 500: never the database; "nothing was saved" only when nothing was written
# ---------------------------------------------------------------------------------------------
def test_a_server_error_page_uses_no_query_and_shows_the_team_this_worker_knows(
    ldn_study, django_assert_num_queries
):
    client = browser()
    client.get(STUDY_URL)  # the worker serves the study's page: it knows the team now
    failing = mock.patch.object(selectors, "study_get_public", raising(RuntimeError("secret")))
    with failing, django_assert_num_queries(0):
        response = client.get(STUDY_URL)

    assert_site_page(response, 500)
    assert HEADINGS[500][0] in html(response)
    assert EMAIL in html(response) and PHONE in html(response)
    assert "secret" not in html(response)
    assert "saved" not in html(response)  # a GET sent nothing


def test_the_500_page_in_spanish_falls_back_to_the_general_sentence(ldn_study):
    with mock.patch.object(selectors, "study_get_public", raising(RuntimeError)):
        response = browser("es").get(STUDY_URL)

    assert_site_page(response, 500, "es")
    assert HEADINGS[500][1] in html(response)
    assert "Su correo y su teléfono están en la página de cada estudio." in html(response)


def test_a_server_error_before_anything_was_written_says_nothing_was_saved(ldn_study):
    with mock.patch("recruitment.intake.views.sent_form_keep", raising(RuntimeError)):
        response = browser().post(FORM_URL, ldn_form_data(token=str(uuid.uuid4())))

    assert_site_page(response, 500)
    assert "Nothing you sent was saved." in html(response)
    assert not Participant.objects.exists()


def test_a_server_error_after_the_form_was_saved_does_not_say_nothing_was_saved(ldn_study):
    keep = sent_form_keep

    def saves_then_fails(**kwargs):
        keep(**kwargs)
        raise RuntimeError("after the save")

    with mock.patch("recruitment.intake.views.sent_form_keep", saves_then_fails):
        response = browser().post(FORM_URL, ldn_form_data(token=str(uuid.uuid4())))

    assert_site_page(response, 500)
    assert Participant.objects.count() == 1
    assert "Nothing you sent was saved." not in html(response)
    assert "We may have saved some of what you sent." in html(response)
    assert "ann.lee@example.com" not in html(response) and "Ann" not in html(response)


@pytest.mark.django_db(transaction=True)
def test_the_500_page_renders_with_the_database_unreachable(ldn_study, tmp_path):
    client = browser()
    client.get(STUDY_URL)
    failing = mock.patch.object(selectors, "study_get_public", raising(RuntimeError))
    with failing, database_unreachable(tmp_path):
        response = client.get(STUDY_URL)

    assert_site_page(response, 500)
    assert EMAIL in html(response)


# ---------------------------------------------------------------------------------------------
# 503: the database does not answer
# ---------------------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_page_with_the_database_unreachable_is_a_503_with_retry_after(ldn_study, tmp_path):
    client = browser()
    client.get(STUDY_URL)
    with database_unreachable(tmp_path):
        response = client.get(STUDY_URL)
        spanish = browser("es").get("/")
        health = client.get("/healthz")

    assert_site_page(response, 503)
    assert HEADINGS[503][0] in html(response)
    assert int(response["Retry-After"]) > 0
    assert EMAIL in html(response)
    assert_site_page(spanish, 503, "es")
    assert HEADINGS[503][1] in html(spanish)
    assert "Su correo y su teléfono están en la página de cada estudio." in html(spanish)
    # /healthz keeps its JSON contract.
    assert health.status_code == 503
    assert health.json() == {"status": "error", "database": "unavailable"}


@pytest.mark.django_db(transaction=True)
def test_a_form_sent_while_the_database_is_unreachable_was_not_saved(ldn_study, tmp_path):
    with database_unreachable(tmp_path):
        response = browser().post(FORM_URL, ldn_form_data(token=str(uuid.uuid4())))

    assert_site_page(response, 503)
    assert "Nothing you sent was saved." in html(response)
    assert GENERAL_CONTACT in html(response)
    assert not Participant.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_4xx_pages_render_with_the_database_unreachable(ldn_study, tmp_path):
    with database_unreachable(tmp_path):
        missing = browser().get("/no-such-page/")
        unreadable = browser().generic("POST", FORM_URL, b"a=1", content_type=BAD_CHARSET)
        refused = browser(enforce_csrf_checks=True).post(FORM_URL, {"a": "1"})
        request = RequestFactory().post(FORM_URL, HTTP_ACCEPT_LANGUAGE="es")
        limited = error_pages.permission_denied(request, Ratelimited())

    assert_site_page(missing, 404)
    assert_site_page(unreadable, 400)
    assert_site_page(refused, 403)
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert '<html lang="es">' in html(limited)
    for response in (missing, unreadable, refused):
        assert GENERAL_CONTACT in html(response)
