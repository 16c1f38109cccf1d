"""The eligibility gate: eligibility, consent and enrollment go ahead only when every criterion
is met, a washout has ended, staff values are entered, or an investigator has overridden each
criterion that is not. The status service calls it inside its transaction."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from recruitment import selectors
from recruitment.errors import CriteriaNotMet
from recruitment.models import Participant

CRITERIA_NOT_MET = _(
    "{number} does not meet every criterion: {criteria}. Enter the missing lab values, or ask "
    "an investigator to record an eligibility override for each criterion."
)


def criteria_met_or_refuse(participant: Participant) -> None:
    """Eligibility, consent and enrollment need every criterion met, a washout ended, staff
    values entered, or an investigator's override for each criterion that is not."""
    blocking = selectors.verdict_list_blocking(participant=participant, today=timezone.localdate())
    if blocking:
        titles = ", ".join(
            verdict.criterion_snapshot.get("title") or verdict.criterion_snapshot.get("code", "")
            for verdict in blocking
        )
        raise CriteriaNotMet(
            CRITERIA_NOT_MET.format(number=participant.screening_number, criteria=titles)
        )
