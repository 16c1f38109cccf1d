"""Steps that go through the waitlist when the study is full, each a service over
`participant_transition` (the status machine's only writer), so every move has its own
`StatusChange` row: marking someone eligible in a full study waitlists them in the same step,
and a waitlisted participant with consent on record is enrolled from the waitlist when a
slot frees."""

from django.db import transaction
from django.db.models import Q

from recruitment.models import Participant, Status, Study
from recruitment.screening.gate import consent_on_record, study_has_free_slot
from recruitment.screening.services import participant_transition

# The reasons written on the automatic moves (shown in the status history).
WAITLISTED_WHEN_ELIGIBLE = "The study is full: waitlisted when marked eligible."
CONSENTED_FROM_WAITLIST = "A slot is free: enrolled from the waitlist, consent on record."


def participant_mark_eligible(*, participant: Participant, by, reason: str = "") -> Participant:
    """Mark a participant eligible; in a full study, put them on the waitlist in the same
    transaction (two status changes: to eligible, then to waitlisted, each audited). Returns
    the participant as it stands: `waitlisted` says the study was full."""
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=participant.study_id)
        participant = participant_transition(
            participant=participant, to=Status.ELIGIBLE, by=by, reason=reason
        )
        if not study_has_free_slot(study):
            participant = participant_transition(
                participant=participant,
                to=Status.WAITLISTED,
                by=by,
                reason=WAITLISTED_WHEN_ELIGIBLE,
            )
    return participant


def participant_enrol(*, participant: Participant, by, reason: str = "") -> Participant:
    """Enroll a consented participant, or a waitlisted one whose consent is on record (they
    move to consented, then enrolled, in one transaction: a refusal of the enrollment, such as
    a full study, leaves them on the waitlist where they were)."""
    with transaction.atomic():
        Study.objects.select_for_update().get(pk=participant.study_id)
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        if locked.status == Status.WAITLISTED and consent_on_record(locked):
            locked = participant_transition(
                participant=locked, to=Status.CONSENTED, by=by, reason=CONSENTED_FROM_WAITLIST
            )
        return participant_transition(participant=locked, to=Status.ENROLLED, by=by, reason=reason)


def participant_move(
    *,
    participant: Participant,
    to: str,
    by,
    reason: str = "",
    reason_code: str = "",
    reason_criterion: str = "",
) -> Participant:
    """Move a participant as staff ask (a bulk action, the status page): marking eligible and
    enrolling go through the waitlist when the study is full; every other move is
    `participant_transition` itself."""
    if to == Status.ELIGIBLE:
        return participant_mark_eligible(participant=participant, by=by, reason=reason)
    if to == Status.ENROLLED:
        return participant_enrol(participant=participant, by=by, reason=reason)
    return participant_transition(
        participant=participant,
        to=to,
        by=by,
        reason=reason,
        reason_code=reason_code,
        reason_criterion=reason_criterion,
    )


def waitlist_place(participant: Participant) -> int | None:
    """The participant's place in their study's waitlist (1 is next), in its order (when they
    became eligible, then screening number), or None when they are not waitlisted (1 query)."""
    if participant.status != Status.WAITLISTED:
        return None
    line = Participant.objects.filter(study_id=participant.study_id).waitlist()
    ahead = Q(eligible_at=participant.eligible_at, screening_seq__lt=participant.screening_seq)
    if participant.eligible_at is not None:
        ahead |= Q(eligible_at__lt=participant.eligible_at)
    return line.filter(ahead).count() + 1
