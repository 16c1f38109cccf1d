"""The screening workflow: the status machine's only writer and the steps around it
(eligibility overrides, consent, enrollment, contacts, lab values, duplicates, staff edits).
Each is a keyword-only function that checks, writes in one transaction, and returns."""

from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from recruitment import selectors
from recruitment.allocation.services import allocation_take
from recruitment.contact import (
    normalise_email,
    normalise_name,
    normalise_phone,
    phone_e164,
)
from recruitment.errors import (
    AlreadyEnrolled,
    InvalidTransition,
    ReasonRequired,
    RecruitmentError,
    StudyFull,
)
from recruitment.evaluation import criteria_failed_update, participant_evaluate
from recruitment.models import (
    DECLINE_REASON_CODES,
    REASON_CODES,
    UNANSWERED_OUTCOMES,
    Answer,
    AnsweredBy,
    ConsentRecord,
    ContactAttempt,
    EligibilityCriterion,
    EligibilityOverride,
    EvaluationCause,
    Participant,
    Status,
    StatusChange,
    StatusReason,
    Study,
)
from recruitment.notifications import tasks as notifications
from recruitment.people.services import person_details_correct
from recruitment.screening.gate import (
    consent_on_record,
    criteria_met_or_refuse,
    rule_out_or_refuse,
    study_has_free_slot,
    waitlist_first_ahead,
)
from recruitment.screening.run_in_gate import run_in_or_refuse

TRANSITION_NOT_ALLOWED = _("{number} cannot move from “{current}” to “{target}”.")
REASON_NEEDED = _("Give a reason to mark {number} as “{target}”.")
REASON_CODE_NOT_FOR_STATUS = _("“{code}” is not a reason to mark {number} as “{target}”.")
REASON_OTHER_NEEDS_TEXT = _("Describe the reason to mark {number} as “{target}”.")
REASON_CRITERION_UNKNOWN = _("Choose a criterion of the study that {number} does not meet.")
OVERRIDE_NOT_ALLOWED = _("Only an investigator can record an eligibility override.")
OVERRIDE_NOTHING = _("Name at least one criterion to override, each with its reason.")
OVERRIDE_NOT_BLOCKING = _(
    "“{code}” does not stop {number}: only criteria not met or not yet known can be overridden."
)
OVERRIDE_NEEDS_REASON = _("Give the reason for overriding “{code}”.")
OVERRIDE_STATUS = _("Eligibility can be overridden only before enrollment, while {number} is open.")
WAITLIST_NOT_FULL = _("The study has a free slot: record consent and enroll {number} instead.")
CONSENT_NEEDED = _("Record informed consent for {number} before this step.")
ALREADY_ENROLLED = _("{number} is already enrolled.")
STUDY_FULL = _("The study is full ({target} of {target} slots taken): waitlist {number} instead.")
OUT_OF_ORDER = _("{next} is first on the waitlist; give a reason to enroll {number} before them.")
CONSENT_IN_FUTURE = _("The date of consent cannot be in the future.")
CONSENT_BEFORE_APPLYING = _("The date of consent cannot be before the person applied.")
CONSENT_STATUS = _("Consent can be recorded for eligible or waitlisted participants only.")
CONTACT_IN_FUTURE = _("A contact attempt cannot be in the future.")
FOLLOW_UP_BEFORE_ATTEMPT = _("The follow-up date cannot be before the attempt.")
EDIT_NEEDS_REASON = _("Give a reason for this change.")
NOT_STAFF_ASSESSED = _("“{code}” is not a staff-assessed criterion of this study.")
PARTICIPANT_ERASED = _("The personal data of {number} were erased; it cannot be changed.")
BY_REQUIRED = "participant_transition needs `by`, a staff user (or by_participant=True)."
BY_PARTICIPANT_ONLY_DECLINES = "by_participant=True is only for declining, with by=None."


# ---------------------------------------------------------------------------------------------
# The screening workflow: the status machine's only writer and the steps around it
# ---------------------------------------------------------------------------------------------
def participant_transition(
    *,
    participant: Participant,
    to: str,
    by,
    reason: str = "",
    reason_code: str = "",
    reason_criterion: str = "",
    by_participant: bool = False,
) -> Participant:
    """Move a participant through the status machine; the only writer of `status`.

    Checks the transition and the rules of the target status, and writes the change and its
    `StatusChange` row (who, when, from, to, why) in one transaction that holds a lock on the
    study row, so enrolments cannot race past the target. Raises `InvalidTransition` (or a
    subclass) with a message for the user; a refusal writes nothing.

    `by` is the staff member. Only the patient's signed withdraw link passes `by=None`, and
    it says so with `by_participant=True` (to `declined` only): a missing user is never
    taken silently for the participant.
    """
    if by_participant:
        if by is not None or Status(to) != Status.DECLINED:
            raise ValueError(BY_PARTICIPANT_ONLY_DECLINES)
    elif by is None:
        raise ValueError(BY_REQUIRED)
    reason = (reason or "").strip()
    to = Status(to)
    freed_slot = False
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=participant.study_id)
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        number = locked.screening_number
        if to == Status.ENROLLED and locked.status == Status.ENROLLED:
            raise AlreadyEnrolled(ALREADY_ENROLLED.format(number=number))
        if not locked.can_transition_to(to):
            raise InvalidTransition(
                TRANSITION_NOT_ALLOWED.format(
                    number=number, current=locked.get_status_display(), target=to.label
                )
            )
        reason_code, reason_criterion = _reason_coded(
            locked, to, reason=reason, code=reason_code, criterion=reason_criterion
        )
        run_in_or_refuse(study=study, participant=locked, to=to, reason_code=reason_code)
        if locked.status == Status.NEW and to == Status.INELIGIBLE:
            rule_out_or_refuse(locked, code=reason_code, criterion=reason_criterion)

        if to in (Status.ELIGIBLE, Status.CONSENTED, Status.ENROLLED):
            criteria_met_or_refuse(locked)
        if to not in Status.awaiting_enrollment():
            locked.criteria_failed_at = None
            locked.criteria_failed_by = ""

        if to == Status.ELIGIBLE:
            locked.eligible_at = locked.eligible_at or timezone.now()
        elif to == Status.WAITLISTED:
            if study_has_free_slot(study):
                raise InvalidTransition(WAITLIST_NOT_FULL.format(number=number))
        elif to == Status.CONSENTED:
            if not consent_on_record(locked):
                raise InvalidTransition(CONSENT_NEEDED.format(number=number))
        elif to == Status.ENROLLED:
            _enrol(study, locked, reason)
        elif to == Status.WITHDRAWN and study.withdrawal_frees_slot:
            locked.slot = None
            freed_slot = True

        from_status = locked.status
        locked.status = to
        locked._change_reason = f"Status {from_status} → {to}" + (f": {reason}" if reason else "")
        locked._history_user = by
        locked.save()
        StatusChange.objects.create(
            participant=locked,
            from_status=from_status,
            to_status=to,
            reason=reason,
            reason_code=reason_code,
            reason_criterion=reason_criterion,
            by=by,
        )
        if freed_slot:
            notifications.task_enqueue(notifications.slot_freed_notice_send, study_id=study.pk)
    return locked


def _reason_coded(
    participant: Participant, to: Status, *, reason: str, code: str, criterion: str
) -> tuple[str, str]:
    """The reason's code and criterion for a move into `to`, checked.

    Declines, ineligibility and withdrawals are counted by code; free text is needed only with
    "other". A caller that passes only text (as every caller did before the codes) gets the
    code of a common reason it names ("not reached"), "other" for anything else."""
    number = participant.screening_number
    code = (code or "").strip()
    criterion = (criterion or "").strip()
    if not code and reason and to in Status.needing_reason():
        code = DECLINE_REASON_CODES.get(reason.casefold(), StatusReason.OTHER)
        code = code if code in REASON_CODES[to] else StatusReason.OTHER
    if not code:
        if to in Status.needing_reason():
            raise ReasonRequired(REASON_NEEDED.format(number=number, target=to.label))
        return "", ""
    if code not in REASON_CODES.get(to, ()):
        label = StatusReason(code).label if code in StatusReason.values else code
        raise ReasonRequired(
            REASON_CODE_NOT_FOR_STATUS.format(code=label, number=number, target=to.label)
        )
    if code == StatusReason.OTHER and not reason:
        raise ReasonRequired(REASON_OTHER_NEEDS_TEXT.format(number=number, target=to.label))
    if code != StatusReason.FAILS_CRITERION:
        return code, ""
    if not EligibilityCriterion.objects.filter(
        study_id=participant.study_id, code=criterion
    ).exists():
        raise ReasonRequired(REASON_CRITERION_UNKNOWN.format(number=number))
    return code, criterion


def eligibility_override_record(
    *, participant: Participant, reasons: dict[str, str], by
) -> list[EligibilityOverride]:
    """An investigator lets a participant go on although criteria are not met or not known:
    one row per criterion (its code, the criterion and verdict as they stood, the reason, who,
    when) and a line in the participant's history. `reasons` maps criterion codes to why.
    Returns the new overrides."""
    if not by.has_perm("recruitment.override_eligibility"):
        raise RecruitmentError(OVERRIDE_NOT_ALLOWED)
    reasons = {code: (reason or "").strip() for code, reason in reasons.items()}
    if not reasons:
        raise RecruitmentError(OVERRIDE_NOTHING)
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        number = locked.screening_number
        refuse_if_erased(locked)
        if locked.status not in Status.in_progress():
            raise InvalidTransition(OVERRIDE_STATUS.format(number=number))
        blocking = {
            verdict.criterion_snapshot.get("code"): verdict
            for verdict in selectors.verdict_list_blocking(
                participant=locked, today=timezone.localdate()
            )
        }
        overrides = []
        for code, reason in reasons.items():
            if code not in blocking:
                raise RecruitmentError(OVERRIDE_NOT_BLOCKING.format(code=code, number=number))
            if not reason:
                raise RecruitmentError(OVERRIDE_NEEDS_REASON.format(code=code))
            verdict = blocking[code]
            override = EligibilityOverride(
                participant=locked,
                criterion_code=code,
                criterion_snapshot={
                    **verdict.criterion_snapshot,
                    "verdict": verdict.verdict,
                    "verdict_reason": verdict.reason,
                    "eligible_from": verdict.eligible_from and verdict.eligible_from.isoformat(),
                },
                reason=reason,
                by=by,
            )
            override.full_clean()
            override.save()
            overrides.append(override)
        fields = ["updated_at"]
        if locked.status in Status.awaiting_enrollment():
            fields += criteria_failed_update(locked, None, today=timezone.localdate())
        locked._change_reason = "Eligibility override: " + "; ".join(
            f"{code}: {reason}" for code, reason in reasons.items()
        )
        locked._history_user = by
        locked.save(update_fields=fields)
    return overrides


def _enrol(study: Study, participant: Participant, reason: str) -> None:
    """Enrolment's checks and writes; the caller holds the study row lock."""
    number = participant.screening_number
    if not consent_on_record(participant):
        raise InvalidTransition(CONSENT_NEEDED.format(number=number))
    slot = study.slots.free().order_by("number").first()
    if slot is None:
        raise StudyFull(STUDY_FULL.format(target=study.target_enrolment, number=number))
    first_waiting = waitlist_first_ahead(participant)
    if first_waiting is not None and not reason:
        raise ReasonRequired(
            OUT_OF_ORDER.format(next=first_waiting.screening_number, number=number)
        )
    study.last_participant_seq += 1
    study.save(update_fields=["last_participant_seq"])
    participant.participant_id = study.participant_id(study.last_participant_seq)
    participant.slot = slot
    # Concealed allocation: the next unused row of the sealed list, if the study has one.
    allocation_take(study=study, participant=participant)


def consent_record(
    *,
    participant: Participant,
    consented_on: date,
    form_version: str,
    obtained_by,
    by,
    today: date | None = None,
) -> Participant:
    """Record informed consent and move the participant to `consented`; in a full study a
    waitlisted participant stays `waitlisted`, keeping their place in line, until a slot frees
    (`recruitment.screening.waitlist.participant_enrol`)."""
    today = today or timezone.localdate()
    if consented_on > today:
        raise RecruitmentError(CONSENT_IN_FUTURE)
    if consented_on < timezone.localdate(participant.created_at):
        raise RecruitmentError(CONSENT_BEFORE_APPLYING)
    if participant.status not in (Status.ELIGIBLE, Status.WAITLISTED):
        raise InvalidTransition(CONSENT_STATUS)
    criteria_met_or_refuse(participant)
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=participant.study_id)  # locks first
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        record = ConsentRecord.objects.filter(participant=participant).first() or ConsentRecord(
            participant=participant
        )
        record.consented_on = consented_on
        record.form_version = form_version.strip()
        record.obtained_by = obtained_by
        record.recorded_by = by
        record.full_clean()
        record._history_user = by
        record.save()
        if locked.status == Status.WAITLISTED and not study_has_free_slot(study):
            locked._change_reason = "Informed consent recorded; stays on the waitlist"
            locked._history_user = by
            locked.save(update_fields=["updated_at"])
            return locked
        return participant_transition(participant=participant, to=Status.CONSENTED, by=by)


def contact_attempt_record(
    *,
    participant: Participant,
    by,
    method: str,
    outcome: str,
    at=None,
    note: str = "",
    follow_up_on: date | None = None,
) -> ContactAttempt:
    """Log an attempt to reach a participant and update their "not reached" count and
    next follow-up date."""
    at = at or timezone.now()
    if at > timezone.now() + timedelta(minutes=5):
        raise RecruitmentError(CONTACT_IN_FUTURE)
    if follow_up_on is not None and follow_up_on < timezone.localdate(at):
        raise RecruitmentError(FOLLOW_UP_BEFORE_ATTEMPT)
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        refuse_if_erased(locked)
        attempt = ContactAttempt(
            participant=locked,
            by=by,
            at=at,
            method=method,
            outcome=outcome,
            note=note.strip(),
            follow_up_on=follow_up_on,
        )
        attempt.full_clean()
        attempt.save()
        if outcome in UNANSWERED_OUTCOMES:
            locked.unanswered_attempts += 1
        else:
            locked.unanswered_attempts = 0
        latest = locked.contact_attempts.order_by("-at", "-pk").first()
        locked.next_follow_up_on = latest.follow_up_on
        locked.last_attempt_at = latest.at
        locked.last_attempt_outcome = latest.outcome
        locked._change_reason = f"Contact attempt: {attempt.get_outcome_display()}"
        locked._history_user = by
        locked.save(
            update_fields=[
                "unanswered_attempts",
                "next_follow_up_on",
                "last_attempt_at",
                "last_attempt_outcome",
                "updated_at",
            ]
        )
    return attempt


def lab_values_record(
    *, participant: Participant, values: dict[str, Any], by, reason: str = ""
) -> Participant:
    """Record staff-assessed values (lab results) as staff-verified answers, and re-run the
    evaluation. Values are in the engine's JSON form; None clears a value. The evaluation is
    stored on the participant's current row (locked), so the history never records a stale
    status from the caller's copy."""
    criteria = {c.code: c for c in participant.study.criteria.active().for_staff()}
    for code in values:
        if code not in criteria:
            raise RecruitmentError(NOT_STAFF_ASSESSED.format(code=code))
    with transaction.atomic():
        participant = Participant.objects.select_for_update().get(pk=participant.pk)
        refuse_if_erased(participant)
        for code, value in values.items():
            answer = Answer.objects.filter(
                participant=participant, criterion=criteria[code]
            ).first()
            if value in (None, ""):
                if answer is not None:
                    answer._history_user = by
                    answer._change_reason = reason or "Cleared by staff"
                    answer.delete()
                continue
            if answer is not None and answer.value == value:
                continue
            answer = answer or Answer(participant=participant, criterion=criteria[code])
            answer.value = value
            answer.answered_by = AnsweredBy.STAFF
            answer.recorded_by = by
            answer._history_user = by
            answer._change_reason = reason or "Entered by staff at screening"
            answer.save()
        return participant_evaluate(
            participant=participant, by=by, cause=EvaluationCause.LAB_VALUES
        )


EDITABLE_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "preferred_contact",
    "best_time",
    "date_of_birth",
    "zip_code",
    "referral_source",
    "note",
)


def participant_update(
    *, participant: Participant, data: dict[str, Any], by, reason: str
) -> Participant:
    """A staff edit of contact details, audited with who, when, old and new values and why.
    A new date of birth or ZIP code re-runs the pre-screen. A changed detail that was also
    the person's current one is changed on the person too (`person_details_correct`).

    The edit is applied to the participant's current row, locked, never to the caller's copy:
    a copy read before a status change or a contact attempt must not write it back. Returns
    the saved participant.
    """
    reason = (reason or "").strip()
    if not reason:
        raise RecruitmentError(EDIT_NEEDS_REASON)
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        refuse_if_erased(locked)
        changed = {
            field: value
            for field, value in data.items()
            if field in EDITABLE_FIELDS and getattr(locked, field) != value
        }
        if not changed:
            return locked
        before = {field: getattr(locked, field) for field in EDITABLE_FIELDS}
        for field, value in changed.items():
            setattr(locked, field, value)
        locked.email_normalised = normalise_email(locked.email)
        locked.phone_normalised = normalise_phone(locked.phone) if locked.phone else ""
        if locked.phone:
            locked.phone = phone_e164(locked.phone)
        locked.name_normalised = normalise_name(locked.first_name, locked.last_name)
        locked.full_clean()
        locked._change_reason = reason
        locked._history_user = by
        locked.save()
        # The person holds the current details across studies: a correction reaches them.
        person_details_correct(participant=locked, before=before, by=by, reason=reason)
        if {"date_of_birth", "zip_code"} & set(changed):
            participant_evaluate(participant=locked, by=by, cause=EvaluationCause.CONTACT_DETAILS)
    return locked


def refuse_if_erased(participant: Participant) -> None:
    """Erased stays erased: no service writes personal data back, nor re-runs the pre-screen
    (which would replace the kept verdicts with ones judged on empty answers)."""
    if participant.erased_at is not None:
        raise RecruitmentError(PARTICIPANT_ERASED.format(number=participant.screening_number))
