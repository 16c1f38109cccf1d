"""Make what people type safe to look up, compare and show: digits in ASCII, no invisible
characters.

Phones with a non-English keyboard type digits of their own script: fullwidth ３５２９４ (a
Japanese or Chinese keyboard), Arabic-Indic ٣٥٢٩٤, Devanagari ३५२९४. Python's `\\d`, `int()` and
`Decimal()` accept them, but other code does not: the offline ZIP database's native code
panicked on them and took the worker down. Read every number through `ascii_digits` first.

Names and notes pasted from a chat or a word processor may carry zero-width and bidirectional
control characters: invisible, yet they make two names that look alike differ (no duplicate
found) or reorder how a line of a screening list reads. `without_invisible` removes them.

Imports no Django: the eligibility engine uses it too.
"""

import re
import unicodedata

__all__ = ["ascii_digits", "without_invisible"]

# Zero-width space, non-joiner and joiner (U+200B-U+200D), left-to-right and right-to-left
# marks (U+200E, U+200F), bidirectional embeddings and overrides (U+202A-U+202E), word joiner
# (U+2060), isolates (U+2066-U+2069), the Arabic letter mark (U+061C) and the byte order mark
# (U+FEFF, also a zero-width no-break space).
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\u061c\ufeff]")


def ascii_digits(*, text: str) -> str:
    """Write every decimal digit of any script as its ASCII digit; leave the rest as it is.

    Only decimal digits (Unicode category Nd) change: superscripts and circled numbers are
    not digits of a number, so the caller's checks refuse them.
    """
    if text.isascii():
        return text
    return "".join(_ascii_digit(char) for char in text)


def _ascii_digit(char: str) -> str:
    value = unicodedata.decimal(char, None)
    return char if value is None else str(value)


def without_invisible(*, text: str) -> str:
    """Remove zero-width and bidirectional control characters, so what is stored reads the
    way it shows."""
    return _INVISIBLE.sub("", text)
