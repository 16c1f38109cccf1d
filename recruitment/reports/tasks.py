"""The dashboard's background task: recounting the counts over every participant after a
change, so that no page view waits for them (`recruitment.reports.dashboard._counted`)."""

from datetime import date

from django.utils import translation
from django_tasks import task

from recruitment.reports.dashboard import dashboard_counts_recount


@task()
def dashboard_counts_task(*, study_ids: list[int], today: str, language: str) -> str:
    """Count the dashboard of these studies as the data stands when the task runs (two
    recounts queued close together give the same result), with the labels in `language`."""
    with translation.override(language or None):
        counted = dashboard_counts_recount(study_ids=study_ids, today=date.fromisoformat(today))
    return f"{sum(c.assessed for c in counted.consort.values())} participants counted"
