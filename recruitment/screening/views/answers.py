"""The steps on a participant's answers: lab values, staff-verified answers, an
investigator's eligibility override."""

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from recruitment import selectors
from recruitment.errors import RecruitmentError
from recruitment.screening import services as screening
from recruitment.screening.answer_forms import VerifyAnswersForm
from recruitment.screening.forms import (
    EligibilityOverrideForm,
    LabValuesForm,
)
from recruitment.screening.verified_answers import answer_verify, criterion_list_verifiable
from recruitment.screening.views.base import (
    NOTHING_TO_SAVE,
    WorkflowView,
)


class LabValuesView(WorkflowView):
    """One field per staff-assessed criterion, filled with the values recorded so far."""

    form_class = LabValuesForm
    template_name = "lab_values.html"
    title = _("Record lab values")
    submit_label = _("Save the values")

    def get_form_kwargs(self) -> dict:
        self.criteria = selectors.criterion_list_for_staff(study=self.participant.study)
        current = selectors.answer_values_for(participant=self.participant, criteria=self.criteria)
        return {**super().get_form_kwargs(), "criteria": self.criteria, "current": current}

    def get_context_data(self) -> dict:
        staff = {criterion.pk for criterion in self.criteria}
        verdicts = selectors.verdict_list(participant=self.participant)
        return {"verdicts": [verdict for verdict in verdicts if verdict.criterion_id in staff]}

    def perform(self, form) -> str:
        values = form.values()
        if not values:
            raise RecruitmentError(NOTHING_TO_SAVE)
        participant = screening.lab_values_record(
            participant=self.participant,
            values=values,
            by=self.request.user,
            reason=form.cleaned_data["reason"],
        )
        self.log(participant, gettext("Recorded staff-assessed values."))
        return gettext("Values saved for %(number)s. Pre-screen outcome: %(outcome)s.") % {
            "number": participant.screening_number,
            "outcome": participant.get_outcome_display(),
        }


class EligibilityOverrideView(WorkflowView):
    """Investigators only: one reason box per criterion that stops the participant."""

    form_class = EligibilityOverrideForm
    template_name = "eligibility_override.html"
    title = _("Record an eligibility override")
    submit_label = _("Record the override")

    def has_permission(self, request) -> bool:
        return request.user.has_perm("recruitment.override_eligibility")

    def get_form_kwargs(self) -> dict:
        blocking = selectors.verdict_list_blocking(
            participant=self.participant, today=timezone.localdate()
        )
        return {**super().get_form_kwargs(), "blocking": blocking}

    def perform(self, form) -> str:
        overrides = screening.eligibility_override_record(
            participant=self.participant, reasons=form.reasons(), by=self.request.user
        )
        self.log(self.participant, gettext("Recorded an eligibility override."))
        return gettext("Eligibility override recorded for %(number)s: %(criteria)s.") % {
            "number": self.participant.screening_number,
            "criteria": ", ".join(
                o.criterion_snapshot.get("title") or o.criterion_code for o in overrides
            ),
        }


class VerifyAnswersView(WorkflowView):
    """Staff confirm the patient's answers (a "not sure" above all), and say how."""

    form_class = VerifyAnswersForm
    template_name = "verify_answers.html"
    title = _("Verify answers")
    submit_label = _("Save the verified answers")

    def get_form_kwargs(self) -> dict:
        self.criteria = criterion_list_verifiable(study=self.participant.study)
        answers = self.participant.answers.filter(criterion__in=self.criteria)
        current = {answer.criterion.code: answer for answer in answers.select_related("criterion")}
        return {**super().get_form_kwargs(), "criteria": self.criteria, "current": current}

    def get_context_data(self) -> dict:
        codes = [criterion.code for criterion in self.criteria]
        verdicts = self.participant.verdicts.filter(criterion__code__in=codes).order_by("order")
        return {"verdicts": verdicts}

    def perform(self, form) -> str:
        participant = answer_verify(
            participant=self.participant,
            answers=form.answers(),
            how=form.cleaned_data["how"],
            note=form.cleaned_data["note"],
            by=self.request.user,
        )
        self.log(participant, gettext("Recorded verified answers."))
        return gettext(
            "Verified answers saved for %(number)s. Pre-screen outcome: %(outcome)s."
        ) % {
            "number": participant.screening_number,
            "outcome": participant.get_outcome_display(),
        }
