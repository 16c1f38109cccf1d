"""The participant queue's filters, its capped count and the rows it fetches."""

from datetime import datetime, time, timedelta

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.db import models
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from recruitment.identification import can_identify
from recruitment.models import (
    DuplicateReview,
    Outcome,
    Status,
    Study,
)

# Django's words for the row's checkbox (its own translation catalog has them).
SELECT_FOR_ACTION = _("Select this object for an action - {}")


def participants_visible(queryset, request):
    """The participants of the studies the user is a member of (every study for a
    superuser). On the queue's page the studies are known already (`queue_study_ids`, set by
    the changelist from the studies its header shows): a list of ids lets the planner read a
    page in index order, where filtering through the membership table hid which studies it
    would meet, and it sorted every matching row before taking a page of 100 (bench/README.md
    has the figures)."""
    ids = getattr(request, "queue_study_ids", None)
    if ids is None or request.user.is_superuser:
        return queryset.visible_to(request.user)
    return queryset.filter(study_id__in=ids)


def choice_label(choices, value: str) -> str:
    """A choice's label in the active language. Django's get_FOO_display() hashes every
    choice's lazy label on each call: on a page of 100 rows, two such columns cost more than
    the page's queries."""
    return str(choices(value).label) if value in choices.values else value


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
        the widget's template for each row, a large share of a queue page's time."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(str(SELECT_FOR_ACTION), str(obj)),
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
            gettext("from %(date)s") % {"date": formats.date_format(obj.eligible_from)},
        )

    @admin.display(description=_("follow-up"), ordering="next_follow_up_on")
    def follow_up_shown(self, obj):
        if obj.next_follow_up_on is None:
            return "-"
        return formats.date_format(obj.next_follow_up_on)

    @admin.display(description=_("applied"), ordering="created_at")
    def applied_shown(self, obj):
        return formats.date_format(timezone.localtime(obj.created_at))


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
