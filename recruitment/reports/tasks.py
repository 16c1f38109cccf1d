"""The dashboard's background task: recounting the counts over every participant after a
change, so that no page view waits for them (`recruitment.reports.dashboard._counted`)."""

from datetime import date, datetime

from django.utils import translation
from django_tasks import task

from recruitment.reports.dashboard import dashboard_counts_recount


@task()
def dashboard_counts_task(
    *, study_ids: list[int], today: str, language: str, queued_at: str | None = None
) -> str:
    """Count the dashboard of these studies as the data stands when the task runs, with the
    labels in `language`; nothing when a recount begun after `queued_at` is kept already (a
    burst of changes queues one task each, and the first to run counts them all)."""
    with translation.override(language or None):
        counted = dashboard_counts_recount(
            study_ids=study_ids,
            today=date.fromisoformat(today),
            queued_at=datetime.fromisoformat(queued_at) if queued_at else None,
        )
    if counted is None:
        return "already counted"
    return f"{sum(c.assessed for c in counted.consort.values())} participants counted"
