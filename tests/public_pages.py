"""Every public page a patient can meet, rendered through the real views, in one language.

Used by the plain-language and the Spanish tests, so both read exactly the same pages. The
language comes from the browser's Accept-Language header, as it would for a first visit.
"""

import re
import uuid
from unittest import mock

from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from recruitment.intake import withdraw as withdraw_link
from recruitment.links import registry_leave_path
from recruitment.models import Participant, Status
from tests.factories import StaffFactory, ldn_form_data, walk

LINK = re.compile(r"https?://testserver(/withdraw/[^/\s]+/)")
DRAFT_LINK = re.compile(r"https?://testserver(/studies/[\w-]+/interest/resume/[^/\s]+/)")


def _withdraw_path(client, study, capture, **data) -> tuple[str, Participant]:
    """A fresh participant sent through the form, and the withdraw link in their email."""
    email = f"pat-{uuid.uuid4().hex[:8]}@example.com"
    mail.outbox.clear()
    with capture(execute=True):
        response = client.post(
            reverse("recruitment:interest", args=[study.slug]),
            ldn_form_data(token=str(uuid.uuid4()), email=email, first_name=email[:8], **data),
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    (confirmation,) = [m for m in mail.outbox if m.to == [email]]
    return LINK.search(confirmation.body).group(1), Participant.objects.get(email=email)


def render_public_pages(study, *, language: str, capture, settings) -> dict[str, str]:
    """Page name -> HTML, for every public page, in `language`. `capture` is pytest-django's
    `django_capture_on_commit_callbacks`, `settings` its `settings` fixture."""
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    study_url = reverse("recruitment:study", args=[study.slug])
    form_url = reverse("recruitment:interest", args=[study.slug])
    pages = {
        "home": client.get("/"),
        "study": client.get(study_url),
        "interest": client.get(form_url),
        "interest with errors": client.post(
            form_url,
            ldn_form_data(
                first_name="",
                email="not-an-email",
                zip_code="123",
                date_of_birth="",
                contact_consent=None,
                q_opioids="yes",
            ),
        ),
    }
    with capture(execute=True):
        sent = client.post(form_url, ldn_form_data(token=str(uuid.uuid4())))
    assert sent.status_code == 302
    pages["thanks"] = client.get(sent["Location"])

    # Save and finish later: the saved page, the emailed link's page, the form it brings
    # back, and a link that does not work.
    mail.outbox.clear()
    with capture(execute=True):
        saved = client.post(
            reverse("recruitment:draft_save", args=[study.slug]),
            ldn_form_data(email="draft@example.com", first_name=""),
        )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    pages["draft saved"] = client.get(saved["Location"])
    (draft_email,) = [m for m in mail.outbox if m.to == ["draft@example.com"]]
    resume = DRAFT_LINK.search(draft_email.body).group(1)
    pages["draft resume"] = client.get(resume)
    resumed = client.post(resume)
    assert resumed.status_code == 302
    pages["interest with saved answers"] = client.get(resumed["Location"])
    pages["draft link invalid"] = client.get(
        reverse("recruitment:draft_resume", args=[study.slug, "not-a-token"])
    )

    withdraw, _participant = _withdraw_path(client, study, capture)
    pages["withdraw confirm"] = client.get(withdraw)
    with capture(execute=True):
        pages["withdraw done"] = client.post(withdraw)
    pages["withdraw already done"] = client.get(withdraw)
    pages["withdraw invalid"] = client.get(reverse("recruitment:withdraw", args=["not-a-token"]))

    enrolled, participant = _withdraw_path(client, study, capture)
    walk(participant, Status.ENROLLED, by=StaffFactory(username=f"coord-{uuid.uuid4().hex[:6]}"))
    with capture(execute=True):
        pages["withdraw enrolled"] = client.post(enrolled)

    with mock.patch.object(withdraw_link, "withdraw_link_check", side_effect=RuntimeError):
        pages["withdraw error"] = client.get(withdraw)

    # The registry: a member's withdraw page (its second button) and the page after it; the
    # link in the footer of their emails, its pages, and one that does not work.
    member_withdraw, member = _withdraw_path(client, study, capture, registry_consent="on")
    pages["withdraw confirm (registry member)"] = client.get(member_withdraw)
    pages["registry left (withdraw page)"] = client.post(member_withdraw, {"leave_registry": "1"})
    _again, member = _withdraw_path(client, study, capture, registry_consent="on")
    leave = registry_leave_path(person=member.person)
    pages["registry leave confirm"] = client.get(leave)
    pages["registry left"] = client.post(leave)
    pages["registry leave invalid"] = client.get(leave)

    settings.RATELIMIT_ENABLE = True
    settings.INTEREST_RATE_LIMIT = "1/h"
    cache.clear()
    ip = {"REMOTE_ADDR": "198.51.100.250"}
    with capture(execute=True):
        client.post(form_url, ldn_form_data(token=str(uuid.uuid4()), email="rl@example.com"), **ip)
    pages["too many forms (429)"] = client.post(form_url, ldn_form_data(), **ip)
    settings.RATELIMIT_ENABLE = False
    cache.clear()

    # The trial center's own form (any study that may fit): blank, with errors, thank-you.
    center_url = reverse("center:interest")
    pages["center interest"] = client.get(center_url)
    pages["center interest with errors"] = client.post(
        center_url, {"first_name": "", "email": "not-an-email", "zip_code": "123"}
    )
    pages["center thanks"] = client.get(reverse("center:thanks"))

    study.is_recruiting = False
    study.save(update_fields=["is_recruiting"])
    pages["closed"] = client.get(form_url)
    study.is_recruiting = True
    study.save(update_fields=["is_recruiting"])

    expected = {
        "withdraw invalid": 404,
        "withdraw error": 503,
        "too many forms (429)": 429,
        "draft link invalid": 404,
        "registry leave invalid": 404,
    }
    for name, response in pages.items():
        assert response.status_code == expected.get(name, 200), (name, response.status_code)
    return {name: response.content.decode() for name, response in pages.items()}
