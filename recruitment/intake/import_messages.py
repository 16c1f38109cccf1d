"""The import report's row errors in words for the coordinator who fixes the file.

The public form speaks to the patient ("Enter your date of birth"); a coordinator reading an
import report needs the column and what is wrong with the cell: "Row 4, date of birth:
30/02/1980 is not a date". A cell is quoted only for the contact columns whose format is the
problem (dates, ZIP code, email, phone), on the page of the person who uploaded the file; a
health answer is never quoted, and nothing of a row goes to a log.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from recruitment.models import Participant

# Columns whose bad value is shown back: the uploader has them on screen, and the value is
# what they must find in the spreadsheet. Never a health answer.
QUOTED_COLUMNS = {"date_of_birth", "zip_code", "email", "phone", "applied_at"}
DATE_FORMATS_SAID = _("write it as MM/DD/YYYY or YYYY-MM-DD")

MISSING = _("empty, and it is required.")
NOT_A_DATE = _("{value} is not a date ({formats}).")
DATE_MISSING = _("not a date ({formats}).")
IN_FUTURE = _("{value} is in the future.")
TOO_OLD = _("{value} is more than 120 years ago.")
NOT_A_ZIP = _("{value} is not a 5-digit ZIP code.")
UNKNOWN_ZIP = _("{value} is not a known US ZIP code.")
NOT_AN_EMAIL = _("{value} is not an email address.")
NOT_A_PHONE = _("{value} is not a US phone number (10 digits).")
PHONE_NEEDED = _("empty, and it is needed when the preferred contact method is phone or text.")
CONTACT_METHOD_NEEDED = _("empty, and it is required: use one of {values}.")
NAME_TOO_LONG = _("longer than 100 characters.")
CONTROL_CHARACTERS = _("has special (control) characters: use letters, spaces and punctuation.")
NOTE_TOO_LONG = _("longer than 1,000 characters.")
NOT_A_NUMBER = _("not a number (leave it empty if unknown).")
LAST_DOSE_NEEDED = _("empty: the date of the last dose is needed when the answer is yes.")
LAST_DOSE_FUTURE = _("the date of the last dose is in the future.")
LAST_DOSE_NOT_YES = _("a date of last dose is given, but the answer is not yes.")
APPLIED_AT_COLUMN = "applied_at"
APPLIED_AT_LABEL = _("applied at")


def column_label(name: str) -> str:
    """A contact column by the name staff see on the participant's page ("date of birth");
    a question column by its name in the file (`q_allergy`), which says which question."""
    if name == APPLIED_AT_COLUMN:
        return str(APPLIED_AT_LABEL)
    try:
        return str(Participant._meta.get_field(name).verbose_name)
    except Exception:  # noqa: BLE001 - FieldDoesNotExist: a question column
        return name


def staff_message(name: str, error: ValidationError, value: str, fallback: str) -> str:
    """The words for one form error on one cell of column `name`; `fallback` (the form's
    own words) when no staff wording fits."""
    code = error.code
    shown = f"“{value}”" if value and name in QUOTED_COLUMNS else ""
    if name.startswith("q_") and name.endswith("__last"):
        return str(
            {
                "required": LAST_DOSE_NEEDED,
                "future": LAST_DOSE_FUTURE,
                "not_yes": LAST_DOSE_NOT_YES,
            }.get(code, DATE_MISSING)
        ).format(formats=DATE_FORMATS_SAID)
    if code == "required":
        return str(PHONE_NEEDED if name == "phone" else MISSING)
    if name in ("date_of_birth", APPLIED_AT_COLUMN):
        words = {"invalid": NOT_A_DATE, "future": IN_FUTURE, "too_old": TOO_OLD}.get(code)
        if words is not None:
            return str(words).format(value=shown, formats=DATE_FORMATS_SAID)
    specific = {
        ("zip_code", "invalid"): NOT_A_ZIP,
        ("zip_code", "max_length"): NOT_A_ZIP,
        ("zip_code", "unknown"): UNKNOWN_ZIP,
        ("email", "invalid"): NOT_AN_EMAIL,
        ("phone", "invalid"): NOT_A_PHONE,
        ("first_name", "max_length"): NAME_TOO_LONG,
        ("last_name", "max_length"): NAME_TOO_LONG,
        ("first_name", "control_chars"): CONTROL_CHARACTERS,
        ("last_name", "control_chars"): CONTROL_CHARACTERS,
        ("note", "control_chars"): CONTROL_CHARACTERS,
        ("note", "max_length"): NOTE_TOO_LONG,
    }.get((name, code))
    if specific is not None:
        return str(specific).format(value=shown or _("the value"))
    if name.startswith("q_") and code in ("invalid", "max_digits", "max_decimal_places"):
        return str(NOT_A_NUMBER)
    return fallback
