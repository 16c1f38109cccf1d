"""Plain words for patients.

Every public page's main text reads at US grade 8 or below (textstat's Flesch-Kincaid grade),
medical words are explained where a page first uses them, and the thank-you page and the
confirmation email say what happens next, when, who will call and from which number, that
they give no result, and how to withdraw, in English and in Spanish.
"""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from recruitment.models import Participant
from tests.factories import ldn_form_data
from tests.public_pages import render_public_pages
from tests.readability import fk_grade, hardest_sentences, page_blocks, prose, sentences

pytestmark = pytest.mark.django_db

MAX_GRADE = 8.0

# Medical words -> words that explain them. The explanation must be in the sentence that
# first uses the word on a page, the one before ("Crash after effort ... Doctors call this
# post-exertional malaise.") or the next two (a question, then its hint). Answer options
# ("Yes", "Not sure") are not sentences. Names (the study's title and short title, its team
# and site) are not uses: their words are explained where the text first uses them.
TERMS = {
    "post-exertional malaise": ("worse after", "much worse", "crash after effort"),
    "ME/CFS": (
        "chronic fatigue syndrome",
        "myalgic encephalomyelitis",
        "long-term illness",
        "very tired",
    ),
    "naltrexone": ("medicine", "drug"),
    "LDN": ("low dose", "low-dose"),
    "opioid": ("painkiller", "pain medicine"),
    "orthostatic": ("stand", "sit up"),
    "autoimmune": ("attacks itself", "defense system", "immune system attacks"),
    "hepatitis": ("swelling of the liver", "liver swelling", "inflammation of the liver"),
    "washout": ("wait", "stop taking"),
}


@pytest.fixture
def english_pages(ldn_study, django_capture_on_commit_callbacks, settings):
    return render_public_pages(
        ldn_study, language="en", capture=django_capture_on_commit_callbacks, settings=settings
    )


def main_text(html: str) -> str:
    return prose(page_blocks(html, regions=("main",)))


def test_every_public_page_reads_at_grade_8_or_below(english_pages):
    too_hard = []
    for page, html in english_pages.items():
        text = main_text(html)
        assert len(text.split()) > 10, (page, text)
        grade = fk_grade(text)
        if grade > MAX_GRADE:
            worst = "; ".join(f"{g}: {s!r}" for g, s in hardest_sentences(text))
            too_hard.append(f"{page}: grade {grade:.1f} (hardest: {worst})")
    assert not too_hard, "Pages above grade 8:\n" + "\n".join(too_hard)


def test_the_grade_counts_hard_text_as_hard():
    """The measure itself: plain text passes, dense text fails, so the test above means
    something."""
    plain = "We will call you soon. You can stop at any time. You do not need to say why."
    dense = (
        "Participants demonstrating post-exertional symptom exacerbation consistent with "
        "internationally recognised diagnostic criteria will subsequently be evaluated "
        "regarding eligibility through comprehensive laboratory investigations."
    )
    assert fk_grade(plain) <= 4
    assert fk_grade(dense) > 16


def test_hidden_fields_scripts_and_numbers_are_not_read_as_text():
    html = (
        '<main><h1>Hello there friend</h1><script>var x = "Incomprehensibility";</script>'
        '<div class="hp-field" aria-hidden="true"><label>Leave this empty</label></div>'
        "<p hidden>Secret words</p><p>Call 205-555-0100 or email team@example.edu "
        "about LDN-S-0042.</p></main><footer>Not main</footer>"
    )
    assert page_blocks(html) == [
        "Hello there friend",
        "Call 205-555-0100 or email team@example.edu about LDN-S-0042.",
    ]
    assert main_text(html) == "Hello there friend.\nCall or email about."


def first_uses(text: str, names: list[str]) -> dict[str, tuple[list[str], int]]:
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, "the study")
    found = {}
    said = [sentence for sentence in sentences(text) if len(sentence.split()) > 2]
    for term in TERMS:
        flags = 0 if term.isupper() or "/" in term else re.IGNORECASE
        pattern = re.compile(rf"(?<![\w/-]){re.escape(term)}", flags)
        for i, sentence in enumerate(said):
            if pattern.search(sentence):
                found[term] = (said, i)
                break
    return found


def unexplained_terms(text: str, names: list[str]) -> list[str]:
    problems = []
    for term, (said, i) in first_uses(text, names).items():
        around = " ".join(said[max(i - 1, 0) : i + 3]).lower()
        if not any(marker in around for marker in TERMS[term]):
            problems.append(f"{term!r} first used, unexplained, in: {said[i]!r}")
    return problems


def test_medical_words_are_explained_where_each_page_first_uses_them(ldn_study, english_pages):
    names = [getattr(ldn_study, f) for f in ("title", "short_title", "contact_name", "site_name")]
    problems = {
        page: unexplained_terms(main_text(html), names)
        for page, html in english_pages.items()
        if unexplained_terms(main_text(html), names)
    }
    assert not problems, "\n".join(f"{page}: {p}" for page, p in problems.items())


def test_the_term_check_finds_an_unexplained_word_and_accepts_an_explained_one():
    assert unexplained_terms("Have you taken an opioid? Yes. Have you taken a pill?", []) == [
        "'opioid' first used, unexplained, in: 'Have you taken an opioid?'"
    ]
    explained = [
        "Have you taken a painkiller called an opioid?",
        "Crash after effort: you feel worse. (Doctors call this post-exertional malaise.)",
        "Do you have an autoimmune disease? Yes. No. Or another illness with swelling? "
        "Autoimmune means the body's defense system attacks your own body.",
    ]
    for text in explained:
        assert unexplained_terms(text, []) == [], text
    # Only the first use needs the explanation; the study's name is not a use.
    named = "LDN for ME/CFS. Naltrexone is a medicine. Take naltrexone."
    assert unexplained_terms(named, ["LDN for ME/CFS"]) == []


# ---------------------------------------------------------------------------------------------
# Clear next steps (point 8): the thank-you page and the confirmation email
# ---------------------------------------------------------------------------------------------
NEXT_STEPS = {
    "en": {
        "what happens next": "What happens next",
        "when": "within 5 working days",
        "who calls": "{name} will call you",
        "no result": "does not tell you if you can take part",
        "withdraw": "You can stop at any time",
        "withdraw by email": "Or email us at {email}",
        "withdraw by phone": "Or call us at {phone}",
    },
    "es": {
        "what happens next": "Qué pasa ahora",
        "when": "dentro de 5 días hábiles",
        "who calls": "{name} le llamará",
        "no result": "no le dice si puede participar",
        "withdraw": "Puede retirarse en cualquier momento",
        "withdraw by email": "O escríbanos a {email}",
        "withdraw by phone": "O llámenos al {phone}",
    },
}
CALL_FROM = {"en": "The call will come from {phone}", "es": "La llamada vendrá del {phone}"}
WITHDRAW_LINK = {
    "en": ("a link you can open to withdraw your interest", "Open this link to withdraw"),
    "es": ("un enlace que puede abrir para retirar su interés", "Abra este enlace para retirar"),
}


def submitted(study, language, capture, **data) -> tuple[str, mail.EmailMessage]:
    browser = Client(HTTP_ACCEPT_LANGUAGE=language)
    with capture(execute=True):
        sent = browser.post(
            reverse("recruitment:interest", args=[study.slug]), ldn_form_data(**data)
        )
    assert sent.status_code == 302
    participant = Participant.objects.get()
    (email,) = [m for m in mail.outbox if m.to == [participant.email]]
    return browser.get(sent["Location"]).content.decode(), email


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_thank_you_page_and_the_email_say_what_happens_next_and_who_calls(
    ldn_study, django_capture_on_commit_callbacks, language
):
    page, email = submitted(ldn_study, language, django_capture_on_commit_callbacks)
    with translation.override(language):
        name = ldn_study.text.contact_name
    facts = {
        key: phrase.format(name=name, phone=ldn_study.contact_phone, email=ldn_study.contact_email)
        for key, phrase in {**NEXT_STEPS[language], "call from": CALL_FROM[language]}.items()
    }
    page_text = " ".join(page_blocks(page))
    for where, text in (("thank-you page", page_text), ("email", email.body)):
        missing = [key for key, phrase in facts.items() if phrase not in text]
        assert not missing, f"{where} ({language}) does not say: {missing}\n{text}"
    link_on_page, link_in_email = WITHDRAW_LINK[language]
    assert link_on_page in page_text
    assert link_in_email in email.body
    assert re.search(r"https?://testserver/withdraw/[^/\s]+/", email.body)


@pytest.mark.parametrize(
    "method, says",
    [
        ("text", "will text you within 5 working days"),
        ("email", "will email you within 5 working days"),
    ],
)
def test_the_next_steps_follow_the_contact_method_the_patient_chose(
    ldn_study, django_capture_on_commit_callbacks, method, says
):
    page, email = submitted(
        ldn_study, "en", django_capture_on_commit_callbacks, preferred_contact=method
    )
    for text in (" ".join(page_blocks(page)), email.body):
        assert f"{ldn_study.contact_name} {says}" in text
        assert ldn_study.contact_phone in text


def test_the_email_reads_at_grade_8_or_below(ldn_study, django_capture_on_commit_callbacks):
    _page, email = submitted(ldn_study, "en", django_capture_on_commit_callbacks)
    text = prose([line.lstrip("-0123456789. ") for line in email.body.splitlines()])
    assert fk_grade(text) <= MAX_GRADE, hardest_sentences(text)
