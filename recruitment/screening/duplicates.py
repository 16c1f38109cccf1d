"""Possible duplicates: confirming one (closed as declined, reason "duplicate", with the
details that differ copied to the kept record if staff choose) or dismissing it (a different
person). The match itself is made at submission and import (`recruitment.contact.MatchKeys`)."""

from collections.abc import Sequence

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from recruitment.errors import (
    RecruitmentError,
)
from recruitment.models import (
    DeclineReason,
    DuplicateReview,
    Participant,
    Status,
    Study,
)
from recruitment.people import application_person_join
from recruitment.screening.services import (
    EDITABLE_FIELDS,
    participant_transition,
    participant_update,
    refuse_if_erased,
)

NOT_A_DUPLICATE = _("{number} is not marked as a possible duplicate.")
NOT_COPYABLE = _("These details cannot be copied: {fields}.")
# The history's reason on the kept record (audit text, not translated, like the others).
COPIED_FROM_DUPLICATE = "Copied from duplicate {number}"


def duplicate_confirm(
    *, participant: Participant, by, copy_fields: Sequence[str] = ()
) -> Participant:
    """Confirm a possible duplicate: it is closed as declined, reason "duplicate", and joins
    the person of the kept record (`application_person_join`). The details
    named in `copy_fields` (a newer phone number, say) are copied to the kept record through
    `participant_update`, audited with the reason "Copied from duplicate <number>"; all in one
    transaction, so a refused copy leaves the duplicate unconfirmed."""
    unknown = [name for name in copy_fields if name not in EDITABLE_FIELDS]
    if unknown:
        raise RecruitmentError(NOT_COPYABLE.format(fields=", ".join(unknown)))
    with transaction.atomic():
        # The study row first, as in `participant_transition`, so the two never deadlock.
        Study.objects.select_for_update().get(pk=participant.study_id)
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        if locked.duplicate_review != DuplicateReview.PENDING:
            raise RecruitmentError(NOT_A_DUPLICATE.format(number=locked.screening_number))
        locked = participant_transition(
            participant=locked, to=Status.DECLINED, by=by, reason=DeclineReason.DUPLICATE
        )
        locked.duplicate_review = DuplicateReview.CONFIRMED
        locked._change_reason = "Duplicate confirmed"
        locked._history_user = by
        locked.save(update_fields=["duplicate_review", "updated_at"])
        if locked.duplicate_of_id is not None:
            kept_person = (
                Participant.objects.filter(pk=locked.duplicate_of_id)
                .values_list("person_id", flat=True)
                .get()
            )
            locked = application_person_join(participant=locked, person_id=kept_person, by=by)
        if copy_fields and locked.duplicate_of_id is not None:
            refuse_if_erased(locked)
            participant_update(
                participant=locked.duplicate_of,
                data={name: getattr(locked, name) for name in copy_fields},
                by=by,
                reason=COPIED_FROM_DUPLICATE.format(number=locked.screening_number),
            )
    return locked


def duplicate_dismiss(*, participant: Participant, by, reason: str = "") -> Participant:
    """Dismiss a possible duplicate: they are a different person; the link stays on record."""
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        if locked.duplicate_review != DuplicateReview.PENDING:
            raise RecruitmentError(NOT_A_DUPLICATE.format(number=locked.screening_number))
        locked.duplicate_review = DuplicateReview.DISMISSED
        locked._change_reason = "Duplicate dismissed" + (f": {reason}" if reason else "")
        locked._history_user = by
        locked.save(update_fields=["duplicate_review", "updated_at"])
    return locked
