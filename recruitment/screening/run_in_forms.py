"""The run-in's workflow forms: start it, record adherence, fail it, override it. They
validate input only; the views call the services in `recruitment.screening.run_in`."""

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from recruitment import form_fields
from recruitment.models import RunIn
from recruitment.screening.forms import WorkflowForm, reason_field
from recruitment.screening.run_in import (
    ADHERENCE_BEFORE_START,
    ADHERENCE_IN_FUTURE,
    ADHERENCE_TOO_MANY,
)


def date_field(label, *, help_text="") -> forms.DateField:
    return form_fields.DateField(
        label=label,
        help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class RunInStartForm(WorkflowForm):
    started_on = date_field(
        _("Start date"), help_text=_("The first day of daily symptom reports (today or earlier).")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["started_on"].initial = timezone.localdate()


class RunInAdherenceForm(WorkflowForm):
    days_completed = forms.IntegerField(
        label=_("Days with a completed daily report"),
        min_value=0,
        max_value=366,
        help_text=_("Counted from the first day of the run-in up to the date below."),
    )
    as_of = date_field(_("Counted up to"), help_text=_("The last day the count covers."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["as_of"].initial = timezone.localdate()

    def clean(self):
        """The service's checks, each next to its field (the service checks them again)."""
        cleaned = super().clean()
        done, as_of = cleaned.get("days_completed"), cleaned.get("as_of")
        run_in = RunIn.objects.filter(participant=self.participant).first()
        if run_in is None or as_of is None:
            return cleaned
        if as_of > timezone.localdate():
            self.add_error("as_of", ADHERENCE_IN_FUTURE)
        elif as_of < run_in.started_on:
            started = date_format(run_in.started_on)
            self.add_error("as_of", ADHERENCE_BEFORE_START.format(date=started))
        elif done is not None and done > run_in.most_days(as_of):
            message = ADHERENCE_TOO_MANY.format(days_completed=done, most=run_in.most_days(as_of))
            self.add_error("days_completed", message)
        return cleaned


class RunInFailForm(WorkflowForm):
    reason = reason_field(
        label=_("Note"),
        help_text=_(
            "Optional. The reason recorded is “Did not complete the run-in”; a note is shown "
            "only to staff who may see names."
        ),
    )


class RunInOverrideForm(WorkflowForm):
    reason = reason_field(
        required=True,
        help_text=_("Why this participant may be enrolled although the run-in is not passed."),
    )
