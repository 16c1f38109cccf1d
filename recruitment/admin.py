"""The coordinators' admin. This issue's scope: studies and criteria editable by superusers;
participants read-only, with the pre-screen evaluation explained per criterion. Writes go
through `recruitment.services` so the screening workflow can extend this cleanly."""

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from recruitment import services
from recruitment.models import CriterionVerdict, EligibilityCriterion, Participant, Study


class SuperuserEditsMixin:
    """Staff may view; only superusers change study definitions (they follow the protocol)."""

    def has_add_permission(self, request, *args):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False


class CriterionInline(SuperuserEditsMixin, admin.StackedInline):
    model = EligibilityCriterion
    extra = 0
    fields = [
        ("code", "order", "is_active"),
        ("kind", "answered_by", "rule_kind"),
        "title",
        "question",
        "hint",
        "rationale",
        "params",
        "version",
    ]
    readonly_fields = ["version"]


@admin.register(Study)
class StudyAdmin(SuperuserEditsMixin, admin.ModelAdmin):
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
        (_("Staff"), {"fields": ["members"]}),
        (
            _("Record"),
            {"fields": ["criteria_version", "last_screening_seq", "created_at", "updated_at"]},
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

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
            services.study_criteria_changed(study=study, criteria=changed)


class VerdictInline(admin.TabularInline):
    """The stored evaluation: one row per criterion, with the answer, verdict and reason."""

    model = CriterionVerdict
    extra = 0
    can_delete = False
    verbose_name = _("pre-screen verdict")
    verbose_name_plural = _("pre-screen evaluation, criterion by criterion")
    fields = ["criterion_title", "kind", "answer_shown", "verdict", "reason", "provenance"]
    readonly_fields = fields
    ordering = ["order"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

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


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = [
        "screening_number",
        "study",
        "status",
        "outcome",
        "eligible_from",
        "duplicate_link",
        "created_at",
    ]
    list_filter = ["study", "status", "outcome", "referral_source", "preferred_contact"]
    search_fields = ["screening_number", "first_name", "last_name", "email", "phone"]
    date_hierarchy = "created_at"
    list_select_related = ["study", "duplicate_of"]
    list_per_page = 50
    inlines = [VerdictInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("screening_number", "study"),
                    ("status", "participant_id"),
                    ("outcome", "eligible_from"),
                    ("criteria_version", "evaluated_at"),
                    "duplicate_link",
                ]
            },
        ),
        (
            _("Contact details"),
            {
                "fields": [
                    ("first_name", "last_name"),
                    ("email", "phone"),
                    ("preferred_contact", "best_time"),
                    ("date_of_birth", "zip_code"),
                    ("referral_source", "language"),
                    "note",
                ]
            },
        ),
        (
            _("Consent to be contacted"),
            {"fields": [("contact_consent", "contact_consent_version", "contact_consent_at")]},
        ),
        (_("Record"), {"fields": [("created_at", "updated_at")]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def get_readonly_fields(self, request, obj=None):
        return [
            f
            for fieldset in self.fieldsets
            for line in fieldset[1]["fields"]
            for f in (line if isinstance(line, tuple) else (line,))
        ]

    def has_add_permission(self, request):
        return False  # participants come from the interest form (or an import)

    def has_change_permission(self, request, obj=None):
        return False  # read-only until the screening workflow lands

    def has_delete_permission(self, request, obj=None):
        return False  # records are erased by the retention command, not by hand

    @admin.display(description=_("possible duplicate of"), ordering="duplicate_of")
    def duplicate_link(self, obj):
        if obj.duplicate_of_id is None:
            return "—"
        return format_html(
            '<a href="../../{}/change/">{}</a>', obj.duplicate_of_id, obj.duplicate_of
        )
