"""Concealed allocation's reads, each in a fixed number of queries. The ones that return arms
say so in their name (`..._by_arm`): callers ask `access.may_see_arms` first."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, Q

from recruitment.models import AllocationList, AllocationRow, Participant, Study, Unblinding


@dataclass(frozen=True)
class Remaining:
    stratum: str  # "" when the list has no strata
    arm: str  # "" unless read by arm (the unblinded role only)
    unused: int
    used: int


def allocation_list_get(*, study: Study) -> AllocationList | None:
    return AllocationList.objects.filter(study=study).select_related("uploaded_by").first()


def remaining_by_study(
    *, study_ids: Sequence[int], by_arm: bool = False
) -> dict[int, list[Remaining]]:
    """Per study with a list, its rows unused and used per stratum (and per arm only when
    `by_arm`: for the unblinded role); studies without a list are absent (1 query)."""
    columns = ["study_id", "stratum", *(["arm"] if by_arm else [])]
    counted = (
        AllocationRow.objects.filter(study_id__in=study_ids)
        .values(*columns)
        .annotate(
            unused=Count("pk", filter=Q(participant__isnull=True)),
            used=Count("pk", filter=Q(participant__isnull=False)),
        )
        .order_by(*columns)
    )
    found: dict[int, list[Remaining]] = defaultdict(list)
    for row in counted:
        found[row["study_id"]].append(
            Remaining(row["stratum"], row.get("arm", ""), row["unused"], row["used"])
        )
    return dict(found)


def unblinding_counts(*, study_ids: Sequence[int]) -> dict[int, int]:
    """Emergency unblindings per study (1 query)."""
    return dict(
        Unblinding.objects.filter(participant__study_id__in=study_ids)
        .values_list("participant__study_id")
        .annotate(n=Count("pk"))
        .order_by()
    )


def unblinding_list(*, study: Study) -> list[Unblinding]:
    """The study's unblindings, newest first, with who and the participant's numbers (1 query;
    no arm: the row is not read)."""
    return list(
        Unblinding.objects.filter(participant__study=study)
        .select_related("by")
        .only(
            "at",
            "reason",
            "by__username",
            "participant__screening_number",
            "participant__participant_id",
        )
        .select_related("participant")
    )


def pack_code_get(*, participant: Participant) -> str:
    """The pack code given to the participant at enrollment, "" when none (1 query, or none
    when enrollment has just cached its row on the participant)."""
    try:
        row = participant.allocation
    except AllocationRow.DoesNotExist:
        return ""
    return row.pack_code if row else ""


def stratum_get(*, participant: Participant) -> str:
    """The stratum staff set for the participant, "" when none (1 query)."""
    try:
        return participant.stratum.stratum
    except Participant.stratum.RelatedObjectDoesNotExist:
        return ""


def arm_by_participant(*, study: Study) -> dict[int, str]:
    """Each allocated participant's arm, by participant id: for the unblinded role's export
    only (1 query)."""
    return dict(
        AllocationRow.objects.filter(study=study, participant__isnull=False).values_list(
            "participant_id", "arm"
        )
    )


def arms_declared(*, study: Study) -> list[str]:
    """The arms declared with the study's list, [] without a list (1 query)."""
    return AllocationList.objects.filter(study=study).values_list("arms", flat=True).first() or []
