"""The registry's background task: re-matching one study against the registry. Queued, never
run in a request: when a study opens for recruiting, when its criteria change (the loader,
the admin), and by `manage.py rematch_due` for the washouts that end."""

from django.utils import timezone
from django_tasks import task

from recruitment.models import Study
from recruitment.notifications.tasks import task_enqueue
from recruitment.registry.services import study_rematch


@task()
def study_rematch_task(*, study_id: int) -> str:
    """Re-match the registry against the study as it is when the task runs (its criteria are
    read then, so two changes queued close together give the same result)."""
    study = Study.objects.filter(pk=study_id).first()
    if study is None:
        return "no such study"
    result = study_rematch(study=study, today=timezone.localdate())
    return (
        f"{result.evaluated} judged: {result.created} new, {result.updated} updated, "
        f"{result.unchanged} unchanged, {result.kept} kept"
    )


def study_rematch_enqueue(*, study: Study) -> None:
    """Queue the re-matching of `study`, to run once the current transaction commits."""
    task_enqueue(study_rematch_task, study_id=study.pk)
