"""Markup typed into a criterion's hint, in a real browser: the patient reads it as text, and
the page it would have redirected stays where it is."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from recruitment.models import EligibilityCriterion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REDIRECT = '<meta http-equiv="refresh" content="1;url=https://example.com">'


def test_a_hint_with_a_refresh_tag_is_shown_as_text_and_redirects_nowhere(
    page, live_server, ldn_study, requested_urls
):
    hint = f"ME/CFS is also called chronic fatigue syndrome. {REDIRECT}"
    EligibilityCriterion.objects.filter(study=ldn_study, code="diagnosis").update(hint=hint)
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    form_url = live_server.url + "/studies/ldn-mecfs/interest/"

    page.goto(form_url)
    expect(page.locator("#id_q_diagnosis_helptext")).to_have_text(hint)
    # Twice the refresh's delay: a refresh would have left the page by now.
    page.wait_for_timeout(2_000)

    assert page.url == form_url
    assert navigations == [form_url]
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    server = urlsplit(live_server.url).netloc
    assert [url for url in requested_urls if urlsplit(url).netloc != server] == []
