"""Switching language on the interest form keeps every answer typed: on that page the header
switch belongs to the form (form="interest-form"), so it posts the answers with `language` to
the form's URL, which keeps them and shows the form again in the new language (post/redirect/
get)."""

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.views.i18n import set_language

from recruitment.models import Draft, Participant

FORM_URL = "/studies/ldn-mecfs/interest/"
TYPED = {
    "first_name": "Ana",
    "last_name": "López",
    "email": "ana.lopez@example.com",
    "phone": "(205) 555-0134",
    "preferred_contact": "text",
    "best_time": "evening",
    "date_of_birth": "1979-03-14",
    "zip_code": "35203",
    "referral_source": "prohealth",
    "note": "Tired after short walks.\nBetter in the morning.",
    "contact_consent": "on",
    "q_diagnosis": "yes",
    "q_core-symptoms__pem": "yes",
    "q_core-symptoms__sleep": "unsure",
    "q_opioids": "yes",
    "q_opioids__last": "2026-09-30",
    "q_liver": "no",
}


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and rendered forms live in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def switch(client: Client, language: str, **extra) -> object:
    page = client.get(FORM_URL).content.decode()
    data = {
        **TYPED,
        "language": language,
        "form_issued": hidden(page, "form_issued"),
        "submission_token": hidden(page, "submission_token"),
        **extra,
    }
    return client.post(FORM_URL, data)


def test_every_answer_comes_back_in_the_new_language(client, ldn_study):
    response = switch(client, "es")

    assert response.status_code == 302
    assert response["Location"] == FORM_URL
    html = client.get(FORM_URL).content.decode()
    assert '<html lang="es">' in html
    assert "Enviar mi interés" in html
    for name in ("first_name", "last_name", "email", "phone", "zip_code"):
        assert f'name="{name}" value="{TYPED[name]}"' in html.replace("&#x27;", "'"), name
    for name in ("date_of_birth", "q_opioids__last"):
        assert re.search(rf'type="date" name="{name}" value="{TYPED[name]}"', html), name
    for name in ("preferred_contact", "best_time", "q_diagnosis", "q_core-symptoms__pem"):
        assert re.search(rf'name="{name}" value="{TYPED[name]}"[^>]*checked', html), name
    assert re.search(r'name="q_core-symptoms__sleep" value="unsure"[^>]*checked', html)
    assert re.search(r'name="q_liver" value="no"[^>]*checked', html)
    assert re.search(r'<option value="prohealth" selected>', html)
    assert re.search(r'name="contact_consent"[^>]*checked', html)
    assert "Tired after short walks.\nBetter in the morning.</textarea>" in html
    # No error messages: nothing was checked.
    assert 'id="error-summary"' not in html and "invalid-feedback" not in html


def test_nothing_is_saved_and_the_answers_come_back_once(client, ldn_study):
    switch(client, "es")
    client.get(FORM_URL)

    again = client.get(FORM_URL).content.decode()

    assert 'value="Ana"' not in again
    assert Participant.objects.count() == 0
    assert Draft.objects.count() == 0


def test_the_form_then_sends_as_usual(client, ldn_study):
    switch(client, "es")
    html = client.get(FORM_URL).content.decode()

    data = {
        **TYPED,
        "form_issued": hidden(html, "form_issued"),
        "submission_token": hidden(html, "submission_token"),
        "q_opioids": "no",
        "q_opioids__last": "",
    }
    response = client.post(FORM_URL, data)

    assert response.status_code == 302
    participant = Participant.objects.get()
    assert (participant.first_name, participant.language) == ("Ana", "es")


def test_the_language_cookie_is_set_as_djangos_language_switch_sets_it(
    client, ldn_study, rf, settings
):
    settings.LANGUAGE_COOKIE_AGE = 3600
    ours = switch(client, "es").cookies[settings.LANGUAGE_COOKIE_NAME]
    request = rf.post("/i18n/setlang/", {"language": "es", "next": FORM_URL})
    djangos = set_language(request).cookies[settings.LANGUAGE_COOKIE_NAME]

    assert ours.value == "es"
    for attribute in ("max-age", "path", "domain", "secure", "httponly", "samesite"):
        assert ours[attribute] == djangos[attribute], attribute


def test_back_to_english_keeps_the_answers_too(client, ldn_study):
    client.cookies["django_language"] = "es"
    switch(client, "en")

    html = client.get(FORM_URL).content.decode()

    assert '<html lang="en">' in html and "Send my interest" in html
    assert 'name="first_name" value="Ana"' in html


def test_an_unknown_language_changes_nothing_but_keeps_the_answers(client, ldn_study):
    response = switch(client, "de")

    assert "django_language" not in response.cookies
    html = client.get(FORM_URL).content.decode()
    assert '<html lang="en">' in html and 'name="first_name" value="Ana"' in html


def test_the_switch_needs_the_csrf_token(ldn_study):
    browser = Client(enforce_csrf_checks=True)
    browser.get(FORM_URL)

    response = browser.post(FORM_URL, {**TYPED, "language": "es"})

    assert response.status_code == 403
    assert "django_language" not in response.cookies


def test_switches_count_against_the_interest_forms_rate_limit(client, ldn_study, settings):
    settings.RATELIMIT_ENABLE = True
    settings.INTEREST_RATE_LIMIT = "2/h"

    assert client.post(FORM_URL, {"email": "nope"}).status_code == 200  # one form POST
    assert switch(client, "es").status_code == 302  # one switch
    response = switch(client, "en")

    assert response.status_code == 429
    assert response.templates[0].name == "429.html"
    assert "django_language" not in response.cookies


def test_on_the_form_the_header_switch_sends_the_answers_and_enter_still_sends_the_form(
    client, ldn_study
):
    html = client.get(FORM_URL).content.decode()

    switch_button = re.search(r'<button type="submit" name="language"[^>]*>', html).group(0)
    assert 'form="interest-form"' in switch_button and "formaction" not in switch_button
    assert f'action="{FORM_URL}"' in html
    # The form's default button (Enter in a field) is the first one of the form in the page.
    first = re.search(r'<button[^>]*form="interest-form"[^>]*>', html).group(0)
    assert "hidden" in first and 'name="language"' not in first


def test_the_switch_keeps_the_answers_of_a_form_shown_again_with_errors(client, ldn_study):
    page = client.post("/studies/ldn-mecfs/interest/save/", {**TYPED, "email": "nope"})
    html = page.content.decode()
    assert 'id="error-summary"' in html and 'form="interest-form"' in html

    switch(client, "es")

    assert 'name="first_name" value="Ana"' in client.get(FORM_URL).content.decode()


def test_other_pages_keep_the_plain_switch(client, ldn_study):
    html = client.get("/studies/ldn-mecfs/").content.decode()

    assert 'form="interest-form"' not in html


def test_a_closed_study_keeps_nothing(client, ldn_study):
    ldn_study.is_recruiting = False
    ldn_study.save()

    response = client.post(FORM_URL, {**TYPED, "language": "es"})

    assert response.status_code == 200
    assert "interest_kept" not in client.session


def test_the_switch_and_the_page_after_it_run_a_fixed_number_of_queries(
    client, ldn_study, django_assert_max_num_queries
):
    page = client.get(FORM_URL).content.decode()
    data = {**TYPED, "language": "es", "form_issued": hidden(page, "form_issued")}
    # The study, its criteria, and a new session (a check for its key, then the insert).
    with django_assert_max_num_queries(6):
        client.post(FORM_URL, data)
    # The session, the study, its criteria, and the session saved without the kept answers.
    with django_assert_max_num_queries(6):
        client.get(FORM_URL)
