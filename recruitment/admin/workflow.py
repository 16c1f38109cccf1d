"""The participant's workflow pages (status, consent, enrollment, lab values, eligibility
override, contact attempt, duplicate review): each binds its form, calls one service and
redirects to the participant; a refusal becomes a form error."""

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext

from recruitment import selectors
from recruitment.admin.common import participant_change_url, status_log_message
from recruitment.admin.forms import (
    ConsentForm,
    ContactAttemptForm,
    DuplicateConfirmForm,
    DuplicateDismissForm,
    EligibilityOverrideForm,
    EnrolForm,
    LabValuesForm,
    StatusChangeForm,
)
from recruitment.errors import RecruitmentError
from recruitment.identification import (
    can_identify,
)
from recruitment.models import (
    Status,
)
from recruitment.screening import services as screening


class WorkflowPagesMixin:
    """The workflow pages of `ParticipantAdmin`, registered by its `get_urls`."""

    def get_urls(self):
        pages = {
            "status": ("status/", self.status_view),
            "consent": ("consent/", self.consent_view),
            "enrol": ("enrol/", self.enrol_view),
            "lab_values": ("lab-values/", self.lab_values_view),
            "override": ("eligibility-override/", self.eligibility_override_view),
            "contact": ("contact/", self.contact_attempt_view),
            "duplicate_confirm": ("duplicate/confirm/", self.duplicate_confirm_view),
            "duplicate_dismiss": ("duplicate/dismiss/", self.duplicate_dismiss_view),
        }
        workflow = [
            path(
                f"<path:object_id>/{route}",
                self.admin_site.admin_view(view),
                name=self.workflow_url_name(name),
            )
            for name, (route, view) in pages.items()
        ]
        # Before the admin's own patterns: its "<object_id>/" catch-all would match first.
        return workflow + super().get_urls()

    def workflow_url_name(self, name: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{name}"

    def workflow_url(self, name: str, pk) -> str:
        return reverse(f"admin:{self.workflow_url_name(name)}", args=[pk])

    def workflow_view(
        self,
        request,
        object_id,
        *,
        form_class,
        title,
        submit_label,
        perform,
        form_kwargs=None,
        context=None,
    ):
        """One workflow page: find the participant in the user's scope, check the change
        permission, bind the form, call `perform` (one service) on a valid POST and redirect
        to the participant; a domain refusal becomes a form error."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        data = request.POST if request.method == "POST" else None
        form = form_class(data, participant=obj, user=request.user, **(form_kwargs or {}))
        if data is not None and form.is_valid():
            try:
                message = perform(form, obj)
            except RecruitmentError as exc:
                form.add_error(None, str(exc))
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                self.message_user(request, message, messages.SUCCESS)
                return HttpResponseRedirect(participant_change_url(obj.pk))
        page_context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": f"{title}: {obj.screening_number}",
            "form": form,
            "submit_label": submit_label,
            "change_url": participant_change_url(obj.pk),
            "can_identify": can_identify(request.user),
            **((context(obj) if callable(context) else context) or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.workflow_template, page_context)

    def status_view(self, request, object_id):
        def perform(form, participant):
            to = Status(form.cleaned_data["to"])
            participant = screening.participant_transition(
                participant=participant,
                to=to,
                by=request.user,
                reason=form.cleaned_data["reason"],
                reason_code=form.cleaned_data["reason_code"],
                reason_criterion=form.cleaned_data["reason_criterion"],
            )
            self.log_change(request, participant, status_log_message(to))
            return gettext("%(number)s is now “%(status)s”.") % {
                "number": participant.screening_number,
                "status": to.label,
            }

        return self.workflow_view(
            request,
            object_id,
            form_class=StatusChangeForm,
            title=gettext("Change status"),
            submit_label=gettext("Change status"),
            perform=perform,
        )

    def consent_view(self, request, object_id):
        def perform(form, participant):
            participant = screening.consent_record(
                participant=participant,
                consented_on=form.cleaned_data["consented_on"],
                form_version=form.cleaned_data["form_version"],
                obtained_by=form.cleaned_data["obtained_by"],
                by=request.user,
            )
            self.log_change(request, participant, gettext("Recorded informed consent."))
            return gettext("Informed consent recorded: %(number)s is now “Consented”.") % {
                "number": participant.screening_number
            }

        return self.workflow_view(
            request,
            object_id,
            form_class=ConsentForm,
            title=gettext("Record informed consent"),
            submit_label=gettext("Record consent"),
            perform=perform,
        )

    def enrol_view(self, request, object_id):
        def perform(form, participant):
            participant = screening.participant_transition(
                participant=participant,
                to=Status.ENROLLED,
                by=request.user,
                reason=form.cleaned_data["reason"],
            )
            self.log_change(request, participant, status_log_message(Status.ENROLLED))
            return gettext("%(number)s is enrolled as %(id)s.") % {
                "number": participant.screening_number,
                "id": participant.participant_id,
            }

        def context(participant):
            (progress,) = selectors.study_progress_list(user=request.user, study=participant.study)
            return {"progress": progress}

        return self.workflow_view(
            request,
            object_id,
            form_class=EnrolForm,
            title=gettext("Enrol"),
            submit_label=gettext("Enrol"),
            perform=perform,
            context=context,
        )

    def lab_values_view(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        criteria = selectors.criterion_list_for_staff(study=obj.study) if obj else []
        current = selectors.answer_values_for(participant=obj, criteria=criteria) if obj else {}

        def perform(form, participant):
            values = form.values()
            if not values:
                raise RecruitmentError(gettext("Enter or change at least one value."))
            participant = screening.lab_values_record(
                participant=participant,
                values=values,
                by=request.user,
                reason=form.cleaned_data["reason"],
            )
            self.log_change(request, participant, gettext("Recorded staff-assessed values."))
            return gettext("Values saved for %(number)s. Pre-screen outcome: %(outcome)s.") % {
                "number": participant.screening_number,
                "outcome": participant.get_outcome_display(),
            }

        def context(participant):
            codes = [c.code for c in criteria]
            verdicts = (
                participant.verdicts.filter(criterion__code__in=codes)
                .select_related("criterion_version")
                .order_by("order")
            )
            return {"verdicts": verdicts}

        return self.workflow_view(
            request,
            object_id,
            form_class=LabValuesForm,
            title=gettext("Record lab values"),
            submit_label=gettext("Save the values"),
            perform=perform,
            form_kwargs={"criteria": criteria, "current": current},
            context=context,
        )

    def can_override(self, request, obj) -> bool:
        """Investigators only, before enrollment, while a criterion stops the participant."""
        return (
            request.user.has_perm("recruitment.override_eligibility")
            and obj.status in Status.in_progress()
            and bool(selectors.verdict_list_blocking(participant=obj, today=timezone.localdate()))
        )

    def eligibility_override_view(self, request, object_id):
        if not request.user.has_perm("recruitment.override_eligibility"):
            raise PermissionDenied
        obj = self.get_object(request, unquote(object_id))
        blocking = (
            selectors.verdict_list_blocking(participant=obj, today=timezone.localdate())
            if obj
            else []
        )

        def perform(form, participant):
            overrides = screening.eligibility_override_record(
                participant=participant, reasons=form.reasons(), by=request.user
            )
            self.log_change(request, participant, gettext("Recorded an eligibility override."))
            return gettext("Eligibility override recorded for %(number)s: %(criteria)s.") % {
                "number": participant.screening_number,
                "criteria": ", ".join(
                    o.criterion_snapshot.get("title") or o.criterion_code for o in overrides
                ),
            }

        return self.workflow_view(
            request,
            object_id,
            form_class=EligibilityOverrideForm,
            title=gettext("Record an eligibility override"),
            submit_label=gettext("Record the override"),
            perform=perform,
            form_kwargs={"blocking": blocking},
        )

    def contact_attempt_view(self, request, object_id):
        def perform(form, participant):
            attempt = screening.contact_attempt_record(
                participant=participant,
                by=request.user,
                at=form.cleaned_data["at"],
                method=form.cleaned_data["method"],
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
                follow_up_on=form.cleaned_data["follow_up_on"],
            )
            self.log_change(request, participant, gettext("Logged a contact attempt."))
            return gettext("Contact attempt logged for %(number)s: %(outcome)s.") % {
                "number": participant.screening_number,
                "outcome": attempt.get_outcome_display(),
            }

        return self.workflow_view(
            request,
            object_id,
            form_class=ContactAttemptForm,
            title=gettext("Log a contact attempt"),
            submit_label=gettext("Log the attempt"),
            perform=perform,
        )

    def duplicate_confirm_view(self, request, object_id):
        def perform(form, participant):
            participant = screening.duplicate_confirm(participant=participant, by=request.user)
            self.log_change(request, participant, gettext("Confirmed a duplicate."))
            return gettext("%(number)s is a confirmed duplicate and closed as declined.") % {
                "number": participant.screening_number
            }

        return self.workflow_view(
            request,
            object_id,
            form_class=DuplicateConfirmForm,
            title=gettext("Confirm duplicate"),
            submit_label=gettext("Confirm duplicate and close"),
            perform=perform,
            context=duplicate_context,
        )

    def duplicate_dismiss_view(self, request, object_id):
        def perform(form, participant):
            participant = screening.duplicate_dismiss(
                participant=participant, by=request.user, reason=form.cleaned_data["reason"]
            )
            self.log_change(request, participant, gettext("Dismissed a possible duplicate."))
            return gettext("%(number)s is marked as a different person.") % {
                "number": participant.screening_number
            }

        return self.workflow_view(
            request,
            object_id,
            form_class=DuplicateDismissForm,
            title=gettext("Not a duplicate"),
            submit_label=gettext("Not a duplicate"),
            perform=perform,
            context=duplicate_context,
        )


def duplicate_context(participant) -> dict:
    """The two records side by side, so staff can judge the match."""
    match = participant.duplicate_of
    return {
        "match": match,
        "match_url": participant_change_url(match.pk) if match else None,
        "compared": [participant, match] if match else [participant],
    }
