"""Reading stored answers (JSON) and writing the numbers and words of a verdict's reason."""

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from recruitment.eligibility.types import _ISO_DATE, NO, UNSURE, YES, _UnreadableError
from recruitment.unicode_text import ascii_digits

# --------------------------------------------------------------------------------------------
# Reading answers
# --------------------------------------------------------------------------------------------


def _is_blank(answer: object) -> bool:
    """Treat None and an empty string alike: a form left blank stores either."""
    return answer is None or (isinstance(answer, str) and not answer.strip())


def _yes_no_unsure(value: object) -> str | None:
    """Normalise a yes/no/unsure answer, or return None when it is something else."""
    if not isinstance(value, str):
        return None
    value = value.strip().lower()
    return value if value in (YES, NO, UNSURE) else None


def _is_unsure(answer: object) -> bool:
    return _yes_no_unsure(answer) == UNSURE


def _read_decimal(value: object) -> Decimal:
    """Read a number exactly, so "3.0" equals the bound 3 and 2.99 stays under it."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise _UnreadableError("expected a number")
    try:
        text = ascii_digits(text=value.strip()) if isinstance(value, str) else str(value)
        number = Decimal(text)
    except InvalidOperation:
        raise _UnreadableError("expected a number") from None
    if not number.is_finite():
        raise _UnreadableError("expected a number")
    return number


def _read_date(value: object) -> date:
    """Read a stored ISO date strictly; looser formats are more likely typos than dates."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = ascii_digits(text=value.strip()) if isinstance(value, str) else None
    if text is None or not _ISO_DATE.fullmatch(text):
        raise _UnreadableError("expected a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _UnreadableError(f"{text} is not a valid date") from None


def _plain(number: Decimal | int | float) -> str:
    """Show a number without exponent notation, keeping the precision it was given with."""
    return format(Decimal(str(number)), "f")


def _with_unit(number: str, unit: str) -> str:
    return f"{number} {unit}" if unit else number


def _join(words: Sequence[str]) -> str:
    """Join words as "a", "a and b", "a, b and c" so reasons read as a sentence."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _shown(value: object) -> str:
    """Quote an unexpected answer briefly, on one line, so staff can see what was stored."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."
