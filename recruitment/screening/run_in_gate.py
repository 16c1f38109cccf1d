"""The run-in gate, asked by the status service (`participant_transition`) inside its
transaction and by the participant page (`recruitment.screening.steps`) to say why a step is
not possible now:

- a run-in starts only in a study that has one, from `consented`, with its record written;
- in a study with a run-in, enrollment waits for the run-in: complete (the recorded adherence
  covers its last day) and at the study's minimum adherence, or overridden by an investigator;
- someone whose run-in passed while the study is full goes on the waitlist (run-in to
  waitlisted); enrolled from it when a slot frees (waitlisted, consented, enrolled), their
  run-in counts and is not done again;
- "did not complete the run-in" closes only someone in the run-in.

A study without a run-in (`run_in_days` 0) keeps the path consented -> enrolled.
"""

from datetime import date

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from recruitment.errors import InvalidTransition
from recruitment.models import Participant, RunIn, Status, StatusReason, Study

NO_RUN_IN = _("The study has no run-in: enroll {number} once consent is recorded.")
RUN_IN_NOT_RECORDED = _("Start the run-in of {number} with its start date first.")
RUN_IN_FIRST = _("This study has a run-in: start the run-in of {number} before enrollment.")
RUN_IN_INCOMPLETE = _(
    "The run-in of {number} is not complete: day {day} of {days}, {done} of {days} daily "
    "reports recorded{as_of}. Record adherence up to its last day ({last_day}), or ask an "
    "investigator to override the run-in."
)
RUN_IN_BELOW_MINIMUM = _(
    "{number} completed {done} of {days} daily reports ({percent}%), under the study's minimum "
    "of {minimum}%: record the run-in as failed, or ask an investigator to override the run-in."
)
RUN_IN_FAILED_ONLY_IN_RUN_IN = _(
    "“Did not complete the run-in” is a reason only for someone in the run-in."
)


def study_has_run_in(study: Study) -> bool:
    return study.run_in_days > 0


def run_in_get(participant: Participant) -> RunIn | None:
    """The participant's run-in record, or None (1 query)."""
    return RunIn.objects.filter(participant_id=participant.pk).first()


def run_in_refusal(run_in: RunIn | None, *, number: str, today: date) -> str:
    """Why a participant in the run-in may not be enrolled yet; empty when they may (the
    run-in passed, or an investigator overrode it)."""
    if run_in is None:
        return str(RUN_IN_NOT_RECORDED.format(number=number))
    if run_in.overridden:
        return ""
    if not run_in.complete:
        as_of = ""
        if run_in.adherence_as_of is not None:
            as_of = " " + str(_("as of {date}")).format(date=date_format(run_in.adherence_as_of))
        return str(
            RUN_IN_INCOMPLETE.format(
                number=number,
                day=run_in.day(today),
                days=run_in.days,
                done=run_in.days_completed,
                as_of=as_of,
                last_day=date_format(run_in.last_day),
            )
        )
    if not run_in.meets_minimum:
        return str(
            RUN_IN_BELOW_MINIMUM.format(
                number=number,
                done=run_in.days_completed,
                days=run_in.days,
                percent=run_in.percent,
                minimum=run_in.min_adherence,
            )
        )
    return ""


def run_in_or_refuse(
    *, study: Study, participant: Participant, to: str, reason_code: str = ""
) -> None:
    """The run-in's rules for a move of `participant` (its status still the one it leaves)
    to `to`; raises `InvalidTransition` with a message for the user."""
    number = participant.screening_number
    today = timezone.localdate()
    if reason_code == StatusReason.RUN_IN_FAILED and participant.status != Status.RUN_IN:
        raise InvalidTransition(RUN_IN_FAILED_ONLY_IN_RUN_IN)
    if to == Status.RUN_IN:
        if not study_has_run_in(study):
            raise InvalidTransition(NO_RUN_IN.format(number=number))
        if not RunIn.objects.filter(participant_id=participant.pk).exists():
            raise InvalidTransition(RUN_IN_NOT_RECORDED.format(number=number))
    elif to == Status.WAITLISTED and participant.status == Status.RUN_IN:
        why = run_in_refusal(run_in_get(participant), number=number, today=today)
        if why:
            raise InvalidTransition(why)
    elif to == Status.ENROLLED:
        if participant.status == Status.RUN_IN:
            why = run_in_refusal(run_in_get(participant), number=number, today=today)
            if why:
                raise InvalidTransition(why)
        elif study_has_run_in(study):
            # Back from the waitlist after their run-in passed, or not yet through one.
            run_in = run_in_get(participant)
            if run_in is None:
                raise InvalidTransition(RUN_IN_FIRST.format(number=number))
            why = run_in_refusal(run_in, number=number, today=today)
            if why:
                raise InvalidTransition(why)
