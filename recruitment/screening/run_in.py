"""The run-in between consent and enrollment: start it, record the daily reports completed,
let an investigator override it, or close the participant when it fails. Each is a
keyword-only service that checks, writes in one transaction (the status through
`participant_transition`, its only writer) and leaves a line in the participant's history.
The rules enrollment asks are in `recruitment.screening.run_in_gate`."""

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from recruitment.errors import InvalidTransition, RecruitmentError
from recruitment.models import Participant, RunIn, Status, StatusReason, Study
from recruitment.screening.run_in_gate import NO_RUN_IN, study_has_run_in
from recruitment.screening.services import participant_transition, refuse_if_erased

RUN_IN_START_STATUS = _("A run-in starts only for a consented participant.")
RUN_IN_START_IN_FUTURE = _("The run-in cannot start in the future.")
RUN_IN_START_BEFORE_CONSENT = _("The run-in cannot start before the date of consent ({date}).")
RUN_IN_NOT_IN_RUN_IN = _("{number} is not in the run-in.")
ADHERENCE_IN_FUTURE = _("The date of the count cannot be in the future.")
ADHERENCE_BEFORE_START = _("The date of the count cannot be before the run-in started ({date}).")
ADHERENCE_TOO_MANY = _(
    "{days_completed} days is more than the days of the run-in up to that date ({most})."
)
RUN_IN_ALREADY_DONE = _("{number} has had their run-in already: enroll them.")
RUN_IN_OVERRIDE_NOT_ALLOWED = _("Only an investigator can override the run-in.")
RUN_IN_OVERRIDE_NEEDS_REASON = _("Give the reason for overriding the run-in.")


def run_in_start(*, participant: Participant, by, started_on: date | None = None) -> Participant:
    """Start a consented participant's run-in: its record (start date, who, and the study's
    length and minimum adherence as they stand today, kept for this participant), then the
    move to `run_in`, in one transaction."""
    today = timezone.localdate()
    started_on = started_on or today
    if started_on > today:
        raise RecruitmentError(RUN_IN_START_IN_FUTURE)
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=participant.study_id)
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        refuse_if_erased(locked)
        if not study_has_run_in(study):
            raise InvalidTransition(NO_RUN_IN.format(number=locked.screening_number))
        if locked.status != Status.CONSENTED:
            raise InvalidTransition(RUN_IN_START_STATUS)
        if RunIn.objects.filter(participant=locked).exists():  # back from the waitlist
            raise InvalidTransition(RUN_IN_ALREADY_DONE.format(number=locked.screening_number))
        consent = getattr(locked, "consent", None)
        if consent is not None and started_on < consent.consented_on:
            raise RecruitmentError(
                RUN_IN_START_BEFORE_CONSENT.format(date=date_format(consent.consented_on))
            )
        run_in = RunIn(
            participant=locked,
            started_on=started_on,
            started_by=by,
            days=study.run_in_days,
            min_adherence=study.run_in_min_adherence,
        )
        run_in.full_clean()
        run_in._history_user = by
        run_in._change_reason = "Run-in started"
        run_in.save()
        return participant_transition(
            participant=locked,
            to=Status.RUN_IN,
            by=by,
            reason=f"Run-in of {run_in.days} days from {started_on.isoformat()}",
        )


def _run_in_locked(participant: Participant) -> tuple[Participant, RunIn]:
    """The participant and their run-in, locked, or a refusal when they are not in one."""
    locked = Participant.objects.select_for_update().get(pk=participant.pk)
    refuse_if_erased(locked)
    run_in = RunIn.objects.select_for_update().filter(participant=locked).first()
    if locked.status != Status.RUN_IN or run_in is None:
        raise InvalidTransition(RUN_IN_NOT_IN_RUN_IN.format(number=locked.screening_number))
    return locked, run_in


def run_in_adherence_record(
    *, participant: Participant, days_completed: int, as_of: date, by
) -> RunIn:
    """Record how many daily reports the participant has completed since the run-in began,
    counted up to `as_of`; the latest count replaces the one before (the history keeps
    each). Returns the run-in."""
    if as_of > timezone.localdate():
        raise RecruitmentError(ADHERENCE_IN_FUTURE)
    with transaction.atomic():
        locked, run_in = _run_in_locked(participant)
        if as_of < run_in.started_on:
            raise RecruitmentError(
                ADHERENCE_BEFORE_START.format(date=date_format(run_in.started_on))
            )
        most = run_in.most_days(as_of)
        if days_completed < 0 or days_completed > most:
            raise RecruitmentError(
                ADHERENCE_TOO_MANY.format(days_completed=days_completed, most=most)
            )
        run_in.days_completed = days_completed
        run_in.adherence_as_of = as_of
        run_in.adherence_recorded_by = by
        run_in.full_clean()
        line = (
            f"Run-in adherence: {days_completed} of {run_in.days} days, {run_in.percent}% "
            f"(as of {as_of.isoformat()})"
        )
        run_in._history_user = by
        run_in._change_reason = line
        run_in.save()
        locked._change_reason = line
        locked._history_user = by
        locked.save(update_fields=["updated_at"])
    return run_in


def run_in_override_record(*, participant: Participant, reason: str, by) -> RunIn:
    """An investigator lets a participant be enrolled although their run-in is incomplete or
    under the study's minimum: who, when and why on the run-in, and a line in the
    participant's history."""
    if not by.has_perm("recruitment.override_run_in"):
        raise RecruitmentError(RUN_IN_OVERRIDE_NOT_ALLOWED)
    reason = (reason or "").strip()
    if not reason:
        raise RecruitmentError(RUN_IN_OVERRIDE_NEEDS_REASON)
    with transaction.atomic():
        locked, run_in = _run_in_locked(participant)
        run_in.override_reason = reason
        run_in.override_by = by
        run_in.override_at = timezone.now()
        run_in.full_clean()
        run_in._history_user = by
        run_in._change_reason = f"Run-in override: {reason}"
        run_in.save()
        locked._change_reason = f"Run-in override: {reason}"
        locked._history_user = by
        locked.save(update_fields=["updated_at"])
    return run_in


def run_in_fail(*, participant: Participant, by, reason: str = "") -> Participant:
    """Close a participant whose run-in failed as `ineligible`, with the coded reason "did
    not complete the run-in" (what the CONSORT box counts as excluded after the run-in)."""
    return participant_transition(
        participant=participant,
        to=Status.INELIGIBLE,
        by=by,
        reason=reason,
        reason_code=StatusReason.RUN_IN_FAILED,
    )
