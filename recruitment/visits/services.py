"""Booking a participant's visits, moving and cancelling them, and recording how they went.

Each service checks, writes in one transaction holding a lock on the visit, records who and
why in the visit's history, and queues the participant's email (with its calendar file) in
the same transaction: booked, rebooked (an update of the same calendar entry) or cancelled.
Attended and missed send nothing; a missed visit puts the participant on the call list."""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from recruitment.errors import RecruitmentError
from recruitment.models import Participant, PlannedVisit, Status, Visit, VisitStatus
from recruitment.notifications import tasks as notifications
from recruitment.notifications.text_tasks import visit_notice_text_enqueue

VISIT_STATUS_NOT_BOOKABLE = _(
    "Visits can be booked only for participants who have consented and are still taking part."
)
VISIT_PLANNED_OTHER_STUDY = _("Choose a visit of this participant's study plan.")
VISIT_PLANNED_RETIRED = _("This visit is no longer in the study's plan.")
VISIT_ALREADY_BOOKED = _(
    "{number} already has this visit booked: change its date or cancel it instead."
)
VISIT_IN_PAST = _("Choose a date and time from now on.")
VISIT_NOT_BOOKED = _("This visit is already {status}: only a booked visit can change.")
VISIT_NOT_STARTED = _("This visit has not started yet: mark it attended or missed once it has.")
VISIT_REASON_NEEDED = _("Give a reason.")
VISIT_PLACE_NEEDED = _("Say where the visit takes place.")
VISIT_WITH_WHOM_NEEDED = _("Say who the participant will see.")
VISIT_NOTHING_CHANGED = _("Change the date, time, place or who they will see.")
VISIT_OUTCOME_UNKNOWN = _("Mark the visit attended or missed.")

BOOKED_REASON = "Visit booked"


def visit_bookable_statuses() -> tuple[str, ...]:
    """Who may have visits: consented or further on, and still open (not completed,
    withdrawn or declined)."""
    return tuple(s for s in Status.having_consented() if s in Status.open())


def _checked_details(*, starts_at: datetime.datetime, place: str, with_whom: str) -> tuple:
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at)
    if starts_at < timezone.now():
        raise RecruitmentError(VISIT_IN_PAST)
    place, with_whom = place.strip(), with_whom.strip()
    if not place:
        raise RecruitmentError(VISIT_PLACE_NEEDED)
    if not with_whom:
        raise RecruitmentError(VISIT_WITH_WHOM_NEEDED)
    return starts_at, place, with_whom


def _save(visit: Visit, *, by, reason: str) -> Visit:
    visit.full_clean()
    visit._history_user = by
    visit._change_reason = reason
    visit.save()
    return visit


def _email(visit: Visit) -> None:
    notifications.task_enqueue(
        notifications.visit_email_send, visit_id=visit.pk, sequence=visit.sequence
    )
    visit_notice_text_enqueue(visit)  # and a short text, for those who chose texts


def visit_book(
    *,
    participant: Participant,
    planned_visit: PlannedVisit,
    starts_at: datetime.datetime,
    place: str,
    with_whom: str,
    by,
    duration_minutes: int | None = None,
    reason: str = "",
) -> Visit:
    """Book one of the study's planned visits for a participant who has consented, and send
    them the email with its calendar file. A time outside the visit's window is allowed (the
    visits page flags it); a second booking of the same planned visit is not."""
    if participant.status not in visit_bookable_statuses():
        raise RecruitmentError(VISIT_STATUS_NOT_BOOKABLE)
    if planned_visit.study_id != participant.study_id:
        raise RecruitmentError(VISIT_PLANNED_OTHER_STUDY)
    if not planned_visit.is_active:
        raise RecruitmentError(VISIT_PLANNED_RETIRED)
    starts_at, place, with_whom = _checked_details(
        starts_at=starts_at, place=place, with_whom=with_whom
    )
    already = RecruitmentError(VISIT_ALREADY_BOOKED.format(number=participant.screening_number))
    try:
        with transaction.atomic():
            locked = Participant.objects.select_for_update().get(pk=participant.pk)
            if locked.status not in visit_bookable_statuses():
                raise RecruitmentError(VISIT_STATUS_NOT_BOOKABLE)
            if locked.visits.booked().filter(planned_visit=planned_visit).exists():
                raise already
            visit = Visit(
                participant=locked,
                planned_visit=planned_visit,
                starts_at=starts_at,
                duration_minutes=duration_minutes or planned_visit.duration_minutes,
                place=place,
                with_whom=with_whom,
                booked_by=by,
            )
            _save(visit, by=by, reason=reason.strip() or BOOKED_REASON)
            _email(visit)
    except IntegrityError as exc:  # a booking made meanwhile, past the check above
        raise already from exc
    return visit


def _locked_booked(visit: Visit) -> Visit:
    locked = Visit.objects.select_for_update().select_related("participant").get(pk=visit.pk)
    if locked.status != VisitStatus.BOOKED:
        raise RecruitmentError(
            VISIT_NOT_BOOKED.format(status=VisitStatus(locked.status).label.lower())
        )
    return locked


def visit_rebook(
    *,
    visit: Visit,
    starts_at: datetime.datetime,
    place: str,
    with_whom: str,
    by,
    reason: str,
) -> Visit:
    """Move a booked visit (date, time, place or who they see): the same calendar entry with
    its sequence one higher, so the participant's calendar updates the entry it has."""
    if not reason.strip():
        raise RecruitmentError(VISIT_REASON_NEEDED)
    starts_at, place, with_whom = _checked_details(
        starts_at=starts_at, place=place, with_whom=with_whom
    )
    with transaction.atomic():
        locked = _locked_booked(visit)
        if (locked.starts_at, locked.place, locked.with_whom) == (starts_at, place, with_whom):
            raise RecruitmentError(VISIT_NOTHING_CHANGED)
        locked.starts_at, locked.place, locked.with_whom = starts_at, place, with_whom
        locked.sequence += 1
        _save(locked, by=by, reason=reason.strip())
        _email(locked)
    return locked


def visit_cancel(*, visit: Visit, by, reason: str) -> Visit:
    """Cancel a booked visit and send the participant the cancellation of its calendar
    entry. The planned visit may be booked again afterwards."""
    if not reason.strip():
        raise RecruitmentError(VISIT_REASON_NEEDED)
    with transaction.atomic():
        locked = _locked_booked(visit)
        locked.status = VisitStatus.CANCELLED
        locked.outcome_at = timezone.now()
        locked.sequence += 1
        _save(locked, by=by, reason=reason.strip())
        _email(locked)
    return locked


def visit_outcome_record(*, visit: Visit, outcome: str, by, reason: str = "") -> Visit:
    """Mark a booked visit attended or missed, once it has started. A missed visit puts the
    participant on the call list until someone contacts them or books it again."""
    if outcome not in (VisitStatus.ATTENDED, VisitStatus.MISSED):
        raise RecruitmentError(VISIT_OUTCOME_UNKNOWN)
    with transaction.atomic():
        locked = _locked_booked(visit)
        now = timezone.now()
        if locked.starts_at > now:
            raise RecruitmentError(VISIT_NOT_STARTED)
        locked.status = outcome
        locked.outcome_at = now
        label = VisitStatus(outcome).label
        _save(locked, by=by, reason=reason.strip() or f"Marked {label.lower()}")
    return locked
