"""Ruling out in one step: a new applicant whose pre-screen found them likely ineligible is
closed as ineligible without being screened first, for the criteria the pre-screen found not
met. No move to screening is written, so nobody counts them as screened."""

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from recruitment.errors import InvalidTransition
from recruitment.models import Participant, Status, StatusReason
from recruitment.screening.gate import RULE_OUT_NOT_LIKELY_INELIGIBLE, rule_out_criteria
from recruitment.screening.services import participant_transition

RULE_OUT_NOT_NEW = _(
    "{number} is “{status}”, not “New”: only new applicants are ruled out in one step. "
    "Use “Change status” with the criterion they do not meet instead."
)


def participant_rule_out(*, participant: Participant, by, today: date | None = None) -> Participant:
    """Close a new, likely-ineligible applicant as ineligible, reason "fails a criterion" with
    the first criterion (in the study's order) the stored verdicts mark not met; the screening
    log and the CONSORT box list every criterion not met from those verdicts. Refuses
    (`InvalidTransition`, nothing written) anyone not new or not likely ineligible.
    `participant_transition` checks it all again on the locked row."""
    number = participant.screening_number
    if participant.status != Status.NEW:
        raise InvalidTransition(
            RULE_OUT_NOT_NEW.format(number=number, status=participant.get_status_display())
        )
    failed = rule_out_criteria(participant=participant, today=today or timezone.localdate())
    if not failed:
        raise InvalidTransition(
            RULE_OUT_NOT_LIKELY_INELIGIBLE.format(
                number=number, outcome=participant.get_outcome_display()
            )
        )
    return participant_transition(
        participant=participant,
        to=Status.INELIGIBLE,
        by=by,
        reason_code=StatusReason.FAILS_CRITERION,
        reason_criterion=failed[0].criterion_snapshot["code"],
    )
