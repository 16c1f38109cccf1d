"""The participant's audit trail in the admin (django-simple-history), read-only for everyone:
scoped like every other page, each version's changes listed with the fields the library skips,
without identifying fields for users who may not see them."""

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse

from recruitment import selectors
from recruitment.admin.common import (
    HISTORY_HIDDEN_FIELDS,
    history_delta,
)
from recruitment.admin.history_words import history_actor
from recruitment.admin.screening_steps import (
    staff_note_history,
)
from recruitment.identification import (
    PARTICIPANT_IDENTIFYING_FIELDS,
    can_identify,
    status_reason_shown,
)
from recruitment.models import (
    Participant,
)
from recruitment.screening.views import (
    participant_not_found,
)


class ParticipantHistoryMixin:
    """The history pages of `ParticipantAdmin`."""

    def history_view(self, request, object_id, extra_context=None):
        """The participant's history, scoped like every other page: simple-history's own view
        would fall back to the history rows of a participant the user may not see."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return participant_not_found(request)
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
            "staff_notes": staff_note_history(request, obj),
        }
        return super().history_view(request, object_id, {**context, **(extra_context or {})})

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """No per-version form: it would show every field and save without the services.
        The history list already shows each version's changes."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return participant_not_found(request)
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
            record.changed_by = history_actor(record)
            if newer is not None:
                newer.history_delta_changes = history_delta(record, newer, fields)
            newer = record
