"""Staff notes: what staff want remembered about a participant (who, when, what), apart from
the patient's own note on the form. Append-only; read only by staff who may see names."""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from recruitment.errors import RecruitmentError
from recruitment.models import Participant, StaffNote

NOTE_EMPTY = _("Write the note.")
NOTE_ERASED = _("The personal data of {number} were erased; no note can be added.")


def staff_note_add(*, participant: Participant, text: str, by) -> StaffNote:
    """Add a note to a participant, stamped with who and when. Notes are never edited or
    deleted (a correction is a new note); retention erases their text with the personal data."""
    text = (text or "").strip()
    if not text:
        raise RecruitmentError(NOTE_EMPTY)
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        if locked.erased_at is not None:
            raise RecruitmentError(NOTE_ERASED.format(number=locked.screening_number))
        note = StaffNote(participant=locked, text=text, by=by)
        note.full_clean()
        note.save()
    return note
