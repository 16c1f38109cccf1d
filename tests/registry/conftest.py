"""What the registry's tests share: people in the registry, their shared answers, and a small
study whose every criterion asks a question of the bank."""

import datetime as dt

import pytest
from django.utils import timezone

from recruitment.models import (
    AnsweredBy,
    CriterionKind,
    Person,
    RuleKind,
    SharedAnswer,
    SharedQuestion,
)
from recruitment.studies.questions import question_bank_load_file
from tests.dates import TODAY
from tests.factories import CriterionFactory, StudyFactory


@pytest.fixture
def bank(db) -> dict[str, SharedQuestion]:
    question_bank_load_file()
    return {q.code: q for q in SharedQuestion.objects.all()}


def registry_person(*, date_of_birth=dt.date(1980, 4, 28), zip_code="35203", **fields) -> Person:
    values = {
        "first_name": "Ann",
        "last_name": "Lee",
        "email": "ann.lee@example.com",
        "date_of_birth": date_of_birth,
        "zip_code": zip_code,
        "registry_consent": True,
        "registry_consent_version": "r1",
        "registry_consent_at": timezone.now(),
    }
    return Person.objects.create(**values | fields)


def answer(person, question, value, *, on=TODAY - dt.timedelta(days=10)) -> SharedAnswer:
    return SharedAnswer.objects.update_or_create(
        person=person, question=question, defaults={"value": value, "answered_on": on}
    )[0]


@pytest.fixture
def small_study(bank):
    """Age 18 to 65, ME/CFS, no opioid in 3 months, not pregnant: all from the bank."""
    study = StudyFactory(slug="small", prefix="SML")
    CriterionFactory(
        study=study,
        code="age",
        rule_kind=RuleKind.AGE_RANGE,
        params={"min": 18, "max": 65},
        question="",
        shared_question=bank["date_of_birth"],
    )
    CriterionFactory(study=study, code="diagnosis", shared_question=bank["mecfs_diagnosis"])
    CriterionFactory(
        study=study,
        code="opioids",
        kind=CriterionKind.EXCLUSION,
        rule_kind=RuleKind.WASHOUT,
        params={"months": 3},
        shared_question=bank["last_opioid_dose"],
    )
    CriterionFactory(
        study=study,
        code="pregnancy",
        kind=CriterionKind.EXCLUSION,
        params={"required": "no"},
        shared_question=bank["pregnancy"],
    )
    return study


def eligible_answers(person, bank, *, on=TODAY - dt.timedelta(days=10)) -> None:
    """Answers that meet every criterion of `small_study`."""
    answer(person, bank["mecfs_diagnosis"], "yes", on=on)
    answer(person, bank["last_opioid_dose"], {"taken": "no"}, on=on)
    answer(person, bank["pregnancy"], "no", on=on)


def staff_criterion(study):
    return CriterionFactory(
        study=study,
        code="hs-crp",
        answered_by=AnsweredBy.STAFF,
        rule_kind=RuleKind.NUMBER_RANGE,
        params={"max": 3},
        question="",
    )
