"""Registry invitations: the audit of who invited which match, when, and the answer. Read-only
for everyone (rows come from the "Invite" button's service and the person's links; each
change is in the row's simple-history table); staff see their studies' invitations only,
each by its match number, never the person."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from recruitment.admin.common import user_shown
from recruitment.models import RegistryInvitation, Study


@admin.register(RegistryInvitation)
class RegistryInvitationAdmin(admin.ModelAdmin):
    list_display = ["match_shown", "study", "sent_by_shown", "sent_at", "response", "used_at"]
    list_filter = ["response", ("match__study", admin.RelatedOnlyFieldListFilter)]
    date_hierarchy = "sent_at"
    fields = ["match_shown", "study", "sent_by_shown", "sent_at", "response", "used_at"]
    readonly_fields = fields
    list_select_related = ["match__study", "sent_by"]

    def get_queryset(self, request):
        rows = super().get_queryset(request).select_related("match__study", "sent_by")
        return rows.filter(match__study__in=Study.objects.visible_to(request.user))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("match"), ordering="match__number")
    def match_shown(self, obj):
        return obj.match.label

    @admin.display(description=_("study"), ordering="match__study__slug")
    def study(self, obj):
        return obj.match.study.short_title

    @admin.display(description=_("invited by"), ordering="sent_by__username")
    def sent_by_shown(self, obj):
        return user_shown(obj.sent_by)
