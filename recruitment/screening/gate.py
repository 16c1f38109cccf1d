"""The gates of the screening workflow, each asked in one place: the status service calls them
inside its transaction to refuse a step, and the participant page calls the same functions to
say which steps are possible now and why the others are not (`recruitment.screening.steps`).

- The eligibility gate: eligibility, consent and enrollment go ahead only when every criterion
  is met, a washout has ended, staff values are entered, or an investigator has overridden
  each criterion that is not.
- The rule-out gate: a move straight from `new` to `ineligible` needs a likely-ineligible
  pre-screen, for a criterion it found not met.
- The slot gate: enrollment needs a free slot; the waitlist is for a full study only.
- The consent gate: consented and enrolled need informed consent on record.
- The waitlist order: enrolling someone before those waiting ahead needs a reason.
"""

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from recruitment import selectors
from recruitment.errors import CriteriaNotMet, InvalidTransition
from recruitment.models import (
    ConsentRecord,
    CriterionVerdict,
    Outcome,
    Participant,
    StatusReason,
    Study,
    Verdict,
)

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


def criteria_blocking(participant: Participant) -> list[CriterionVerdict]:
    """The verdicts that stop eligibility, consent and enrollment today (3 queries)."""
    return selectors.verdict_list_blocking(participant=participant, today=timezone.localdate())


def criteria_blocking_among(verdicts, *, overridden) -> list[CriterionVerdict]:
    """`criteria_blocking` over verdicts and overridden criterion codes already read, by the
    same rule (`selectors.verdict_blocks`)."""
    today = timezone.localdate()
    overridden = set(overridden)
    return [
        verdict
        for verdict in verdicts
        if selectors.verdict_blocks(verdict, today=today)
        and verdict.criterion_snapshot.get("code") not in overridden
    ]


def criteria_titles(verdicts: list[CriterionVerdict]) -> str:
    return ", ".join(
        verdict.criterion_snapshot.get("title") or verdict.criterion_snapshot.get("code", "")
        for verdict in verdicts
    )


def criteria_met_or_refuse(participant: Participant) -> None:
    """Eligibility, consent and enrollment need every criterion met, a washout ended, staff
    values entered, or an investigator's override for each criterion that is not."""
    blocking = criteria_blocking(participant)
    if blocking:
        raise CriteriaNotMet(
            CRITERIA_NOT_MET.format(
                number=participant.screening_number, criteria=criteria_titles(blocking)
            )
        )


def study_has_free_slot(study: Study) -> bool:
    """Whether an enrollment slot is free: enrollment needs one, the waitlist needs none."""
    return study.slots.free().exists()


def consent_on_record(participant: Participant) -> bool:
    return ConsentRecord.objects.filter(participant=participant).exists()


def waitlist_first_ahead(participant: Participant) -> Participant | None:
    """The first person waiting ahead of `participant` on their study's waitlist (who became
    eligible before them), or None: enrolling before them needs a reason."""
    ahead = Participant.objects.filter(study_id=participant.study_id).waitlist()
    ahead = ahead.exclude(pk=participant.pk)
    if participant.eligible_at is not None:
        ahead = ahead.filter(eligible_at__lt=participant.eligible_at)
    return ahead.first()


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
