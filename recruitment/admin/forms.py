"""Forms of the coordinators' admin pages (the queue's action bar, the contact-details edit,
the interest-list upload): they validate input only; the admin calls the services. The workflow
steps' forms belong to the screening context (`recruitment.screening.forms`)."""

import re

from django import forms
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from recruitment import eligibility, form_fields
from recruitment.contact import normalise_phone
from recruitment.intake import importer
from recruitment.models import (
    Participant,
)
from recruitment.screening.forms import REASON_MAX_LENGTH, STAFF_REASON_CODES, reason_code_field
from recruitment.screening.services import EDIT_NEEDS_REASON, EDITABLE_FIELDS
from recruitment.unicode_text import ascii_digits

DOB_IN_FUTURE = _("The date of birth cannot be in the future.")
ZIP_UNKNOWN = _("This ZIP code is not in the ZIP database.")
ZIP_INVALID = _("Enter a 5-digit ZIP code.")


class ParticipantActionForm(ActionForm):
    """The changelist's action bar: the action, and a reason for those that need one."""

    reason_code = reason_code_field([(code.value, code.label) for code in STAFF_REASON_CODES])
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        help_text=_("With the reason code “Other”: the reason in words."),
        widget=forms.TextInput(attrs={"size": 30}),
    )


class ParticipantChangeForm(forms.ModelForm):
    """A staff edit of contact details; `participant_update` saves it with the reason."""

    change_reason = forms.CharField(
        label=_("Reason for change"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        help_text=_("Required when you change a contact detail; it is kept in the history."),
        widget=forms.TextInput(attrs={"size": 60}),
    )

    class Meta:
        model = Participant
        fields = list(EDITABLE_FIELDS)
        # Dates typed in any script's digits are read as ASCII, as on the interest form.
        field_classes = {"date_of_birth": form_fields.DateField}
        # A plain date input, not the admin's calendar widget: that one adds "you are N hours
        # ahead of server time" under a date of birth, which has no time.
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def clean_first_name(self):
        return form_fields.visible_text(
            text=self.cleaned_data.get("first_name", ""), field=self.fields["first_name"]
        )

    def clean_last_name(self):
        return form_fields.visible_text(
            text=self.cleaned_data.get("last_name", ""), field=self.fields["last_name"]
        )

    def clean_note(self):
        return form_fields.visible_text(
            text=self.cleaned_data.get("note", ""), field=self.fields["note"]
        )

    def clean_phone(self):
        phone = ascii_digits(text=self.cleaned_data.get("phone", ""))
        if phone:
            normalise_phone(phone)  # raises the same message the interest form shows
        return phone

    def clean_date_of_birth(self):
        date_of_birth = self.cleaned_data.get("date_of_birth")
        if date_of_birth and date_of_birth > timezone.localdate():
            raise ValidationError(DOB_IN_FUTURE, code="future")
        return date_of_birth

    def clean_zip_code(self):
        # Any script's digits read as ASCII; then ASCII only, as the ZIP database expects.
        zip_code = ascii_digits(text=self.cleaned_data.get("zip_code", "").strip())
        if zip_code and not re.fullmatch(r"[0-9]{5}", zip_code):
            raise ValidationError(ZIP_INVALID, code="invalid")
        if zip_code and not eligibility.zip_is_known(zip_code):
            raise ValidationError(ZIP_UNKNOWN, code="unknown")
        return zip_code

    def clean(self):
        cleaned = super().clean()
        edited = [name for name in self.changed_data if name in EDITABLE_FIELDS]
        if edited and not (cleaned.get("change_reason") or "").strip():
            self.add_error("change_reason", EDIT_NEEDS_REASON)
        return cleaned

    def edited_values(self) -> dict:
        """The contact details the user changed, as `participant_update` takes them."""
        return {
            name: self.cleaned_data[name] for name in self.changed_data if name in EDITABLE_FIELDS
        }


class InterestListUploadForm(forms.Form):
    """The admin page's file field; the rows are checked by `interest_list_import`."""

    file = forms.FileField(
        label=_("CSV file"),
        help_text=format_lazy(
            "{} {}",
            _("One row per person, with the columns of the template (at most 5 MB, 5,000 rows)."),
            _("Only people who agreed to be contacted may be imported."),
        ),
        # Not required: after a dry run the checked file is kept (`import_uploads`).
        required=False,
        error_messages={"empty": importer.FILE_EMPTY},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload and upload.size > importer.MAX_BYTES:
            raise ValidationError(importer.FILE_TOO_BIG, code="too_big")
        return upload

    def file_bytes(self) -> bytes:
        upload = self.cleaned_data["file"]
        upload.seek(0)
        return upload.read(importer.MAX_BYTES + 1)
