"""Matching one new registry member against every recruiting study, in the background."""

from django.utils import timezone
from django_tasks import task

from recruitment.models import Person, Study
from recruitment.registry.services import study_rematch


@task()
def person_rematch_task(*, person_id: int) -> str:
    """Match the person against each recruiting study as it stands when the task runs (the
    person's answers and the criteria are read then); a person who left meanwhile is not."""
    if not Person.objects.in_registry().filter(pk=person_id).exists():
        return "not in the registry"
    today = timezone.localdate()
    judged = 0
    for study in Study.objects.recruiting().order_by("pk"):
        judged += study_rematch(study=study, today=today, person_ids=[person_id]).evaluated
    return f"{judged} studies judged"
