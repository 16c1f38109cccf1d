"""The participant queue's bulk actions: each selected participant moved through the status
service in waitlist order, each refusal reported by screening number with why, the moves in
one message; an enrollment also names the pack code each participant took (never an arm)."""

from django.contrib import admin, messages
from django.db.models import F
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from recruitment.allocation.selectors import pack_code_get
from recruitment.errors import RecruitmentError
from recruitment.models import Status
from recruitment.screening.steps import refusal_sentence
from recruitment.screening.views import status_log_message
from recruitment.screening.waitlist import participant_move


class ParticipantBulkActionsMixin:
    @admin.action(description=_("Move to screening"), permissions=["change"])
    def move_to_screening(self, request, queryset):
        self._transition_selected(request, queryset, Status.SCREENING)

    @admin.action(description=_("Mark eligible"), permissions=["change"])
    def mark_eligible(self, request, queryset):
        """In a full study, those marked eligible go on the waitlist in the same step."""
        self._transition_selected(request, queryset, Status.ELIGIBLE)

    @admin.action(description=_("Mark ineligible (reason needed)"), permissions=["change"])
    def mark_ineligible(self, request, queryset):
        self._transition_selected(request, queryset, Status.INELIGIBLE)

    @admin.action(description=_("Waitlist (study full)"), permissions=["change"])
    def waitlist(self, request, queryset):
        self._transition_selected(request, queryset, Status.WAITLISTED)

    @admin.action(description=_("Close as declined (reason needed)"), permissions=["change"])
    def close_as_declined(self, request, queryset):
        self._transition_selected(request, queryset, Status.DECLINED)

    @admin.action(description=_("Withdraw (reason needed)"), permissions=["change"])
    def withdraw(self, request, queryset):
        self._transition_selected(request, queryset, Status.WITHDRAWN)

    @admin.action(description=_("Complete"), permissions=["change"])
    def complete(self, request, queryset):
        self._transition_selected(request, queryset, Status.COMPLETED)

    @admin.action(description=_("Enroll (consent recorded)"), permissions=["change"])
    def enrol(self, request, queryset):
        """The pack each one took, to hand out: screening number to pack code, never the arm
        (concealed allocation)."""
        enrolled = self._transition_selected(request, queryset, Status.ENROLLED)
        packs = [(p.screening_number, pack_code_get(participant=p)) for p in enrolled]
        packs = [f"{number} → {code}" for number, code in packs if code]
        if packs:
            message = gettext("Pack codes to hand out: %(packs)s.") % {"packs": ", ".join(packs)}
            self.message_user(request, message, messages.SUCCESS)

    def _transition_selected(self, request, queryset, to: Status) -> list:
        """Move each selected participant through the service, in waitlist order; report
        each refusal by screening number and the successes in one message. Returns the
        participants who reached `to`, as the service left them."""
        reason = (request.POST.get("reason") or "").strip()
        reason_code = request.POST.get("reason_code") or ""
        moved, waitlisted, reached = [], [], []
        ordered = queryset.order_by(F("eligible_at").asc(nulls_last=True), "screening_seq")
        for participant in ordered:
            try:
                participant = participant_move(
                    participant=participant,
                    to=to,
                    by=request.user,
                    reason=reason,
                    reason_code=reason_code,
                )
            except RecruitmentError as exc:
                # Why, and what to do instead, from the gates the service asked.
                self.message_user(
                    request, refusal_sentence(participant, to, str(exc)), messages.ERROR
                )
                continue
            landed = Status(participant.status)
            (waitlisted if landed != to else moved).append(participant.screening_number)
            if landed == to:
                reached.append(participant)
            self.log_change(request, participant, status_log_message(landed))
        if waitlisted:
            message = ngettext(
                "The study is full: %(count)d participant marked eligible is on the waitlist: "
                "%(numbers)s.",
                "The study is full: %(count)d participants marked eligible are on the "
                "waitlist: %(numbers)s.",
                len(waitlisted),
            ) % {"count": len(waitlisted), "numbers": ", ".join(waitlisted)}
            self.message_user(request, message, messages.WARNING)
        if moved:
            message = ngettext(
                "%(count)d participant is now “%(status)s”: %(numbers)s.",
                "%(count)d participants are now “%(status)s”: %(numbers)s.",
                len(moved),
            ) % {"count": len(moved), "status": to.label, "numbers": ", ".join(moved)}
            self.message_user(request, message, messages.SUCCESS)
        return reached
