"""The amendments' background task: a big study's what-if, computed by the task worker. Its
arguments are the run's id only; the task reads the draft and the people when it runs."""

from django_tasks import task

from recruitment.models import WhatIfRun
from recruitment.notifications.tasks import task_enqueue


@task()
def whatif_run_task(*, run_id: int) -> str:
    from recruitment.amendments.runs import whatif_run_compute

    run = WhatIfRun.objects.select_related("draft__study").filter(pk=run_id).first()
    if run is None:
        return "no such run"
    run = whatif_run_compute(run=run)
    return f"{run.summary['people']} judged, {run.summary['changed']} would change outcome"


def whatif_run_enqueue(*, run: WhatIfRun) -> None:
    """Queue the run, to start once the current transaction commits."""
    task_enqueue(whatif_run_task, run_id=run.pk)
