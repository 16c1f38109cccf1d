"""Who may get a text: the opt-outs (STOP) and opt-ins (START) of a phone number, recorded
from a reply to a text or by staff who heard it on a call, each change audited."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from recruitment.errors import RecruitmentError
from recruitment.models import (
    START_WORDS,
    STOP_WORDS,
    ContactMethod,
    OptOutHow,
    Participant,
    TextOptOut,
)
from recruitment.texts import texts_enabled

REPLY_STOPPED = "stopped"
REPLY_STARTED = "started"
REPLY_OTHER = "other"

NOT_STOPPED = _("Texts to this number are not stopped.")
STOPPED_BY_REPLY = _(
    "They stopped texts by replying STOP: only their START reply to the study's number turns "
    "texts back on (the text provider blocks the number until then)."
)


def text_opt_out_get(*, phone: str) -> TextOptOut | None:
    return TextOptOut.objects.filter(phone=phone).first() if phone else None


def texts_stopped(*, phone: str) -> bool:
    return bool(phone) and TextOptOut.objects.stopped().filter(phone=phone).exists()


def text_allowed(*, participant: Participant) -> bool:
    """Whether `participant` may be sent a text now: texts are on, they have a number in
    E.164 and it has not asked for no more texts. Asked at send time, not when queued."""
    return (
        texts_enabled()
        and participant.erased_at is None
        and participant.phone.startswith("+")
        and not texts_stopped(phone=participant.phone)
    )


def text_wanted(*, participant: Participant) -> bool:
    """They chose texts as their way to be contacted, and may be sent one."""
    return participant.preferred_contact == ContactMethod.TEXT and text_allowed(
        participant=participant
    )


def _opt_out_set(**fields) -> TextOptOut:
    """Write the number's row; a reply for the same new number written meanwhile (its
    INSERT won the unique phone) is updated instead."""
    try:
        return _opt_out_write(**fields)
    except IntegrityError:
        return _opt_out_write(**fields)


def _opt_out_write(
    *, phone: str, stopped: bool, how: str, at, by, reason: str, participant, change: str
) -> TextOptOut:
    with transaction.atomic():
        row = TextOptOut.objects.select_for_update().filter(phone=phone).first()
        if row is None:
            row = TextOptOut(phone=phone)
        row.stopped = stopped
        row.at = at or timezone.now()
        row.how = how
        row.reason = reason
        row.by = by
        row.participant = participant
        row.full_clean(validate_unique=False)
        row._change_reason = change
        row._history_user = by
        row.save()
    return row


def text_opt_out_record(
    *,
    phone: str,
    how: str,
    at=None,
    by=None,
    reason: str = "",
    participant: Participant | None = None,
) -> TextOptOut:
    """Stop texts to `phone` (E.164): from a STOP reply (`how=reply`), or staff who heard it
    (`how=staff`, `by` and a `reason`). Until a START, no text is sent to it."""
    if how == OptOutHow.STAFF and not (by and reason.strip()):
        raise ValueError("A staff opt-out names who recorded it and why.")
    return _opt_out_set(
        phone=phone,
        stopped=True,
        how=how,
        at=at,
        by=by,
        reason=reason.strip(),
        participant=participant,
        change="Texts stopped" + (f": {reason.strip()}" if reason.strip() else " (STOP reply)"),
    )


def text_opt_in_record(
    *,
    phone: str,
    at=None,
    how: str = OptOutHow.REPLY,
    by=None,
    reason: str = "",
    participant: Participant | None = None,
) -> TextOptOut | None:
    """Texts again to `phone`: after a START reply (`how=reply`; None when the number had
    never stopped them), or staff who heard the person ask for them again (`how=staff`, `by`
    and a `reason`), only after a stop staff recorded: a STOP reply is lifted by the person's
    START alone (the provider blocks the number until then). Checked and written holding the
    number's row, so a STOP arriving meanwhile is never overwritten."""
    staff = how == OptOutHow.STAFF
    if staff and not (by and reason.strip()):
        raise ValueError("A staff opt-in names who recorded it and why.")
    with transaction.atomic():
        row = TextOptOut.objects.select_for_update().filter(phone=phone).first()
        if staff and (row is None or not row.stopped):
            raise RecruitmentError(str(NOT_STOPPED))
        if staff and row.how != OptOutHow.STAFF:
            raise RecruitmentError(str(STOPPED_BY_REPLY))
        if row is None:
            return None
        return _opt_out_write(
            phone=phone,
            stopped=False,
            how=how,
            at=at,
            by=by,
            reason=reason.strip(),
            participant=participant,
            change="Texts allowed again" + (f": {reason.strip()}" if staff else " (START reply)"),
        )


def text_reply_record(*, phone: str, body: str, at=None) -> str:
    """A text a person sent us: STOP (and its synonyms) stops texts to their number, START
    allows them again; anything else is left alone (and never stored: it may be about their
    health). Returns which of the three it was."""
    word = " ".join((body or "").split()).upper().strip(".!")
    if word in STOP_WORDS:
        text_opt_out_record(phone=phone, how=OptOutHow.REPLY, at=at)
        return REPLY_STOPPED
    if word in START_WORDS:
        text_opt_in_record(phone=phone, at=at)
        return REPLY_STARTED
    return REPLY_OTHER
