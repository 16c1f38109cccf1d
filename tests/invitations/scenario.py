"""A registry story the invitation tests share: Ann applied to the LDN study with registry
consent on Dec 3, 2026; a second study opens whose criteria name two shared questions (the
diagnosis, pregnancy) and ask one new one (a night in the sleep lab); Ann is its match M-0007."""

import datetime as dt

from django.utils import timezone

from recruitment.intake.services import participant_submit
from recruitment.models import (
    AnsweredBy,
    CriterionKind,
    MatchOutcome,
    MatchState,
    Person,
    RegistryMatch,
    RuleKind,
    SharedAnswer,
    SharedQuestion,
)
from tests.factories import CriterionFactory, StudyFactory, contact_details

# The day the story is told (a Monday), and the day Ann filled the LDN form.
DEC_7 = dt.datetime(2026, 12, 7, 18, tzinfo=dt.UTC)
DEC_3 = dt.date(2026, 12, 3)

ANN = {
    "first_name": "Annabel",
    "last_name": "Quixley",
    "email": "annabel.quixley@example.com",
    "phone": "205-555-0177",
    "date_of_birth": dt.date(1979, 8, 14),
    "zip_code": "35209",
}
# How Ann's identifiers could be written on a page: none may appear on the staff's.
ANN_IDENTIFIERS = [
    "Annabel",
    "Quixley",
    "annabel.quixley",
    "555-0177",
    "5550177",
    "35209",
    "1979",
    "Aug 14",
    "08/14",
]


def shared_question(code: str, question: str) -> SharedQuestion:
    return SharedQuestion.objects.get_or_create(
        code=code, defaults={"question": question, "answer_type": "yes_no"}
    )[0]


def person_in_registry(study, *, language: str = "en", **contact) -> Person:
    """A person who applied to `study` (the LDN study: the form of Dec 3 their shared answers
    came from) and ticked the registry's box."""
    values = {**ANN, "preferred_contact": "email", "registry_consent": True, **contact}
    applied = participant_submit(
        study=study,
        contact=contact_details(**values),
        answers={},
        language=language,
        site_url="http://testserver/",
    )
    return applied.person


def sleep_study(**fields):
    """A second study: two criteria on shared questions, one new question."""
    study = StudyFactory(
        slug="sleep-study",
        title="A sleep study for people with ME/CFS",
        short_title="Sleep study",
        prefix="SLP",
        summary="We test if a sleep aid helps people with ME/CFS feel less tired.",
        what_it_involves="One night in our sleep lab\nA pill each night for 8 weeks",
        **fields,
    )
    diagnosis = shared_question("mecfs_diagnosis", "Has a doctor told you that you have ME/CFS?")
    pregnancy = shared_question("pregnancy", "Are you pregnant or breastfeeding?")
    CriterionFactory(
        study=study,
        code="diagnosis",
        title="ME/CFS diagnosed",
        question="Has a doctor told you that you have ME/CFS?",
        shared_question=diagnosis,
        order=1,
    )
    CriterionFactory(
        study=study,
        code="pregnant",
        kind=CriterionKind.EXCLUSION,
        title="Not pregnant",
        question="Are you pregnant or breastfeeding?",
        params={"required": "no"},
        shared_question=pregnancy,
        order=2,
    )
    CriterionFactory(
        study=study,
        code="sleep-lab",
        title="Can spend a night in the sleep lab",
        question="Can you spend one night in our sleep lab?",
        rule_kind=RuleKind.YES_NO,
        answered_by=AnsweredBy.PATIENT,
        order=3,
    )
    return study


def shared_answers_give(person: Person, *, on: dt.date = DEC_3) -> None:
    """Ann's answers on her LDN form: diagnosed, not pregnant."""
    source = person.applications.order_by("created_at").first()
    for code, value in (("mecfs_diagnosis", "yes"), ("pregnancy", "no")):
        SharedAnswer.objects.create(
            person=person,
            question=SharedQuestion.objects.get(code=code),
            value=value,
            answered_on=on,
            source_application=source,
        )


VERDICTS = [
    {"criterion": "diagnosis", "verdict": "met", "reason": "Diagnosed by a doctor"},
    {"criterion": "pregnant", "verdict": "met", "reason": "Not pregnant"},
    {"criterion": "sleep-lab", "verdict": "unknown", "reason": "never asked"},
]


def match_of(study, person, *, number: int = 7, outcome=MatchOutcome.NEEDS_ANSWERS, **fields):
    return RegistryMatch.objects.create(
        study=study,
        person=person,
        number=number,
        outcome=outcome,
        verdicts=fields.pop("verdicts", VERDICTS),
        criteria_version=study.criteria_version,
        evaluated_at=fields.pop("evaluated_at", timezone.now()),
        state=fields.pop("state", MatchState.MATCHED),
        **fields,
    )
