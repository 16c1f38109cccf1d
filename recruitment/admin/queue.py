"""The participant queue's filters, its capped count and the rows it fetches."""

import functools
from datetime import date, datetime, time, timedelta
from html import escape as text_escape  # Django's escape() without its lazy-text check

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from recruitment.identification import can_identify
from recruitment.models import (
    DuplicateReview,
    Outcome,
    Participant,
    Status,
    Study,
)

# Django's words for the row's checkbox (its own translation catalog has them), translated
# once per language.
SELECT_FOR_ACTION = _("Select this object for an action - {}")
_SELECT_FOR_ACTION: dict[str | None, str] = {}


def participants_visible(queryset, request):
    """The participants of the studies the user is a member of (every study for a
    superuser). On the queue's page the studies are known already (`queue_studies`, set by
    the changelist from the studies its header shows): a list of ids lets the planner read a
    page in index order, where filtering through the membership table hid which studies it
    would meet, and it sorted every matching row before taking a page of 100 (bench/README.md
    has the figures)."""
    studies = getattr(request, "queue_studies", None)
    if studies is None or request.user.is_superuser:
        return queryset.visible_to(request.user)
    return queryset.filter(study_id__in=list(studies))


def choice_label(choices, value: str) -> str:
    """A choice's label in the active language. Django's get_FOO_display() hashes every
    choice's lazy label on each call: on a page of 100 rows, two such columns cost more than
    the page's queries. The labels are translated once per language and kept."""
    key = (choices, get_language())
    labels = _CHOICE_LABELS.get(key)
    if labels is None:
        labels = _CHOICE_LABELS[key] = {c.value: str(c.label) for c in choices}
    return labels.get(value, value)


_CHOICE_LABELS: dict = {}


@functools.lru_cache(maxsize=2048)
def _day_shown(day: date, language: str | None) -> str:
    return formats.date_format(day)


def day_shown(day: date) -> str:
    """`formats.date_format(day)`, kept per day and language: a page of 100 rows shows a few
    dozen distinct days, and formatting each is most of what a date column costs."""
    return _day_shown(day, get_language())


@receiver(setting_changed)
def _formats_changed(*, setting, **kwargs):
    """Django forgets its own format cache when a format setting changes (tests do that):
    the days shown go with it."""
    _day_shown.cache_clear()


# ---------------------------------------------------------------------------------------------
# Participants: the queue as a coordinator reads it
# ---------------------------------------------------------------------------------------------
class ReadableQueueMixin:
    """Names beside screening numbers for staff who may see identities, the waitlist in its
    order, and titles that say what the page is ("Participant", not "Change participant")."""

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if can_identify(request.user):
            columns.insert(1, "name_shown")
        return columns

    def get_ordering(self, request):
        """The status filter's "Waitlisted" in waitlist order: by the time each person became
        eligible. A column's sort (`?o=`) still comes first."""
        if request.GET.get("status__exact") == Status.WAITLISTED:
            return ["eligible_at", "screening_seq"]
        return super().get_ordering(request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = {"title": gettext("Participant"), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, context)

    def action_checkbox(self, obj):
        """The row's checkbox as Django's widget renders it, written directly: Django renders
        the widget's template for each row, a large share of a queue page's time. Escaped as
        Django's `format_html` escapes it: the row's text, not the (translated) label."""
        label = _SELECT_FOR_ACTION.get(get_language())
        if label is None:
            label = _SELECT_FOR_ACTION[get_language()] = str(SELECT_FOR_ACTION)
        value, text = text_escape(str(obj.pk)), text_escape(str(obj))
        return mark_safe(  # noqa: S308 - the key and the row's text escaped
            f'<input type="checkbox" name="{ACTION_CHECKBOX_NAME}" value="{value}" '
            f'class="action-select" aria-label="{label.format(text)}">'
        )

    @admin.display(description=_("name"), ordering="last_name")
    def name_shown(self, obj):
        return obj.full_name

    @admin.display(description=_("pre-screen"), ordering="outcome")
    def outcome_shown(self, obj):
        """The outcome in words, with the date a washout ends when it is still running."""
        if obj.eligible_from is None:
            return choice_label(Outcome, obj.outcome)
        return format_html(
            "{} <small>({})</small>",
            choice_label(Outcome, obj.outcome),
            gettext("from %(date)s") % {"date": day_shown(obj.eligible_from)},
        )

    @admin.display(description=_("follow-up"), ordering="next_follow_up_on")
    def follow_up_shown(self, obj):
        if obj.next_follow_up_on is None:
            return "-"
        return day_shown(obj.next_follow_up_on)

    @admin.display(description=_("applied"), ordering="created_at")
    def applied_shown(self, obj):
        return day_shown(timezone.localtime(obj.created_at).date())


# ---------------------------------------------------------------------------------------------
# Participants: the queue's filters
# ---------------------------------------------------------------------------------------------
class StudyFilter(admin.SimpleListFilter):
    """Only the studies the user may see (the default filter would list every study)."""

    title = _("study")
    parameter_name = "study"

    def lookups(self, request, model_admin):
        """The studies the page's header read (`queue_studies`, in the same order), or
        read here for a list drawn without it."""
        studies = getattr(request, "queue_studies", None)
        if studies is None:
            studies = {s.pk: s for s in Study.objects.visible_to(request.user)}
        return [(str(pk), str(s)) for pk, s in studies.items()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(study_id=self.value())
        return queryset


class AppliedFilter(admin.SimpleListFilter):
    """When they applied, in the site's time zone: today, this week (since Monday), the past
    7 days, this month, this year."""

    title = _("applied")
    parameter_name = "applied"

    def lookups(self, request, model_admin):
        return [
            ("today", _("Today")),
            ("week", _("This week (since Monday)")),
            ("7days", _("Past 7 days")),
            ("month", _("This month")),
            ("year", _("This year")),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        since = {
            "today": today,
            "week": today - timedelta(days=today.weekday()),
            "7days": today - timedelta(days=6),
            "month": today.replace(day=1),
            "year": today.replace(month=1, day=1),
        }.get(self.value())
        if since is None:
            return queryset
        midnight = timezone.make_aware(datetime.combine(since, time.min))
        return queryset.filter(created_at__gte=midnight)


class ContactedFilter(admin.SimpleListFilter):
    """The call list's first group: new applicants nobody has tried to contact yet."""

    title = _("contact")
    parameter_name = "contacted"

    def lookups(self, request, model_admin):
        return [("no", _("New, not contacted yet"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.not_contacted()
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
    """Counts at most `cap` + 1 rows: past that the list says "more than 1,000" and pages
    stop at the 1,000th row. Counting every matching row cost the queue a third of its
    time at 100,000 participants, and counting up to 10,000 still made a filtered list cost
    twice its time at 100 (make bench, queue-filtered); a coordinator narrows a list that long
    with the search and the filters, not by paging past page 10."""

    cap = 1_000

    @cached_property
    def count(self) -> int:
        # Unordered: the first cap + 1 rows in any order are as many as in the list's order.
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap


# What the queue's columns read, and nothing else: a row of the page had carried every column
# of the participant, of their study (but its long texts) and of the participant they may
# duplicate, about 110 values turned into Python objects for a row that shows 10. A column
# that reads a field left out here costs a query per row (the query-count tests fail). The
# study is not joined: each row gets the study the page's header read already.
QUEUE_ROW_FIELDS = (
    "id",
    "screening_number",
    "first_name",
    "last_name",
    "status",
    "outcome",
    "eligible_from",
    "unanswered_attempts",
    "next_follow_up_on",
    "duplicate_review",
    "criteria_failed_at",
    "criteria_failed_by",
    "created_at",
    "study",
    "duplicate_of__id",
    "duplicate_of__screening_number",
)


class QueueChangeList(ChangeList):
    """The participant list, with the rows of a page fetched with only what its columns read
    (`QUEUE_ROW_FIELDS`). Only the page drawn is trimmed: the actions get the list's full
    query."""

    def get_ordering_field(self, field_name):
        """No order by a column the user may not sort by: Django's `sortable_by` only hides
        the header's link, and `?o=` would still sort by the column (an order by name tells
        a monitor something of each name)."""
        if self.sortable_by is not None and field_name not in self.sortable_by:
            return None
        return super().get_ordering_field(field_name)

    def get_results(self, request):
        full = self.queryset
        self.queryset = full.select_related(None).select_related("duplicate_of")
        self.queryset = self.queryset.only(*QUEUE_ROW_FIELDS)
        try:
            super().get_results(request)
        finally:
            self.queryset = full
        self.result_list = rows = list(self.result_list)
        studies = getattr(request, "queue_studies", {})
        missing = {row.study_id for row in rows} - studies.keys()
        if missing:  # a page not drawn by the changelist view (no header)
            studies = {**studies, **Study.objects.in_bulk(missing)}
        study_field = Participant._meta.get_field("study")
        for row in rows:
            study_field.set_cached_value(row, studies[row.study_id])
