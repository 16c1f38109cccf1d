"""The workflow forms of the screening context, one per step on a participant (status,
consent, enrollment, lab values, eligibility override, contact attempt, duplicate review, rule
out, staff note; verifying answers has its own module, `answer_forms`).

They validate input only; the workflow views call the services. Each form takes the participant
it acts on, so its choices (the statuses the machine allows, the study's staff, the study's
staff-assessed criteria) come from the data.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from recruitment import eligibility, form_fields, selectors
from recruitment.contact import format_phone
from recruitment.identification import can_identify
from recruitment.models import (
    REASON_CODES,
    ContactMethod,
    ContactOutcome,
    Participant,
    RuleKind,
    Status,
    StatusReason,
)
from recruitment.screening.gate import rule_out_criteria
from recruitment.screening.services import EDITABLE_FIELDS, OVERRIDE_NOTHING

REASON_MAX_LENGTH = 500
REASON_LABEL = _("Reason")
REASON_CODE_LABEL = _("Reason code")
# The codes staff choose; "duplicate" comes from confirming a duplicate, "withdrew by link"
# from the patient's link.
STAFF_REASON_CODES = (StatusReason.NOT_REACHED, StatusReason.NOT_INTERESTED, StatusReason.OTHER)
# A "fails a criterion" choice's value: the code, this separator, the criterion's code.
CRITERION_SEPARATOR = ":"
NOTHING_ENTERED = _("— not entered —")


def reason_field(*, label=REASON_LABEL, help_text="", required=False) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=REASON_MAX_LENGTH,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
    )


def reason_code_field(choices) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=REASON_CODE_LABEL,
        required=False,
        choices=[("", "---------"), *choices],
        help_text=_(
            "Needed to mark ineligible, withdraw or close as declined; what the CONSORT box "
            "counts. Describe the reason in words only for “Other”."
        ),
    )


# ---------------------------------------------------------------------------------------------
class WorkflowForm(forms.Form):
    """A form about one participant, filled by one staff user."""

    def __init__(self, *args, participant: Participant, user, **kwargs):
        self.participant = participant
        self.user = user
        super().__init__(*args, **kwargs)


class StatusChangeForm(WorkflowForm):
    """The new status, its reason code (a criterion of the study for "fails a criterion") and
    the reason in words where a code does not say it all."""

    to = forms.ChoiceField(label=_("New status"))
    reason_code = reason_code_field([])
    reason = reason_field(
        help_text=_(
            "With the reason code “Other”; for eligible when the pre-screen does not show every "
            "criterion met; and to enroll out of waitlist order. Only staff who may see names "
            "read it."
        )
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The run-in starts on its own page, with its start date (`RunInStartView`).
        targets = [
            status
            for status in Status
            if self.participant.can_transition_to(status) and status != Status.RUN_IN
        ]
        if self.participant.status == Status.NEW and not rule_out_criteria(
            participant=self.participant, today=timezone.localdate()
        ):
            targets.remove(Status.INELIGIBLE)  # from new, only for a likely-ineligible pre-screen
        self.fields["to"].choices = [("", "---------")] + [
            (status.value, status.label) for status in targets
        ]
        codes = {code for status in targets for code in REASON_CODES.get(status, ())}
        choices = [
            (code.value, code.label)
            for code in STAFF_REASON_CODES
            if code in codes and code != StatusReason.OTHER
        ]
        if StatusReason.FAILS_CRITERION in codes:
            criteria = self.participant.study.criteria.active().order_by("order", "code")
            choices.append(
                (
                    StatusReason.FAILS_CRITERION.label,
                    [
                        (f"{StatusReason.FAILS_CRITERION}{CRITERION_SEPARATOR}{c.code}", c.title)
                        for c in criteria
                    ],
                )
            )
        if StatusReason.OTHER in codes:
            choices.append((StatusReason.OTHER.value, StatusReason.OTHER.label))
        self.fields["reason_code"].choices = [("", "---------"), *choices]

    def clean(self):
        """Split "fails a criterion" into the code and the criterion the service takes."""
        cleaned = super().clean()
        code, _sep, criterion = (cleaned.get("reason_code") or "").partition(CRITERION_SEPARATOR)
        cleaned["reason_code"], cleaned["reason_criterion"] = code, criterion
        return cleaned


class ConsentForm(WorkflowForm):
    consented_on = form_fields.DateField(
        label=_("Date of consent"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    form_version = forms.CharField(
        label=_("Consent form version"),
        max_length=40,
        help_text=_("As printed on the signed form, e.g. ICF v2.0."),
    )
    obtained_by = forms.ModelChoiceField(
        label=_("Obtained by"),
        queryset=None,
        help_text=_("The staff member of the study who took consent."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        staff = selectors.study_staff_members(study=self.participant.study)
        self.fields["obtained_by"].queryset = staff
        self.fields["consented_on"].initial = timezone.localdate()
        if staff.filter(pk=self.user.pk).exists():
            self.fields["obtained_by"].initial = self.user.pk


class EnrolForm(WorkflowForm):
    reason = reason_field(
        help_text=_("Only needed to enroll this person before someone ahead on the waitlist.")
    )


class ContactAttemptForm(WorkflowForm):
    at = form_fields.DateTimeField(
        label=_("When"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    method = forms.ChoiceField(label=_("How"), choices=ContactMethod.choices)
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("", "---------"), *ContactOutcome.choices]
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )
    follow_up_on = form_fields.DateField(
        label=_("Next follow-up"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Leave empty when no follow-up is planned."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["at"].initial = timezone.localtime().replace(second=0, microsecond=0)
        preferred = self.participant.preferred_contact
        if preferred in ContactMethod.values:
            self.fields["method"].initial = preferred

    def clean_note(self):
        return form_fields.visible_text(text=self.cleaned_data["note"], field=self.fields["note"])


class LabValuesForm(WorkflowForm):
    """One field per staff-assessed criterion of the study, built from the criteria."""

    reason = reason_field(help_text=_("Optional, e.g. the lab report these values come from."))

    def __init__(self, *args, criteria, current: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = {}
        fields = {}
        for criterion in criteria:
            field = criterion_field(criterion)
            if field is None:
                continue
            value = current.get(criterion.code)
            if isinstance(field, forms.DecimalField) and isinstance(value, int | float):
                value = Decimal(str(value))  # so an unchanged value does not count as changed
            field.initial = value
            fields[criterion.code] = field
            self.criteria[criterion.code] = criterion
        # The values first, the reason last.
        self.fields = {**fields, "reason": self.fields["reason"]}

    def values(self) -> dict:
        """The changed values in the engine's JSON form (None clears a value)."""
        return {
            code: _json_value(self.cleaned_data[code])
            for code in self.changed_data
            if code in self.criteria
        }


def criterion_field(criterion) -> forms.Field | None:
    """A form field for a staff-assessed criterion, or None for a rule staff cannot enter.

    The rationale is escaped here: help text is output as HTML by the admin's own templates.
    """
    params = criterion.params
    if criterion.rule_kind == RuleKind.NUMBER_RANGE:
        unit = params.get("unit", "")
        label = _("%(title)s (value in %(unit)s)") % {"title": criterion.title, "unit": unit}
        return form_fields.DecimalField(
            label=label if unit else criterion.title,
            required=False,
            max_digits=12,
            decimal_places=4,
            help_text=escape(criterion.rationale),
            widget=forms.NumberInput(attrs={"step": "any"}),
        )
    if criterion.rule_kind == RuleKind.CHOICE:
        options = [(o["value"], o.get("label") or o["value"]) for o in params["options"]]
        return forms.ChoiceField(
            label=criterion.title,
            required=False,
            choices=[("", NOTHING_ENTERED), *options],
            help_text=escape(criterion.rationale),
        )
    if criterion.rule_kind == RuleKind.YES_NO:
        return forms.ChoiceField(
            label=criterion.title,
            required=False,
            choices=[
                ("", NOTHING_ENTERED),
                (eligibility.YES, _("Yes")),
                (eligibility.NO, _("No")),
            ],
            help_text=escape(criterion.rationale),
        )
    return None


def _json_value(value):
    if value in (None, ""):
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


class EligibilityOverrideForm(WorkflowForm):
    """One reason box per criterion that stops the participant: a filled box overrides that
    criterion, an empty one leaves it standing. At least one box must be filled."""

    def __init__(self, *args, blocking, **kwargs):
        super().__init__(*args, **kwargs)
        for verdict in blocking:
            snapshot = verdict.criterion_snapshot
            self.fields[f"reason_{snapshot['code']}"] = reason_field(
                label=snapshot.get("title") or snapshot["code"],
                help_text=verdict.get_verdict_display(),
            )

    def clean(self):
        cleaned = super().clean()
        if not self.reasons():
            raise ValidationError(OVERRIDE_NOTHING)
        return cleaned

    def reasons(self) -> dict[str, str]:
        """Criterion code to reason, for the criteria given one."""
        return {
            name.removeprefix("reason_"): value.strip()
            for name, value in self.cleaned_data.items()
            if name.startswith("reason_") and value and value.strip()
        }


class DuplicateConfirmForm(WorkflowForm):
    """Confirming closes the participant as declined, reason "duplicate". One box per detail
    that differs from the kept record (a new phone number), ticked to copy it there; offered
    only to staff who may see identities."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kept = self.participant.duplicate_of
        self.differences = []
        if kept is not None and can_identify(self.user) and kept.erased_at is None:
            self.differences = details_that_differ(newer=self.participant, kept=kept)
        for difference in self.differences:
            self.fields[f"copy_{difference.name}"] = forms.BooleanField(
                label=format_lazy(
                    _("Copy the {field} to {number}"), field=difference.label, number=kept
                ),
                required=False,
            )

    def copy_fields(self) -> list[str]:
        return [d.name for d in self.differences if self.cleaned_data.get(f"copy_{d.name}")]


@dataclass(frozen=True)
class Difference:
    name: str
    label: str
    newer: str  # as shown
    kept: str


def details_that_differ(*, newer: Participant, kept: Participant) -> list[Difference]:
    """The contact details the newer record has and the kept one has not, or has otherwise
    (no query: both rows are loaded)."""
    differences = []
    for name in EDITABLE_FIELDS:
        new_value, kept_value = getattr(newer, name), getattr(kept, name)
        if new_value in ("", None) or new_value == kept_value:
            continue
        if name in ("email", "phone") and getattr(newer, f"{name}_normalised") == getattr(
            kept, f"{name}_normalised"
        ):
            continue  # the same address or number, typed otherwise: nothing to copy
        field = Participant._meta.get_field(name)
        differences.append(
            Difference(name, str(field.verbose_name), _shown(newer, name), _shown(kept, name))
        )
    return differences


def _shown(participant: Participant, name: str) -> str:
    value = getattr(participant, name)
    if value in ("", None):
        return "—"
    display = getattr(participant, f"get_{name}_display", None)
    if display is not None:
        return str(display())
    if isinstance(value, date):
        return date_format(value, "DATE_FORMAT")
    if name == "phone":
        return format_phone(value)  # as people read it, not the stored +1 form
    return str(value)


class DuplicateDismissForm(WorkflowForm):
    reason = reason_field(help_text=_("Optional: how you know they are different people."))


class RuleOutForm(WorkflowForm):
    """No fields: ruling out closes a new, likely-ineligible applicant as ineligible, for the
    criteria the pre-screen found not met."""


class StaffNoteForm(WorkflowForm):
    text = forms.CharField(
        label=_("Note"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text=_(
            "Kept with the participant's record, with your name and the time; it cannot be "
            "edited afterwards (add another note to correct it). Monitors do not see it."
        ),
    )

    def clean_text(self):
        return form_fields.visible_text(text=self.cleaned_data["text"], field=self.fields["text"])
