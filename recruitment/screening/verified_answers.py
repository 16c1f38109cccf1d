"""Verified answers: staff confirm a patient's answer to a question of the form (on the phone,
in person, from medical records) and record the confirmed value, as they enter lab values.
The row keeps who, when and how; the patient's own answer stays in the answer's history; the
pre-screen runs again and its verdict for the criterion says "staff-verified"."""

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from recruitment import eligibility
from recruitment.errors import RecruitmentError
from recruitment.evaluation import participant_evaluate
from recruitment.models import (
    Answer,
    AnsweredBy,
    EligibilityCriterion,
    EvaluationCause,
    Participant,
    VerificationMethod,
)

NOT_PATIENT_ANSWERED = _("“{code}” is not a question the patient answers on this study's form.")
VERIFY_NOTHING = _("Enter at least one verified answer.")
VERIFY_HOW = _("Say how the answer was confirmed.")
VERIFY_STILL_UNSURE = _(
    "“{title}”: a verified answer must be definite (not “not sure”, nothing missing)."
)
VERIFY_ERASED = _("The personal data of {number} were erased; it cannot be changed.")
# The history's line for the patient's answer, kept when staff first verify it.
ORIGINAL_ANSWER_REASON = "The patient's answer on the interest form"
VERIFIED_REASON = "Verified by staff: {how}"


def criterion_list_verifiable(*, study) -> list[EligibilityCriterion]:
    """The study's active questions the patient answers on the form (not age and distance,
    which come from the date of birth and ZIP code), in the form's order."""
    return [
        criterion
        for criterion in study.criteria.active().for_patient().order_by("order", "pk")
        if criterion.rule_kind not in eligibility.RULES_FROM_CONTACT_DETAILS
    ]


def answer_verify(
    *,
    participant: Participant,
    answers: dict[str, Any],
    how: str,
    by,
    note: str = "",
    today: date | None = None,
) -> Participant:
    """Record staff-verified answers to patient-answered criteria (`answers`: criterion code to
    the value in the engine's JSON form, each definite: met or not met once judged), with how
    they were confirmed and an optional note, then re-run the pre-screen. The first time an
    answer is verified, the patient's own answer is written to its history first, so the
    history keeps it. Returns the participant, re-evaluated."""
    today = today or timezone.localdate()
    if how not in VerificationMethod.values:
        raise RecruitmentError(VERIFY_HOW)
    if not answers:
        raise RecruitmentError(VERIFY_NOTHING)
    criteria = {c.code: c for c in criterion_list_verifiable(study=participant.study)}
    applicant = eligibility.Applicant(
        date_of_birth=participant.date_of_birth, zip_code=participant.zip_code
    )
    for code, value in answers.items():
        if code not in criteria:
            raise RecruitmentError(NOT_PATIENT_ANSWERED.format(code=code))
        verdict = eligibility.evaluate_one(
            criteria[code].as_rule(), value, applicant=applicant, today=today
        )
        if verdict.status not in (eligibility.VerdictStatus.MET, eligibility.VerdictStatus.NOT_MET):
            raise RecruitmentError(VERIFY_STILL_UNSURE.format(title=criteria[code].title))
    note = (note or "").strip()
    reason = VERIFIED_REASON.format(how=VerificationMethod(how).label)
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        if locked.erased_at is not None:
            raise RecruitmentError(VERIFY_ERASED.format(number=locked.screening_number))
        existing = {
            answer.criterion_id: answer
            for answer in Answer.objects.filter(
                participant=locked, criterion__in=[criteria[code] for code in answers]
            )
        }
        unrecorded = [
            answer
            for answer in existing.values()
            if not Answer.history.filter(id=answer.pk).exists()
        ]
        if unrecorded:
            Answer.history.bulk_history_create(
                unrecorded, default_change_reason=ORIGINAL_ANSWER_REASON, default_user=None
            )
        for code, value in answers.items():
            criterion = criteria[code]
            answer = existing.get(criterion.pk) or Answer(participant=locked, criterion=criterion)
            answer.value = value
            answer.answered_by = AnsweredBy.STAFF
            answer.recorded_by = by
            answer.verified_how = how
            answer.verified_note = note
            answer.full_clean()
            answer._history_user = by
            answer._change_reason = reason
            answer.save()
        return participant_evaluate(
            participant=locked, today=today, by=by, cause=EvaluationCause.VERIFIED_ANSWERS
        )
