"""The `ldn_study` fixtures insert the rows that loading the LDN file wrote once per test
process (tests/written_rows.py): the same rows, and the same task queued, as the loader."""

import pytest
from django_tasks_db.models import DBTaskResult

from recruitment.models import EligibilityCriterion, SharedQuestion, Study
from recruitment.studies.questions import question_bank_load_file
from recruitment.studies.services import study_load_file
from tests.conftest import LDN_FILE, ldn_study_from
from tests.written_rows import rows_written_by


@pytest.fixture
def database_queue(settings):
    """Tasks are rows in the database, so a queued task can be counted."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def rematches_queued(study) -> int:
    return sum(
        r.args_kwargs["kwargs"] == {"study_id": study.pk}
        for r in DBTaskResult.objects.filter(task_path__endswith=".study_rematch_task")
    )


@pytest.mark.django_db
def test_the_fixture_inserts_the_rows_that_loading_the_file_writes(ldn_rows):
    loaded = rows_written_by(lambda: study_load_file(path=LDN_FILE).study)
    inserted = rows_written_by(lambda: ldn_study_from(ldn_rows))

    assert inserted.comparable() == loaded.comparable()
    assert {t.model._meta.label for t in loaded.tables} >= {
        "recruitment.Study",
        "recruitment.EligibilityCriterion",
        "recruitment.SharedQuestion",
        "recruitment.PlannedVisit",
    }


@pytest.mark.django_db
def test_inserted_rows_are_stamped_with_the_time_of_the_insert(ldn_rows, time_machine):
    time_machine.move_to("2031-05-04 10:00Z", tick=False)

    study = ldn_study_from(ldn_rows)

    assert study.created_at.year == study.updated_at.year == 2031
    assert {h.history_date.year for h in study.planned_visits.model.history.all()} == {2031}


@pytest.mark.django_db
def test_the_fixture_queues_the_rematch_that_loading_the_file_queues(ldn_rows, database_queue):
    loaded = study_load_file(path=LDN_FILE).study
    assert rematches_queued(loaded) == 1
    Study.objects.all().delete()
    SharedQuestion.objects.all().delete()
    DBTaskResult.objects.all().delete()

    inserted = ldn_study_from(ldn_rows)

    assert inserted.is_recruiting
    assert rematches_queued(inserted) == 1


@pytest.mark.django_db
def test_the_fixture_loads_the_file_when_shared_questions_are_there_already(ldn_rows):
    question_bank_load_file()
    SharedQuestion.objects.filter(code="pregnancy").update(hint="Edited in the admin.")

    study = ldn_study_from(ldn_rows)

    assert EligibilityCriterion.objects.filter(study=study).count() == 18
    assert SharedQuestion.objects.get(code="pregnancy").hint == "Edited in the admin."
