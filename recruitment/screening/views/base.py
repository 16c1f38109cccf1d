"""What every workflow page shares: the view that finds the participant in the user's scope,
binds the form, calls one service and redirects; the messages and links the pages and the
participant admin use."""

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View

from recruitment import selectors
from recruitment.errors import RecruitmentError
from recruitment.identification import can_identify
from recruitment.models import Participant, Status
from recruitment.screening.forms import (
    WorkflowForm,
)
from recruitment.screening.waitlist import (
    waitlist_place,
)

PARTICIPANT_NOT_FOUND = _("That participant does not exist, or is not in one of your studies.")
NOTHING_TO_SAVE = _("Enter or change at least one value.")
TEMPLATES = "admin/recruitment/participant/workflow"


def participant_change_url(pk) -> str:
    return reverse("admin:recruitment_participant_change", args=[pk])


def status_log_message(to: Status) -> str:
    """The admin log's entry: no reason text (it may name someone), only the new status."""
    return gettext("Status changed to “%(status)s”.") % {"status": to.label}


def participant_not_found(request) -> HttpResponseRedirect:
    """Back to the admin's index with a word, as the admin's own pages answer: the participant
    is gone or outside the user's studies (one answer for both, so the page does not tell
    which participants exist)."""
    messages.warning(request, PARTICIPANT_NOT_FOUND)
    return HttpResponseRedirect(reverse("admin:index"))


def waitlisted_message(participant: Participant) -> str:
    return gettext(
        "%(number)s is eligible; the study is full, so they are on the waitlist (number %(place)s)."
    ) % {"number": participant.screening_number, "place": waitlist_place(participant)}


def override_allowed(user, participant: Participant) -> bool:
    """Investigators only, before enrollment, while a criterion stops the participant."""
    return (
        user.has_perm("recruitment.override_eligibility")
        and participant.status in Status.in_progress()
        and bool(
            selectors.verdict_list_blocking(participant=participant, today=timezone.localdate())
        )
    )


class WorkflowView(View):
    """One step on one participant. Subclasses name their form, template, title and button,
    and `perform` the step with one service call, returning the message shown afterwards."""

    model_admin = None  # the participant admin that registers the page
    form_class: type[WorkflowForm]
    template_name: str
    title: str
    submit_label: str
    log_message: str = ""  # the admin log's entry when `perform` does not write its own

    def dispatch(self, request, object_id):
        admin = self.model_admin
        if not (admin.has_change_permission(request) and self.has_permission(request)):
            raise PermissionDenied
        participant = admin.get_object(request, unquote(object_id))
        if participant is None:
            return participant_not_found(request)
        if not admin.has_change_permission(request, participant):
            raise PermissionDenied
        self.participant = participant
        return super().dispatch(request, object_id)

    def has_permission(self, request) -> bool:
        return True

    def get_form_kwargs(self) -> dict:
        return {"participant": self.participant, "user": self.request.user}

    def get_context_data(self) -> dict:
        return {}

    def perform(self, form) -> str:
        raise NotImplementedError

    def get(self, request, object_id):
        return self.render(self.form_class(**self.get_form_kwargs()))

    def post(self, request, object_id):
        form = self.form_class(request.POST, **self.get_form_kwargs())
        if form.is_valid():
            try:
                message = self.perform(form)
            except RecruitmentError as exc:
                form.add_error(None, str(exc))
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                messages.success(request, message)
                return HttpResponseRedirect(self.success_url())
        return self.render(form)

    def success_url(self) -> str:
        """Back to the page the step was opened from when it says so (`?next=`, a page of
        this site: the call list's "Log a call"), otherwise to the participant."""
        url = self.request.GET.get("next", "")
        if url and url_has_allowed_host_and_scheme(
            url, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        ):
            return url
        return participant_change_url(self.participant.pk)

    def log(self, participant: Participant, message: str) -> None:
        """The admin's own log entry ("recent actions"), as its change form writes one."""
        self.model_admin.log_change(self.request, participant, message)

    def render(self, form) -> TemplateResponse:
        admin = self.model_admin
        context = {
            **admin.admin_site.each_context(self.request),
            "opts": admin.opts,
            "original": self.participant,
            "title": f"{self.title}: {self.participant.screening_number}",
            "form": form,
            "submit_label": self.submit_label,
            "change_url": participant_change_url(self.participant.pk),
            "can_identify": can_identify(self.request.user),
            **self.get_context_data(),
        }
        self.request.current_app = admin.admin_site.name
        return TemplateResponse(self.request, f"{TEMPLATES}/{self.template_name}", context)


def duplicate_warning(participant: Participant) -> str:
    """Words for a participant whose possible duplicate nobody has reviewed yet (either side
    of the match): a warning, never a block. "" when there is none."""
    numbers = selectors.participant_duplicates_unreviewed(participant=participant)
    if not numbers:
        return ""
    return gettext(
        "Possible duplicate not reviewed yet: %(numbers)s. Check it is not the same person "
        "before consent and enrollment."
    ) % {"numbers": ", ".join(numbers)}


class DuplicateWarningMixin:
    """The consent and enrollment pages say when a possible duplicate is unreviewed."""

    def get_context_data(self) -> dict:
        return {
            **super().get_context_data(),
            "duplicate_warning": duplicate_warning(self.participant),
        }
