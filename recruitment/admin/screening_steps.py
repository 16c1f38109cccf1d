"""The participant admin's pieces for three screening steps: ruling out from `new` (a bulk
action and the page's button), verifying the patient's answers (the page's button), and staff
notes (the button, the list on the page, the audit trail)."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from recruitment import eligibility, selectors
from recruitment.admin.common import refusal_message, user_shown
from recruitment.admin.inlines import ReadOnlyInline
from recruitment.errors import RecruitmentError
from recruitment.identification import can_identify
from recruitment.models import AnsweredBy, Outcome, StaffNote, Status, Verdict
from recruitment.screening.gate import rule_out_criteria
from recruitment.screening.rule_out import participant_rule_out
from recruitment.screening.views import status_log_message


@admin.action(description=_("Rule out (pre-screen ineligible)"), permissions=["change"])
def rule_out(modeladmin, request, queryset):
    """Close each selected new, likely-ineligible applicant as ineligible; say for each other
    row why it was left as it is."""
    done = []
    for participant in queryset.order_by("screening_seq"):
        try:
            participant = participant_rule_out(participant=participant, by=request.user)
        except RecruitmentError as exc:
            modeladmin.message_user(request, refusal_message(participant, exc), messages.ERROR)
            continue
        done.append(participant.screening_number)
        modeladmin.log_change(request, participant, status_log_message(Status.INELIGIBLE))
    if done:
        message = ngettext(
            "%(count)d participant ruled out as “%(status)s”: %(numbers)s.",
            "%(count)d participants ruled out as “%(status)s”: %(numbers)s.",
            len(done),
        ) % {"count": len(done), "status": Status.INELIGIBLE.label, "numbers": ", ".join(done)}
        modeladmin.message_user(request, message, messages.SUCCESS)


def unsure_answer_count(participant) -> int:
    """The questions the patient answered "not sure" (or left unanswered) that staff could
    verify: verdicts unknown, asked on the form (1 query)."""
    return (
        participant.verdicts.filter(
            verdict=Verdict.UNKNOWN, criterion__answered_by=AnsweredBy.PATIENT
        )
        .exclude(criterion__rule_kind__in=list(eligibility.RULES_FROM_CONTACT_DETAILS))
        .count()
    )


def screening_step_links(request, participant, url) -> list[tuple[str, str]]:
    """The buttons for these steps that apply to the participant as they stand; `url(name)`
    gives a workflow page's address."""
    links = []
    if (
        participant.status == Status.NEW
        and participant.outcome == Outcome.LIKELY_INELIGIBLE
        and rule_out_criteria(participant=participant, today=timezone.localdate())
    ):
        links.append((gettext("Rule out (pre-screen ineligible)"), url("rule_out")))
    if participant.erased_at is None:
        unsure = unsure_answer_count(participant)
        label = gettext("Verify answers")
        if unsure:
            label = ngettext(
                "Verify answers (%(count)d not sure)",
                "Verify answers (%(count)d not sure)",
                unsure,
            ) % {"count": unsure}
        links.append((label, url("verify")))
        if request.user.has_perm("recruitment.add_staffnote") and can_identify(request.user):
            links.append((gettext("Add a note"), url("note")))
    return links


def staff_notes_readable(user) -> bool:
    """Notes may quote the person: only staff who may see names read them."""
    return user.has_perm("recruitment.view_staffnote") and can_identify(user)


def staff_note_history(request, participant):
    """The participant's notes for the audit trail, or None for users who may not read them."""
    if not staff_notes_readable(request.user):
        return None
    return selectors.staff_note_list(participant=participant)


class StaffNoteInline(ReadOnlyInline):
    """Staff notes, newest first; "Add a note" adds one through the service."""

    model = StaffNote
    verbose_name_plural = _("staff notes")
    fields = ["at", "by_user", "text"]
    readonly_fields = fields
    ordering = ["-at", "-pk"]

    def has_view_permission(self, request, obj=None):
        return staff_notes_readable(request.user)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")

    @admin.display(description=_("by"))
    def by_user(self, obj):
        return user_shown(obj.by)
