"""The participant queue and page: scope, search, bulk actions (`participant_actions`),
contact edits and the audit trail. The workflow pages are views of the screening context
(`recruitment.screening.views`), registered here under the participant's URL."""

import re

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from recruitment import selectors
from recruitment.admin.allocation import allocation_links, pack_code_shown
from recruitment.admin.common import (
    EditUndone,
    ServiceEditsMixin,
    is_open,
)
from recruitment.admin.forms import (
    ParticipantActionForm,
    ParticipantChangeForm,
)
from recruitment.admin.history import ParticipantHistoryMixin
from recruitment.admin.inlines import (
    ConsentInline,
    ContactAttemptInline,
    EligibilityOverrideInline,
    StatusChangeInline,
    VerdictInline,
    criteria_warning,
)
from recruitment.admin.participant_actions import ParticipantBulkActionsMixin
from recruitment.admin.queue import (
    DUPLICATE_REVIEW_SHORT,
    AppliedFilter,
    CappedCountPaginator,
    ContactedFilter,
    DuplicateFilter,
    FollowUpDueFilter,
    NotReachedFilter,
    QueueChangeList,
    ReadableQueueMixin,
    StudyFilter,
    choice_label,
    participants_visible,
)
from recruitment.admin.screening_steps import (
    StaffNoteInline,
    rule_out,
    screening_step_links,
)
from recruitment.admin.staff_entry import StaffEntryView, staff_entry_allowed
from recruitment.errors import RecruitmentError
from recruitment.identification import (
    can_identify,
    path_is_non_identifying,
    path_is_secret,
)
from recruitment.models import (
    DuplicateReview,
    Participant,
    RunIn,
    Status,
)
from recruitment.screening import services as screening
from recruitment.screening.call_card import call_card_build
from recruitment.screening.views import (
    WORKFLOW_PAGES,
    duplicate_warning,
    override_allowed,
    participant_change_url,
)
from recruitment.unicode_text import ascii_digits


# ---------------------------------------------------------------------------------------------
# Participants
# ---------------------------------------------------------------------------------------------
@admin.register(Participant)
class ParticipantAdmin(
    ServiceEditsMixin,
    ReadableQueueMixin,
    ParticipantHistoryMixin,
    ParticipantBulkActionsMixin,
    SimpleHistoryAdmin,
):
    form = ParticipantChangeForm
    action_form = ParticipantActionForm
    # What a coordinator acts on comes first: on a phone the table scrolls sideways; at
    # 1366 pixels it fits, with the filters beside it (short headers, dates without times).
    list_display = [
        "screening_number",
        "status_shown",
        "outcome_shown",
        "attempts_shown",
        "follow_up_shown",
        "duplicate_link",
        "study",
        "applied_shown",
    ]
    list_filter = [
        StudyFilter,
        # Recent periods (today, this week, past 7 days, this month, this year): no query to
        # draw. A date hierarchy drew its years with a scan of every participant (0.2 s at
        # 100,000).
        AppliedFilter,
        ContactedFilter,
        "status",
        "outcome",
        FollowUpDueFilter,
        NotReachedFilter,
        DuplicateFilter,
        "referral_source",
    ]
    search_help_text = _(
        "Screening number; staff who may see identities can also search by name, email or phone."
    )
    # The queue at 100,000 participants (make bench): no count of the whole table, the
    # filtered count capped (see CappedCountPaginator), 100 rows a page, every column from one
    # joined query.
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 100
    inlines = [
        VerdictInline,
        EligibilityOverrideInline,
        StatusChangeInline,
        ContactAttemptInline,
        ConsentInline,
        StaffNoteInline,
    ]
    actions = [
        "move_to_screening",
        rule_out,
        "mark_eligible",
        "mark_ineligible",
        "waitlist",
        "close_as_declined",
        "withdraw",
        "complete",
        "enrol",
    ]
    object_history_template = "admin/recruitment/participant/object_history.html"
    object_history_list_template = "admin/recruitment/participant/object_history_list.html"

    summary_fields = [
        ("screening_number", "study"),
        ("status", "participant_id", "pack_code_shown"),
        ("outcome", "eligible_from"),
        ("criteria_version", "evaluated_at"),
        ("eligible_at", "attempts_shown", "next_follow_up_on"),
        "duplicate_link",
    ]
    contact_fields = [
        ("first_name", "last_name"),
        ("email", "phone"),
        ("preferred_contact", "best_time"),
        ("date_of_birth", "zip_code"),
        "referral_source",
        "note",
    ]

    # -- scope and permissions ----------------------------------------------------------------
    def get_queryset(self, request):
        rows = super().get_queryset(request).select_related("study", "duplicate_of")
        return participants_visible(rows, request)

    def get_changelist(self, request, **kwargs):
        return QueueChangeList

    def has_add_permission(self, request):
        """Participants come from the interest form, an import, or a coordinator entering
        the form for someone who phoned or walked in (the "add" page: `StaffEntryView`)."""
        return staff_entry_allowed(request.user)

    def add_view(self, request, form_url="", extra_context=None):
        return StaffEntryView.as_view(model_admin=self)(request)

    def has_delete_permission(self, request, obj=None):
        return False  # records are erased by the retention command, not by hand

    def can_edit_contact_details(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj) and can_identify(request.user)

    # -- the queue ----------------------------------------------------------------------------
    def get_search_fields(self, request):
        if can_identify(request.user):
            return ["screening_number", "first_name", "last_name", "email", "phone"]
        return ["screening_number"]

    def get_search_results(self, request, queryset, search_term):
        """Also find a phone number however it was typed (stored and searched as digits)."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        typed = ascii_digits(text=search_term)
        digits = re.sub(r"[^0-9]", "", typed)
        if (
            can_identify(request.user)
            and len(digits) >= 7
            and not re.search(r"[^0-9\s().+-]", typed)
        ):
            results = results | queryset.filter(phone_normalised__contains=digits[-10:])
        return results, may_have_duplicates

    def lookup_allowed(self, lookup, value, request):
        """Refuse (a 400) a filter in the query string that reads identifying data, for users
        who may not see it: `?first_name__startswith=S` answers yes or no by the list's count,
        and enough such questions spell a name. Nobody filters by the patient's secrets."""
        if path_is_secret(lookup):
            return False
        if not can_identify(request.user) and not (
            path_is_non_identifying(lookup) or lookup in self.list_filter_parameters(request)
        ):
            return False
        return super().lookup_allowed(lookup, value, request)

    def list_filter_parameters(self, request) -> set[str]:
        """The query parameters of the queue's own filters that are not field paths."""
        return {
            spec.parameter_name
            for spec in self.get_list_filter(request)
            if isinstance(spec, type) and issubclass(spec, admin.SimpleListFilter)
        }

    def get_sortable_by(self, request):
        """The columns whose order reveals nothing the user may not see (`QueueChangeList`
        enforces it on `?o=`)."""
        columns = self.get_list_display(request)
        if can_identify(request.user):
            return columns
        return [name for name in columns if self.orders_by_non_identifying(name)]

    def orders_by_non_identifying(self, column) -> bool:
        attr = column if callable(column) else getattr(self, column, None)
        order = getattr(attr, "admin_order_field", column)
        if not isinstance(order, str):
            return False  # an expression: not checked, so not sorted by
        return path_is_non_identifying(order.removeprefix("-"))

    def changelist_view(self, request, extra_context=None):
        progress = selectors.study_progress_list(user=request.user)
        # participants_visible and the rows' studies (QueueChangeList)
        request.queue_studies = {p.study.pk: p.study for p in progress}
        context = {"study_progress": progress, "title": gettext("Participants")}
        return super().changelist_view(request, {**context, **(extra_context or {})})

    @admin.display(description=_("status"), ordering="status")
    def status_shown(self, obj):
        """The status, and the warning when new values fail a criterion of someone awaiting
        enrollment."""
        warning = criteria_warning(obj)
        status = choice_label(Status, obj.status)
        if not warning:
            return status
        return format_html('{} <strong class="fails-criterion">{}</strong>', status, warning)

    @admin.display(description=_("eligibility"))
    def criteria_warning_shown(self, obj):
        return format_html('<strong class="fails-criterion">{}</strong>', criteria_warning(obj))

    @admin.display(description=_("attempts"), ordering="unanswered_attempts")
    def attempts_shown(self, obj):
        if is_open(obj) and obj.unanswered_attempts >= obj.study.not_reached_after:
            return format_html(
                '{} <strong class="not-reached">{}</strong>',
                obj.unanswered_attempts,
                _("not reached"),
            )
        return obj.unanswered_attempts

    @admin.display(description=_("pack code"))
    def pack_code_shown(self, obj):
        return pack_code_shown(obj)

    @admin.display(description=_("duplicate of"), ordering="duplicate_of__screening_seq")
    def duplicate_link(self, obj):
        if obj.duplicate_of_id is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a> <small>({})</small>',
            participant_change_url(obj.duplicate_of_id),
            obj.duplicate_of,
            DUPLICATE_REVIEW_SHORT.get(obj.duplicate_review, obj.get_duplicate_review_display()),
        )

    # -- the participant page -----------------------------------------------------------------
    def get_fieldsets(self, request, obj=None):
        summary = list(self.summary_fields)
        if obj is not None and criteria_warning(obj):
            summary.insert(1, "criteria_warning_shown")
        fieldsets = [(None, {"fields": summary})]
        if can_identify(request.user):
            contact = list(self.contact_fields)
            if self.can_edit_contact_details(request, obj):
                contact.append("change_reason")
            fieldsets.append((_("Contact details"), {"fields": contact}))
        else:
            fieldsets.append((_("Source"), {"fields": ["referral_source"]}))
        fieldsets += [
            (
                _("Consent to be contacted"),
                {"fields": [("contact_consent", "contact_consent_version", "contact_consent_at")]},
            ),
            (
                _("Record"),
                {
                    "fields": [
                        ("language", "created_at", "updated_at"),
                        ("entry_source", "entered_by"),
                    ]
                },
            ),
        ]
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        editable = set()
        if self.can_edit_contact_details(request, obj):
            editable = {*screening.EDITABLE_FIELDS, "change_reason"}
        return [
            name
            for _title, options in self.get_fieldsets(request, obj)
            for line in options["fields"]
            for name in (line if isinstance(line, tuple) else (line,))
            if name not in editable
        ]

    def save_model(self, request, obj, form, change):
        """Route the edit through `participant_update`: who, when, old → new and why go to the
        history. `obj` already carries the form's values, so the service gets a fresh copy."""
        edited = form.edited_values()
        if not edited:
            return
        try:
            screening.participant_update(
                participant=Participant.objects.get(pk=obj.pk),
                data=edited,
                by=request.user,
                reason=form.cleaned_data["change_reason"],
            )
        except RecruitmentError as exc:
            raise EditUndone(str(exc)) from exc
        except ValidationError as exc:
            raise EditUndone(" ".join(exc.messages)) from exc

    # -- the workflow pages (recruitment.screening.views) ---------------------------------------
    def get_urls(self):
        workflow = [
            path(
                f"<path:object_id>/{route}",
                self.admin_site.admin_view(view.as_view(model_admin=self)),
                name=self.workflow_url_name(name),
            )
            for name, (route, view) in WORKFLOW_PAGES.items()
        ]
        # Before the admin's own patterns: its "<object_id>/" catch-all would match first.
        return workflow + super().get_urls()

    def workflow_url_name(self, name: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{name}"

    def workflow_url(self, name: str, pk) -> str:
        return reverse(f"admin:{self.workflow_url_name(name)}", args=[pk])

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["workflow_links"] = self.workflow_links(request, obj)
            context["call_card"] = call_card_build(
                participant=obj,
                user=request.user,
                today=timezone.localdate(),
                can_change=self.has_change_permission(request, obj),
            )
            context["duplicate_warning"] = duplicate_warning(obj)
            if self.has_change_permission(request, obj):
                context["log_contact_url"] = self.workflow_url("contact", obj.pk)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def workflow_links(self, request, obj) -> list[tuple[str, str]]:
        """The workflow buttons that apply to the participant as they stand."""
        if not self.has_change_permission(request, obj):
            return []

        def url(name):
            return self.workflow_url(name, obj.pk)

        links = [(gettext("Log a contact attempt"), url("contact"))]
        if is_open(obj):
            links.append((gettext("Change status"), url("status")))
        staff_steps = (Status.NEW, Status.SCREENING, Status.ELIGIBLE, Status.WAITLISTED)
        if obj.status in staff_steps and obj.study.criteria.active().for_staff().exists():
            links.append((gettext("Record lab values"), url("lab_values")))
        if obj.status in (Status.ELIGIBLE, Status.WAITLISTED):
            links.append((gettext("Record informed consent"), url("consent")))
        if (
            obj.status == Status.CONSENTED
            and obj.study.run_in_days
            and not RunIn.objects.filter(participant=obj).exists()  # back from the waitlist
        ):
            links.append((gettext("Start run-in"), url("run_in_start")))
        elif obj.status in (Status.CONSENTED, Status.RUN_IN):
            links.append((gettext("Enroll"), url("enrol")))
        if obj.status == Status.RUN_IN:
            links.append((gettext("Record adherence"), url("run_in_adherence")))
            links.append((gettext("Run-in failed"), url("run_in_fail")))
        if override_allowed(request.user, obj):
            links.append((gettext("Record an eligibility override"), url("override")))
        if obj.duplicate_review == DuplicateReview.PENDING:
            links.append((gettext("Confirm duplicate"), url("duplicate_confirm")))
            links.append((gettext("Not a duplicate"), url("duplicate_dismiss")))
        return links + screening_step_links(request, obj, url) + allocation_links(request, obj)
