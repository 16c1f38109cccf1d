"""Normalise contact details so duplicates match however people type them."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import phonenumbers
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from recruitment.unicode_text import ascii_digits

PHONE_INVALID = _("Enter a US phone number, like 205-555-0100.")
# Where a number written without a country code is read.
PHONE_REGION = "US"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def phone_e164(phone: str) -> str:
    """A US phone number as stored, in E.164 (+12055550100), or raise ValidationError.

    Read by `phonenumbers` (Google's libphonenumber) with the US as the default region, so
    (205) 555-0100, 205.555.0100 and +1 205 555 0100 are the same number; the digits of any
    script are read as ASCII first (a phone's keyboard may type ２０５). Only valid numbers
    of the North American plan (+1) are taken: texts and calls go to US numbers.
    """
    phone = ascii_digits(text=phone or "").strip()
    if not phone or len(phone) > 30 or re.search(r"[^0-9\s().+-]", phone):
        raise ValidationError(PHONE_INVALID, code="invalid")
    try:
        number = phonenumbers.parse(phone, PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError(PHONE_INVALID, code="invalid") from None
    if number.country_code != 1 or not phonenumbers.is_valid_number(number):
        raise ValidationError(PHONE_INVALID, code="invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_phone(phone: str) -> str:
    """The 10 digits of a US phone number (what duplicates match on), or raise
    ValidationError: the same number however it was written, E.164 included."""
    return phone_e164(phone)[2:]


def phone_of_key(key: str) -> str:
    """The number as stored (E.164) for its 10 digits as `normalise_phone` gives them: the same
    as `phone_e164` of what was typed, without reading it again."""
    return f"+1{key}"


def format_phone(phone: str) -> str:
    """A stored number as people read it: +12055550100 (or its 10 digits) as 205-555-0100;
    anything else (a value kept as typed because it could not be read) as it is."""
    digits = phone[2:] if phone.startswith("+1") and len(phone) == 12 else phone
    if len(digits) == 10 and digits.isdigit():
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    return phone


def normalise_name(first_name: str, last_name: str) -> str:
    """One key for a person's name, whatever the case, accents' case or spacing."""
    return " ".join(f"{first_name} {last_name}".split()).casefold()


# ---------------------------------------------------------------------------------------------
# Possible duplicates: what two records of one person share
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MatchKeys:
    """What a possible duplicate is matched on within a study: the normalised email, the
    normalised phone (when given), or the normalised name with the date of birth. Sharing any
    one of them is a match. The form's submission and the import's dry run both use these."""

    email: str
    phone: str  # "" when no phone was given
    name: str
    date_of_birth: date | None

    # The participant's stored columns, in the order of the fields above.
    COLUMNS = ("email_normalised", "phone_normalised", "name_normalised", "date_of_birth")

    @classmethod
    def of(
        cls, *, email: str, phone: str, first_name: str, last_name: str, date_of_birth
    ) -> "MatchKeys":
        """The keys of contact details as typed (raises ValidationError for a bad phone)."""
        return cls(
            email=normalise_email(email),
            phone=normalise_phone(phone) if phone else "",
            name=normalise_name(first_name, last_name),
            date_of_birth=date_of_birth,
        )

    @classmethod
    def of_participant(cls, participant) -> "MatchKeys":
        """The keys a participant was stored with."""
        return cls(*(getattr(participant, column) for column in cls.COLUMNS))

    def query(self) -> Q:
        """Participants sharing one of these keys."""
        match = Q(email_normalised=self.email)
        if self.phone:
            match |= Q(phone_normalised=self.phone)
        return match | Q(name_normalised=self.name, date_of_birth=self.date_of_birth)

    @staticmethod
    def query_any(keys: Iterable["MatchKeys"]) -> Q:
        """In one query, every participant sharing a key with any of `keys`, and some more
        (the name is matched without the date of birth): check each row with `MatchSet`."""
        keys = list(keys)
        match = Q(email_normalised__in={k.email for k in keys})
        phones = {k.phone for k in keys if k.phone}
        if phones:
            match |= Q(phone_normalised__in=phones)
        return match | Q(name_normalised__in={k.name for k in keys})


@dataclass(frozen=True)
class PersonKeys:
    """What makes a new application the same person as an earlier one, in any study: the same
    normalised email, or the same normalised name with the same date of birth. (A shared
    phone number only flags a possible duplicate: families share phones.)"""

    email: str
    name: str
    date_of_birth: date | None

    @classmethod
    def of(cls, keys: MatchKeys) -> "PersonKeys":
        return cls(email=keys.email, name=keys.name, date_of_birth=keys.date_of_birth)

    def query(self) -> Q:
        """People (`Person` rows) with one of these keys."""
        match = Q(email_normalised=self.email) if self.email else Q(pk__in=[])
        if self.name and self.date_of_birth is not None:
            match |= Q(name_normalised=self.name, date_of_birth=self.date_of_birth)
        return match


class MatchSet:
    """Keys seen so far: `keys in seen` says whether they match any of them."""

    def __init__(self):
        self._emails: set[str] = set()
        self._phones: set[str] = set()
        self._names: set[tuple[str, date | None]] = set()

    def add(self, keys: MatchKeys) -> None:
        self._emails.add(keys.email)
        if keys.phone:
            self._phones.add(keys.phone)
        self._names.add((keys.name, keys.date_of_birth))

    def __contains__(self, keys: MatchKeys) -> bool:
        return (
            keys.email in self._emails
            or (bool(keys.phone) and keys.phone in self._phones)
            or (keys.name, keys.date_of_birth) in self._names
        )
