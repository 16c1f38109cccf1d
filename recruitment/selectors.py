"""Reads for pages and reports, each with a fixed number of queries."""

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from recruitment.models import CriterionVerdict, EligibilityCriterion, Participant, Study


def study_list_recruiting() -> QuerySet[Study]:
    return Study.objects.recruiting().order_by("title")


def study_get_public(*, slug: str) -> Study:
    return get_object_or_404(Study, slug=slug)


def criterion_list_for_form(*, study: Study) -> list[EligibilityCriterion]:
    return list(study.criteria.active().for_patient().order_by("order", "pk"))


def participant_get_for_confirmation(*, pk: int, study: Study) -> Participant | None:
    return (
        Participant.objects.filter(pk=pk, study=study)
        .only("pk", "screening_number", "preferred_contact", "study_id")
        .first()
    )


def participant_list_for_staff(*, user) -> QuerySet[Participant]:
    return Participant.objects.visible_to(user).select_related("study")


def participant_get_with_evaluation(*, user, pk: int) -> Participant:
    verdicts = CriterionVerdict.objects.order_by("order")
    return get_object_or_404(
        participant_list_for_staff(user=user).prefetch_related(Prefetch("verdicts", verdicts)),
        pk=pk,
    )
