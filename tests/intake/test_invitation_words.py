"""Plain words in a registry invitation: its email and the pages behind its links read at US
grade 8 or below, in English; the Spanish email has no English line left."""

import pytest
from django.core import mail

from recruitment.invitations.services import registry_invitation_send
from recruitment.links import INVITATION_NO, INVITATION_YES, invitation_path
from tests.invitations.scenario import (
    DEC_7,
    match_of,
    person_in_registry,
    shared_answers_give,
    sleep_study,
)
from tests.readability import fk_grade, hardest_sentences, page_blocks, prose

pytestmark = pytest.mark.django_db

MAX_GRADE = 8.0


@pytest.fixture(autouse=True)
def now(time_machine):
    time_machine.move_to(DEC_7, tick=False)


def invited(ldn_study, coordinator, capture, *, language="en", **contact):
    study = sleep_study()
    person = person_in_registry(ldn_study, language=language, **contact)
    shared_answers_give(person)
    mail.outbox.clear()
    with capture(execute=True):
        return registry_invitation_send(
            match=match_of(study, person), by=coordinator, site_url="http://testserver/"
        )


def assert_plain(name: str, text: str) -> None:
    grade = fk_grade(text)
    worst = "; ".join(f"{g}: {s!r}" for g, s in hardest_sentences(text))
    assert grade <= MAX_GRADE, f"{name}: grade {grade:.1f} (hardest: {worst})"


def test_the_invitation_email_and_its_pages_read_at_grade_8_or_below(
    client, ldn_study, coordinator, django_capture_on_commit_callbacks
):
    invitation = invited(ldn_study, coordinator, django_capture_on_commit_callbacks)
    (email,) = mail.outbox
    yes = invitation_path(invitation=invitation, response=INVITATION_YES)
    no = invitation_path(invitation=invitation, response=INVITATION_NO)
    pages = {
        "yes page": client.get(yes),
        "yes page with an error": client.post(yes, {}),
        "no page": client.get(no),
        "thank-you for a no": client.post(no),
        "dead link": client.get(no),
    }

    assert_plain("email", prose(email.body.splitlines()))
    for name, page in pages.items():
        assert_plain(name, prose(page_blocks(page.content.decode(), regions=("main",))))


def test_the_spanish_invitation_email_has_no_english_line_left(
    ldn_study, coordinator, django_capture_on_commit_callbacks
):
    invited(
        ldn_study,
        coordinator,
        django_capture_on_commit_callbacks,
        language="es",
        first_name="Ana",
        email="ana@example.com",
    )
    (email,) = mail.outbox

    english = [
        "Hello",
        "study may fit",
        "Do you want",
        "Yes, tell me",
        "No, thanks",
        "Each link works once",
        "does not know",
        "do not have to",
        "Questions?",
    ]
    for words in english:
        assert words not in email.body, words
        assert words not in email.alternatives[0][0], words
