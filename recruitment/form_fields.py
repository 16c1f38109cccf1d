"""Form fields for numbers and dates that read the digits of any script as ASCII, and the note.

A patient on a phone with a Japanese, Arabic or Hindi keyboard may type １９８０ or ١٩٨٠; the
value is plain, so it is read rather than refused with a message the patient cannot act on.
Used by the public form and the staff forms alike (`recruitment.unicode_text.ascii_digits`).
The note counts its characters as the patient sees them (NoteField).
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


class NoteField(forms.CharField):
    """Free text counted the way the patient sees it, and never cut short.

    Browsers send each line break as CRLF but count it as one character; normalise first so
    the 1,000-character limit means what the help text says. No `maxlength` attribute: a
    browser would silently drop the end of a pasted note; the server says it is too long.
    """

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n") if value else value

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        return attrs


def visible_text(*, text: str, field: forms.Field) -> str:
    """A name or note without zero-width and bidirectional control characters, trimmed.

    What is left empty of a required field gets that field's own "required" message, so a
    name made only of invisible characters is refused like an empty one.
    """
    text = without_invisible(text=text or "").strip()
    if not text and field.required:
        raise forms.ValidationError(field.error_messages["required"], code="required")
    return text
