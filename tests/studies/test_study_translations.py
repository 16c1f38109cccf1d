"""Study text in the patient's language: the `text` API, the study file's translations and
their checks, the interest form in English and Spanish, and the plain language of the file."""

import json
import tomllib

import pytest
import time_machine
from django.conf import settings
from django.test.html import Element, parse_html
from django.urls import reverse
from django.utils import translation

from recruitment.errors import StudyFileError
from recruitment.models import (
    CRITERION_TEXT_FIELDS,
    STUDY_TEXT_FIELDS,
    EligibilityCriterion,
    Participant,
    Study,
)
from recruitment.studies.services import study_load
from tests.admin_posts import form_data
from tests.conftest import LDN_FILE
from tests.dates import NOV_25_EARLY as NOW
from tests.factories import CriterionFactory, ldn_form_data
from tests.readability import fk_grade

FORM_URL = "/studies/ldn-mecfs/interest/"
MAX_GRADE = 8
# Fields that are a proper name, not prose: a reading-level formula scores a long name as one
# hard sentence, and the name cannot be made simpler. The lab's name is in the description too,
# in a sentence that is measured.
PROPER_NAME_FIELDS = {"site_name"}
# Whole texts that may read the same in Spanish (names and terms); none in the LDN file today.
SAME_IN_SPANISH: set[str] = set()


@pytest.fixture(autouse=True)
def _today_and_language_restored():
    """Freeze the day; and give back the language the test began with: a request in Spanish
    leaves Spanish active in this thread (LocaleMiddleware activates it, nothing resets it),
    which would change the messages of the tests that run next."""
    with time_machine.travel(NOW, tick=False), translation.override(settings.LANGUAGE_CODE):
        yield


def ldn_data() -> dict:
    return tomllib.loads(LDN_FILE.read_text(encoding="utf-8"))


def patient_criteria(data: dict) -> list[dict]:
    """The criteria the patient answers on the form (age and ZIP come from contact details)."""
    return [
        c
        for c in data["criteria"]
        if c["answered_by"] == "patient" and c["rule_kind"] not in ("age_range", "zip_distance")
    ]


def criterion_of(data: dict, code: str) -> dict:
    (criterion,) = [c for c in data["criteria"] if c["code"] == code]
    return criterion


# ---------------------------------------------------------------------------------------------
# study.text and criterion.text
# ---------------------------------------------------------------------------------------------
def test_study_text_is_the_active_language_with_english_for_what_is_missing():
    study = Study(
        title="A study",
        summary="English summary.",
        description="English description.",
        translations={"es": {"title": "Un estudio", "summary": "  "}},
    )

    with translation.override("en"):
        assert (study.text.title, study.text.summary) == ("A study", "English summary.")
    for language in ("es", "es-mx", "ES-MX"):
        with translation.override(language):
            assert study.text.title == "Un estudio"
            assert study.text.summary == "English summary."  # blank counts as missing
            assert study.text.description == "English description."
    with translation.override("fr"):
        assert study.text.title == "A study"


def test_study_text_offers_every_public_text_field_and_nothing_else():
    study = Study(**{field: f"English {field}" for field in STUDY_TEXT_FIELDS})

    with translation.override("es"):
        assert {field: getattr(study.text, field) for field in STUDY_TEXT_FIELDS} == {
            field: f"English {field}" for field in STUDY_TEXT_FIELDS
        }
        with pytest.raises(AttributeError):
            study.text.contact_email  # noqa: B018 - not text: stays study.contact_email


def test_criterion_text_translates_question_hint_items_and_options_with_english_fallback():
    criterion = EligibilityCriterion(
        question="Which?",
        hint="Pick one.",
        params={
            "items": [{"key": "a", "label": "Item A"}, {"key": "b", "label": "Item B"}],
            "options": [{"value": "x", "label": "Option X"}, {"value": "y"}],
        },
        translations={
            "es": {"question": "¿Cuál?", "items": {"a": "Elemento A"}, "options": {"y": "Opción Y"}}
        },
    )

    with translation.override("es-mx"):
        text = criterion.text
        assert (text.question, text.hint) == ("¿Cuál?", "Pick one.")
        assert text.items == {"a": "Elemento A", "b": "Item B"}
        assert text.options == {"x": "Option X", "y": "Opción Y"}
    with translation.override("en"):
        assert criterion.text.items == {"a": "Item A", "b": "Item B"}
        assert criterion.text.options == {"x": "Option X", "y": "y"}  # no label: the value


def test_reading_the_text_of_a_loaded_study_and_its_criteria_makes_no_query(
    ldn_study, django_assert_num_queries
):
    criteria = list(ldn_study.criteria.all())

    with translation.override("es"), django_assert_num_queries(0):
        for field in STUDY_TEXT_FIELDS:
            assert getattr(ldn_study.text, field)
        for criterion in criteria:
            text = criterion.text
            assert isinstance(text.question + text.hint, str)
            assert isinstance(text.items, dict) and isinstance(text.options, dict)


# ---------------------------------------------------------------------------------------------
# The study file's translations
# ---------------------------------------------------------------------------------------------
def test_the_loader_stores_the_translations_of_the_study_and_of_each_criterion(ldn_study):
    data = ldn_data()
    core = ldn_study.criteria.get(code="core-symptoms")

    assert ldn_study.translations == data["translations"]
    assert core.translations == criterion_of(data, "core-symptoms")["translations"]
    assert ldn_study.criteria.get(code="hs-crp").translations == {}  # none in the file
    with translation.override("es"):
        assert ldn_study.text.short_title == "LDN para la EM/SFC"
        assert core.text.items["cognitive"].startswith("Niebla mental")


def test_loading_the_file_again_changes_nothing_and_a_new_translation_is_taken(
    ldn_study_with_run_in,
):
    ldn_study = ldn_study_with_run_in  # the study exactly as its file loads it
    again = study_load(data=ldn_data())
    assert again.changes == ()

    data = ldn_data()
    data["translations"]["es"]["short_title"] = "LDN y EM/SFC"
    criterion_of(data, "liver")["translations"]["es"]["hint"] = "La hepatitis daña el hígado."
    result = study_load(data=data)

    liver = ldn_study.criteria.get(code="liver")
    assert set(result.changes) == {"study translations", "criterion liver: translations"}
    assert Study.objects.get(pk=ldn_study.pk).translations["es"]["short_title"] == "LDN y EM/SFC"
    assert liver.translations["es"]["hint"] == "La hepatitis daña el hígado."
    assert study_load(data=data).changes == ()


def test_a_translation_left_out_of_the_file_is_removed(ldn_study):
    data = ldn_data()
    del criterion_of(data, "liver")["translations"]
    del data["translations"]

    study_load(data=data)

    assert Study.objects.get(pk=ldn_study.pk).translations == {}
    assert ldn_study.criteria.get(code="liver").translations == {}


def test_a_spanish_only_change_keeps_the_criterion_version_and_the_judged_text(ldn_study):
    """Decision: the English text and the rule are what a participant is judged by (kept in
    `snapshot()`), so rewording a translation is no new criterion version, and the study's
    criteria version stays. Rewording the English question is one."""
    liver = ldn_study.criteria.get(code="liver")
    snapshot, version = liver.snapshot(), liver.version
    data = ldn_data()
    criterion_of(data, "liver")["translations"]["es"]["question"] = "¿Tiene hepatitis?"

    study_load(data=data)

    liver.refresh_from_db()
    assert (liver.version, liver.snapshot()) == (version, snapshot)
    assert Study.objects.get(pk=ldn_study.pk).criteria_version == ldn_study.criteria_version

    criterion_of(data, "liver")["question"] = "Do you have a liver illness or hepatitis?"
    study_load(data=data)

    liver.refresh_from_db()
    assert liver.version == version + 1
    assert Study.objects.get(pk=ldn_study.pk).criteria_version == ldn_study.criteria_version + 1


def _with_study_translations(translations):
    data = ldn_data()
    data["translations"] = translations
    return data


def _with_criterion_translations(code, translations):
    data = ldn_data()
    criterion_of(data, code)["translations"] = translations
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(
            _with_study_translations({"fr": {"title": "Une étude"}}),
            "study ldn-mecfs: [translations.fr]: unknown language 'fr'; use one of: es.",
            id="unknown study language",
        ),
        pytest.param(
            _with_study_translations({"en": {"title": "A study"}}),
            "study ldn-mecfs: [translations.en]: unknown language 'en'",
            id="English is the fields themselves",
        ),
        pytest.param(
            _with_study_translations({"es": {"titel": "Un estudio", "slug": "x"}}),
            "study ldn-mecfs: [translations.es]: unknown keys slug, titel; use: title,",
            id="unknown study key",
        ),
        pytest.param(
            _with_study_translations({"es": {"title": 3}}),
            "study ldn-mecfs: [translations.es]: title must be text.",
            id="study text not a string",
        ),
        pytest.param(
            _with_study_translations({"es": "Un estudio"}),
            "study ldn-mecfs: [translations.es] must be a table of texts.",
            id="study language not a table",
        ),
        pytest.param(
            _with_criterion_translations("liver", {"pt": {"question": "Fígado?"}}),
            "criterion liver: [criteria.translations.pt]: unknown language 'pt'",
            id="unknown criterion language",
        ),
        pytest.param(
            _with_criterion_translations("liver", {"es": {"questoin": "¿Hígado?"}}),
            "criterion liver: [criteria.translations.es]: unknown keys questoin; "
            "use: question, hint, items, options.",
            id="unknown criterion key",
        ),
        pytest.param(
            _with_criterion_translations(
                "core-symptoms", {"es": {"items": {"pem": "Recaída", "pain": "Dolor"}}}
            ),
            "criterion core-symptoms: [criteria.translations.es.items]: unknown item keys pain; "
            "this criterion's are: pem, sleep, cognitive, orthostatic.",
            id="unknown item key",
        ),
        pytest.param(
            _with_criterion_translations("rf", {"es": {"options": {"maybe": "Quizás"}}}),
            "criterion rf: [criteria.translations.es.options]: unknown option values maybe; "
            "this criterion's are: negative, positive.",
            id="unknown option value",
        ),
        pytest.param(
            _with_criterion_translations("liver", {"es": {"items": {"a": "A"}}}),
            "criterion liver: [criteria.translations.es.items]: unknown item keys a; "
            "this criterion's are: none.",
            id="items for a rule without items",
        ),
        pytest.param(
            _with_criterion_translations("core-symptoms", {"es": {"items": {"pem": ["x"]}}}),
            "criterion core-symptoms: [criteria.translations.es.items]: labels must be text: pem.",
            id="item label not a string",
        ),
        pytest.param(
            _with_criterion_translations("core-symptoms", {"es": {"items": "Recaída"}}),
            "criterion core-symptoms: [criteria.translations.es.items] must be a table of labels.",
            id="items not a table",
        ),
    ],
)
def test_a_wrong_translation_is_refused_with_where_it_is_in_the_file(db, data, message):
    with pytest.raises(StudyFileError) as error:
        study_load(data=data)

    assert message in str(error.value)
    assert not Study.objects.exists()  # nothing half-loaded


def test_the_command_reports_a_wrong_translation_as_an_error(db, tmp_path):
    from django.core.management import CommandError, call_command

    text = LDN_FILE.read_text(encoding="utf-8").replace("[translations.es]", "[translations.it]")
    path = tmp_path / "study.toml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(CommandError, match=r"\[translations\.it\]: unknown language 'it'"):
        call_command("load_study", str(path))


def test_the_ldn_study_file_is_completely_translated_into_spanish():
    """The check that catches an untranslated string in the study file: every text a patient
    reads, in the study and in each question they answer, has its own Spanish text."""
    data = ldn_data()
    missing = []

    def check(where: str, english: str, spanish) -> None:
        if not english.strip():
            return
        if not isinstance(spanish, str) or not spanish.strip():
            missing.append(f"{where}: no Spanish text")
        elif " ".join(spanish.split()) == " ".join(english.split()) and where not in (
            SAME_IN_SPANISH
        ):
            missing.append(f"{where}: Spanish is the same as the English")

    spanish = data.get("translations", {}).get("es", {})
    for field in STUDY_TEXT_FIELDS:
        check(f"[translations.es] {field}", data.get(field, ""), spanish.get(field))
    english_lines = [line for line in data["what_it_involves"].splitlines() if line.strip()]
    spanish_lines = [line for line in spanish.get("what_it_involves", "").splitlines() if line]
    assert len(spanish_lines) == len(english_lines), "what_it_involves: one item per line"

    for criterion in patient_criteria(data):
        code = criterion["code"]
        es = criterion.get("translations", {}).get("es", {})
        for field in CRITERION_TEXT_FIELDS:
            check(f"{code} {field}", criterion.get(field, ""), es.get(field))
        for item in criterion["params"].get("items", []):
            check(f"{code} item {item['key']}", item["label"], es.get("items", {}).get(item["key"]))
        for option in criterion["params"].get("options", []):
            label = option.get("label", option["value"])
            value = option["value"]
            check(f"{code} option {value}", label, es.get("options", {}).get(value))

    assert missing == []


# ---------------------------------------------------------------------------------------------
# Plain language
# ---------------------------------------------------------------------------------------------
def ldn_patient_texts() -> list[tuple[str, str]]:
    """(where, text) for every text of the study file that a patient reads: the study page
    (title, summary, description, each line of what it involves, contact), the consent text,
    and each question, hint, item label and option label of the form."""
    data = ldn_data()
    texts = []
    for field in STUDY_TEXT_FIELDS:
        if field == "what_it_involves":
            for n, line in enumerate(data[field].splitlines()):
                if line.strip():
                    texts.append((f"what_it_involves line {n}", line))
        elif field not in PROPER_NAME_FIELDS:
            texts.append((field, data[field]))
    for criterion in patient_criteria(data):
        code = criterion["code"]
        for field in CRITERION_TEXT_FIELDS:
            if criterion.get(field, "").strip():
                texts.append((f"{code} {field}", criterion[field]))
        for item in criterion["params"].get("items", []):
            texts.append((f"{code} item {item['key']}", item["label"]))
        for option in criterion["params"].get("options", []):
            texts.append((f"{code} option {option['value']}", option.get("label", "")))
    return [(where, text) for where, text in texts if text.strip()]


@pytest.mark.parametrize(("where", "text"), ldn_patient_texts(), ids=lambda v: v[:40])
def test_each_patient_text_of_the_ldn_file_reads_at_grade_8_or_below(where, text):
    grade = fk_grade(text)

    assert grade <= MAX_GRADE, f"{where} reads at grade {grade}: {text!r}"


def test_the_proper_names_left_out_of_the_grade_check_are_short_names():
    data = ldn_data()

    for field in PROPER_NAME_FIELDS:
        assert len(data[field].split()) <= 12 and "." not in data[field], field


def test_medical_words_are_explained_where_the_patient_first_meets_them():
    """The study page explains its words; the form, which a patient may open directly,
    explains the words of each question in its hint or item."""
    data = ldn_data()
    page = "\n".join([data["summary"], data["description"]])
    for explained in (
        "ME/CFS, also called chronic fatigue syndrome",
        "Doctors call this crash post-exertional malaise",
        "a medicine called naltrexone (LDN)",
        "Inflammation is",
        "Fibromyalgia is",
        "opioids, which are strong painkillers",
    ):
        assert explained in " ".join(page.split()), explained
    hints = {c["code"]: " ".join(c.get("hint", "").split()) for c in data["criteria"]}
    assert "also called chronic fatigue syndrome" in hints["diagnosis"]
    assert "LDN means a low dose of naltrexone" in hints["recent-ldn"]
    assert hints["allergy"].startswith("Naloxone is")
    assert hints["liver"].startswith("Hepatitis means")
    assert hints["autoimmune"].startswith("Autoimmune means")
    assert "painkiller called an opioid" in criterion_of(data, "opioids")["question"]
    items = {i["key"]: i["label"] for i in criterion_of(data, "core-symptoms")["params"]["items"]}
    assert "post-exertional malaise" in items["pem"]
    assert "orthostatic intolerance" in items["orthostatic"]


def test_the_spanish_explains_the_same_medical_words():
    data = ldn_data()
    es = data["translations"]["es"]
    page = " ".join(" ".join([es["summary"], es["description"]]).split())
    for explained in (
        "La EM/SFC, también llamada síndrome de fatiga crónica",
        "llaman a esta recaída malestar post-esfuerzo",
        "un medicamento llamado naltrexona (LDN",
        "La inflamación es",
        "La fibromialgia es",
        "los opioides, que son medicamentos fuertes para el dolor",
    ):
        assert explained in page, explained
    hints = {
        c["code"]: " ".join(c.get("translations", {}).get("es", {}).get("hint", "").split())
        for c in data["criteria"]
    }
    assert "también se llama síndrome de fatiga crónica" in hints["diagnosis"]
    assert "LDN quiere decir una dosis baja de naltrexona" in hints["recent-ldn"]
    assert hints["allergy"].startswith("La naloxona es")
    assert hints["liver"].startswith("La hepatitis es")
    assert hints["autoimmune"].startswith("Autoinmune quiere decir")
    items = criterion_of(data, "core-symptoms")["translations"]["es"]["items"]
    assert "malestar post-esfuerzo" in items["pem"]
    assert "intolerancia ortostática" in items["orthostatic"]


# ---------------------------------------------------------------------------------------------
# The interest form in English and Spanish
# ---------------------------------------------------------------------------------------------
def _text(node) -> str:
    if isinstance(node, str):
        return node
    return " ".join(" ".join(_text(child) for child in node.children).split())


def _elements(node: Element, names: set[str]):
    for child in node.children:
        if isinstance(child, Element):
            if child.name in names:
                yield child
            yield from _elements(child, names)


def form_texts(client, language: str) -> str:
    """The labels, legends and hints of the interest form, as one string."""
    response = client.get(FORM_URL, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    tree = parse_html(response.content.decode())
    texts = []
    for element in _elements(tree, {"label", "legend", "p", "div", "small"}):
        if element.name in ("label", "legend", "p", "small") or "form-text" in dict(
            element.attributes
        ).get("class", ""):
            texts.append(_text(element))
    return "\n".join(texts)


def _plain(value: str) -> str:
    return " ".join(value.split())


@pytest.fixture
def extra_choice(ldn_study):
    """A patient-answered choice question, as a new criterion in a study file would add."""
    return CriterionFactory(
        study=ldn_study,
        code="rest",
        question="How often can you rest?",
        hint="Think of a usual week.",
        rule_kind="choice",
        params={
            "options": [
                {"value": "daily", "label": "Every day"},
                {"value": "weekly", "label": "Once a week"},
            ],
            "eligible": ["daily", "weekly"],
        },
        translations={
            "es": {
                "question": "¿Con qué frecuencia puede descansar?",
                "hint": "Piense en una semana normal.",
                "options": {"daily": "Todos los días", "weekly": "Una vez por semana"},
            }
        },
        order=50,
    )


def test_the_form_in_spanish_shows_the_spanish_questions_items_and_options(
    client, ldn_study, extra_choice
):
    data = ldn_data()
    page = form_texts(client, "es")

    expected = [_plain(data["translations"]["es"]["contact_consent_text"])]
    for criterion in patient_criteria(data):
        es = criterion["translations"]["es"]
        expected += [_plain(es["question"]), *map(_plain, es.get("items", {}).values())]
        if criterion.get("hint"):
            expected.append(_plain(es["hint"]))
        assert _plain(criterion["question"]) not in page
    expected += ["¿Con qué frecuencia puede descansar?", "Piense en una semana normal."]
    expected += ["Todos los días", "Una vez por semana"]
    for text in expected:
        assert text in page, text
    assert "Every day" not in page


def test_the_form_in_english_shows_the_english_questions_items_and_options(
    client, ldn_study, extra_choice
):
    data = ldn_data()
    page = form_texts(client, "en")

    expected = [_plain(data["contact_consent_text"])]
    for criterion in patient_criteria(data):
        expected += [_plain(criterion["question"]), _plain(criterion.get("hint", ""))]
        expected += [_plain(item["label"]) for item in criterion["params"].get("items", [])]
    expected += ["How often can you rest?", "Think of a usual week.", "Every day", "Once a week"]
    for text in expected:
        assert text in page, text
    assert "Todos los días" not in page
    assert _plain(criterion_of(data, "liver")["translations"]["es"]["question"]) not in page


@pytest.mark.parametrize(
    "answers",
    [
        {},  # every question answered as in ldn_form_data: likely eligible
        {"q_opioids": "yes", "q_opioids__last": "2026-10-25", "q_liver": "unsure"},
        {"q_core-symptoms__pem": "no", "q_rest": "weekly", "q_allergy": "yes"},
    ],
)
def test_the_same_answers_in_spanish_and_english_are_stored_and_judged_alike(
    client, ldn_study, extra_choice, answers
):
    stored = {}
    for n, language in enumerate(("en", "es")):
        post = ldn_form_data(email=f"person{n}@example.com", first_name=f"Pat{n}", **answers)
        response = client.post(FORM_URL, post, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 302, response.content.decode()[:1000]
        participant = Participant.objects.latest("pk")
        stored[language] = (
            {a.criterion.code: a.value for a in participant.answers.select_related("criterion")},
            participant.outcome,
            {v.criterion.code: (v.verdict, v.reason) for v in participant.verdicts.all()},
            [v.criterion_snapshot for v in participant.verdicts.order_by("order")],
        )

    assert stored["es"] == stored["en"]


# ---------------------------------------------------------------------------------------------
# The admin: translations shown, edited and checked as the loader checks them
# ---------------------------------------------------------------------------------------------
def study_admin_url(study) -> str:
    return reverse("admin:recruitment_study_change", args=[study.pk])


def criterion_field(page, code: str, field: str) -> str:
    formset = page.context["inline_admin_formsets"][0].formset
    (index,) = [i for i, f in enumerate(formset.forms) if f.instance.code == code]
    return f"{formset.prefix}-{index}-{field}"


def test_the_admin_shows_the_translations_of_the_study_and_its_criteria(admin_client, ldn_study):
    page = admin_client.get(study_admin_url(ldn_study))

    content = page.content.decode()
    assert 'name="translations"' in content
    assert f'name="{criterion_field(page, "liver", "translations")}"' in content
    assert "Naltrexona en dosis baja" in content


def test_a_spanish_edit_in_the_admin_is_saved_without_a_new_criterion_version(
    admin_client, ldn_study
):
    page = admin_client.get(study_admin_url(ldn_study))
    liver = ldn_study.criteria.get(code="liver")
    liver_es = {"es": {"question": "¿Tiene hepatitis u otra enfermedad del hígado?"}}
    study_es = {"es": {**ldn_study.translations["es"], "short_title": "LDN y EM/SFC"}}
    response = admin_client.post(
        study_admin_url(ldn_study),
        form_data(
            page,
            translations=json.dumps(study_es),
            **{criterion_field(page, "liver", "translations"): json.dumps(liver_es)},
        ),
    )

    assert response.status_code == 302, response.context["errors"] if response.context else ""
    liver.refresh_from_db()
    assert liver.translations == liver_es
    assert liver.version == 1
    study = Study.objects.get(pk=ldn_study.pk)
    assert (study.translations, study.criteria_version) == (study_es, 1)


@pytest.mark.parametrize(
    ("target", "value", "message"),
    [
        ("study", {"de": {"title": "Eine Studie"}}, "[translations.de]: unknown language 'de'"),
        ("study", {"es": {"irb_number": "x"}}, "[translations.es]: unknown keys irb_number"),
        (
            "core-symptoms",
            {"es": {"items": {"fatigue": "Cansancio"}}},
            "[translations.es.items]: unknown item keys fatigue",
        ),
        ("liver", ["es"], "[translations] must be a table of languages."),
    ],
)
def test_a_wrong_translation_in_the_admin_is_a_form_error(
    admin_client, ldn_study, target, value, message
):
    page = admin_client.get(study_admin_url(ldn_study))
    name = "translations" if target == "study" else criterion_field(page, target, "translations")

    response = admin_client.post(
        study_admin_url(ldn_study), form_data(page, **{name: json.dumps(value)})
    )

    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
    assert Study.objects.get(pk=ldn_study.pk).translations == ldn_study.translations
    assert ldn_study.criteria.get(code="core-symptoms").translations["es"]["items"]["pem"]


def test_a_grouped_question_and_hint_show_as_written_and_run_no_template_code(client, ldn_study):
    """crispy-forms compiles a fieldset's legend and HTML as templates and outputs them
    unescaped; study text must neither inject markup nor run template tags."""
    CriterionFactory(
        study=ldn_study,
        code="group",
        question="Do you have <b>{{ form.email.value }}</b> problems?",
        hint="{% now 'Y' %} & <i>more</i>",
        rule_kind="at_least_n",
        params={"min": 1, "items": [{"key": "a", "label": "<u>A</u> {{ 1 }}"}]},
        translations={"es": {"question": "¿{% debug %}?"}},
        order=60,
    )

    english = client.get(FORM_URL).content.decode()
    spanish = client.get(FORM_URL, HTTP_ACCEPT_LANGUAGE="es").content.decode()

    legend = "Do you have &lt;b&gt;&#123;&#123; form.email.value &#125;&#125;&lt;/b&gt; problems?"
    assert legend in english
    assert "&#123;% now &#x27;Y&#x27; %&#125; &amp; &lt;i&gt;more&lt;/i&gt;" in english
    assert "<b>" not in english and "<i>more" not in english and "<u>A" not in english
    assert "¿&#123;% debug %&#125;?" in spanish
