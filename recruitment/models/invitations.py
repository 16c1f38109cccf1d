"""Registry invitations: a coordinator invited a registry member to apply to a study."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from recruitment.models.common import audit_history
from recruitment.models.registry import RegistryMatch


class InvitationResponse(models.TextChoices):
    NONE = "", _("No answer yet")
    YES = "yes", _("Yes: applied")
    NO = "no", _("No, thanks")


class RegistryInvitation(models.Model):
    """One invitation of one match's person to its study: who sent it and when, and the
    person's answer through the email's signed links. At most one per match, so a person is
    never invited twice to the same study; the service keeps a person's invitations at least
    REGISTRY_INVITE_MIN_DAYS apart across all studies. Audited."""

    match = models.ForeignKey(
        RegistryMatch,
        on_delete=models.PROTECT,
        related_name="invitations",
        verbose_name=_("match"),
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("invited by"),
    )
    sent_at = models.DateTimeField(_("invited at"), db_index=True)
    # What the email's signed links carry (no id): they work while it is set; answering
    # clears it.
    nonce = models.CharField(max_length=32, blank=True, default="", editable=False)
    used_at = models.DateTimeField(_("answered at"), null=True, blank=True, editable=False)
    response = models.CharField(
        _("answer"),
        max_length=3,
        choices=InvitationResponse,
        blank=True,
        default=InvitationResponse.NONE,
        editable=False,
    )
    history = audit_history(excluded_fields=["nonce"])

    class Meta:
        verbose_name = _("registry invitation")
        verbose_name_plural = _("registry invitations")
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["match"], name="one_invitation_per_match"),
            # The links find their invitation by its nonce alone (no id in the URL).
            models.UniqueConstraint(
                fields=["nonce"], condition=~Q(nonce=""), name="invitation_nonce_unique"
            ),
            models.CheckConstraint(
                condition=Q(response__in=["", "yes", "no"]), name="invitation_response_valid"
            ),
            models.CheckConstraint(
                condition=Q(used_at__isnull=True, response="")
                | Q(used_at__isnull=False, response__in=["yes", "no"]),
                name="invitation_answered_when_used",
            ),
        ]

    def __str__(self):
        return f"Invitation {self.pk}"
