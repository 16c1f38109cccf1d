"""Text typed by staff (a study's texts, its criteria's questions, hints, rationales, titles and
labels, and their translations) is shown as text on every page and in every email: markup in
it is never read as markup.

Every text of the study under test carries a `<meta http-equiv="refresh">` that would send the
patient to another site, and a `<script>`. Each page is read with an HTML parser: no such
element is in it, and each text it shows reads, as text, exactly what staff typed.
"""

import pytest
from django.core import mail
from django.test.html import parse_html
from django.urls import reverse

from recruitment.intake.forms import InterestForm
from recruitment.models import STUDY_TEXT_FIELDS, EligibilityCriterion, RuleKind, Status, Study
from recruitment.screening.forms import criterion_field
from recruitment.selectors import criterion_list_for_form
from tests.factories import CriterionFactory, ldn_form_data, submit, walk
from tests.html_reading import attrs, elements, text

pytestmark = pytest.mark.django_db

META = '<meta http-equiv="refresh" content="1;url=https://example.com">'
SCRIPT = "<script>alert(1)</script>"
# Too short for both payloads: the study's short title holds 80 characters.
SHORT_FIELDS = {"short_title"}

INTEREST = "/studies/ldn-mecfs/interest/"
NORMAL_LABS = {"hs-crp": "1.2", "esr": "12", "rf": "negative", "ana": "negative"}
LABS = ("rf", "ana", "thyroid")  # titles of number fields are changed ("... (value in mg/L)")


def hostile(name: str) -> str:
    """A text named `name` (so each page can be checked for the texts it should show) that
    would redirect the page and run a script if it were read as HTML."""
    if name.split(":")[-1] in SHORT_FIELDS:
        return f"{name} {META}"
    return f"{name} {META} {SCRIPT}"


def _labels(entries: list, id_key: str, prefix: str) -> dict:
    return {entry[id_key]: hostile(f"{prefix}-{entry[id_key]}") for entry in entries}


def _make_hostile(criterion: EligibilityCriterion) -> None:
    code = criterion.code
    params = dict(criterion.params)
    es = {}
    for group, id_key in (("items", "key"), ("options", "value")):
        if group in params:
            labels = _labels(params[group], id_key, f"{group}-{code}")
            params[group] = [{**entry, "label": labels[entry[id_key]]} for entry in params[group]]
            es[group] = _labels(params[group], id_key, f"es-{group}-{code}")
    EligibilityCriterion.objects.filter(pk=criterion.pk).update(
        title=hostile(f"title-{code}"),
        question=hostile(f"question-{code}") if criterion.question else "",
        hint=hostile(f"hint-{code}"),
        rationale=hostile(f"rationale-{code}"),
        params=params,
        translations={
            "es": {
                **es,
                "question": hostile(f"es-question-{code}"),
                "hint": hostile(f"es-hint-{code}"),
            }
        },
    )


@pytest.fixture
def study(ldn_study) -> Study:
    """The LDN study with markup in every text staff may type, in English and Spanish, and a
    choice and a number question for the patient (the LDN study asks neither)."""
    CriterionFactory(
        study=ldn_study,
        code="x-choice",
        rule_kind=RuleKind.CHOICE,
        params={
            "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}],
            "eligible": ["a"],
        },
        order=900,
    )
    CriterionFactory(
        study=ldn_study,
        code="x-number",
        rule_kind=RuleKind.NUMBER_RANGE,
        params={"min": 1, "max": 10},
        order=901,
    )
    for criterion in ldn_study.criteria.all():
        _make_hostile(criterion)
    texts = {field: hostile(field) for field in STUDY_TEXT_FIELDS}
    spanish = {field: hostile(f"es:{field}") for field in STUDY_TEXT_FIELDS}
    Study.objects.filter(pk=ldn_study.pk).update(**texts, translations={"es": spanish})
    return Study.objects.get(pk=ldn_study.pk)


def patient_criteria(study) -> list[EligibilityCriterion]:
    asked = []
    for criterion in study.criteria.filter(answered_by="patient").order_by("order"):
        if criterion.rule_kind not in (RuleKind.AGE_RANGE, RuleKind.ZIP_DISTANCE):
            asked.append(criterion)
    return asked


def form_texts(study, prefix: str = "") -> list[str]:
    """Every text of the study the interest form shows, in the language of `prefix`."""
    names = []
    for criterion in patient_criteria(study):
        code = criterion.code
        names += [f"{prefix}question-{code}", f"{prefix}hint-{code}"]
        for group, id_key in (("items", "key"), ("options", "value")):
            names += [
                f"{prefix}{group}-{code}-{e[id_key]}" for e in criterion.params.get(group, [])
            ]
    study_prefix = f"{prefix[:-1]}:" if prefix else ""
    names += [f"{study_prefix}{field}" for field in ("summary", "contact_consent_text")]
    return [hostile(name) for name in names]


def assert_shown_as_text(html: str, expected: list[str] = ()) -> None:
    """No element came from the texts, and each expected text reads as typed."""
    tree = parse_html(html)
    for element in elements(tree):
        a = attrs(element)
        assert not (element.name == "meta" and "http-equiv" in a), element
        assert not (element.name == "script" and "src" not in a), element
    assert "&lt;meta http-equiv=" in html
    shown = text(tree)
    missing = [name for name in expected if name not in shown]
    assert missing == []


# ---------------------------------------------------------------------------------------------
# Public pages
# ---------------------------------------------------------------------------------------------
def test_the_home_page_shows_the_study_texts_as_text(client, study):
    html = client.get("/").content.decode()

    assert_shown_as_text(html, [hostile("summary")])


def test_the_study_page_shows_every_study_text_as_text(client, study):
    html = client.get("/studies/ldn-mecfs/").content.decode()

    fields = ("title", "summary", "site_name", "contact_name")
    lines = [f"{field} {META} {SCRIPT}" for field in ("description", "what_it_involves")]
    assert_shown_as_text(html, [hostile(field) for field in fields] + lines)


def test_the_interest_form_shows_questions_hints_and_labels_as_text(client, study):
    first = client.get(INTEREST).content.decode()
    from_cache = client.get(INTEREST).content.decode()
    with_query = client.get(INTEREST + "?utm_source=news").content.decode()

    for html in (first, from_cache, with_query):
        assert_shown_as_text(html, form_texts(study))


def test_the_interest_form_sent_back_with_errors_shows_its_texts_as_text(client, study):
    html = client.post(INTEREST, ldn_form_data(first_name="")).content.decode()

    assert "Enter your first name." in html
    assert_shown_as_text(html, form_texts(study))


def test_the_spanish_interest_form_shows_the_translations_as_text(client, study):
    html = client.get(INTEREST, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    sent_back = client.post(
        INTEREST, ldn_form_data(first_name=""), HTTP_ACCEPT_LANGUAGE="es"
    ).content.decode()

    for page in (html, sent_back):
        assert '<html lang="es">' in page
        assert_shown_as_text(page, form_texts(study, prefix="es-"))


def test_the_spanish_study_page_shows_the_translations_as_text(client, study):
    html = client.get("/studies/ldn-mecfs/", HTTP_ACCEPT_LANGUAGE="es").content.decode()

    assert_shown_as_text(html, [hostile(f"es:{field}") for field in ("title", "summary")])


def test_the_thank_you_page_and_the_email_show_the_study_texts_as_typed(
    client, study, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(INTEREST, ldn_form_data(), follow=True)

    assert response.redirect_chain[-1][0].endswith("/interest/thanks/")
    assert_shown_as_text(response.content.decode(), [hostile("contact_name")])
    # Emails are plain text only: the texts as typed, never HTML, never escaped as HTML.
    assert len(mail.outbox) == 2  # the patient's confirmation and the coordinators' notice
    for message in mail.outbox:
        assert getattr(message, "alternatives", []) == []
        assert message.content_subtype == "plain"
        assert "&lt;" not in message.subject + message.body
    confirmation, notice = sorted(mail.outbox, key=lambda m: "ann.lee@example.com" not in m.to)
    assert hostile("short_title") in confirmation.subject
    assert hostile("title") in confirmation.body
    assert hostile("short_title") in notice.subject


# ---------------------------------------------------------------------------------------------
# Staff pages
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def staff_study(study):
    """The role fixtures' users (tests/conftest.py) are members of the hostile study."""
    return study


def admin_page(name: str, participant) -> str:
    return reverse(f"admin:recruitment_participant_{name}", args=[participant.pk])


def test_the_participant_page_shows_the_criteria_as_text(coord_client, coordinator, study):
    participant = submit(study, answers={"x-choice": "b", "diagnosis": "yes"})

    html = coord_client.get(admin_page("change", participant)).content.decode()

    expected = [hostile("title-diagnosis"), hostile("rationale-diagnosis")]
    assert_shown_as_text(html, expected + [hostile("options-x-choice-b")])


def test_the_lab_values_page_shows_titles_rationales_and_options_as_text(
    coord_client, coordinator, study
):
    participant = walk(submit(study), Status.SCREENING, by=coordinator)

    html = coord_client.get(admin_page("lab_values", participant)).content.decode()

    expected = [hostile(f"{kind}-{code}") for kind in ("title", "rationale") for code in LABS]
    assert_shown_as_text(html, expected + [hostile("options-rf-positive")])


def test_the_audit_trail_shows_the_criteria_as_text(coord_client, coordinator, study):
    participant = walk(submit(study), Status.SCREENING, by=coordinator)
    sent = coord_client.post(
        admin_page("lab_values", participant), {**NORMAL_LABS, "reason": "Lab report 12"}
    )
    assert sent.status_code == 302

    html = coord_client.get(admin_page("history", participant)).content.decode()

    assert_shown_as_text(html, [hostile("title-hs-crp")])


def test_the_queue_and_the_study_page_of_the_admin_show_the_texts_as_text(coord_client, study):
    submit(study)

    queue = coord_client.get(reverse("admin:recruitment_participant_changelist"))
    study_page = coord_client.get(reverse("admin:recruitment_study_change", args=[study.pk]))

    assert_shown_as_text(queue.content.decode(), [hostile("short_title")])
    assert study_page.status_code == 200
    assert_shown_as_text(study_page.content.decode(), [hostile("summary"), hostile("hint-opioids")])


def test_the_staff_dashboard_shows_the_criteria_and_study_texts_as_text(
    coord_client, coordinator, study
):
    failed = submit(study, answers={"diagnosis": "no"})
    walk(failed, Status.INELIGIBLE, by=coordinator)

    html = coord_client.get("/staff/").content.decode()

    assert_shown_as_text(html, [hostile("title-diagnosis")])


# ---------------------------------------------------------------------------------------------
# Where the text enters the form
# ---------------------------------------------------------------------------------------------
def test_each_question_field_carries_its_hint_escaped(study):
    form = InterestForm(study=study, criteria=criterion_list_for_form(study=study))

    hints = [str(field.help_text) for name, field in form.fields.items() if name.startswith("q_")]
    with_markup = [hint for hint in hints if "meta" in hint]
    assert with_markup
    assert [hint for hint in with_markup if "<meta" in hint] == []
    # What the patient reads is the hint as typed, once: never escaped twice.
    assert all("&amp;lt;" not in hint for hint in hints)


def test_each_lab_value_field_carries_its_rationale_escaped(study):
    staff_criteria = study.criteria.filter(answered_by="staff")
    fields = [criterion_field(criterion) for criterion in staff_criteria]

    help_texts = [str(field.help_text) for field in fields if field is not None]
    assert len(help_texts) == 5
    assert [h for h in help_texts if "<meta" in h or "&lt;meta" not in h] == []
