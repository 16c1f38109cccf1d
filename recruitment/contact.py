"""Normalise contact details so duplicates match however people type them."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from recruitment.unicode_text import ascii_digits

PHONE_INVALID = _("Enter a US phone number with area code, like 205-555-0134.")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def normalise_phone(phone: str) -> str:
    """Return the 10 digits of a US phone number, or raise ValidationError.

    Accepts the ways people write US numbers: (205) 555-0134, 205.555.0134, +1 205 555 0134,
    in the digits of any script (a phone's keyboard may type ２０５): stored as ASCII, so the
    same number always matches.
    """
    phone = ascii_digits(text=phone or "")
    if not phone or len(phone) > 30 or re.search(r"[^0-9\s().+-]", phone):
        raise ValidationError(PHONE_INVALID, code="invalid")
    digits = re.sub(r"[^0-9]", "", phone)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    # North American numbering: area code and exchange cannot start with 0 or 1.
    if len(digits) != 10 or digits[0] in "01" or digits[3] in "01":
        raise ValidationError(PHONE_INVALID, code="invalid")
    return digits


def format_phone(digits: str) -> str:
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}" if len(digits) == 10 else digits


def normalise_name(first_name: str, last_name: str) -> str:
    """One key for a person's name, whatever the case, accents' case or spacing."""
    return " ".join(f"{first_name} {last_name}".split()).casefold()
