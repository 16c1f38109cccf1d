"""The patients' links, made where their emails are rendered: the signed withdraw link (read
back by `recruitment.intake.withdraw`), the signed link to leave the registry (read back by
`recruitment.people.services`) and the token of a saved form's link (its sha256 is
all the database keeps). Nothing here queries or logs."""

import hashlib
import secrets

from django.core import signing
from django.urls import reverse

# The withdraw link carries the participant's pk and their `withdraw_nonce`, signed with a salt
# of its own and a timestamp (django.core.signing).
WITHDRAW_SALT = "recruitment.withdraw-link"


def withdraw_token_make(*, participant) -> str:
    """The token of the participant's withdraw link; empty nonce, dead link."""
    return signing.dumps({"p": participant.pk, "n": participant.withdraw_nonce}, salt=WITHDRAW_SALT)


def withdraw_path(*, participant) -> str:
    return reverse("recruitment:withdraw", args=[withdraw_token_make(participant=participant)])


# The link to leave the registry (in the footer of patients' emails to registry members)
# carries the person's pk and their `registry_nonce`, signed with a salt of its own.
REGISTRY_LEAVE_SALT = "recruitment.registry-leave-link"


def registry_leave_token_make(*, person) -> str:
    """The token of the person's link to leave the registry; empty nonce, dead link."""
    return signing.dumps({"p": person.pk, "n": person.registry_nonce}, salt=REGISTRY_LEAVE_SALT)


def registry_leave_path(*, person) -> str:
    return reverse("recruitment:registry_leave", args=[registry_leave_token_make(person=person)])


def token_hash(token: str) -> str:
    """What the database keeps of a saved form's link token."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_new() -> str:
    """A fresh, unguessable token for a saved form's link."""
    return secrets.token_urlsafe(32)
