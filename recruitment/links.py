"""The patients' links, made where their emails are rendered: the signed withdraw link (read
back by `recruitment.intake.withdraw`) and the token of a saved form's link (its sha256 is
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


def token_hash(token: str) -> str:
    """What the database keeps of a saved form's link token."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_new() -> str:
    """A fresh, unguessable token for a saved form's link."""
    return secrets.token_urlsafe(32)
