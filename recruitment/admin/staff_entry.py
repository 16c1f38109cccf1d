"""Enter an applicant who phoned or walked in: the participant admin's "add" page.

The coordinator fills in the public interest form (`StaffEntryForm`, the same form class and
rules) and it goes through the same service as a web submission (`participant_submit`:
evaluation, screening number, duplicate link), recorded as entered by them, with its source.
The public form's per-address rate limit does not apply: an office enters many people from
one address. The person gets the confirmation email only when the coordinator ticks the box.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.decorators.debug import sensitive_post_parameters

from recruitment import selectors
from recruitment.errors import StudyNotRecruiting
from recruitment.identification import can_identify
from recruitment.intake.services import STUDY_NOT_RECRUITING, participant_submit
from recruitment.intake.staff_entry import StaffEntryForm
from recruitment.models import Study

ENTER_APPLICANT = _("Enter an applicant (phone call)")
NO_STUDY = _("You are not a member of a study that is recruiting.")
STUDY_NOT_YOURS = _("Choose one of your studies.")


def staff_entry_allowed(user) -> bool:
    """Coordinators and investigators: they change participants and see identities. Monitors
    (read-only, no identities) never."""
    return user.has_perm("recruitment.change_participant") and can_identify(user)


@method_decorator(sensitive_post_parameters(), name="dispatch")
class StaffEntryView(View):
    """GET: choose the study (when the user has several), then the blank form. POST: one
    `participant_submit`, then the new participant's page."""

    model_admin = None  # the participant admin whose "add" page this is
    template_name = "admin/recruitment/participant/staff_entry.html"

    def dispatch(self, request, *args, **kwargs):
        if not staff_entry_allowed(request.user):
            raise PermissionDenied
        studies = list(
            Study.objects.visible_to(request.user).filter(is_recruiting=True).order_by("title")
        )
        self.studies = studies
        wanted = request.GET.get("study") or request.POST.get("study")
        self.study = None
        if len(studies) == 1 and not wanted:
            self.study = studies[0]
        elif wanted:
            self.study = next((s for s in studies if str(s.pk) == wanted), None)
            if self.study is None:
                messages.warning(request, STUDY_NOT_YOURS)
        return super().dispatch(request, *args, **kwargs)

    def form(self, data=None) -> StaffEntryForm:
        criteria = selectors.criterion_list_for_form(study=self.study)
        return StaffEntryForm(data, study=self.study, criteria=criteria)

    def get(self, request, *args, **kwargs):
        return self.render(self.form() if self.study else None)

    def post(self, request, *args, **kwargs):
        if self.study is None:
            return self.render(None)
        form = self.form(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                participant = participant_submit(
                    study=self.study,
                    contact=form.contact_details(),
                    answers=form.answers(),
                    token=data.get("submission_token"),
                    language=data["language"],
                    site_url=request.build_absolute_uri("/"),
                    entered_by=request.user,
                    entry_source=data["entry_source"],
                    patient_email=data["send_confirmation"],
                )
            except StudyNotRecruiting:
                form.add_error(None, STUDY_NOT_RECRUITING)
            else:
                admin = self.model_admin
                admin.log_addition(request, participant, gettext("Entered by staff."))
                messages.success(request, self.success_message(participant, data))
                return HttpResponseRedirect(
                    reverse("admin:recruitment_participant_change", args=[participant.pk])
                )
        return self.render(form)

    @staticmethod
    def success_message(participant, data) -> str:
        message = gettext("%(number)s entered (%(source)s). Pre-screen outcome: %(outcome)s.") % {
            "number": participant.screening_number,
            "source": participant.get_entry_source_display(),
            "outcome": participant.get_outcome_display(),
        }
        if participant.duplicate_of_id:
            message += " " + gettext("Possible duplicate of %(number)s: review it.") % {
                "number": participant.duplicate_of.screening_number
            }
        if data["send_confirmation"]:
            message += " " + gettext("The confirmation email is on its way.")
        else:
            message += " " + gettext("No email was sent to the person.")
        return message

    def render(self, form) -> TemplateResponse:
        admin = self.model_admin
        request = self.request
        context = {
            **admin.admin_site.each_context(request),
            "opts": admin.opts,
            "title": ENTER_APPLICANT,
            "form": form,
            "study": self.study,
            "studies": self.studies,
            "no_study_message": NO_STUDY,
            "changelist_url": reverse("admin:recruitment_participant_changelist"),
        }
        request.current_app = admin.admin_site.name
        return TemplateResponse(request, self.template_name, context)
