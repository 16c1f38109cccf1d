"""The steps that move a participant through the status machine: change status, rule out
from new, record consent, enroll."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from recruitment import selectors
from recruitment.allocation import selectors as allocation_selectors
from recruitment.models import Status, StatusReason
from recruitment.screening import services as screening
from recruitment.screening.forms import (
    ConsentForm,
    EnrolForm,
    RuleOutForm,
    StatusChangeForm,
)
from recruitment.screening.gate import rule_out_criteria
from recruitment.screening.rule_out import participant_rule_out
from recruitment.screening.views.base import (
    DuplicateWarningMixin,
    WorkflowView,
    status_log_message,
    waitlisted_message,
)
from recruitment.screening.waitlist import (
    participant_enrol,
    participant_move,
    waitlist_place,
)


class StatusChangeView(WorkflowView):
    form_class = StatusChangeForm
    template_name = "status.html"
    title = _("Change status")
    submit_label = _("Change status")

    def get_form_kwargs(self) -> dict:
        """The move chosen on the participant page (`?to=eligible`) comes selected."""
        return {**super().get_form_kwargs(), "initial": {"to": self.request.GET.get("to", "")}}

    def get_context_data(self) -> dict:
        """Point a new, likely-ineligible applicant's page to ruling out in one step."""
        participant = self.participant
        if participant.status == Status.NEW and rule_out_criteria(
            participant=participant, today=timezone.localdate()
        ):
            url = reverse("admin:recruitment_participant_rule_out", args=[participant.pk])
            return {"rule_out_url": url}
        return {}

    def perform(self, form) -> str:
        to = Status(form.cleaned_data["to"])
        participant = participant_move(
            participant=self.participant,
            to=to,
            by=self.request.user,
            reason=form.cleaned_data["reason"],
            reason_code=form.cleaned_data["reason_code"],
            reason_criterion=form.cleaned_data["reason_criterion"],
        )
        self.log(participant, status_log_message(Status(participant.status)))
        if to == Status.ELIGIBLE and participant.status == Status.WAITLISTED:
            return waitlisted_message(participant)
        return gettext("%(number)s is now “%(status)s”.") % {
            "number": participant.screening_number,
            "status": to.label,
        }


class ConsentView(DuplicateWarningMixin, WorkflowView):
    form_class = ConsentForm
    template_name = "consent.html"
    title = _("Record informed consent")
    submit_label = _("Record consent")

    def perform(self, form) -> str:
        participant = screening.consent_record(
            participant=self.participant,
            consented_on=form.cleaned_data["consented_on"],
            form_version=form.cleaned_data["form_version"],
            obtained_by=form.cleaned_data["obtained_by"],
            by=self.request.user,
        )
        self.log(participant, gettext("Recorded informed consent."))
        if participant.status == Status.WAITLISTED:
            return gettext(
                "Informed consent recorded: the study is full, so %(number)s keeps their place "
                "on the waitlist (number %(place)s)."
            ) % {"number": participant.screening_number, "place": waitlist_place(participant)}
        return gettext("Informed consent recorded: %(number)s is now “Consented”.") % {
            "number": participant.screening_number
        }


class EnrolView(DuplicateWarningMixin, WorkflowView):
    form_class = EnrolForm
    template_name = "enrol.html"
    title = _("Enroll")
    submit_label = _("Enroll")

    def get_context_data(self) -> dict:
        (progress,) = selectors.study_progress_list(
            user=self.request.user, study=self.participant.study
        )
        return {**super().get_context_data(), "progress": progress}

    def perform(self, form) -> str:
        participant = participant_enrol(
            participant=self.participant,
            by=self.request.user,
            reason=form.cleaned_data["reason"],
        )
        self.log(participant, status_log_message(Status.ENROLLED))
        enrolled = gettext("%(number)s is enrolled as %(id)s.") % {
            "number": participant.screening_number,
            "id": participant.participant_id,
        }
        # The pack to hand out, never its arm (concealed allocation).
        pack_code = allocation_selectors.pack_code_get(participant=participant)
        if pack_code:
            enrolled += " " + gettext("Pack code: %(code)s") % {"code": pack_code}
        return enrolled


class RuleOutView(WorkflowView):
    """Close a new, likely-ineligible applicant as ineligible: the page lists the criteria the
    pre-screen found not met, which become the reason."""

    form_class = RuleOutForm
    template_name = "rule_out.html"
    title = _("Rule out (pre-screen ineligible)")
    submit_label = _("Rule out as ineligible")

    def get_context_data(self) -> dict:
        failed = rule_out_criteria(participant=self.participant, today=timezone.localdate())
        return {"failed": failed}

    def perform(self, form) -> str:
        participant = participant_rule_out(participant=self.participant, by=self.request.user)
        self.log(participant, status_log_message(Status.INELIGIBLE))
        return gettext("%(number)s is ruled out: now “%(status)s” (%(reason)s).") % {
            "number": participant.screening_number,
            "status": Status.INELIGIBLE.label,
            "reason": StatusReason.FAILS_CRITERION.label,
        }
