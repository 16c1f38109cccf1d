"""The participant page's read-only inlines: verdicts, overrides, status history, contact
log, consent."""

from django.contrib import admin
from django.db.models import OuterRef, Subquery
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from recruitment import selectors
from recruitment.admin.common import HIDDEN, user_shown
from recruitment.eligibility import RULES_FROM_CONTACT_DETAILS
from recruitment.identification import (
    NOTE_HIDDEN,
    can_identify,
    status_reason_shown,
    text_shown,
)
from recruitment.models import (
    Answer,
    ConsentRecord,
    ContactAttempt,
    CriterionVerdict,
    EligibilityOverride,
    Participant,
    Status,
    StatusChange,
)
from recruitment.verdict_words import (
    ANSWERED_BY_WORDS,
    CRITERIA_VERSION,
    KIND_WORDS,
    PROVENANCE_WORDS,
    VERDICT_CLASS,
    VERDICT_WORDS,
    verdict_attention_key,
    verdict_standing,
    washout_over,
)

# ---------------------------------------------------------------------------------------------
# Participants: read-only inlines
# ---------------------------------------------------------------------------------------------
CARRIED_OVER = _("carried over from the registry: answered on {date}, not asked again")


class ReadOnlyInlineFormSet(BaseInlineFormSet):
    """The rows as they are, whatever a POST of the page carries: never bound to its data, so
    nothing posted is read (no row key, no field) and nothing is saved. The page's own form
    saves as usual."""

    def __init__(self, data=None, files=None, **kwargs):
        super().__init__(None, None, **kwargs)

    def is_valid(self):
        return True

    def save(self, commit=True):
        self.new_objects, self.changed_objects, self.deleted_objects = [], [], []
        return []


class ReadOnlyInline(admin.TabularInline):
    """Rows nobody changes or deletes here, superusers included; new ones come from services."""

    extra = 0
    can_delete = False
    formset = ReadOnlyInlineFormSet

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class VerdictFormSet(ReadOnlyInlineFormSet):
    """The stored verdicts and the staff checks not entered yet, which are not stored
    (`selectors.verdict_list`), in the inline's order: what needs attention first, then the
    study's order."""

    def get_queryset(self):
        if self.instance.pk is None:
            return super().get_queryset()
        if not hasattr(self, "_verdicts"):
            stored = list(super().get_queryset())
            verdicts = selectors.verdict_list(participant=self.instance, stored=stored)
            self._verdicts = sorted(verdicts, key=verdict_attention_key)
        return self._verdicts


class VerdictInline(ReadOnlyInline):
    """The stored evaluation: one row per criterion, what needs attention first (not met,
    not sure, staff checks pending, then met), each verdict marked by colour and in words, the
    criterion by its title, the answer, the reason and where the answer came from. On a phone
    each row is a card with its labels (no sideways scrolling)."""

    model = CriterionVerdict
    formset = VerdictFormSet
    verbose_name = _("pre-screen verdict")
    verbose_name_plural = _("pre-screen evaluation, criterion by criterion")
    template = "admin/recruitment/participant/verdicts_inline.html"

    def get_queryset(self, request):
        # An answer carried over from the registry (the person said yes to an invitation):
        # the day they gave it, read with the verdicts (no query per row). Their order is the
        # formset's (`VerdictFormSet`), with the staff checks not stored among them.
        carried = Answer.objects.filter(
            participant_id=OuterRef("participant_id"), criterion_id=OuterRef("criterion_id")
        ).values("carried_over_on")[:1]
        return (
            super()
            .get_queryset(request)
            .select_related("criterion_version")
            .annotate(carried_over_on=Subquery(carried))
        )

    def get_fields(self, request, obj=None):
        # Age and distance reasons quote the date of birth or ZIP code on some paths.
        reason = "reason" if can_identify(request.user) else "reason_redacted"
        return ["verdict_shown", "criterion_title", "answer_shown", reason, "source"]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    @admin.display(description=_("verdict"))
    def verdict_shown(self, obj):
        standing = verdict_standing(obj, today=timezone.localdate())
        words = VERDICT_WORDS[standing]
        if washout_over(obj, today=timezone.localdate()):
            words = _("Met (washout over)")
        return format_html('<strong class="verdict {}">{}</strong>', VERDICT_CLASS[standing], words)

    @admin.display(description=_("criterion"))
    def criterion_title(self, obj):
        snap = obj.criterion_snapshot
        kind = KIND_WORDS.get(snap.get("kind"), snap.get("kind", ""))
        asked = ANSWERED_BY_WORDS.get(snap.get("answered_by"), snap.get("answered_by", ""))
        version = CRITERIA_VERSION.format(version=snap.get("version", ""))
        return format_html(
            '{}<br><small>{} · {} · {}</small><br><small class="rationale">{}</small>',
            snap["title"],
            kind,
            asked,
            version,
            snap.get("rationale", ""),
        )

    @admin.display(description=_("answer"))
    def answer_shown(self, obj):
        return answer_display(obj.criterion_snapshot, obj.answer)

    @admin.display(description=_("reason"))
    def reason_redacted(self, obj):
        if obj.criterion_snapshot.get("rule_kind") in RULES_FROM_CONTACT_DETAILS:
            return HIDDEN
        return obj.reason

    @admin.display(description=_("source of the answer"))
    def source(self, obj):
        words = PROVENANCE_WORDS.get(obj.provenance, "—")
        if getattr(obj, "carried_over_on", None):
            return format_html(
                '{}<br><small class="carried-over">{}</small>',
                words,
                CARRIED_OVER.format(date=date_format(obj.carried_over_on, "DATE_FORMAT")),
            )
        return words


# The patient's yes / no / not sure answers in words.
ANSWER_WORDS = {"yes": _("Yes"), "no": _("No"), "unsure": _("Not sure")}


def answer_word(value) -> str:
    return str(ANSWER_WORDS.get(value, value if value not in (None, "") else "—"))


def answer_display(snapshot: dict, value) -> str:
    """A readable answer: labels for choices, group items by their staff titles, yes / no /
    not sure in words, dates as written."""
    if value is None:
        if snapshot["rule_kind"] in RULES_FROM_CONTACT_DETAILS:
            return _("from contact details")
        return "—"
    if isinstance(value, dict) and snapshot["rule_kind"] == "at_least_n":
        titles = {
            item["key"]: item.get("title") or item["key"]
            for item in snapshot["params"].get("items", [])
        }
        return format_html_join(
            "",
            "{}: {}<br>",
            ((titles.get(key, key), answer_word(answer)) for key, answer in value.items()),
        )
    if isinstance(value, dict) and snapshot["rule_kind"] == "washout":
        taken = answer_word(value.get("taken"))
        if value.get("last"):
            return gettext("Taken: %(taken)s; last dose %(last)s") % {
                "taken": taken,
                "last": value["last"],
            }
        return gettext("Taken: %(taken)s") % {"taken": taken}
    if isinstance(value, dict):
        return ", ".join(f"{key}: {answer}" for key, answer in value.items())
    if snapshot["rule_kind"] == "choice":
        labels = {o["value"]: o["label"] for o in snapshot["params"].get("options", [])}
        return labels.get(value, value)
    if snapshot["rule_kind"] == "yes_no":
        return answer_word(value)
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
    "Fails a criterion since the lab values of Dec 7, 2026" (no query)."""
    if (
        participant.criteria_failed_at is None
        or participant.status not in Status.awaiting_enrollment()
    ):
        return ""
    day = date_format(timezone.localtime(participant.criteria_failed_at), "DATE_FORMAT")
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
