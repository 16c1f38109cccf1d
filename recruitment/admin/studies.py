"""Studies and their criteria: edited by investigators when the protocol is amended, and
the interest-list import."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from recruitment import selectors
from recruitment.admin.common import EditUndone, ServiceEditsMixin
from recruitment.admin.forms import InterestListUploadForm
from recruitment.errors import RecruitmentError
from recruitment.intake import import_uploads
from recruitment.models import (
    STUDY_TEXT_FIELDS,
    EligibilityCriterion,
    Study,
)
from recruitment.studies import services as study_services

CHOOSE_FILE = _("Choose a CSV file.")
KEPT_FILE_GONE = _(
    "The checked file is no longer kept (it is kept for 30 minutes): choose it again."
)


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
        "shared_question",
        "translations",
        "version",
    ]
    readonly_fields = ["version"]

    def has_delete_permission(self, request, obj=None):
        return False  # answers and verdicts point to it: retire it (untick "active") instead

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        """The shared questions are read once per page, not once per criterion."""
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "shared_question" and field is not None:
            choices = getattr(request, "shared_question_choices", None)
            if choices is None:
                choices = request.shared_question_choices = list(iter(field.choices))
            field.choices = choices
        return field


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
                    "call_within_working_days",
                    "retention_days",
                ]
            },
        ),
        (_("Contact"), {"fields": ["contact_name", "contact_email", "contact_phone"]}),
        (_("Calling applicants"), {"fields": ["call_script"]}),
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
        """Save, then keep one slot row per place in the target (`study_slots_sync`); a
        study that opens for recruiting is matched against the registry."""
        opened = obj.is_recruiting and (not change or "is_recruiting" in form.changed_data)
        super().save_model(request, obj, form, change)
        if opened:
            study_services.study_recruiting_opened(study=obj)
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
    # A real run saves each row through participants_import (about 10 to 20 ms a row): larger
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

        from recruitment.intake import importer

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

        from recruitment.intake import importer

        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        study = self._study_to_import_into(request, object_id)
        posted = request.method == "POST"
        form = InterestListUploadForm(
            request.POST if posted else None, request.FILES if posted else None
        )
        report = None
        dry_run = request.POST.get("action") != "import"
        owner = {"study_id": study.pk, "user_id": request.user.pk}
        kept, data = (None, b"")
        if posted and form.is_valid():
            kept, data = self._import_file(request, form, owner)
        if data:
            try:
                report = importer.interest_list_import(
                    study=study, data=data, dry_run=dry_run, row_limit=self.import_row_limit
                )
            except importer.InterestListFileError as exc:
                form.add_error("file", str(exc))
                kept = None
            except importer.InterestListError as exc:
                form.add_error(None, str(exc))
            else:
                if report.imported:
                    if kept.token:
                        import_uploads.upload_forget(token=kept.token, **owner)
                    summary = " ".join(report.summary())
                    self.log_change(request, study, summary)  # numbers only, no names
                    self.message_user(request, summary, messages.SUCCESS)
                    changelist = reverse("admin:recruitment_participant_changelist")
                    return HttpResponseRedirect(f"{changelist}?study={study.pk}")
                kept = self._kept_after(report, kept, owner)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": study,
            "title": gettext("Import interest list"),
            "form": form,
            "report": report,
            "dry_run": dry_run,
            "kept": kept,
            "errors_shown": report.errors[: self.import_errors_shown] if report else [],
            "errors_hidden": max(0, len(report.errors) - self.import_errors_shown) if report else 0,
            "change_url": reverse("admin:recruitment_study_change", args=[study.pk]),
            "template_url": reverse("admin:recruitment_study_import_template", args=[study.pk]),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.import_template, context)

    @staticmethod
    def _kept_after(report, kept, owner):
        """After a clean check, the file is kept for the import (a token for the page); a
        file with errors is not (a corrected one will be chosen)."""
        if report.errors or kept is None:
            return None
        if kept.token:
            return kept
        token = import_uploads.upload_keep(data=kept.data, name=kept.name, **owner)
        return import_uploads.KeptUpload(token, kept.name, b"") if token else None

    def _import_file(self, request, form, owner):
        """(kept upload, bytes) of the file to check or import: a newly chosen one (kept with
        no token yet), else the one kept after the dry run; a form error when neither."""
        upload = form.cleaned_data["file"]
        if upload:
            # A new file replaces the one kept after an earlier check.
            import_uploads.upload_forget(token=request.POST.get("kept", ""), **owner)
            data = form.file_bytes()
            return import_uploads.KeptUpload("", upload.name, data), data
        kept = import_uploads.upload_get(token=request.POST.get("kept", ""), **owner)
        if kept is None:
            form.add_error("file", KEPT_FILE_GONE if request.POST.get("kept") else CHOOSE_FILE)
            return None, b""
        return kept, kept.data

    def save_formset(self, request, form, formset, change):
        """Give every criterion whose text or rule really changed a new version."""
        study = form.instance

        def state(c):
            return (c.snapshot(), c.is_active, c.shared_question_id)

        before = {c.pk: state(c) for c in study.criteria.all()} if change else {}
        super().save_formset(request, form, formset, change)
        if not change:
            return
        criteria = list(study.criteria.all())
        changed = [c for c in criteria if c.pk in before and state(c) != before[c.pk]]
        added = [c for c in criteria if c.pk not in before]
        if changed or added:
            study_services.study_criteria_changed(study=study, criteria=changed)
