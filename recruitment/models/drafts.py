"""Save and finish later: a patient's unsent form."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from recruitment.models.studies import Study


class Draft(models.Model):
    """An interest form a patient saved to finish later: not a participant, never shown to staff.

    Only a hash of the link's token is stored; each resume replaces it, so a link works once.
    Expired drafts are deleted by `erase_expired_participants`.
    """

    study = models.ForeignKey(
        Study, on_delete=models.CASCADE, related_name="+", verbose_name=_("study")
    )
    email = models.EmailField(_("email"), max_length=254)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    data = models.JSONField(
        _("answers so far"), default=dict, help_text=_("The form as posted: name to values.")
    )
    language = models.CharField(_("language"), max_length=10, default="en")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    saved_at = models.DateTimeField(_("saved"), auto_now=True)
    expires_at = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        verbose_name = _("draft")
        verbose_name_plural = _("drafts")

    def __str__(self):
        return f"Draft {self.pk}"
