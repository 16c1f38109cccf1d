"""Backfilling shared answers from applications sent before their criteria named the center's
shared questions: the latest application's answer, dated the day it was sent, never over a
newer answer, audited, repeatable, in batches; then the affected studies re-matched."""

import datetime as dt

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from recruitment.models import EligibilityCriterion, Participant, SharedAnswer
from recruitment.registry.backfill import BACKFILLED, shared_answers_backfill
from tests.factories import CriterionFactory, StudyFactory, submit
from tests.registry.conftest import answer

pytestmark = pytest.mark.django_db

OCT_1 = dt.datetime(2026, 10, 1, 18, tzinfo=dt.UTC)
NOV_2 = dt.datetime(2026, 11, 2, 18, tzinfo=dt.UTC)


@pytest.fixture
def old_study(bank):
    """A study whose criteria asked the diagnosis and pregnancy before the bank existed."""
    study = StudyFactory(slug="old", prefix="OLD")
    CriterionFactory(study=study, code="diagnosis", order=1)
    CriterionFactory(study=study, code="pregnancy", params={"required": "no"}, order=2)
    return study


def bank_arrives(study, bank) -> None:
    """The study's criteria now name the shared questions they always asked."""
    criteria = EligibilityCriterion.objects.filter(study=study)
    criteria.filter(code="diagnosis").update(shared_question=bank["mecfs_diagnosis"])
    criteria.filter(code="pregnancy").update(shared_question=bank["pregnancy"])


def apply(study, at, time_machine, *, answers, **contact):
    time_machine.move_to(at, tick=False)
    values = {"registry_consent": True, "email": "ann@example.com", **contact}
    return submit(study, answers=answers, **values)


def shared(person) -> dict[str, tuple]:
    return {
        a.question.code: (a.value, a.answered_on, a.source_application_id)
        for a in SharedAnswer.objects.filter(person=person).select_related("question")
    }


def test_a_registry_member_gets_the_answers_of_their_latest_application_dated_when_sent(
    old_study, bank, time_machine
):
    first = apply(old_study, OCT_1, time_machine, answers={"diagnosis": "no", "pregnancy": "no"})
    second = apply(
        old_study, NOV_2, time_machine, answers={"diagnosis": "yes", "pregnancy": "not_sure"}
    )
    assert first.person_id == second.person_id
    bank_arrives(old_study, bank)

    result = shared_answers_backfill()

    assert shared(first.person) == {
        "mecfs_diagnosis": ("yes", dt.date(2026, 11, 2), second.pk),
        "pregnancy": ("not_sure", dt.date(2026, 11, 2), second.pk),
    }
    assert (result.people, result.created, result.updated, result.kept) == (1, 2, 0, 0)


def test_each_backfilled_answer_has_its_history_row_with_the_reason(old_study, bank, time_machine):
    applied = apply(old_study, OCT_1, time_machine, answers={"diagnosis": "yes"})
    bank_arrives(old_study, bank)

    shared_answers_backfill()

    history = SharedAnswer.history.filter(person_id=applied.person_id)
    assert [(h.history_type, h.history_change_reason) for h in history] == [("+", BACKFILLED)]
    assert history.get().value == "yes"


def test_a_second_run_changes_nothing(old_study, bank, time_machine):
    apply(old_study, OCT_1, time_machine, answers={"diagnosis": "yes", "pregnancy": "no"})
    bank_arrives(old_study, bank)
    shared_answers_backfill()
    before = list(SharedAnswer.objects.order_by("pk").values())
    versions = SharedAnswer.history.count()

    again = shared_answers_backfill()

    assert (again.created, again.updated, again.kept) == (0, 0, 2)
    assert list(SharedAnswer.objects.order_by("pk").values()) == before
    assert SharedAnswer.history.count() == versions


def test_a_newer_shared_answer_wins_and_an_older_one_is_replaced(old_study, bank, time_machine):
    applied = apply(old_study, OCT_1, time_machine, answers={"diagnosis": "yes", "pregnancy": "no"})
    bank_arrives(old_study, bank)
    person = applied.person
    answer(person, bank["mecfs_diagnosis"], "not_sure", on=dt.date(2026, 11, 20))  # newer
    answer(person, bank["pregnancy"], "yes", on=dt.date(2026, 9, 1))  # older

    result = shared_answers_backfill()

    assert shared(person)["mecfs_diagnosis"][:2] == ("not_sure", dt.date(2026, 11, 20))
    assert shared(person)["pregnancy"] == ("no", dt.date(2026, 10, 1), applied.pk)
    assert (result.created, result.updated, result.kept) == (0, 1, 1)


def test_people_outside_the_registry_and_blank_answers_are_left_alone(
    old_study, bank, time_machine
):
    outside = apply(
        old_study, OCT_1, time_machine, answers={"diagnosis": "yes"}, registry_consent=False
    )
    blank = apply(
        old_study,
        OCT_1,
        time_machine,
        answers={"diagnosis": ""},
        email="bo@example.com",
        first_name="Bo",
    )
    bank_arrives(old_study, bank)

    result = shared_answers_backfill()

    assert not SharedAnswer.objects.filter(person__in=[outside.person, blank.person]).exists()
    assert result.people == 1  # Bo; Ann never joined the registry


def test_a_dry_run_counts_and_writes_nothing(old_study, bank, time_machine):
    apply(old_study, OCT_1, time_machine, answers={"diagnosis": "yes", "pregnancy": "no"})
    bank_arrives(old_study, bank)

    result = shared_answers_backfill(dry_run=True)

    assert (result.created, result.studies) == (2, [])
    assert not SharedAnswer.objects.exists() and not SharedAnswer.history.exists()


def test_only_the_chosen_study_s_applications_are_read(old_study, bank, time_machine):
    other = StudyFactory(slug="other", prefix="OTH")
    CriterionFactory(study=other, code="diagnosis", shared_question=bank["mecfs_diagnosis"])
    applied = apply(old_study, OCT_1, time_machine, answers={"pregnancy": "no"})
    apply(other, NOV_2, time_machine, answers={"diagnosis": "yes"})
    SharedAnswer.objects.all().delete()  # as if the other form came before the bank too
    bank_arrives(old_study, bank)

    shared_answers_backfill(study=old_study)

    assert shared(applied.person) == {"pregnancy": ("no", dt.date(2026, 10, 1), applied.pk)}


def test_batches_hold_a_bounded_number_of_people(old_study, bank, time_machine):
    for n in range(5):
        apply(
            old_study,
            OCT_1,
            time_machine,
            answers={"diagnosis": "yes"},
            email=f"p{n}@example.com",
            first_name=f"P{n}",
        )
    bank_arrives(old_study, bank)

    result = shared_answers_backfill(batch_size=2)

    assert (result.batches, result.people, result.created) == (3, 5, 5)


def test_each_batch_reads_the_same_number_of_queries(
    old_study, bank, time_machine, django_assert_max_num_queries
):
    for n in range(4):
        apply(
            old_study,
            OCT_1,
            time_machine,
            answers={"diagnosis": "yes", "pregnancy": "no"},
            email=f"p{n}@example.com",
            first_name=f"P{n}",
        )
    bank_arrives(old_study, bank)
    # People: 1 query per batch and 1 to end; per batch: applications, answers, shared
    # answers, the INSERT, its read-back, the history; once: the studies to re-match.
    with django_assert_max_num_queries(12):
        result = shared_answers_backfill(batch_size=100)
    assert result.created == 8


@pytest.fixture
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_the_affected_recruiting_studies_are_queued_for_re_matching(
    old_study, bank, time_machine, database_queue
):
    asks_too = StudyFactory(slug="asks-too", prefix="ASK")
    CriterionFactory(study=asks_too, shared_question=bank["pregnancy"], params={"required": "no"})
    StudyFactory(slug="unrelated", prefix="UNR")
    apply(old_study, OCT_1, time_machine, answers={"pregnancy": "no"})
    bank_arrives(old_study, bank)
    DBTaskResult.objects.all().delete()

    result = shared_answers_backfill()

    assert result.studies == ["asks-too", "old"]
    queued = DBTaskResult.objects.filter(task_path__endswith="study_rematch_task")
    assert sorted(r.args_kwargs["kwargs"]["study_id"] for r in queued) == sorted(
        [old_study.pk, asks_too.pk]
    )
    assert shared_answers_backfill().studies == []  # nothing written, nothing queued


def test_the_command_reports_counts_and_refuses_an_unknown_study(
    old_study, bank, time_machine, capsys
):
    apply(old_study, OCT_1, time_machine, answers={"diagnosis": "yes"})
    bank_arrives(old_study, bank)

    call_command("backfill_shared_answers", "--study", "old", "--dry-run")
    assert "1 shared answers would be created" in capsys.readouterr().out
    assert not SharedAnswer.objects.exists()
    call_command("backfill_shared_answers")
    assert "1 shared answers were created" in capsys.readouterr().out
    assert Participant.objects.count() == 1
    with pytest.raises(Exception, match="No study with the slug nope"):
        call_command("backfill_shared_answers", "--study", "nope")
