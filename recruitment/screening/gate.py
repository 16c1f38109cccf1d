"""The eligibility gate: eligibility, consent and enrollment go ahead only when every criterion
is met, a washout has ended, staff values are entered, or an investigator has overridden each
criterion that is not. The status service calls it inside its transaction.

The same gate decides who may be ruled out straight from `new`: someone the pre-screen found
likely ineligible, for a criterion it found not met."""

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from recruitment import selectors
from recruitment.errors import CriteriaNotMet, InvalidTransition
from recruitment.models import CriterionVerdict, Outcome, Participant, StatusReason, Verdict

CRITERIA_NOT_MET = _(
    "{number} does not meet every criterion: {criteria}. Enter the missing lab values, or ask "
    "an investigator to record an eligibility override for each criterion."
)
RULE_OUT_NOT_LIKELY_INELIGIBLE = _(
    "{number} cannot be ruled out from “New”: their pre-screen is “{outcome}”, not “Likely "
    "ineligible”. Move them to screening instead."
)
RULE_OUT_CRITERION = _(
    "{number} can be marked ineligible from “New” only with the reason “Fails a criterion” and "
    "a criterion their pre-screen found not met: {criteria}."
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


def rule_out_criteria(*, participant: Participant, today: date) -> list[CriterionVerdict]:
    """The criteria that rule the participant out at the pre-screen, in the study's order:
    not met for good (not a washout still running), and not overridden. Empty unless the
    stored outcome is "likely ineligible"."""
    if participant.outcome != Outcome.LIKELY_INELIGIBLE:
        return []
    return [
        verdict
        for verdict in selectors.verdict_list_blocking(participant=participant, today=today)
        if verdict.verdict == Verdict.NOT_MET and verdict.eligible_from is None
    ]


def rule_out_or_refuse(participant: Participant, *, code: str, criterion: str) -> None:
    """A move from `new` to `ineligible` needs a likely-ineligible pre-screen and, as its
    reason, "fails a criterion" naming one of the criteria that pre-screen found not met."""
    number = participant.screening_number
    failed = rule_out_criteria(participant=participant, today=timezone.localdate())
    if not failed:
        raise InvalidTransition(
            RULE_OUT_NOT_LIKELY_INELIGIBLE.format(
                number=number, outcome=participant.get_outcome_display()
            )
        )
    codes = [verdict.criterion_snapshot.get("code") for verdict in failed]
    if code != StatusReason.FAILS_CRITERION or criterion not in codes:
        titles = ", ".join(
            verdict.criterion_snapshot.get("title") or verdict.criterion_snapshot.get("code", "")
            for verdict in failed
        )
        raise InvalidTransition(RULE_OUT_CRITERION.format(number=number, criteria=titles))
