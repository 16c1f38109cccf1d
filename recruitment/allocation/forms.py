"""The allocation pages' forms: the sealed list's upload, an emergency unblinding's reason,
a participant's stratum."""

from django import forms
from django.utils.translation import gettext_lazy as _

from recruitment.allocation.services import declared_names

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
FILE_TOO_LARGE = _("The file is larger than 2 MB.")


class AllocationUploadForm(forms.Form):
    arms = forms.CharField(
        label=_("Arms"),
        help_text=_(
            "The arms or crossover sequences of the study, separated by commas "
            "(for example: AB, BA). Every row's arm must be one of them."
        ),
        max_length=400,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    strata = forms.CharField(
        label=_("Strata (optional)"),
        required=False,
        help_text=_(
            "Leave empty when the study has no strata; otherwise the strata, separated by "
            "commas. Every row's stratum must be one of them."
        ),
        max_length=400,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    file = forms.FileField(
        label=_("Allocation list (CSV)"),
        help_text=_("Columns: sequence, stratum, arm, pack_code, with that header line."),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".csv"}),
    )

    def clean_arms(self) -> list[str]:
        return declared_names(self.cleaned_data["arms"])

    def clean_strata(self) -> list[str]:
        return declared_names(self.cleaned_data.get("strata") or "")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(FILE_TOO_LARGE)
        return upload


class UnblindForm(forms.Form):
    reason = forms.CharField(
        label=_("Medical reason for unblinding"),
        widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
        help_text=_(
            "Why the treatment must be known now (for example, a serious adverse event). "
            "Recorded with your name and the time, and sent to the statistician and the "
            "other investigators."
        ),
        error_messages={"required": _("Give the medical reason for unblinding.")},
    )


class StratumForm(forms.Form):
    stratum = forms.ChoiceField(
        label=_("Stratum"), widget=forms.Select(attrs={"class": "form-select"})
    )

    def __init__(self, *args, strata: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stratum"].choices = [("", "---------"), *((s, s) for s in strata)]
