"""A participant's answers to the study's criteria: the patient's on the form, or values staff
entered or verified."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from recruitment.models.common import audit_history
from recruitment.models.participants import Participant
from recruitment.models.status import VerificationMethod
from recruitment.models.studies import AnsweredBy, EligibilityCriterion


class Answer(models.Model):
    """One answer to one criterion: the patient's on the form, or a value staff entered. Staff
    may verify a patient's answer (`answer_verify`): the row then holds the verified value, who
    recorded it and how it was confirmed; the patient's own answer stays in the history."""

    # Fewer indexes, less to write per submission: a participant's answers are found by the
    # unique (participant, criterion) index; nothing looks answers up by criterion alone
    # (criteria are retired, never deleted); only staff-entered values have a recorder.
    participant = models.ForeignKey(
        Participant,
        on_delete=models.CASCADE,
        related_name="answers",
        verbose_name=_("participant"),
        db_index=False,
    )
    criterion = models.ForeignKey(
        EligibilityCriterion,
        on_delete=models.PROTECT,
        related_name="answers",
        verbose_name=_("criterion"),
        db_index=False,
        # No database constraint: see CriterionVerdict.criterion.
        db_constraint=False,
    )
    value = models.JSONField(_("answer"), null=True)
    answered_by = models.CharField(_("answered by"), max_length=10, choices=AnsweredBy)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
        db_index=False,
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now=True)
    verified_how = models.CharField(
        _("how it was confirmed"),
        max_length=10,
        choices=VerificationMethod,
        blank=True,
        help_text=_("Set when staff verified the patient's answer with them or their records."),
    )
    verified_note = models.TextField(
        _("note on the verification"),
        max_length=500,
        blank=True,
        help_text=_("Shown only to staff who may see names and contact details."),
    )
    # A registry member who said yes to an invitation: their earlier answer to a question the
    # center's studies share, carried over to this application rather than asked again.
    carried_over_on = models.DateField(
        _("carried over: answered on"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "Set when the answer was carried over from the person's earlier form (the "
            "registry): the date they gave it. The patient did not answer it again."
        ),
    )
    carried_over_from = models.ForeignKey(
        Participant,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("carried over from the application"),
        editable=False,
        db_index=False,
    )
    history = audit_history()

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        indexes = [
            models.Index(
                fields=["recorded_by"],
                name="answer_recorded_by",
                condition=Q(recorded_by__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "criterion"], name="one_answer_per_criterion"
            ),
            models.CheckConstraint(
                condition=Q(verified_how__in=["", *VerificationMethod.values]),
                name="answer_verified_how_valid",
            ),
        ]

    def __str__(self):
        return f"{self.criterion.code}: {self.value!r}"

    @property
    def is_verified(self) -> bool:
        """Staff confirmed this answer to a question the patient answers on the form."""
        return bool(self.verified_how)
