"""The center's question bank: its file, its loader, and the criteria naming its questions."""

import tomllib

import pytest
from django.core.management import call_command

from recruitment.errors import StudyFileError
from recruitment.models import AnswerType, EligibilityCriterion, SharedQuestion
from recruitment.studies.questions import (
    QUESTION_BANK_FILE,
    question_bank_load,
    question_bank_load_file,
)
from recruitment.studies.services import study_load
from tests.conftest import LDN_FILE
from tests.readability import fk_grade

MAX_GRADE = 8


def bank() -> dict:
    return tomllib.loads(QUESTION_BANK_FILE.read_text(encoding="utf-8"))


def one_question(**fields) -> dict:
    return {
        "questions": [
            {"code": "smoker", "answer_type": "yes_no", "question": "Do you smoke?"} | fields
        ]
    }


def study_data(**criterion) -> dict:
    ldn = tomllib.loads(LDN_FILE.read_text(encoding="utf-8"))
    fields = {k: v for k, v in ldn.items() if k not in ("criteria", "translations")}
    base = {
        "code": "smokes",
        "kind": "exclusion",
        "answered_by": "patient",
        "title": "Does not smoke",
        "rule_kind": "yes_no",
        "params": {"required": "no"},
        "question": "Do you smoke?",
        "rationale": "Smoking changes how the drug works.",
    }
    return fields | {"slug": "other-study", "prefix": "OTH", "criteria": [base | criterion]}


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------
def test_loading_the_bank_creates_each_question_of_the_file(db):
    result = question_bank_load_file()

    codes = [q["code"] for q in bank()["questions"]]
    assert sorted(result.created) == sorted(codes)
    assert set(SharedQuestion.objects.values_list("code", flat=True)) == set(codes)
    opioids = SharedQuestion.objects.get(code="last_opioid_dose")
    assert opioids.answer_type == AnswerType.LAST_DOSE
    assert opioids.options == {"months": 3}
    assert opioids.valid_days == 90
    assert opioids.translations["es"]["question"].startswith("¿Ha tomado")


def test_loading_the_bank_again_writes_nothing(db):
    question_bank_load_file()
    before = dict(SharedQuestion.objects.values_list("code", "updated_at"))

    result = question_bank_load_file()

    assert result.created == () and result.changed == ()
    assert dict(SharedQuestion.objects.values_list("code", "updated_at")) == before


def test_a_changed_wording_is_updated_unless_create_only(db):
    question_bank_load(data=one_question())

    question_bank_load(data=one_question(question="Do you smoke now?"), create_only=True)
    assert SharedQuestion.objects.get(code="smoker").question == "Do you smoke?"

    result = question_bank_load(data=one_question(question="Do you smoke now?"))
    assert result.changed == ("smoker",)
    assert SharedQuestion.objects.get(code="smoker").question == "Do you smoke now?"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"answer_type": "colour"}, "answer_type"),
        ({"answer_type": "choice"}, "choice params: 'options' must be a non-empty list"),
        ({"answer_type": "last_dose", "options": {}}, "give exactly one of 'days' or 'months'"),
        ({"options": {"months": 3}}, "Unknown options for answers of type yes_no: months"),
        ({"colour": "red"}, "question smoker: unknown keys colour"),
        ({"translations": {"fr": {"question": "Fumez-vous ?"}}}, "unknown language 'fr'"),
        ({"translations": {"es": {"title": "Fuma"}}}, "unknown keys title"),
    ],
)
def test_a_wrong_question_is_refused_naming_it_and_nothing_is_written(db, fields, message):
    with pytest.raises(StudyFileError, match=message):
        question_bank_load(data=one_question(**fields))

    assert not SharedQuestion.objects.exists()


def test_load_questions_reports_what_it_did(db, capsys):
    call_command("load_questions")
    call_command("load_questions")

    out = capsys.readouterr().out
    assert "Added shared question last_opioid_dose." in out
    assert out.strip().endswith("The question bank is up to date.")


def test_load_study_loads_the_question_bank_before_the_study(db):
    call_command("load_study", str(LDN_FILE))

    criterion = EligibilityCriterion.objects.get(study__slug="ldn-mecfs", code="opioids")
    assert criterion.shared_question.code == "last_opioid_dose"


# ---------------------------------------------------------------------------------------------
# Criteria naming a shared question
# ---------------------------------------------------------------------------------------------
LDN_SHARED = {
    "age": "date_of_birth",
    "diagnosis": "mecfs_diagnosis",
    "core-symptoms": "mecfs_core_symptoms",
    "opioids": "last_opioid_dose",
    "recent-ldn": "naltrexone_use",
    "allergy": "naltrexone_allergy",
    "pregnancy": "pregnancy",
    "liver": "liver_disease",
    "autoimmune": "autoimmune_disease",
    "substance-misuse": "substance_misuse",
    "other-trial": "recent_drug_trial",
}


def test_the_ldn_criteria_name_the_shared_questions_they_ask(ldn_study):
    named = dict(
        ldn_study.criteria.filter(shared_question__isnull=False).values_list(
            "code", "shared_question__code"
        )
    )

    assert named == LDN_SHARED
    # Its own questions stay its own: the visits in Birmingham, and what staff assess.
    assert ldn_study.criteria.get(code="can-attend").shared_question is None
    assert ldn_study.criteria.get(code="hs-crp").shared_question is None


def test_a_criterion_naming_an_unknown_shared_question_is_refused(db):
    with pytest.raises(StudyFileError, match="Unknown shared questions: smoking"):
        study_load(data=study_data(shared_question="smoking"))


def test_a_criterion_whose_rule_cannot_read_the_questions_answers_is_refused(db):
    with pytest.raises(StudyFileError, match="answers of type last_dose, which a yes_no rule"):
        study_load(data=study_data(shared_question="last_opioid_dose"))


def test_a_washout_longer_than_the_window_the_question_asks_about_is_refused(db):
    washout = {
        "rule_kind": "washout",
        "params": {"months": 6},
        "shared_question": "last_opioid_dose",
    }

    with pytest.raises(StudyFileError, match="washout is longer than the window"):
        study_load(data=study_data(**washout))

    study = study_load(data=study_data(**washout | {"params": {"days": 60}})).study
    assert study.criteria.get().shared_question.code == "last_opioid_dose"


def test_a_choice_with_options_the_question_lacks_is_refused(db):
    question_bank_load(
        data=one_question(
            answer_type="choice",
            options={"options": [{"value": "never"}, {"value": "past"}, {"value": "now"}]},
        )
    )
    choice = {
        "rule_kind": "choice",
        "params": {"options": [{"value": "never"}, {"value": "daily"}], "eligible": ["never"]},
        "shared_question": "smoker",
    }

    with pytest.raises(StudyFileError, match="daily not among the options of the shared"):
        study_load(data=study_data(**choice))


def test_naming_a_shared_question_later_is_a_new_criteria_version(db):
    study = study_load(data=study_data()).study
    question_bank_load(data=one_question())

    study_load(data=study_data(shared_question="smoker"))

    study.refresh_from_db()
    assert study.criteria_version == 2
    assert study.criteria.get().shared_question.code == "smoker"


# ---------------------------------------------------------------------------------------------
# Plain language, in English and Spanish
# ---------------------------------------------------------------------------------------------
def bank_texts() -> list[tuple[str, str]]:
    texts = []
    for question in bank()["questions"]:
        for field in ("question", "hint"):
            if question.get(field, "").strip():
                texts.append((f"{question['code']} {field}", question[field]))
        for item in question.get("options", {}).get("items", []):
            texts.append((f"{question['code']} item {item['key']}", item["label"]))
    return texts


@pytest.mark.parametrize(("where", "text"), bank_texts(), ids=lambda v: v[:40])
def test_each_question_of_the_bank_reads_at_grade_8_or_below(where, text):
    assert fk_grade(text) <= MAX_GRADE, where


def test_every_question_of_the_bank_is_translated_into_spanish():
    missing = []
    for question in bank()["questions"]:
        es = question.get("translations", {}).get("es", {})
        for field in ("question", "hint"):
            if question.get(field) and not es.get(field):
                missing.append(f"{question['code']} {field}")
        for item in question.get("options", {}).get("items", []):
            if not es.get("items", {}).get(item["key"]):
                missing.append(f"{question['code']} item {item['key']}")

    assert missing == []


def test_a_question_reads_in_the_active_language(db):
    from django.utils import translation

    question_bank_load_file()
    question = SharedQuestion.objects.get(code="pregnancy")

    with translation.override("es"):
        assert question.text.question.startswith("¿Está embarazada")
    assert question.text.question.startswith("Are you pregnant")
