"""A question asked once: the answers an application gives to criteria naming a shared
question become the person's, for every study that asks it."""

import datetime as dt

import time_machine

from recruitment.models import SharedAnswer
from recruitment.registry.services import ANSWERED_ON_FORM, shared_answers_record
from recruitment.studies.services import study_load_file
from tests.conftest import LDN_FILE
from tests.dates import NOV_25, TODAY
from tests.factories import LDN_ELIGIBLE_ANSWERS, submit
from tests.registry.conftest import registry_person


def kept(person) -> dict[str, object]:
    return dict(person.shared_answers.values_list("question__code", "value"))


def apply(study, **fields):
    """An application whose person ticks the registry's box: their shared answers are kept."""
    return submit(study, answers=LDN_ELIGIBLE_ANSWERS, registry_consent=True, **fields)


@time_machine.travel(NOV_25, tick=False)
def test_applying_keeps_the_answers_to_shared_questions_as_the_persons(ldn_study):
    participant = apply(ldn_study)

    answers = kept(participant.person)
    assert answers == {
        "date_of_birth": "1980-04-28",
        "mecfs_diagnosis": "yes",
        "mecfs_core_symptoms": LDN_ELIGIBLE_ANSWERS["core-symptoms"],
        "last_opioid_dose": {"taken": "no"},
        "naltrexone_use": "no",
        "naltrexone_allergy": "no",
        "pregnancy": "no",
        "liver_disease": "no",
        "autoimmune_disease": "no",
        "substance_misuse": "no",
        "recent_drug_trial": "no",
    }
    row = participant.person.shared_answers.get(question__code="pregnancy")
    assert (row.answered_on, row.source_application) == (TODAY, participant)


def test_a_person_outside_the_registry_keeps_no_shared_answer(ldn_study):
    """Only people matched to other studies need them: nothing of anyone else's health is
    kept beyond their application."""
    participant = submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)

    assert kept(participant.person) == {}
    assert participant.answers.count() == len(LDN_ELIGIBLE_ANSWERS)


def test_a_person_already_in_the_registry_keeps_the_shared_answers_of_a_later_form(ldn_study):
    apply(ldn_study)
    later = submit(ldn_study, answers={**LDN_ELIGIBLE_ANSWERS, "pregnancy": "yes"})

    assert kept(later.person)["pregnancy"] == "yes"


def test_the_studys_own_questions_stay_its_own(ldn_study):
    participant = apply(ldn_study)

    assert "can-attend" not in kept(participant.person)
    assert participant.answers.filter(criterion__code="can-attend").exists()


def test_a_question_left_blank_keeps_the_answer_given_before(ldn_study):
    participant = apply(ldn_study)
    person = participant.person
    criteria = list(ldn_study.criteria.active())
    pregnancy = next(c for c in criteria if c.code == "pregnancy")
    liver = next(c for c in criteria if c.code == "liver")

    with time_machine.travel(NOV_25 + dt.timedelta(days=30), tick=False):
        shared_answers_record(
            participant=participant, criteria=criteria, values={pregnancy.pk: "yes", liver.pk: ""}
        )

    rows = {a.question.code: a for a in person.shared_answers.select_related("question")}
    assert rows["pregnancy"].value == "yes"
    assert rows["pregnancy"].answered_on == TODAY + dt.timedelta(days=30)
    assert rows["liver_disease"].value == "no"


def test_every_change_of_a_shared_answer_is_in_its_history(ldn_study):
    participant = apply(ldn_study)
    criteria = list(ldn_study.criteria.active())
    pregnancy = next(c for c in criteria if c.code == "pregnancy")

    shared_answers_record(participant=participant, criteria=criteria, values={pregnancy.pk: "yes"})

    answer = participant.person.shared_answers.get(question__code="pregnancy")
    history = list(
        answer.history.order_by("history_date").values_list("value", "history_change_reason")
    )
    assert history == [("no", ANSWERED_ON_FORM), ("yes", ANSWERED_ON_FORM)]


def test_recording_costs_the_same_queries_for_one_answer_as_for_eleven(
    ldn_study, django_assert_num_queries
):
    participant = apply(ldn_study)
    criteria = list(ldn_study.criteria.active())
    pregnancy = next(c for c in criteria if c.code == "pregnancy")
    values = {a.criterion_id: a.value for a in participant.answers.all()}

    with django_assert_num_queries(2):  # the answers (an upsert), their history
        shared_answers_record(participant=participant, criteria=criteria, values=values)
    with django_assert_num_queries(2):
        shared_answers_record(
            participant=participant, criteria=[pregnancy], values={pregnancy.pk: "no"}
        )


def test_a_person_of_the_registry_answers_once_for_two_studies(db, bank):
    ldn = study_load_file(path=LDN_FILE).study
    person = registry_person()
    participant = submit(ldn, answers=LDN_ELIGIBLE_ANSWERS)
    type(participant).objects.filter(pk=participant.pk).update(person=person)
    participant.refresh_from_db()
    criteria = list(ldn.criteria.active())

    shared_answers_record(
        participant=participant,
        criteria=criteria,
        values={a.criterion_id: a.value for a in participant.answers.all()},
    )

    assert SharedAnswer.objects.filter(person=person).count() == 11


# ---------------------------------------------------------------------------------------------
# Erasure after the retention period
# ---------------------------------------------------------------------------------------------
def declined_and_expired(ldn_study, coordinator, *, registry: bool):
    from recruitment.models import Person, Status, StatusChange
    from recruitment.screening.retention import participants_erase_expired
    from tests.factories import walk

    participant = apply(ldn_study)
    if not registry:
        Person.objects.filter(pk=participant.person_id).update(registry_left_at=NOV_25)
    walk(participant, Status.DECLINED, by=coordinator)
    declined_at = StatusChange.objects.filter(participant=participant).last().at
    participants_erase_expired(now=declined_at + dt.timedelta(days=ldn_study.retention_days + 1))
    return participant


def test_erasing_an_application_erases_the_shared_answers_it_gave_and_their_history(
    ldn_study, coordinator
):
    participant = declined_and_expired(ldn_study, coordinator, registry=False)

    assert not SharedAnswer.objects.filter(person_id=participant.person_id).exists()
    values = SharedAnswer.history.filter(person_id=participant.person_id).values_list(
        "value", flat=True
    )
    assert set(values) == {None}


def test_the_shared_answers_of_a_person_in_the_registry_stay(ldn_study, coordinator):
    participant = declined_and_expired(ldn_study, coordinator, registry=True)

    assert SharedAnswer.objects.filter(person_id=participant.person_id).count() == 11
