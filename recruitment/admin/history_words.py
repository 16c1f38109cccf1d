"""Who made a change, in words, for the participant's history: a staff member's username, or
who acted when no staff member did (the history records no user then)."""

from django.utils.translation import gettext_lazy as _

from recruitment.intake.services import IMPORT_REASON

BY_INTEREST_FORM = _("the participant (interest form)")
BY_WITHDRAW_LINK = _("the participant (withdraw link)")
BY_IMPORT = _("an import (interest list)")
BY_RETENTION = _("the retention rule (automatic erasure)")


def history_actor(record) -> str:
    """The history's "changed by" for one version of a participant."""
    if record.history_user_id is not None:
        return record.history_user.get_username()
    reason = record.history_change_reason or ""
    if getattr(record, "erased_at", None) is not None:
        return str(BY_RETENTION)
    if reason == IMPORT_REASON or (
        record.entry_source == "import" and reason == "Pre-screen evaluated"
    ):
        return str(BY_IMPORT)
    if reason.startswith("Status "):
        return str(BY_WITHDRAW_LINK)  # the only status change made with no staff member
    return str(BY_INTEREST_FORM)
