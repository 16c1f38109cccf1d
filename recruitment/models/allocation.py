"""Concealed allocation: a study's sealed allocation list (sequence, stratum, arm, pack code),
the row each enrolled participant takes, a participant's stratum, and emergency unblindings.

The arm is what the blinded team must never read: no simple-history on these tables (a history
would copy the arm), no default permissions (nothing for the admin or a role to grant by
accident), and no admin registration. Only the "Unblinded statistician" role's explicit
`manage_allocation` permission reads arms (`recruitment.allocation.access`)."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from recruitment.models.common import audit_history
from recruitment.models.participants import Participant
from recruitment.models.studies import Study


class AllocationList(models.Model):
    """A study's sealed list, as the unblinded statistician uploaded it: the arms declared for
    it (every row's arm is one of them) and its strata (none: every row's stratum is blank)."""

    study = models.OneToOneField(
        Study,
        on_delete=models.CASCADE,
        related_name="allocation_list",
        verbose_name=_("study"),
    )
    arms = models.JSONField(
        _("arms"),
        default=list,
        help_text=_("The arms or crossover sequences of the study, e.g. AB and BA."),
    )
    strata = models.JSONField(
        _("strata"),
        default=list,
        blank=True,
        help_text=_("The strata of the list; empty when the study has none."),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now=True)
    filename = models.CharField(_("file name"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("allocation list")
        verbose_name_plural = _("allocation lists")
        default_permissions = ()
        permissions = [
            (
                "manage_allocation",
                _("Can upload the allocation list and see arms (unblinded statistician only)"),
            ),
        ]

    def __str__(self):
        return f"{self.study.prefix} allocation list"

    @property
    def has_strata(self) -> bool:
        return bool(self.strata)


class AllocationRowQuerySet(models.QuerySet):
    def unused(self):
        return self.filter(participant__isnull=True)

    def used(self):
        return self.filter(participant__isnull=False)


class AllocationRow(models.Model):
    """One line of the sealed list. A participant takes the next unused row of their stratum
    at enrollment; the one-to-one link means no row serves two participants, and no
    participant gets two rows, even for code that skips the services."""

    study = models.ForeignKey(
        Study,
        on_delete=models.CASCADE,
        related_name="allocation_rows",
        verbose_name=_("study"),
    )
    sequence = models.PositiveIntegerField(_("sequence number"), validators=[MinValueValidator(1)])
    stratum = models.CharField(_("stratum"), max_length=40, blank=True)
    arm = models.CharField(_("arm"), max_length=40)
    pack_code = models.CharField(_("pack code"), max_length=40)
    participant = models.OneToOneField(
        Participant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="allocation",
        verbose_name=_("participant"),
    )
    allocated_at = models.DateTimeField(_("allocated"), null=True, blank=True)

    objects = AllocationRowQuerySet.as_manager()

    class Meta:
        verbose_name = _("allocation row")
        verbose_name_plural = _("allocation rows")
        default_permissions = ()
        ordering = ["study", "stratum", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "stratum", "sequence"],
                name="allocation_sequence_unique_in_stratum",
            ),
            models.UniqueConstraint(
                fields=["study", "pack_code"], name="allocation_pack_code_unique_in_study"
            ),
            models.CheckConstraint(
                condition=Q(participant__isnull=True, allocated_at__isnull=True)
                | Q(participant__isnull=False, allocated_at__isnull=False),
                name="allocation_allocated_at_iff_participant",
            ),
        ]
        indexes = [
            # The next unused row of a stratum, and the counts of unused rows.
            models.Index(fields=["study", "stratum", "participant", "sequence"]),
        ]

    def __str__(self):
        # Never the arm: this text can reach a log line or an error page.
        return f"{self.study.prefix} {self.stratum or '-'} #{self.sequence} ({self.pack_code})"


class ParticipantStratum(models.Model):
    """The stratum staff set for a participant before enrollment, in a study whose allocation
    list has strata (a study without strata needs none: the stratum is blank)."""

    participant = models.OneToOneField(
        Participant,
        on_delete=models.CASCADE,
        related_name="stratum",
        verbose_name=_("participant"),
    )
    stratum = models.CharField(
        _("stratum"),
        max_length=40,
        help_text=_("One of the strata of the study's allocation list; fixed once enrolled."),
    )
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("set by"),
    )
    set_at = models.DateTimeField(_("set"), auto_now=True)
    history = audit_history()

    class Meta:
        verbose_name = _("participant stratum")
        verbose_name_plural = _("participant strata")

    def __str__(self):
        return self.stratum


class Unblinding(models.Model):
    """An emergency unblinding of one participant: who, when, why. Never edited; the arm is
    not copied here (it stays on the allocation row), so the report can be shown to
    investigators without revealing it."""

    participant = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        related_name="unblindings",
        verbose_name=_("participant"),
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    reason = models.TextField(_("reason"))

    class Meta:
        verbose_name = _("unblinding")
        verbose_name_plural = _("unblindings")
        default_permissions = ()
        permissions = [
            ("unblind_participant", _("Can unblind one participant in an emergency")),
            ("view_unblinding", _("Can see the list of emergency unblindings")),
        ]
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="unblinding_reason_required")
        ]

    def __str__(self):
        return f"{self.participant.screening_number} unblinded by {self.by}"
