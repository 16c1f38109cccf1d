"""The forms of the visits' workflow pages: book a visit, move it, cancel it, record how it
went. Each is checked here for what a form can see; the services check the rest."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from recruitment import form_fields
from recruitment.models import Visit, VisitStatus
from recruitment.screening.forms import WorkflowForm, reason_field
from recruitment.visits.selectors import PlannedVisitWindow

PLACE_HELP = _("Leave empty for the visit's usual place. Shown to the participant.")
WITH_WHOM_HELP = _("The staff member they will see, e.g. “Dr. Rivera”. Shown to the participant.")
TIME_IN_PAST = _("Choose a date and time from now on.")


def date_field(**kwargs) -> forms.DateField:
    return form_fields.DateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        **kwargs,
    )


def time_field(**kwargs) -> forms.TimeField:
    return forms.TimeField(
        label=_("Time"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Local time at the site."),
        **kwargs,
    )


class VisitWhenWhereForm(WorkflowForm):
    """Date, time, place and who they will see; the date and time as one local time."""

    on = date_field()
    at = time_field()
    place = forms.CharField(label=_("Place"), max_length=200, required=False, help_text=PLACE_HELP)
    with_whom = forms.CharField(label=_("With whom"), max_length=120, help_text=WITH_WHOM_HELP)

    def default_place(self) -> str:
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        day, time = cleaned.get("on"), cleaned.get("at")
        if day is not None and time is not None:
            starts_at = timezone.make_aware(datetime.datetime.combine(day, time))
            if starts_at < timezone.now():
                self.add_error("on", TIME_IN_PAST)
            cleaned["starts_at"] = starts_at
        if "place" in cleaned and not cleaned["place"].strip():
            cleaned["place"] = self.default_place()
        return cleaned


class VisitBookForm(VisitWhenWhereForm):
    """Which planned visit (each with its window for this participant), when, where, with
    whom."""

    planned_visit = forms.TypedChoiceField(label=_("Visit"), coerce=int)
    reason = reason_field(help_text=_("Optional, e.g. why a time outside the window."))

    field_order = ["planned_visit", "on", "at", "place", "with_whom", "reason"]

    def __init__(self, *args, windows: list[PlannedVisitWindow], **kwargs):
        super().__init__(*args, **kwargs)
        self.windows = {w.planned.pk: w for w in windows}
        self.fields["planned_visit"].choices = [("", "---------")] + [
            (w.planned.pk, f"{w.planned.name} ({w.words})") for w in windows
        ]

    def clean_planned_visit(self):
        return self.windows[self.cleaned_data["planned_visit"]].planned

    def default_place(self) -> str:
        planned = self.cleaned_data.get("planned_visit")
        return planned.place if planned is not None else ""


class VisitRebookForm(VisitWhenWhereForm):
    """The visit's new date, time, place or staff member, and why."""

    reason = reason_field(required=True, help_text=_("Why the visit moves. Staff only."))

    def __init__(self, *args, visit: Visit, **kwargs):
        super().__init__(*args, **kwargs)
        self.visit = visit
        start = timezone.localtime(visit.starts_at)
        self.fields["on"].initial = start.date()
        self.fields["at"].initial = start.time()
        self.fields["place"].initial = visit.place
        self.fields["with_whom"].initial = visit.with_whom

    def default_place(self) -> str:
        return self.visit.planned_visit.place


class VisitCancelForm(WorkflowForm):
    reason = reason_field(required=True, help_text=_("Why the visit is canceled. Staff only."))

    def __init__(self, *args, visit: Visit, **kwargs):
        super().__init__(*args, **kwargs)
        self.visit = visit


class VisitOutcomeForm(WorkflowForm):
    outcome = forms.ChoiceField(
        label=_("How it went"),
        choices=[(VisitStatus.ATTENDED, _("Attended")), (VisitStatus.MISSED, _("Missed"))],
        widget=forms.RadioSelect,
    )
    reason = reason_field(help_text=_("Optional. Staff only."))

    def __init__(self, *args, visit: Visit, **kwargs):
        super().__init__(*args, **kwargs)
        self.visit = visit
