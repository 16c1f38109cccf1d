"""The signed time a form was served (its hidden `form_issued` field): a form sent back too
fast is a bot's, and one left open over a day is shown again with its answers kept."""

import enum
from datetime import datetime, timedelta

from django.core import signing

# The signed time a form was served: older than this, it is re-shown (see FormTiming.EXPIRED).
FORM_ISSUED_MAX_AGE = timedelta(days=1)
# The salt keeps its first value, so forms open during a deploy still verify.
FORM_ISSUED_SALT = "recruitment.intake.forms.InterestForm.form_issued"


class FormTiming(enum.Enum):
    """How long before its submission the form was served (the signed `form_issued` field)."""

    OK = "ok"
    TOO_FAST = "too_fast"  # under INTEREST_FORM_MIN_SECONDS: a bot; dropped like the honeypot
    INVALID = "invalid"  # missing or tampered with: a bot; dropped like the honeypot
    EXPIRED = "expired"  # over a day: likely a person who left the tab open; re-shown


def form_issued_token(now: datetime) -> str:
    return signing.dumps(now.timestamp(), salt=FORM_ISSUED_SALT)


def form_timing(value, *, now: datetime, min_seconds: int) -> FormTiming:
    """Judge a posted `form_issued` value. `min_seconds` 0 turns the check off entirely."""
    if min_seconds <= 0:
        return FormTiming.OK
    try:
        issued = float(signing.loads(str(value or ""), salt=FORM_ISSUED_SALT))
    except (signing.BadSignature, TypeError, ValueError, OverflowError):
        return FormTiming.INVALID
    age = now.timestamp() - issued
    if age > FORM_ISSUED_MAX_AGE.total_seconds():
        return FormTiming.EXPIRED
    if age < min_seconds:
        return FormTiming.TOO_FAST
    return FormTiming.OK
