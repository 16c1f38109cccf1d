"""Form fields for numbers and dates that read the digits of any script as ASCII.

A patient on a phone with a Japanese, Arabic or Hindi keyboard may type １９８０ or ١٩٨٠; the
value is plain, so it is read rather than refused with a message the patient cannot act on.
Used by the public form and the staff forms alike (`recruitment.unicode_text.ascii_digits`).
"""

from django import forms

from recruitment.unicode_text import ascii_digits, without_invisible


class AsciiDigitsMixin:
    """Read the digits of any script as ASCII before the field parses the value."""

    def to_python(self, value):
        if isinstance(value, str):
            value = ascii_digits(text=value)
        return super().to_python(value)


class DateField(AsciiDigitsMixin, forms.DateField):
    pass


class DateTimeField(AsciiDigitsMixin, forms.DateTimeField):
    pass


class DecimalField(AsciiDigitsMixin, forms.DecimalField):
    pass


def visible_text(*, text: str, field: forms.Field) -> str:
    """A name or note without zero-width and bidirectional control characters, trimmed.

    What is left empty of a required field gets that field's own "required" message, so a
    name made only of invisible characters is refused like an empty one.
    """
    text = without_invisible(text=text or "").strip()
    if not text and field.required:
        raise forms.ValidationError(field.error_messages["required"], code="required")
    return text
