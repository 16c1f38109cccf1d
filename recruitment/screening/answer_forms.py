"""The form of the "Verify answers" step: one field (or a few) per question the patient
answers on the form, empty until staff fill in what they confirmed, and how they confirmed it.

Only the fields filled in are recorded; the rest keep the patient's answer. A "core symptoms"
kind of question (several items) keeps the patient's answers to the items left empty."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from recruitment import eligibility, form_fields
from recruitment.models import Answer, RuleKind, VerificationMethod
from recruitment.screening.forms import (
    NOTHING_ENTERED,
    WorkflowForm,
    criterion_field,
)
from recruitment.screening.verified_answers import VERIFY_NOTHING

YES_NO = [("", NOTHING_ENTERED), (eligibility.YES, _("Yes")), (eligibility.NO, _("No"))]
LAST_DOSE_SUFFIX = "__last"
LAST_DOSE_NEEDED = _("Give the date of the last dose (or answer “No”).")
LAST_DOSE_NOT_TAKEN = _("A date of the last dose goes with the answer “Yes” only.")
LAST_DOSE_FUTURE = _("The last dose cannot be in the future.")
PATIENT_ANSWERED = _("The patient answered: %(answer)s.")
ALREADY_VERIFIED = _("Verified (%(how)s): %(answer)s.")
NOT_ANSWERED = _("not answered")
UNSURE_LABEL = _("Not sure")


def json_value(value):
    """A form value in the engine's JSON form: numbers as int or float, choices as text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def answer_words(value) -> str:
    """An answer as staff read it: "Not sure" for unsure, items as "key: answer"."""
    if value in (None, "", {}):
        return str(NOT_ANSWERED)
    if value == eligibility.UNSURE:
        return str(UNSURE_LABEL)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {answer_words(item)}" for key, item in value.items())
    return str(value)


class VerifyAnswersForm(WorkflowForm):
    how = forms.ChoiceField(
        label=_("How it was confirmed"),
        choices=[("", "---------"), *VerificationMethod.choices],
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_("Optional, e.g. which record. Only staff who may see names read it."),
    )

    def __init__(self, *args, criteria, current: dict[str, Answer], **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        self.current = current
        self.today = timezone.localdate()
        fields = {}
        for criterion in self.criteria:
            fields.update(self._fields_for(criterion, current.get(criterion.code)))
        # The answers first, then how they were confirmed.
        self.fields = {**fields, "how": self.fields["how"], "note": self.fields["note"]}

    def _fields_for(self, criterion, answer: Answer | None) -> dict[str, forms.Field]:
        value = answer.value if answer else None
        if answer is not None and answer.is_verified:
            said = ALREADY_VERIFIED % {
                "how": answer.get_verified_how_display(),
                "answer": answer_words(value),
            }
        else:
            said = PATIENT_ANSWERED % {"answer": answer_words(value)}
        code = criterion.code
        if criterion.rule_kind == RuleKind.AT_LEAST_N:
            items = criterion.params.get("items", [])
            return {
                f"{code}__{item['key']}": forms.ChoiceField(
                    label=f"{criterion.title}: {item.get('title') or item['key']}",
                    required=False,
                    choices=YES_NO,
                    help_text=said,
                )
                for item in items
            }
        if criterion.rule_kind == RuleKind.WASHOUT:
            return {
                code: forms.ChoiceField(
                    label=gettext("%(title)s: taken in the window?") % {"title": criterion.title},
                    required=False,
                    choices=YES_NO,
                    help_text=said,
                ),
                f"{code}{LAST_DOSE_SUFFIX}": form_fields.DateField(
                    label=_("Date of the last dose"),
                    required=False,
                    widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                ),
            }
        field = criterion_field(criterion)
        if field is None:
            return {}
        field.help_text = said
        return {code: field}

    def clean(self):
        cleaned = super().clean()
        for criterion in self.criteria:
            if criterion.rule_kind != RuleKind.WASHOUT:
                continue
            code = criterion.code
            taken, last = cleaned.get(code), cleaned.get(f"{code}{LAST_DOSE_SUFFIX}")
            if taken == eligibility.YES and last is None:
                self.add_error(f"{code}{LAST_DOSE_SUFFIX}", LAST_DOSE_NEEDED)
            elif last is not None and taken != eligibility.YES:
                self.add_error(f"{code}{LAST_DOSE_SUFFIX}", LAST_DOSE_NOT_TAKEN)
            elif last is not None and last > self.today:
                self.add_error(f"{code}{LAST_DOSE_SUFFIX}", LAST_DOSE_FUTURE)
        if not self.errors and not self.answers():
            raise ValidationError(VERIFY_NOTHING)
        return cleaned

    def answers(self) -> dict:
        """The verified answers, by criterion code, in the engine's JSON form."""
        data = self.cleaned_data
        answers = {}
        for criterion in self.criteria:
            code = criterion.code
            if criterion.rule_kind == RuleKind.AT_LEAST_N:
                filled = {
                    item["key"]: data.get(f"{code}__{item['key']}")
                    for item in criterion.params.get("items", [])
                    if data.get(f"{code}__{item['key']}")
                }
                if filled:
                    before = self.current.get(code)
                    kept = before.value if before and isinstance(before.value, dict) else {}
                    answers[code] = {**kept, **filled}
            elif criterion.rule_kind == RuleKind.WASHOUT:
                taken = data.get(code)
                if taken == eligibility.YES and data.get(f"{code}{LAST_DOSE_SUFFIX}"):
                    last = data[f"{code}{LAST_DOSE_SUFFIX}"].isoformat()
                    answers[code] = {"taken": taken, "last": last}
                elif taken == eligibility.NO:
                    answers[code] = {"taken": taken}
            elif data.get(code) not in (None, ""):
                answers[code] = json_value(data[code])
        return answers
