"""When the registry is matched again: a background task, queued when a study opens for
recruiting or its criteria change, never run in the request itself."""

import tomllib

from recruitment.models import RegistryMatch, Study
from recruitment.registry.tasks import study_rematch_task
from recruitment.studies.services import (
    study_criteria_changed,
    study_load,
    study_recruiting_opened,
)
from tests.conftest import LDN_FILE
from tests.registry.conftest import registry_person


def ldn_data(**changes) -> dict:
    return tomllib.loads(LDN_FILE.read_text(encoding="utf-8")) | changes


def queued(callbacks) -> int:
    """How many re-matchings the on-commit callbacks queued (immediate backend: each ran)."""
    return len(callbacks)


def test_loading_a_new_recruiting_study_matches_the_registry_after_commit(
    bank, django_capture_on_commit_callbacks
):
    person = registry_person()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        study = study_load(data=ldn_data()).study
    assert not RegistryMatch.objects.exists()  # not in the loader's own transaction

    for callback in callbacks:
        callback()
    match = RegistryMatch.objects.get()
    assert (match.study, match.person) == (study, person)


def test_loading_an_unchanged_study_queues_nothing(bank, django_capture_on_commit_callbacks):
    study_load(data=ldn_data())

    with django_capture_on_commit_callbacks() as callbacks:
        study_load(data=ldn_data())

    assert queued(callbacks) == 0


def test_a_study_opening_for_recruiting_in_its_file_is_matched(
    bank, django_capture_on_commit_callbacks
):
    study_load(data=ldn_data(is_recruiting=False))

    with django_capture_on_commit_callbacks() as closed_again:
        study_load(data=ldn_data(is_recruiting=False, summary="New summary."))
    with django_capture_on_commit_callbacks() as opened:
        study_load(data=ldn_data())

    assert (queued(closed_again), queued(opened)) == (0, 1)


def test_a_criteria_change_in_the_file_matches_the_registry_again(
    bank, django_capture_on_commit_callbacks
):
    data = ldn_data()
    study_load(data=data)
    data["criteria"][0]["params"] = {"min": 18, "max": 70}

    with django_capture_on_commit_callbacks() as callbacks:
        study_load(data=data)

    assert queued(callbacks) == 1


def test_a_criteria_edit_in_the_admin_and_an_opening_queue_a_rematch(
    ldn_study, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as edited:
        study_criteria_changed(study=ldn_study, criteria=[ldn_study.criteria.first()])
    with django_capture_on_commit_callbacks() as opened:
        study_recruiting_opened(study=ldn_study)

    assert (queued(edited), queued(opened)) == (1, 1)


def test_a_closed_study_whose_criteria_change_waits_until_it_opens(
    ldn_study, django_capture_on_commit_callbacks
):
    Study.objects.filter(pk=ldn_study.pk).update(is_recruiting=False)
    ldn_study.refresh_from_db()

    with django_capture_on_commit_callbacks() as callbacks:
        study_criteria_changed(study=ldn_study, criteria=[])

    assert queued(callbacks) == 0


def test_the_task_matches_the_study_it_names_by_id(ldn_study):
    registry_person()

    result = study_rematch_task.call(study_id=ldn_study.pk)

    assert result.startswith("1 judged: 1 new")
    assert RegistryMatch.objects.filter(study=ldn_study).count() == 1
    assert study_rematch_task.call(study_id=0) == "no such study"
