"""Concealed allocation on the participant page: the pack code (never the arm), and the
buttons to set a stratum and, for an investigator, to unblind in an emergency (pages of
`recruitment.allocation.views`)."""

from django.urls import reverse
from django.utils.translation import gettext

from recruitment.allocation import access
from recruitment.allocation import selectors as allocation_selectors
from recruitment.models import AllocationList, Participant, Status


def pack_code_shown(participant: Participant) -> str:
    """The pack code ("K-0042") once enrolled from an allocation list, "—" otherwise (1 query
    once enrolled, none before: only enrollment gives a participant ID and a pack)."""
    if not participant.participant_id:
        return "—"
    return allocation_selectors.pack_code_get(participant=participant) or "—"


def allocation_links(request, participant: Participant) -> list[tuple[str, str]]:
    """The allocation buttons that apply to the participant as they stand (1 query, 2 for an
    investigator of an enrolled participant)."""
    study = participant.study
    args = {"slug": study.slug, "pk": participant.pk}
    links = []
    if participant.status in Status.awaiting_enrollment():
        strata = AllocationList.objects.filter(study=study).values_list("strata", flat=True)
        if strata.first() and request.user.has_perm("recruitment.change_participant"):
            links.append((gettext("Set the stratum"), reverse("allocation:stratum", kwargs=args)))
    if participant.participant_id and access.may_unblind(request.user, study):
        links.append((gettext("Emergency unblinding"), reverse("allocation:unblind", kwargs=args)))
    return links
