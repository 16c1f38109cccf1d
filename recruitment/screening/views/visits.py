"""The visits' workflow pages on a participant: their visits with each window and the form to
book one (`visits/`), and the pages to move, cancel or record how a visit went
(`visits/rebook/?visit=<id>`, `visits/cancel/?visit=<id>`, `visits/outcome/?visit=<id>`).
Each binds its form and calls one service of `recruitment.visits.services`."""

from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from recruitment.models import Visit, VisitStatus
from recruitment.screening.views.base import WorkflowView
from recruitment.screening.visit_forms import (
    VisitBookForm,
    VisitCancelForm,
    VisitOutcomeForm,
    VisitRebookForm,
)
from recruitment.visits import services as visits
from recruitment.visits.selectors import planned_visit_windows, visit_list_of_participant


def may_book_visits(user) -> bool:
    return user.has_perm("recruitment.add_visit") and user.has_perm("recruitment.change_visit")


def visits_open_to(participant) -> bool:
    """Whether visits can be booked for the participant now (consented, still taking part)."""
    return participant.status in visits.visit_bookable_statuses()


class VisitsView(WorkflowView):
    """The participant's visits, soonest first, each with its window and its actions, and the
    form to book one of the study's planned visits."""

    form_class = VisitBookForm
    template_name = "visits.html"
    title = _("Visits")
    submit_label = _("Book the visit and email the participant")

    def has_permission(self, request) -> bool:
        return may_book_visits(request.user)

    def get_form_kwargs(self) -> dict:
        return {
            **super().get_form_kwargs(),
            "windows": planned_visit_windows(participant=self.participant),
        }

    def get_context_data(self) -> dict:
        return {
            "visits": visit_list_of_participant(participant=self.participant),
            "visits_open": visits_open_to(self.participant),
            "now": timezone.now(),
        }

    def perform(self, form) -> str:
        data = form.cleaned_data
        visit = visits.visit_book(
            participant=self.participant,
            planned_visit=data["planned_visit"],
            starts_at=data["starts_at"],
            place=data["place"],
            with_whom=data["with_whom"],
            by=self.request.user,
            reason=data["reason"],
        )
        self.log(self.participant, gettext("Booked a visit."))
        return gettext("%(visit)s booked for %(number)s on %(when)s; the email is on its way.") % {
            "visit": visit.planned_visit.name,
            "number": self.participant.screening_number,
            "when": _when(visit),
        }


def _when(visit: Visit) -> str:
    return date_format(timezone.localtime(visit.starts_at), "DATETIME_FORMAT")


class OneVisitView(WorkflowView):
    """A step on one of the participant's visits, named by `?visit=<id>`."""

    template_name = "visit_step.html"

    def has_permission(self, request) -> bool:
        return may_book_visits(request.user)

    def dispatch(self, request, object_id):
        self.visit_id = request.GET.get("visit", "")
        return super().dispatch(request, object_id)

    @property
    def visit(self) -> Visit:
        if not hasattr(self, "_visit"):
            if not self.visit_id.isdigit():
                raise Http404
            found = (
                Visit.objects.select_related("planned_visit")
                .filter(pk=int(self.visit_id), participant=self.participant)
                .first()
            )
            if found is None:
                raise Http404
            self._visit = found
        return self._visit

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "visit": self.visit}

    def get_context_data(self) -> dict:
        (row,) = [
            r
            for r in visit_list_of_participant(participant=self.participant)
            if r.visit.pk == self.visit.pk
        ]
        return {"visit_row_list": [row]}

    def success_url(self) -> str:
        return self.model_admin.workflow_url("visits", self.participant.pk)


class VisitRebookView(OneVisitView):
    form_class = VisitRebookForm
    title = _("Change a visit")
    submit_label = _("Change the visit and email the participant")

    def perform(self, form) -> str:
        data = form.cleaned_data
        visit = visits.visit_rebook(
            visit=self.visit,
            starts_at=data["starts_at"],
            place=data["place"],
            with_whom=data["with_whom"],
            by=self.request.user,
            reason=data["reason"],
        )
        self.log(self.participant, gettext("Changed a visit."))
        return gettext("%(visit)s moved to %(when)s; the participant's calendar is updated.") % {
            "visit": visit.planned_visit.name,
            "when": _when(visit),
        }


class VisitCancelView(OneVisitView):
    form_class = VisitCancelForm
    title = _("Cancel a visit")
    submit_label = _("Cancel the visit and email the participant")

    def perform(self, form) -> str:
        visit = visits.visit_cancel(
            visit=self.visit, by=self.request.user, reason=form.cleaned_data["reason"]
        )
        self.log(self.participant, gettext("Canceled a visit."))
        return gettext("%(visit)s on %(when)s is canceled.") % {
            "visit": visit.planned_visit.name,
            "when": _when(visit),
        }


class VisitOutcomeView(OneVisitView):
    form_class = VisitOutcomeForm
    title = _("Record how a visit went")
    submit_label = _("Save")

    def get(self, request, object_id):
        form = self.form_class(**self.get_form_kwargs())
        if request.GET.get("outcome") in (VisitStatus.ATTENDED, VisitStatus.MISSED):
            form.fields["outcome"].initial = request.GET["outcome"]
        return self.render(form)

    def perform(self, form) -> str:
        visit = visits.visit_outcome_record(
            visit=self.visit,
            outcome=form.cleaned_data["outcome"],
            by=self.request.user,
            reason=form.cleaned_data["reason"],
        )
        self.log(self.participant, gettext("Recorded how a visit went."))
        if visit.status == VisitStatus.MISSED:
            return gettext("%(visit)s marked missed: %(number)s is on the call list.") % {
                "visit": visit.planned_visit.name,
                "number": self.participant.screening_number,
            }
        return gettext("%(visit)s marked attended.") % {"visit": visit.planned_visit.name}
