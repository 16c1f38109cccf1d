"""The steps about reaching and knowing the person: a contact attempt, a staff note, the
review of a possible duplicate."""

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from recruitment import selectors
from recruitment.identification import can_identify
from recruitment.screening import duplicates
from recruitment.screening import services as screening
from recruitment.screening.call_card import call_card_build, script_blocks
from recruitment.screening.forms import (
    ContactAttemptForm,
    DuplicateConfirmForm,
    DuplicateDismissForm,
    StaffNoteForm,
)
from recruitment.screening.staff_notes import staff_note_add
from recruitment.screening.views.base import (
    WorkflowView,
    participant_change_url,
)


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
        participant = duplicates.duplicate_confirm(
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
        participant = duplicates.duplicate_dismiss(
            participant=self.participant, by=self.request.user, reason=form.cleaned_data["reason"]
        )
        self.log(participant, gettext("Dismissed a possible duplicate."))
        return gettext("%(number)s is marked as a different person.") % {
            "number": participant.screening_number
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
