"""The blank interest form's HTML comes from the cache: the same bytes as
rendering it, fresh per-page values, and never a stale form after a change."""

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone, translation

from recruitment import selectors
from recruitment.intake import draft_views
from recruitment.intake.form_timing import FormTiming, form_timing
from recruitment.intake.forms import InterestForm
from recruitment.models import Study
from recruitment.studies.services import study_criteria_changed
from tests.factories import ldn_form_data

FORM_URL = "/studies/ldn-mecfs/interest/"
PER_PAGE = re.compile(r'(name="(csrfmiddlewaretoken|form_issued|submission_token)" value=")[^"]*"')


def normalised(html: str) -> str:
    return PER_PAGE.sub(r'\1…"', html)


def per_page_values(html: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for match in re.finditer(r'name="(\w+)" value="([^"]*)"', html):
        values.setdefault(match.group(1), []).append(match.group(2))
    return values


def rendered_without_cache(study: Study, language: str, url: str = FORM_URL) -> str:
    """The page as the template renders it with the form object (`{% crispy form %}`)."""
    request = RequestFactory().get(url)
    request.user = AnonymousUser()
    with translation.override(language):
        study = selectors.study_get_public(slug=study.slug)
        criteria = selectors.criterion_list_for_form(study=study)
        context = {
            **draft_views.form_page_context(study),
            "form": InterestForm(study=study, criteria=criteria),
        }
        return render_to_string("recruitment/interest.html", context, request=request)


def get_form(client, language: str = "en", url: str = FORM_URL) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_cached_form_is_byte_for_byte_the_rendered_one(client, ldn_study, language):
    first = get_form(client, language)  # renders and stores the form
    second = get_form(client, language)  # from the cache

    expected = normalised(rendered_without_cache(ldn_study, language))
    assert normalised(first) == expected
    assert normalised(second) == expected
    assert f'<html lang="{language}">' in second


def test_each_page_gets_its_own_tokens(client, ldn_study):
    pages = [per_page_values(get_form(client)) for _ in range(3)]

    for name in ("form_issued", "submission_token"):
        values = [page[name] for page in pages]
        assert all(len(v) == 1 for v in values)
        assert len({v[0] for v in values}) == 3, name
    # Both CSRF tokens on a page (the form's and the language switch's) are filled in.
    assert all(len(page["csrfmiddlewaretoken"]) == 2 for page in pages)
    assert all(v for page in pages for v in page["csrfmiddlewaretoken"])


def test_the_signed_time_is_when_the_page_was_served_not_when_it_was_cached(client, ldn_study):
    start = timezone.now()
    get_form(client)
    with time_machine.travel(start + dt.timedelta(hours=3), tick=False):
        issued = per_page_values(get_form(client))["form_issued"][0]
        served = timezone.now()

    # Judged 5 seconds after it was served: "too fast" only if signed with the serving time.
    assert form_timing(issued, now=served + dt.timedelta(seconds=5), min_seconds=10) == (
        FormTiming.TOO_FAST
    )


def test_a_form_from_the_cache_can_be_sent(client, ldn_study):
    get_form(client)
    page = per_page_values(get_form(client))
    data = ldn_form_data(
        form_issued=page["form_issued"][0], submission_token=page["submission_token"][0]
    )

    response = client.post(FORM_URL, data)

    assert response.status_code == 302
    participant = ldn_study.participants.get()
    assert str(participant.submission_token) == page["submission_token"][0]


def test_a_new_criteria_version_shows_at_once(client, ldn_study):
    assert "Do you have liver disease or hepatitis?" in get_form(client)  # cached now
    liver = ldn_study.criteria.get(code="liver")
    liver.question = "Has a doctor ever said your liver is sick?"
    liver.save()
    study_criteria_changed(study=ldn_study, criteria=[liver])

    html = get_form(client)
    assert "Has a doctor ever said your liver is sick?" in html
    assert "Do you have liver disease or hepatitis?" not in html


def test_a_study_text_change_shows_at_once(client, ldn_study):
    get_form(client)
    get_form(client, "es")
    study = Study.objects.get(pk=ldn_study.pk)
    study.contact_consent_text = "You may contact me about this study (new text)."
    study.translations["es"]["contact_consent_text"] = "Pueden contactarme (texto nuevo)."
    study.save()

    assert "You may contact me about this study (new text)." in get_form(client)
    assert "Pueden contactarme (texto nuevo)." in get_form(client, "es")


def test_a_language_change_shows_the_form_in_the_new_language_at_once(client, ldn_study):
    english = get_form(client, "en")
    spanish = get_form(client, "es")

    assert "First name" in english
    assert "Nombre" in spanish and "First name" not in spanish
    assert "Send my interest" in get_form(client, "en")


def test_a_first_time_visitor_costs_one_query(client, ldn_study, django_assert_max_num_queries):
    # What the kept page depends on (the study's version and the criteria's change stamp),
    # then the study and its criteria to render the page.
    with django_assert_max_num_queries(3):
        get_form(client)
    client.cookies.clear()
    # The kept page: only what it depends on. The database rewrites the stamp on any change
    # of a criterion, so a change made by SQL by hand shows at once too
    # (tests/intake/test_criteria_changes.py).
    with django_assert_max_num_queries(1):
        get_form(client)


def test_errors_and_drafts_are_never_taken_from_the_cache(client, ldn_study):
    get_form(client)

    response = client.post(FORM_URL, {"first_name": "Ann", "note": "Tired after walking."})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="error-summary"' in html
    assert 'value="Ann"' in html and "Tired after walking." in html


def test_the_form_is_served_when_the_cache_server_is_down(client, ldn_study):
    down = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens on the discard port
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
    with override_settings(CACHES=down):
        html = get_form(client)

    assert normalised(html) == normalised(rendered_without_cache(ldn_study, "en"))


def test_a_page_with_a_query_string_names_its_own_address(client, ldn_study):
    url = FORM_URL + "?from=newsletter"
    get_form(client)
    get_form(client, url=url)

    html = get_form(client, url=url)

    assert normalised(html) == normalised(rendered_without_cache(ldn_study, "en", url))
    assert 'name="next" value="/studies/ldn-mecfs/interest/?from=newsletter"' in html
    assert 'name="next" value="/studies/ldn-mecfs/interest/"' in get_form(client)


def test_the_csrf_token_of_a_page_from_the_cache_is_accepted(ldn_study):
    browser = Client(enforce_csrf_checks=True)
    browser.get(FORM_URL)
    page = per_page_values(get_form(browser))  # from the cache

    data = ldn_form_data(
        csrfmiddlewaretoken=page["csrfmiddlewaretoken"][0],
        form_issued=page["form_issued"][0],
        submission_token=page["submission_token"][0],
    )
    response = browser.post(FORM_URL, data)

    assert response.status_code == 302
    assert ldn_study.participants.count() == 1
