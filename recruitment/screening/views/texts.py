"""Stop texts to a participant who asked on a call, or turn them back on when the person asks
again: recorded with who, when and why, as a STOP or START reply would be
(`recruitment.texts.services`), and audited in the opt-out's history."""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from recruitment.errors import RecruitmentError
from recruitment.identification import can_identify
from recruitment.models import OptOutHow
from recruitment.screening.forms import WorkflowForm
from recruitment.screening.views.base import WorkflowView
from recruitment.texts.services import text_opt_in_record, text_opt_out_record, texts_stopped

NO_NUMBER_TO_STOP = _("This participant has no phone number we could text.")
ALREADY_STOPPED = _("Texts to this number are already stopped.")


class TextsStopForm(WorkflowForm):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_(
            "What the person asked, in a few words (e.g. “Asked on the call for no more "
            "texts”). Kept with your name and the time."
        ),
    )

    def clean_reason(self):
        reason = " ".join(self.cleaned_data["reason"].split())
        if not reason:
            raise forms.ValidationError(self.fields["reason"].error_messages["required"])
        return reason


class TextsStopView(WorkflowView):
    form_class = TextsStopForm
    template_name = "texts_stop.html"
    title = _("Stop texts (asked on the call)")
    submit_label = _("Stop texts")

    def has_permission(self, request) -> bool:
        return can_identify(request.user)

    def perform(self, form) -> str:
        phone = self.participant.phone
        if not phone.startswith("+"):
            raise RecruitmentError(str(NO_NUMBER_TO_STOP))
        if texts_stopped(phone=phone):
            raise RecruitmentError(str(ALREADY_STOPPED))
        text_opt_out_record(
            phone=phone,
            how=OptOutHow.STAFF,
            by=self.request.user,
            reason=form.cleaned_data["reason"],
            participant=self.participant,
        )
        self.log(self.participant, gettext("Stopped texts (asked on the call)."))
        return gettext(
            "No more texts to %(number)s; reminders and notices go by email instead."
        ) % {"number": self.participant.screening_number}


class TextsStartForm(TextsStopForm):
    asked = forms.BooleanField(
        label=_("The person asked for texts again"),
        help_text=_("Turn texts back on only when the person asks you to."),
    )

    field_order = ["asked", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = _(
            "What the person asked, in a few words (e.g. “Asked on the call for texts "
            "again”). Kept with your name and the time."
        )


class TextsStartView(WorkflowView):
    form_class = TextsStartForm
    template_name = "texts_start.html"
    title = _("Turn texts back on (asked on the call)")
    submit_label = _("Turn texts back on")

    def has_permission(self, request) -> bool:
        return can_identify(request.user)

    def perform(self, form) -> str:
        text_opt_in_record(
            phone=self.participant.phone,
            how=OptOutHow.STAFF,
            by=self.request.user,
            reason=form.cleaned_data["reason"],
            participant=self.participant,
        )
        self.log(self.participant, gettext("Turned texts back on (asked on the call)."))
        return gettext("Texts to %(number)s are back on.") % {
            "number": self.participant.screening_number
        }
