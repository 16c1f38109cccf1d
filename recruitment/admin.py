"""The coordinators' admin: the participant queue, the screening workflow and the audit trail.

Every write goes through `recruitment.services`, the same functions the views and commands
call: the change form's contact edits (`participant_update`), the bulk actions and the
workflow pages (`participant_transition`, `consent_record`, `staff_values_record`,
`contact_attempt_record`, the duplicate reviews). A refusal is a `RecruitmentError` whose
message is shown to the user, never a 500. Staff see only the studies they are members of;
names and contact details only with the `view_identification` permission.
"""

import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import display_for_field, unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.db.models import F
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters
from simple_history.admin import SimpleHistoryAdmin

from recruitment import selectors
from recruitment.admin_forms import (
    ConsentForm,
    ContactAttemptForm,
    DuplicateConfirmForm,
    DuplicateDismissForm,
    EligibilityOverrideForm,
    EnrolForm,
    ParticipantActionForm,
    ParticipantChangeForm,
    StaffValuesForm,
    StatusChangeForm,
)
from recruitment.errors import RecruitmentError
from recruitment.identification import (
    NOTE_HIDDEN,
    PARTICIPANT_IDENTIFYING_FIELDS,
    can_identify,
    path_is_non_identifying,
    path_is_secret,
    status_reason_shown,
    text_shown,
)
from recruitment.models import (
    ALLOWED_TRANSITIONS,
    AWAITING_ENROLLMENT,
    STUDY_TEXT_FIELDS,
    ConsentRecord,
    ContactAttempt,
    CriterionVerdict,
    DuplicateReview,
    EligibilityCriterion,
    EligibilityOverride,
    Participant,
    RuleKind,
    Status,
    StatusChange,
    Study,
)
from recruitment.screening import services as screening
from recruitment.studies import services as study_services
from recruitment.unicode_text import ascii_digits

# Fields left out of the history's "old → new" list: keys, copies and timestamps.
HISTORY_HIDDEN_FIELDS = frozenset(
    {
        "id",
        "study",
        "screening_seq",
        "screening_number",
        "name_normalised",
        "email_normalised",
        "phone_normalised",
        "slot",
        "evaluated_at",
        "created_at",
        "updated_at",
    }
)
# Criteria judged from contact details: their reasons quote the date of birth or ZIP code.
CONTACT_DETAIL_RULES = (RuleKind.AGE_RANGE, RuleKind.ZIP_DISTANCE)
HIDDEN = _("hidden: needs permission to see contact details")


def is_open(participant: Participant) -> bool:
    """Not in a final status (the same rule as `Participant.objects.open()`)."""
    return bool(ALLOWED_TRANSITIONS[participant.status])


def participant_change_url(pk) -> str:
    return reverse("admin:recruitment_participant_change", args=[pk])


def user_shown(user) -> str:
    return user.get_username() if user is not None else "—"


# ---------------------------------------------------------------------------------------------
# Studies and criteria
# ---------------------------------------------------------------------------------------------
class CriterionAdminForm(forms.ModelForm):
    """Checks the translations as the study loader does: known languages and keys, and item
    keys or option values that the criterion's rule has."""

    class Meta:
        model = EligibilityCriterion
        fields = "__all__"  # noqa: DJ007 - the inline's fields choose what is shown

    def clean(self):
        cleaned = super().clean()
        if "translations" in cleaned:
            cleaned["translations"] = cleaned["translations"] or {}
            problems = study_services.criterion_translations_problems(
                translations=cleaned["translations"],
                params=cleaned.get("params", self.instance.params),
                table="translations",
            )
            if problems:
                self.add_error("translations", problems)
        return cleaned


class CriterionInline(admin.StackedInline):
    """Criteria are edited by investigators when the protocol is amended; each real change
    gets a new version (see `StudyAdmin.save_formset`). A change of translation alone gets
    none: participants are judged by the English text (see `study_services.study_load`)."""

    model = EligibilityCriterion
    form = CriterionAdminForm
    extra = 0
    fields = [
        ("code", "order", "is_active"),
        ("kind", "answered_by", "rule_kind"),
        "title",
        "question",
        "hint",
        "rationale",
        "params",
        "translations",
        "version",
    ]
    readonly_fields = ["version"]

    def has_delete_permission(self, request, obj=None):
        return False  # answers and verdicts point to it: retire it (untick "active") instead


class EditUndone(Exception):
    """A service refused an edit after the form was valid (a race the form could not see);
    the admin's transaction is rolled back and the message is shown."""


class ServiceEditsMixin:
    """Change forms whose `save_model` calls a service: a refusal undoes the whole edit and
    is shown as an error message instead of a 500."""

    @method_decorator(sensitive_post_parameters())
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except EditUndone as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class StudyAdminForm(forms.ModelForm):
    class Meta:
        model = Study
        fields = "__all__"  # noqa: DJ007 - the admin's fieldsets choose what is shown

    def clean_translations(self):
        """The study loader's check: known languages and public text fields only."""
        translations = self.cleaned_data["translations"] or {}
        problems = study_services.translations_problems(
            translations=translations, table="translations", fields=STUDY_TEXT_FIELDS
        )
        if problems:
            raise ValidationError(problems)
        return translations

    def clean_withdrawal_frees_slot(self):
        frees_slot = self.cleaned_data["withdrawal_frees_slot"]
        if self.instance.pk and study_services.study_withdrawal_rule_locked(
            study=self.instance, frees_slot=frees_slot
        ):
            raise ValidationError(study_services.WITHDRAWAL_RULE_LOCKED)
        return frees_slot

    def clean_target_enrolment(self):
        """The slot service's rule, checked before saving so it can be a form error."""
        target = self.cleaned_data["target_enrolment"]
        if self.instance.pk:
            taken = selectors.study_slots_taken(study=self.instance)
            if target < taken:
                raise ValidationError(study_services.TARGET_BELOW_ENROLLED.format(taken=taken))
        return target


@admin.register(Study)
class StudyAdmin(ServiceEditsMixin, admin.ModelAdmin):
    """Investigators (change_study) and superusers edit; other members of the study view it."""

    form = StudyAdminForm
    list_display = ["title", "slug", "is_recruiting", "target_enrolment", "criteria_version"]
    list_filter = ["is_recruiting"]
    search_fields = ["title", "slug", "irb_number"]
    readonly_fields = ["criteria_version", "last_screening_seq", "created_at", "updated_at"]
    filter_horizontal = ["members"]
    inlines = [CriterionInline]
    fieldsets = [
        (None, {"fields": ["title", "short_title", "slug", "prefix", "irb_number"]}),
        (
            _("Public text"),
            {"fields": ["summary", "description", "what_it_involves", "form_minutes"]},
        ),
        (_("Site"), {"fields": ["site_name", "site_zip", "catchment_miles"]}),
        (
            _("Recruitment"),
            {
                "fields": [
                    "is_recruiting",
                    "target_enrolment",
                    "withdrawal_frees_slot",
                    "not_reached_after",
                    "retention_days",
                ]
            },
        ),
        (_("Contact"), {"fields": ["contact_name", "contact_email", "contact_phone"]}),
        (
            _("Consent to be contacted"),
            {"fields": ["contact_consent_text", "contact_consent_version"]},
        ),
        (
            _("Translations"),
            {
                "fields": ["translations"],
                "description": _(
                    "Public text in other languages, as in the study file's "
                    '[translations.es] table: {"es": {"title": "...", "summary": "..."}}. '
                    "A text left out is shown in English."
                ),
            },
        ),
        (_("Staff"), {"fields": ["members"]}),
        (
            _("Record"),
            {"fields": ["criteria_version", "last_screening_seq", "created_at", "updated_at"]},
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def has_delete_permission(self, request, obj=None):
        return False  # participants and their history point to it

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "members":
            kwargs["queryset"] = db_field.remote_field.model.objects.filter(is_staff=True).order_by(
                "username"
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        """Save, then keep one slot row per place in the target (`study_slots_sync`)."""
        super().save_model(request, obj, form, change)
        try:
            study_services.study_slots_sync(study=obj)
        except RecruitmentError as exc:
            # The form checked the target; an enrolment raced past that check.
            raise EditUndone(str(exc)) from exc

    # -- importing an interest list ------------------------------------------------------------
    # Coordinators (change_participant) of the study may import; the Monitor may not.
    import_permission = "recruitment.change_participant"
    import_template = "admin/recruitment/study/import_interest.html"
    import_errors_shown = 500
    # A real run saves each row through participant_submit (about 10 to 20 ms a row): larger
    # files go through the command, which no request timeout cuts short.
    import_row_limit = 500

    def can_import(self, request) -> bool:
        return request.user.has_perm(self.import_permission)

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        pages = [
            path(
                "<path:object_id>/import/template/",
                self.admin_site.admin_view(self.import_template_view),
                name=f"{name}_import_template",
            ),
            path(
                "<path:object_id>/import/",
                self.admin_site.admin_view(self.import_view),
                name=f"{name}_import",
            ),
        ]
        # Before the admin's own patterns: its "<object_id>/" catch-all would match first.
        return pages + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self.can_import(request):
            context["import_url"] = reverse("admin:recruitment_study_import", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _study_to_import_into(self, request, object_id) -> Study:
        """The study, if the user is a member (or a superuser) who may work on participants."""
        study = self.get_object(request, unquote(object_id))  # scoped by `visible_to`
        if study is None or not self.can_import(request):
            raise PermissionDenied
        return study

    def import_template_view(self, request, object_id):
        """An empty import file with this study's columns, to fill in a spreadsheet."""
        from django.http import HttpResponse, HttpResponseNotAllowed

        from recruitment import importer

        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        study = self._study_to_import_into(request, object_id)
        response = HttpResponse(
            importer.template_csv(study=study), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{study.slug}-import.csv"'
        return response

    def import_view(self, request, object_id):
        """Upload a CSV interest list: "Check file" is a dry run showing every row error;
        "Import" checks again and creates every row or none, then goes to the queue."""
        from django.http import HttpResponseNotAllowed

        from recruitment import importer

        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        study = self._study_to_import_into(request, object_id)
        posted = request.method == "POST"
        form = importer.InterestListUploadForm(
            request.POST if posted else None, request.FILES if posted else None
        )
        report = None
        dry_run = request.POST.get("action") != "import"
        if posted and form.is_valid():
            try:
                report = importer.interest_list_import(
                    study=study,
                    data=form.file_bytes(),
                    dry_run=dry_run,
                    row_limit=self.import_row_limit,
                )
            except importer.InterestListFileError as exc:
                form.add_error("file", str(exc))
            except importer.InterestListError as exc:
                form.add_error(None, str(exc))
            else:
                if report.imported:
                    summary = " ".join(report.summary())
                    self.log_change(request, study, summary)  # numbers only, no names
                    self.message_user(request, summary, messages.SUCCESS)
                    changelist = reverse("admin:recruitment_participant_changelist")
                    return HttpResponseRedirect(f"{changelist}?study={study.pk}")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": study,
            "title": gettext("Import interest list"),
            "form": form,
            "report": report,
            "dry_run": dry_run,
            "errors_shown": report.errors[: self.import_errors_shown] if report else [],
            "errors_hidden": max(0, len(report.errors) - self.import_errors_shown) if report else 0,
            "change_url": reverse("admin:recruitment_study_change", args=[study.pk]),
            "template_url": reverse("admin:recruitment_study_import_template", args=[study.pk]),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.import_template, context)

    def save_formset(self, request, form, formset, change):
        """Give every criterion whose text or rule really changed a new version."""
        study = form.instance
        before = {c.pk: (c.snapshot(), c.is_active) for c in study.criteria.all()} if change else {}
        super().save_formset(request, form, formset, change)
        if not change:
            return
        criteria = list(study.criteria.all())
        changed = [
            c for c in criteria if c.pk in before and (c.snapshot(), c.is_active) != before[c.pk]
        ]
        added = [c for c in criteria if c.pk not in before]
        if changed or added:
            study_services.study_criteria_changed(study=study, criteria=changed)


# ---------------------------------------------------------------------------------------------
# Participants: read-only inlines
# ---------------------------------------------------------------------------------------------
class ReadOnlyInline(admin.TabularInline):
    """Rows nobody changes or deletes here, superusers included; new ones come from services."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class VerdictInline(ReadOnlyInline):
    """The stored evaluation: one row per criterion, with the answer, verdict and reason."""

    model = CriterionVerdict
    verbose_name = _("pre-screen verdict")
    verbose_name_plural = _("pre-screen evaluation, criterion by criterion")
    ordering = ["order"]

    def get_fields(self, request, obj=None):
        # Age and distance reasons quote the date of birth or ZIP code on some paths.
        reason = "reason" if can_identify(request.user) else "reason_redacted"
        return ["criterion_title", "kind", "answer_shown", "verdict", reason, "provenance"]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    @admin.display(description=_("criterion"))
    def criterion_title(self, obj):
        snap = obj.criterion_snapshot
        return format_html(
            "{}<br><small>v{} · {}</small>", snap["title"], snap["version"], snap["rationale"]
        )

    @admin.display(description=_("type"))
    def kind(self, obj):
        snap = obj.criterion_snapshot
        return f"{snap['kind']} · {snap['answered_by']}"

    @admin.display(description=_("answer"))
    def answer_shown(self, obj):
        return answer_display(obj.criterion_snapshot, obj.answer)

    @admin.display(description=_("reason"))
    def reason_redacted(self, obj):
        if obj.criterion_snapshot.get("rule_kind") in CONTACT_DETAIL_RULES:
            return HIDDEN
        return obj.reason


def answer_display(snapshot: dict, value) -> str:
    """A readable answer: labels for choices and group items, dates as written."""
    if value is None:
        if snapshot["rule_kind"] in ("age_range", "zip_distance"):
            return _("from contact details")
        return "—"
    if isinstance(value, dict) and snapshot["rule_kind"] == "at_least_n":
        return format_html_join("", "{}: {}<br>", ((key, answer) for key, answer in value.items()))
    if isinstance(value, dict):
        return ", ".join(f"{key}: {answer}" for key, answer in value.items())
    if snapshot["rule_kind"] == "choice":
        labels = {o["value"]: o["label"] for o in snapshot["params"].get("options", [])}
        return labels.get(value, value)
    return str(value)


class StatusChangeInline(ReadOnlyInline):
    model = StatusChange
    verbose_name = _("status change")
    verbose_name_plural = _("status history")

    def get_fields(self, request, obj=None):
        # The reason's words may quote the person: others see its code, and that words exist.
        reason = "reason_in_full" if can_identify(request.user) else "reason_coded"
        return ["at", "from_status", "to_status", reason, "by_user"]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")

    @admin.display(description=_("reason"))
    def reason_in_full(self, obj):
        return status_reason_shown(obj, identify=True) or "—"

    @admin.display(description=_("reason"))
    def reason_coded(self, obj):
        return status_reason_shown(obj, identify=False) or "—"

    @admin.display(description=_("by"))
    def by_user(self, obj):
        return obj.by_display  # a staff member, or the participant through their signed link


class ContactAttemptInline(ReadOnlyInline):
    """The contact log; "Log a contact attempt" adds to it through the service."""

    model = ContactAttempt
    verbose_name_plural = _("contact log")
    template = "admin/recruitment/participant/contact_attempts_inline.html"
    ordering = ["-at", "-pk"]

    def get_fields(self, request, obj=None):
        # Staff write what the person said: it may identify them. Others see that there is one.
        note = "note" if can_identify(request.user) else "note_hidden"
        return ["at", "method", "outcome", note, "follow_up_on", "by_user"]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")

    @admin.display(description=_("by"))
    def by_user(self, obj):
        return user_shown(obj.by)

    @admin.display(description=_("note"))
    def note_hidden(self, obj):
        return text_shown(text=obj.note, identify=False, hidden=NOTE_HIDDEN) or "—"


class EligibilityOverrideInline(ReadOnlyInline):
    """An investigator's overrides: which criterion, as it stood, who, when and why. The
    reason may quote the person, so only staff who may see identities read it."""

    model = EligibilityOverride
    verbose_name_plural = _("eligibility overrides (investigator)")

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")

    def get_fields(self, request, obj=None):
        if can_identify(request.user):
            return ["at", "criterion_shown", "verdict_reason", "reason", "by_user"]
        # The verdict's reason quotes the date of birth or ZIP code on some criteria.
        return ["at", "criterion_shown", "by_user"]

    @admin.display(description=_("criterion overridden"))
    def criterion_shown(self, obj):
        return obj.criterion_snapshot.get("title") or obj.criterion_code

    @admin.display(description=_("verdict when overridden"))
    def verdict_reason(self, obj):
        return obj.criterion_snapshot.get("verdict_reason", "")

    @admin.display(description=_("investigator"))
    def by_user(self, obj):
        return user_shown(obj.by)


def criteria_warning(participant: Participant) -> str:
    """The warning when new values made someone awaiting enrollment fail a criterion, such as
    "Fails a criterion since the lab values of 7 Dec" (no query)."""
    if participant.criteria_failed_at is None or participant.status not in AWAITING_ENROLLMENT:
        return ""
    day = date_format(timezone.localtime(participant.criteria_failed_at), "j M")
    if participant.criteria_failed_by:
        return gettext("Fails a criterion since the %(cause)s of %(day)s") % {
            "cause": participant.get_criteria_failed_by_display(),
            "day": day,
        }
    return gettext("Fails a criterion since %(day)s") % {"day": day}


class ConsentInline(ReadOnlyInline):
    model = ConsentRecord
    verbose_name_plural = _("informed consent")
    fields = ["consented_on", "form_version", "obtained_by_user", "recorded_by_user", "recorded_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("obtained_by", "recorded_by")

    @admin.display(description=_("obtained by"))
    def obtained_by_user(self, obj):
        return user_shown(obj.obtained_by)

    @admin.display(description=_("recorded by"))
    def recorded_by_user(self, obj):
        return user_shown(obj.recorded_by)


# ---------------------------------------------------------------------------------------------
# Participants: the queue's filters
# ---------------------------------------------------------------------------------------------
class StudyFilter(admin.SimpleListFilter):
    """Only the studies the user may see (the default filter would list every study)."""

    title = _("study")
    parameter_name = "study"

    def lookups(self, request, model_admin):
        return [(str(s.pk), str(s)) for s in Study.objects.visible_to(request.user)]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(study_id=self.value())
        return queryset


class FollowUpDueFilter(admin.SimpleListFilter):
    title = _("follow-up due")
    parameter_name = "follow_up"

    def lookups(self, request, model_admin):
        return [("due", _("Due today or earlier"))]

    def queryset(self, request, queryset):
        if self.value() == "due":
            return queryset.due_for_follow_up(timezone.localdate())
        return queryset


class NotReachedFilter(admin.SimpleListFilter):
    title = _("not reached")
    parameter_name = "not_reached"

    def lookups(self, request, model_admin):
        return [("yes", _("Not reached after the study's number of attempts"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.not_reached()
        return queryset


class DuplicateFilter(admin.SimpleListFilter):
    title = _("possible duplicate")
    parameter_name = "duplicate"

    def lookups(self, request, model_admin):
        return [
            (DuplicateReview.PENDING, _("To review")),
            (DuplicateReview.CONFIRMED, _("Confirmed")),
            (DuplicateReview.DISMISSED, _("Dismissed")),
        ]

    def queryset(self, request, queryset):
        if self.value() in DuplicateReview.values and self.value():
            return queryset.filter(duplicate_review=self.value())
        return queryset


DUPLICATE_REVIEW_SHORT = {
    DuplicateReview.PENDING: _("to review"),
    DuplicateReview.CONFIRMED: _("confirmed"),
    DuplicateReview.DISMISSED: _("dismissed"),
}


class CappedCountPaginator(Paginator):
    """Counts at most `cap` + 1 rows: past that the list says "more than 10,000" and pages
    stop at the 10,000th row. Counting every matching row cost the queue a third of its
    time at 100,000 participants; a coordinator narrows a list that long with the search
    and the filters, not by paging past page 100."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        # Unordered: the first cap + 1 rows in any order are as many as in the list's order.
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap


# The study's long texts and translations: each row of the queue carried a copy of them (about
# 1 KB a row, and the translations decoded once a row), a fifth of the time to fetch and build
# a page of 100 rows (make bench, queue-100k). The queue shows only the study's name.
QUEUE_DEFERRED = tuple(
    f"study__{field.name}"
    for field in Study._meta.concrete_fields
    if isinstance(field, models.TextField | models.JSONField)
)


class QueueChangeList(ChangeList):
    """The participant list, with the rows of a page fetched without the study's long texts.
    Only the page drawn is trimmed: the actions get the list's full query."""

    def get_ordering_field(self, field_name):
        """No order by a column the user may not sort by: Django's `sortable_by` only hides
        the header's link, and `?o=` would still sort by the column (an order by name tells
        a monitor something of each name)."""
        if self.sortable_by is not None and field_name not in self.sortable_by:
            return None
        return super().get_ordering_field(field_name)

    def get_results(self, request):
        full = self.queryset
        self.queryset = full.defer(*QUEUE_DEFERRED)
        try:
            super().get_results(request)
        finally:
            self.queryset = full


# ---------------------------------------------------------------------------------------------
# Participants
# ---------------------------------------------------------------------------------------------
@admin.register(Participant)
class ParticipantAdmin(ServiceEditsMixin, SimpleHistoryAdmin):
    form = ParticipantChangeForm
    action_form = ParticipantActionForm
    # What a coordinator acts on comes first: on a phone the table scrolls sideways.
    list_display = [
        "screening_number",
        "status_shown",
        "outcome",
        "eligible_from",
        "attempts_shown",
        "next_follow_up_on",
        "duplicate_link",
        "study",
        "created_at",
    ]
    list_filter = [
        StudyFilter,
        "status",
        "outcome",
        FollowUpDueFilter,
        NotReachedFilter,
        DuplicateFilter,
        "referral_source",
        # Recent periods (today, past 7 days, this month, this year): no query to draw. A date
        # hierarchy drew its years with a scan of every participant (0.2 s at 100,000).
        ("created_at", admin.DateFieldListFilter),
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
    ]
    actions = [
        "move_to_screening",
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
    workflow_template = "admin/recruitment/participant/workflow_form.html"

    summary_fields = [
        ("screening_number", "study"),
        ("status", "participant_id"),
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
        return (
            super()
            .get_queryset(request)
            .visible_to(request.user)
            .select_related("study", "duplicate_of")
        )

    def get_changelist(self, request, **kwargs):
        return QueueChangeList

    def has_add_permission(self, request):
        return False  # participants come from the interest form (or an import)

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

    def action_checkbox(self, obj):
        """Django's checkbox, written directly: the form widget's template took a third of
        the time to draw 100 rows (make bench, queue-100k)."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(_("Select this object for an action - {}"), str(obj)),
        )

    def changelist_view(self, request, extra_context=None):
        context = {"study_progress": selectors.study_progress_list(user=request.user)}
        return super().changelist_view(request, {**context, **(extra_context or {})})

    @admin.display(description=_("status"), ordering="status")
    def status_shown(self, obj):
        """The status, and the warning when new values fail a criterion of someone awaiting
        enrollment."""
        warning = criteria_warning(obj)
        if not warning:
            return obj.get_status_display()
        return format_html(
            '{} <strong class="fails-criterion">{}</strong>', obj.get_status_display(), warning
        )

    @admin.display(description=_("eligibility"))
    def criteria_warning_shown(self, obj):
        return format_html('<strong class="fails-criterion">{}</strong>', criteria_warning(obj))

    @admin.display(description=_("unanswered attempts"), ordering="unanswered_attempts")
    def attempts_shown(self, obj):
        if is_open(obj) and obj.unanswered_attempts >= obj.study.not_reached_after:
            return format_html(
                '{} <strong class="not-reached">{}</strong>',
                obj.unanswered_attempts,
                _("not reached"),
            )
        return obj.unanswered_attempts

    @admin.display(description=_("possible duplicate of"), ordering="duplicate_of__screening_seq")
    def duplicate_link(self, obj):
        if obj.duplicate_of_id is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a> <small>({})</small>',
            participant_change_url(obj.duplicate_of_id),
            obj.duplicate_of,
            DUPLICATE_REVIEW_SHORT.get(obj.duplicate_review, obj.get_duplicate_review_display()),
        )

    # -- bulk actions -------------------------------------------------------------------------
    @admin.action(description=_("Move to screening"), permissions=["change"])
    def move_to_screening(self, request, queryset):
        self._transition_selected(request, queryset, Status.SCREENING)

    @admin.action(description=_("Mark eligible"), permissions=["change"])
    def mark_eligible(self, request, queryset):
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

    @admin.action(description=_("Enrol (consent recorded)"), permissions=["change"])
    def enrol(self, request, queryset):
        self._transition_selected(request, queryset, Status.ENROLLED)

    def _transition_selected(self, request, queryset, to: Status) -> None:
        """Move each selected participant through the service, in waitlist order; report
        each refusal by screening number and the successes in one message."""
        reason = (request.POST.get("reason") or "").strip()
        reason_code = request.POST.get("reason_code") or ""
        moved = []
        ordered = queryset.order_by(F("eligible_at").asc(nulls_last=True), "screening_seq")
        for participant in ordered:
            try:
                participant = screening.participant_transition(
                    participant=participant,
                    to=to,
                    by=request.user,
                    reason=reason,
                    reason_code=reason_code,
                )
            except RecruitmentError as exc:
                self.message_user(request, refusal_message(participant, exc), messages.ERROR)
                continue
            moved.append(participant.screening_number)
            self.log_change(request, participant, status_log_message(to))
        if moved:
            message = ngettext(
                "%(count)d participant is now “%(status)s”: %(numbers)s.",
                "%(count)d participants are now “%(status)s”: %(numbers)s.",
                len(moved),
            ) % {"count": len(moved), "status": to.label, "numbers": ", ".join(moved)}
            self.message_user(request, message, messages.SUCCESS)

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
            (_("Record"), {"fields": [("language", "created_at", "updated_at")]}),
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

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["workflow_links"] = self.workflow_links(request, obj)
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
        if obj.status == Status.CONSENTED:
            links.append((gettext("Enrol"), url("enrol")))
        if self.can_override(request, obj):
            links.append((gettext("Record an eligibility override"), url("override")))
        if obj.duplicate_review == DuplicateReview.PENDING:
            links.append((gettext("Confirm duplicate"), url("duplicate_confirm")))
            links.append((gettext("Not a duplicate"), url("duplicate_dismiss")))
        return links

    # -- the audit trail (django-simple-history), read-only for everyone -----------------------
    def history_view(self, request, object_id, extra_context=None):
        """The participant's history, scoped like every other page: simple-history's own view
        would fall back to the history rows of a participant the user may not see."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        identify = can_identify(request.user)
        status_changes = list(selectors.status_change_list(participant=obj))
        for change in status_changes:
            change.reason_shown = status_reason_shown(change, identify=identify)
        context = {
            # Reasons staff wrote may quote the person: shown in words only to those who may
            # see identities (the templates say to others that a reason was recorded).
            "reasons_readable": identify,
            "status_changes": status_changes,
            "answer_history": selectors.answer_history_list(participant=obj),
            "consent_history": selectors.consent_history_list(participant=obj),
        }
        return super().history_view(request, object_id, {**context, **(extra_context or {})})

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """No per-version form: it would show every field and save without the services.
        The history list already shows each version's changes."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if request.method != "GET" or not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        return HttpResponseRedirect(reverse("admin:recruitment_participant_history", args=[obj.pk]))

    def revert_disabled(self, request, obj=None):
        return True

    def has_change_history_permission(self, request, obj=None):
        return False

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        """Each version's "old → new" list, with the fields simple-history skips (status,
        outcome and the other workflow fields are not editable in forms, but are audited),
        and without identifying fields for users who may not see them."""
        fields = [
            field
            # What the history records (its own exclusions: tokens and nonces), less keys,
            # copies and timestamps.
            for field in Participant.history.model.tracked_fields
            if field.name not in HISTORY_HIDDEN_FIELDS
            and (can_identify(request.user) or field.name not in PARTICIPANT_IDENTIFYING_FIELDS)
        ]
        newer = None
        for record in historical_records:
            if newer is not None:
                newer.history_delta_changes = history_delta(record, newer, fields)
            newer = record

    # -- workflow pages -----------------------------------------------------------------------
    def get_urls(self):
        pages = {
            "status": ("status/", self.status_view),
            "consent": ("consent/", self.consent_view),
            "enrol": ("enrol/", self.enrol_view),
            "lab_values": ("lab-values/", self.staff_values_view),
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

    def staff_values_view(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        criteria = selectors.criterion_list_for_staff(study=obj.study) if obj else []
        current = selectors.answer_values_for(participant=obj, criteria=criteria) if obj else {}

        def perform(form, participant):
            values = form.values()
            if not values:
                raise RecruitmentError(gettext("Enter or change at least one value."))
            participant = screening.staff_values_record(
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
            verdicts = participant.verdicts.filter(criterion__code__in=codes).order_by("order")
            return {"verdicts": verdicts}

        return self.workflow_view(
            request,
            object_id,
            form_class=StaffValuesForm,
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
            and obj.status in (Status.NEW, Status.SCREENING, *AWAITING_ENROLLMENT)
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


def refusal_message(participant: Participant, exc: Exception) -> str:
    message = str(exc)
    if participant.screening_number in message:
        return message
    return f"{participant.screening_number}: {message}"


def status_log_message(to: Status) -> str:
    """The admin log's entry: no reason text (it may name someone), only the new status."""
    return gettext("Status changed to “%(status)s”.") % {"status": to.label}


def history_delta(older, newer, fields) -> list[dict]:
    """What changed between two historical records, as simple-history's template lists it."""
    changes = []
    for field in fields:
        before = getattr(older, field.attname)
        after = getattr(newer, field.attname)
        if before == after:
            continue
        if field.is_relation:
            before = getattr(older, field.name) if before is not None else None
            after = getattr(newer, field.name) if after is not None else None
        changes.append(
            {
                "field": capfirst(field.verbose_name),
                "old": display_for_field(before, field, "—"),
                "new": display_for_field(after, field, "—"),
            }
        )
    return changes
