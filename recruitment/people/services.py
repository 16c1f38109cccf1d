"""The person behind an application, and the registry (being contacted about other studies).

Each application (`Participant`) keeps its own copy of the contact details as given on it;
the `Person` holds the current identity shared by their applications in every study."""

import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _

from recruitment.contact import normalise_email, normalise_name, normalise_phone
from recruitment.errors import RecruitmentError
from recruitment.links import REGISTRY_LEAVE_SALT
from recruitment.models import Participant, Person
from recruitment.people.consent import RegistryConsent

# The history's reasons (audit text, not translated, like the others).
REGISTRY_JOINED_REASON = "Agreed to be contacted about other studies (version {version})"
REGISTRY_LEFT_REASON = "Asked not to be contacted about other studies"
PERSON_ERASED = _("This person's details were erased.")
# The fields a person takes from the application that created them.
PERSON_FIELDS = (
    "first_name",
    "last_name",
    "name_normalised",
    "email",
    "email_normalised",
    "phone",
    "phone_normalised",
    "date_of_birth",
    "zip_code",
    "language",
)


# The details a later application or a staff edit refreshes on the person; the date of birth
# only through a staff edit (a form found by its email may carry a mistyped one).
REFRESHED_FIELDS = ("first_name", "last_name", "email", "phone", "zip_code", "language")
LATER_APPLICATION_REASON = "Details from a later application ({number})"
STAFF_EDIT_REASON = "Staff edit of {number}: {reason}"


def person_details_given(participant: Participant) -> dict[str, Any]:
    """The details an application gives that a person takes: each refreshed field it has a
    value for (a blank phone says nothing about the person's)."""
    return {
        name: getattr(participant, name) for name in REFRESHED_FIELDS if getattr(participant, name)
    }


def _details_set(person: Person, values: dict[str, Any]) -> set[str]:
    """Set the changed `values` on `person`, their normalised forms with them; the fields
    changed."""
    changed = {name for name, value in values.items() if getattr(person, name) != value}
    for name in changed:
        setattr(person, name, values[name])
    if changed & {"first_name", "last_name"}:
        person.name_normalised = normalise_name(person.first_name, person.last_name)
    if "email" in changed:
        person.email_normalised = normalise_email(person.email)
    if "phone" in changed:
        person.phone_normalised = normalise_phone(person.phone) if person.phone else ""
    return changed


def person_attach(
    *,
    person_id: int | None,
    participant: Participant,
    registry: RegistryConsent | None,
    details_differ: bool = False,
    applied_at=None,
) -> int:
    """The id of the person a new application belongs to: `person_id` (found by the submission's
    duplicate lookup: the same email, else the same name and date of birth), or a new person
    with the application's details. Ticking the registry's box records its version and time
    on the person (and takes them back into the registry if they had left it).

    A later application that gives other details than the person's (`details_differ`, which
    the lookup already answered) makes them the person's current ones, audited with the
    reason "Details from a later application"; not an imported application dated
    (`applied_at`) before the person's last change.

    A new person costs one INSERT and no history row: the application's own first history
    version, written in the same transaction, names the person it created and who submitted
    it. Every later change of the person is in the person's history."""
    if person_id is None:
        person = Person(**{name: getattr(participant, name) for name in PERSON_FIELDS})
        if registry is not None:
            person.registry_consent = True
            person.registry_consent_version = registry.version
            person.registry_consent_at = registry.at
            person.registry_nonce = secrets.token_urlsafe(16)
        person.skip_history_when_saving = True
        try:
            person.save(force_insert=True)
        finally:
            del person.skip_history_when_saving
        return person.pk
    if registry is None and not details_differ:
        return person_id
    person = Person.objects.select_for_update().get(pk=person_id)
    reasons = []
    later = details_differ and (applied_at is None or applied_at >= person.updated_at)
    if later and _details_set(person, person_details_given(participant)):
        reasons.append(LATER_APPLICATION_REASON.format(number=participant.screening_number))
    if registry is not None:
        person.registry_consent = True
        person.registry_consent_version = registry.version
        person.registry_consent_at = registry.at
        person.registry_left_at = None
        person.registry_nonce = person.registry_nonce or secrets.token_urlsafe(16)
        reasons.append(REGISTRY_JOINED_REASON.format(version=registry.version))
    if not reasons:
        return person_id
    person._change_reason = "; ".join(reasons)
    history_user = getattr(participant, "_history_user", None)
    if history_user is not None:
        person._history_user = history_user
    person.save()
    return person_id


def person_details_correct(
    *, participant: Participant, before: dict[str, Any], by, reason: str
) -> Person | None:
    """A staff edit of an application's contact details, carried to its person: each field
    the edit changed whose old value (`before`) is still the person's, so a correction of the
    details the person holds reaches them, and newer details from a later application are
    not overwritten by an edit of an older one. Audited on the person with who and why. Call
    inside the edit's transaction. The person, or None when nothing changed."""
    if participant.person_id is None:
        return None
    person = Person.objects.select_for_update().get(pk=participant.person_id)
    if person.erased_at is not None:
        return None
    values = {
        name: getattr(participant, name)
        for name in (*REFRESHED_FIELDS, "date_of_birth")
        if name in before
        and before[name] != getattr(participant, name)
        and getattr(person, name) == before[name]
    }
    if not _details_set(person, values):
        return None
    person._change_reason = STAFF_EDIT_REASON.format(
        number=participant.screening_number, reason=reason
    )
    person._history_user = by
    person.save()
    return person


# What erasure writes on a person row and on its history rows. Kept: the language, the
# registry consent's version and times (when they agreed and left), the dates.
PERSON_ERASED_VALUES: dict[str, Any] = {
    "first_name": "",
    "last_name": "",
    "name_normalised": "",
    "email": "",
    "email_normalised": "",
    "phone": "",
    "phone_normalised": "",
    "date_of_birth": None,
    "zip_code": "",
}
JOINED_REASON = "Joined to person {person}: duplicate {number} confirmed"


def persons_erase(*, pks: list[int], now, reason: str) -> None:
    """Erase these people's details (`PERSON_ERASED_VALUES`) and the link to leave the
    registry, in their history too, and add one version each saying when and why, with no
    user. A fixed number of queries; callers batch `pks` (at most a few hundred)."""
    Person.objects.filter(pk__in=pks).update(
        **PERSON_ERASED_VALUES, registry_nonce="", erased_at=now, updated_at=now
    )
    Person.history.filter(id__in=pks).update(**PERSON_ERASED_VALUES, history_change_reason=None)
    erased = list(Person.objects.filter(pk__in=pks).order_by("pk"))
    for person in erased:
        person._history_user = None
    Person.history.bulk_history_create(
        erased, update=True, default_date=now, default_change_reason=reason
    )


def application_person_join(*, participant: Participant, person_id: int, by) -> Participant:
    """Move a confirmed duplicate to the person of the record it duplicates (they were two
    people only because the match was on a phone number, say). Audited on the application.
    The person it leaves, when left with no application, gives its consent to be contacted
    about other studies to the kept person (if that one has none) and is erased: its details
    live on in the application and the kept person. Call inside the confirmation's
    transaction."""
    if participant.person_id == person_id:
        return participant
    old_id = participant.person_id
    reason = JOINED_REASON.format(person=person_id, number=participant.screening_number)
    participant.person_id = person_id
    participant._change_reason = reason
    participant._history_user = by
    participant.save(update_fields=["person", "updated_at"])
    if Participant.objects.filter(person_id=old_id).exists():
        return participant
    old = Person.objects.select_for_update().get(pk=old_id)
    kept = Person.objects.select_for_update().get(pk=person_id)
    if old.in_registry and not kept.in_registry and kept.erased_at is None:
        kept.registry_consent = True
        kept.registry_consent_version = old.registry_consent_version
        kept.registry_consent_at = old.registry_consent_at
        kept.registry_left_at = None
        kept.registry_nonce = kept.registry_nonce or secrets.token_urlsafe(16)
        kept._change_reason = reason
        kept._history_user = by
        kept.save()
    persons_erase(pks=[old_id], now=timezone.now(), reason=reason)
    return participant


def person_registry_leave(*, person: Person, by=None, now=None) -> Person:
    """Stop contacting this person about other studies: they leave every future match and
    invitation at once (`Person.objects.in_registry()`). Their applications stay as they
    are. Audited (`by`: the staff member, or None when the person used their link).
    Idempotent: leaving twice keeps the first time."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        if locked.erased_at is not None:
            raise RecruitmentError(PERSON_ERASED)
        if locked.registry_left_at is not None or not locked.registry_consent:
            return locked
        locked.registry_left_at = now
        locked.registry_nonce = ""
        locked._change_reason = REGISTRY_LEFT_REASON
        locked._history_user = by
        locked.save()
    return locked


# ---------------------------------------------------------------------------------------------
# Leaving the registry: the signed link in the footer of patients' emails
# ---------------------------------------------------------------------------------------------
# The link (made in recruitment/links.py) carries the person's pk and their `registry_nonce`,
# signed with a salt of its own and a timestamp. It works while the nonce matches and for
# REGISTRY_LEAVE_LINK_MAX_AGE_DAYS: using it clears the nonce.
class RegistryLinkState(StrEnum):
    INVALID = "invalid"  # tampered, expired or used: the page gives no detail
    OPEN = "open"  # the question may be asked (GET)
    LEFT = "left"  # left the registry just now (POST)


@dataclass(frozen=True)
class RegistryLink:
    state: RegistryLinkState
    person: Person | None = None


def _registry_token_read(token: str) -> tuple[int, str] | None:
    """The (pk, nonce) a token carries, or None when it is tampered with or expired."""
    max_age = timedelta(days=settings.REGISTRY_LEAVE_LINK_MAX_AGE_DAYS)
    try:
        payload = signing.loads(token, salt=REGISTRY_LEAVE_SALT, max_age=max_age)
    except (signing.BadSignature, ValueError):  # SignatureExpired is a BadSignature
        return None
    if not isinstance(payload, dict):
        return None
    pk, nonce = payload.get("p"), payload.get("n")
    if type(pk) is not int or not isinstance(nonce, str) or not nonce:
        return None
    return pk, nonce


def _registry_link_state(person: Person | None, nonce: str) -> RegistryLinkState:
    if person is None or not person.in_registry or not person.registry_nonce:
        return RegistryLinkState.INVALID
    if not constant_time_compare(person.registry_nonce, nonce):
        return RegistryLinkState.INVALID
    return RegistryLinkState.OPEN


def registry_link_check(*, token: str) -> RegistryLink:
    """What the link would do, without doing it (the confirmation page; GET is safe)."""
    claim = _registry_token_read(token)
    if claim is None:
        return RegistryLink(RegistryLinkState.INVALID)
    pk, nonce = claim
    person = Person.objects.filter(pk=pk).first()
    state = _registry_link_state(person, nonce)
    return RegistryLink(state, person if state != RegistryLinkState.INVALID else None)


def person_registry_leave_by_link(*, token: str, now=None) -> RegistryLink:
    """The person confirmed on the page: they leave the registry (`person_registry_leave`,
    by nobody on the staff), and the link dies. Their applications stay as they are."""
    claim = _registry_token_read(token)
    if claim is None:
        return RegistryLink(RegistryLinkState.INVALID)
    pk, nonce = claim
    with transaction.atomic():
        person = Person.objects.select_for_update().filter(pk=pk).first()
        if _registry_link_state(person, nonce) != RegistryLinkState.OPEN:
            return RegistryLink(RegistryLinkState.INVALID)
        person = person_registry_leave(person=person, by=None, now=now)
    return RegistryLink(RegistryLinkState.LEFT, person)
