"""The participant's workflow pages: one view per step (status, consent, enrollment, lab values,
eligibility override, contact attempt, duplicate review, rule out, verify answers, staff note),
each with its form and template.

The participant admin registers them under its own URLs (`ParticipantAdmin.get_urls`, with
`as_view(model_admin=...)`), so they run behind the admin's sign-in, in its look, scoped to the
user's studies like every admin page. Each binds its form, calls one service and redirects to
the participant; a domain refusal becomes a form error.
"""

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
from recruitment.models import Participant, Status, StatusReason
from recruitment.screening import services as screening
from recruitment.screening.answer_forms import VerifyAnswersForm
from recruitment.screening.call_card import call_card_build, script_blocks
from recruitment.screening.forms import (
    ConsentForm,
    ContactAttemptForm,
    DuplicateConfirmForm,
    DuplicateDismissForm,
    EligibilityOverrideForm,
    EnrolForm,
    LabValuesForm,
    RuleOutForm,
    StaffNoteForm,
    StatusChangeForm,
    WorkflowForm,
)
from recruitment.screening.gate import rule_out_criteria
from recruitment.screening.rule_out import participant_rule_out
from recruitment.screening.staff_notes import staff_note_add
from recruitment.screening.verified_answers import answer_verify, criterion_list_verifiable
from recruitment.screening.waitlist import (
    participant_enrol,
    participant_move,
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
        return gettext("%(number)s is enrolled as %(id)s.") % {
            "number": participant.screening_number,
            "id": participant.participant_id,
        }


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
        codes = [criterion.code for criterion in self.criteria]
        verdicts = (
            self.participant.verdicts.filter(criterion__code__in=codes)
            .select_related("criterion_version")
            .order_by("order")
        )
        return {"verdicts": verdicts}

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


class ContactAttemptView(WorkflowView):
    form_class = ContactAttemptForm
    template_name = "contact.html"
    title = _("Log a contact attempt")
    submit_label = _("Log the attempt")

    def get_context_data(self) -> dict:
        """The call card, as on the participant page, and the study's call script."""
        card = call_card_build(
            participant=self.participant,
            user=self.request.user,
            today=timezone.localdate(),
            can_change=False,
        )
        return {"call_card": card, "call_script": script_blocks(self.participant.study.call_script)}

    def perform(self, form) -> str:
        attempt = screening.contact_attempt_record(
            participant=self.participant,
            by=self.request.user,
            at=form.cleaned_data["at"],
            method=form.cleaned_data["method"],
            outcome=form.cleaned_data["outcome"],
            note=form.cleaned_data["note"],
            follow_up_on=form.cleaned_data["follow_up_on"],
        )
        self.log(self.participant, gettext("Logged a contact attempt."))
        return gettext("Contact attempt logged for %(number)s: %(outcome)s.") % {
            "number": self.participant.screening_number,
            "outcome": attempt.get_outcome_display(),
        }


class DuplicateReviewView(WorkflowView):
    """The two records side by side, so staff can judge the match."""

    template_name = "duplicate.html"

    def get_context_data(self) -> dict:
        match = self.participant.duplicate_of
        return {
            "match": match,
            "match_url": participant_change_url(match.pk) if match else None,
            "compared": [self.participant, match] if match else [self.participant],
        }


class DuplicateConfirmView(DuplicateReviewView):
    form_class = DuplicateConfirmForm
    title = _("Confirm duplicate")
    submit_label = _("Confirm duplicate and close")

    def perform(self, form) -> str:
        copied = form.copy_fields()
        participant = screening.duplicate_confirm(
            participant=self.participant, by=self.request.user, copy_fields=copied
        )
        self.log(participant, gettext("Confirmed a duplicate."))
        message = gettext("%(number)s is a confirmed duplicate and closed as declined.") % {
            "number": participant.screening_number
        }
        if copied:
            labels = {d.name: d.label for d in form.differences}
            message += " " + gettext("Copied to %(kept)s: %(fields)s.") % {
                "kept": participant.duplicate_of,
                "fields": ", ".join(labels[name] for name in copied),
            }
        return message


class DuplicateDismissView(DuplicateReviewView):
    form_class = DuplicateDismissForm
    title = _("Not a duplicate")
    submit_label = _("Not a duplicate")

    def perform(self, form) -> str:
        participant = screening.duplicate_dismiss(
            participant=self.participant, by=self.request.user, reason=form.cleaned_data["reason"]
        )
        self.log(participant, gettext("Dismissed a possible duplicate."))
        return gettext("%(number)s is marked as a different person.") % {
            "number": participant.screening_number
        }


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


class StaffNoteView(WorkflowView):
    """A note on the participant, kept with who and when; the latest notes above the form."""

    form_class = StaffNoteForm
    template_name = "staff_note.html"
    title = _("Add a note")
    submit_label = _("Add the note")

    def has_permission(self, request) -> bool:
        return request.user.has_perm("recruitment.add_staffnote") and can_identify(request.user)

    def get_context_data(self) -> dict:
        return {"notes": selectors.staff_note_list(participant=self.participant)}

    def perform(self, form) -> str:
        staff_note_add(
            participant=self.participant, text=form.cleaned_data["text"], by=self.request.user
        )
        self.log(self.participant, gettext("Added a staff note."))
        return gettext("Note added to %(number)s.") % {"number": self.participant.screening_number}


# The pages by URL name (`admin:recruitment_participant_<name>`) with their paths under the
# participant's admin URL.
WORKFLOW_PAGES = {
    "status": ("status/", StatusChangeView),
    "consent": ("consent/", ConsentView),
    "enrol": ("enrol/", EnrolView),
    "lab_values": ("lab-values/", LabValuesView),
    "override": ("eligibility-override/", EligibilityOverrideView),
    "contact": ("contact/", ContactAttemptView),
    "duplicate_confirm": ("duplicate/confirm/", DuplicateConfirmView),
    "duplicate_dismiss": ("duplicate/dismiss/", DuplicateDismissView),
    "rule_out": ("rule-out/", RuleOutView),
    "verify": ("verify-answers/", VerifyAnswersView),
    "note": ("note/", StaffNoteView),
}
