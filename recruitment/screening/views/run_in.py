"""The run-in's steps on a participant: start the run-in, record adherence, record that it
failed, and (investigators) override it."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from recruitment.models import RunIn, Status, StatusReason
from recruitment.screening import run_in as run_in_services
from recruitment.screening.run_in_forms import (
    RunInAdherenceForm,
    RunInFailForm,
    RunInOverrideForm,
    RunInStartForm,
)
from recruitment.screening.views.base import WorkflowView, status_log_message


class RunInView(WorkflowView):
    """A step on someone in the run-in: the page shows the run-in as it stands."""

    template_name = "run_in.html"

    def get_context_data(self) -> dict:
        return {"run_in": RunIn.objects.filter(participant=self.participant).first()}


class RunInStartView(WorkflowView):
    form_class = RunInStartForm
    template_name = "run_in.html"
    title = _("Start run-in")
    submit_label = _("Start the run-in")

    def get_context_data(self) -> dict:
        study = self.participant.study
        return {"study_days": study.run_in_days, "study_minimum": study.run_in_min_adherence}

    def perform(self, form) -> str:
        participant = run_in_services.run_in_start(
            participant=self.participant,
            started_on=form.cleaned_data["started_on"],
            by=self.request.user,
        )
        self.log(participant, status_log_message(Status.RUN_IN))
        return gettext("%(number)s is now in the run-in.") % {
            "number": participant.screening_number
        }


class RunInAdherenceView(RunInView):
    form_class = RunInAdherenceForm
    title = _("Record adherence")
    submit_label = _("Record adherence")

    def perform(self, form) -> str:
        run_in = run_in_services.run_in_adherence_record(
            participant=self.participant,
            days_completed=form.cleaned_data["days_completed"],
            as_of=form.cleaned_data["as_of"],
            by=self.request.user,
        )
        self.log(self.participant, gettext("Recorded run-in adherence."))
        return gettext("Run-in of %(number)s: %(done)s of %(days)s days, %(percent)s%%.") % {
            "number": self.participant.screening_number,
            "done": run_in.days_completed,
            "days": run_in.days,
            "percent": run_in.percent,
        }


class RunInFailView(RunInView):
    form_class = RunInFailForm
    title = _("Run-in failed")
    submit_label = _("Close as ineligible: run-in failed")

    def perform(self, form) -> str:
        participant = run_in_services.run_in_fail(
            participant=self.participant, reason=form.cleaned_data["reason"], by=self.request.user
        )
        self.log(participant, status_log_message(Status.INELIGIBLE))
        return gettext("%(number)s is now “%(status)s” (%(reason)s).") % {
            "number": participant.screening_number,
            "status": Status.INELIGIBLE.label,
            "reason": StatusReason.RUN_IN_FAILED.label,
        }


class RunInOverrideView(RunInView):
    """Investigators only: enroll although the run-in is incomplete or under the minimum."""

    form_class = RunInOverrideForm
    title = _("Override the run-in")
    submit_label = _("Record the override")

    def has_permission(self, request) -> bool:
        return request.user.has_perm("recruitment.override_run_in")

    def perform(self, form) -> str:
        run_in_services.run_in_override_record(
            participant=self.participant, reason=form.cleaned_data["reason"], by=self.request.user
        )
        self.log(self.participant, gettext("Recorded a run-in override."))
        return gettext("Run-in override recorded for %(number)s: they may be enrolled.") % {
            "number": self.participant.screening_number
        }
