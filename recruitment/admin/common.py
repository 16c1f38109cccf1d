"""What the admin's modules share: helpers, the rule that edits go through the services,
and the history's field lists."""

from django.contrib import messages
from django.contrib.admin.utils import display_for_field
from django.http import HttpResponseRedirect
from django.utils.decorators import method_decorator
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters

from recruitment.models import (
    Participant,
    Status,
)

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
HIDDEN = _("hidden: needs permission to see contact details")


def is_open(participant: Participant) -> bool:
    """Not in a final status (the same rule as `Participant.objects.open()`)."""
    return participant.status in Status.open()


def user_shown(user) -> str:
    return user.get_username() if user is not None else "—"


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


def refusal_message(participant: Participant, exc: Exception) -> str:
    message = str(exc)
    if participant.screening_number in message:
        return message
    return f"{participant.screening_number}: {message}"


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
