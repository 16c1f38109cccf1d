"""What identifies a participant, and whether a query path reaches it.

Staff without the `view_identification` permission (the Monitor) must learn nothing of a
person's identity, not even through the admin queue's filters, search or sort order: a filter
such as `?first_name__startswith=S` answers yes or no with the list's count, and enough such
questions spell a name letter by letter. Every field of `Participant` is classified here once,
so the admin can refuse a path through anything that is not known to be harmless, and a new
field cannot be added without deciding which side it falls on (the tests check both lists
cover the model).
"""

from django.core.exceptions import FieldDoesNotExist
from django.db.models.constants import LOOKUP_SEP
from django.utils.translation import gettext_lazy as _

from recruitment.models import DECLINE_REASON_CODES, Participant, StatusChange, StatusReason

IDENTIFICATION_PERMISSION = "recruitment.view_identification"
# What staff without IDENTIFICATION_PERMISSION read in place of free text staff wrote (a reason
# for a change, a contact note): that there is some, not what it says.
REASON_HIDDEN = _("reason recorded, hidden")
NOTE_HIDDEN = _("note recorded, hidden")

# Fields that identify a person, free text that may quote what does, and the related records
# holding either (answers, verdict reasons quoting a date of birth or ZIP code, status change
# reasons, contact notes, consent, override reasons (eligibility, run-in), other participants
# matched as duplicates, staff notes):
# shown, searched, filtered and sorted by only with IDENTIFICATION_PERMISSION.
PARTICIPANT_IDENTIFYING_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "name_normalised",
        "email",
        "email_normalised",
        "phone",
        "phone_normalised",
        "preferred_contact",
        "best_time",
        "date_of_birth",
        "zip_code",
        "note",
        # Related records
        "answers",
        "verdicts",
        "status_changes",
        "contact_attempts",
        "consent",
        "eligibility_overrides",
        "run_in",  # an investigator's override reason
        "possible_duplicates",
        "staff_notes",
        # Concealed allocation: a stratum may be a person's trait; an unblinding's reason is
        # medical.
        "stratum",
        "unblindings",
        # The registry: the person behind the application (their name and contacts), the
        # health answers it gave them, its matches' reasons; the visits booked (times, place).
        "person",
        "shared_answers_given",
        "registry_matches",
        "visits",
    }
)
# The secret halves of the patient's links and of the form's resubmission guard: nobody filters
# by them, since a prefix filter would read them out character by character.
# The allocation row holds the arm: a filter or a sort by it would unblind by counts.
PARTICIPANT_SECRET_FIELDS = frozenset({"submission_token", "withdraw_nonce", "allocation"})
# Everything else: codes, statuses, counts and timestamps that say nothing of who the person
# is. Staff without IDENTIFICATION_PERMISSION may filter and sort by these (through
# `duplicate_of` only to the other participant's fields of this list).
PARTICIPANT_NON_IDENTIFYING_FIELDS = frozenset(
    {
        "id",
        "study",
        "screening_seq",
        "screening_number",
        "participant_id",
        "status",
        "referral_source",
        "language",
        "entry_source",
        "entered_by",
        "contact_consent",
        "contact_consent_version",
        "contact_consent_at",
        "outcome",
        "eligible_from",
        "criteria_version",
        "evaluated_at",
        "duplicate_of",
        "duplicate_review",
        "eligible_at",
        "slot",
        "unanswered_attempts",
        "next_follow_up_on",
        "last_attempt_at",
        "last_attempt_outcome",
        "criteria_failed_at",
        "criteria_failed_by",
        "erased_at",
        "created_at",
        "updated_at",
    }
)


def can_identify(user) -> bool:
    return user.has_perm(IDENTIFICATION_PERMISSION)


def path_is_secret(path: str) -> bool:
    """Whether a lookup path starts at one of the participant's secrets."""
    return path.split(LOOKUP_SEP, 1)[0] in PARTICIPANT_SECRET_FIELDS


def path_is_non_identifying(path: str, *, model=Participant) -> bool:
    """Whether a lookup or ordering path (`status__exact`, `duplicate_of__status`,
    `study__slug`) reads only fields known to say nothing of who a participant is.

    Walked as the ORM resolves it: a participant's fields must be in
    PARTICIPANT_NON_IDENTIFYING_FIELDS; another model (the study, a slot) may be read by its
    own columns but not crossed to further relations, which could lead back to participants
    (`study__participants__first_name`). A name that is not a field ends the path: it is a
    lookup or a transform of what came before (`__startswith`, `__year`). A first part that is
    no field at all is refused: it could only be an annotation, which may hold anything."""
    parts = path.split(LOOKUP_SEP)
    for position, part in enumerate(parts):
        if part == "pk":
            part = model._meta.pk.name
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return position > 0
        if model is Participant:
            if part not in PARTICIPANT_NON_IDENTIFYING_FIELDS:
                return False
        elif field.is_relation:
            return False
        if not field.is_relation:
            return True
        model = field.related_model
    return True


def text_shown(*, text: str, identify: bool, hidden=REASON_HIDDEN) -> str:
    """Free text for staff who may see identities; for others only that there is some."""
    if not text:
        return ""
    return text if identify else str(hidden)


def status_reason_shown(change: StatusChange, *, identify: bool) -> str:
    """A status change's reason as the user may read it. Staff who may see identities read
    the words staff wrote (with the code, where the words do not name it); others read the
    code, and that words were recorded, never the words."""
    code = change.reason_code_display
    words = (change.reason or "").strip()
    if not words:
        return code
    if DECLINE_REASON_CODES.get(words.casefold()) == (change.reason_code or None):
        return words if identify else code  # a common reason's words are its code
    if identify:
        if change.reason_code in ("", StatusReason.OTHER):
            return words
        return f"{code} — {words}"
    return " — ".join(part for part in (code, str(REASON_HIDDEN)) if part)
