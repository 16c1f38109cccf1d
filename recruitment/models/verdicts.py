"""The verdicts of a participant's pre-screen, one per criterion, each pointing at the
criterion version it was judged by."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from recruitment import eligibility
from recruitment.models.participants import Participant
from recruitment.models.studies import CriterionVersion, EligibilityCriterion


class Verdict(models.TextChoices):
    MET = eligibility.VerdictStatus.MET, _("Met")
    NOT_MET = eligibility.VerdictStatus.NOT_MET, _("Not met")
    UNKNOWN = eligibility.VerdictStatus.UNKNOWN, _("Unknown")
    PENDING = eligibility.VerdictStatus.PENDING, _("Pending (staff)")


class Provenance(models.TextChoices):
    SELF_REPORTED = eligibility.Source.SELF_REPORTED, _("Self-reported")
    STAFF_VERIFIED = eligibility.Source.STAFF_VERIFIED, _("Staff-verified")


class CriterionVerdictManager(models.Manager):
    """Every read of verdicts joins the criterion as judged: a verdict is never shown or
    checked without its text and rule, so a list of verdicts costs one query, not one per row."""

    def get_queryset(self):
        return super().get_queryset().select_related("criterion_version")


class CriterionVerdict(models.Model):
    """One criterion's verdict in a participant's stored evaluation, pointing at the exact
    criterion text and rule it was judged by (a `CriterionVersion`, shared by every verdict
    judged by the same text and rule), so later protocol amendments do not rewrite history.

    A criterion staff assess whose value is not entered yet has no row: read a participant's
    verdicts with `selectors.verdict_list`, which lists those as pending."""

    # The primary key is (participant, criterion): one verdict per criterion, and the index
    # that finds a participant's verdicts, with no id column and no second index to write.
    pk = models.CompositePrimaryKey("participant", "criterion")
    # Indexes: the primary key finds a participant's verdicts, and
    # the partial not-met one serves the reports; none on the criterion or its version alone
    # (never deleted), so a submission writes fewer index entries.
    participant = models.ForeignKey(
        Participant,
        on_delete=models.CASCADE,
        related_name="verdicts",
        verbose_name=_("participant"),
        db_index=False,
    )
    criterion = models.ForeignKey(
        EligibilityCriterion,
        on_delete=models.PROTECT,
        related_name="verdicts",
        verbose_name=_("criterion"),
        db_index=False,
        # No database constraint, here and on `criterion_version` and Answer.criterion: a
        # foreign-key check locks the row it points at (FOR KEY SHARE), so every submission
        # locked all of its study's criteria and their versions, one WAL record each, and
        # concurrent submissions shared those locks (multixacts). Criteria and their
        # versions are never deleted (PROTECT refuses it in the app; versions are written
        # once), so the constraint guarded nothing the app can do.
        db_constraint=False,
    )
    criterion_version = models.ForeignKey(
        CriterionVersion,
        on_delete=models.PROTECT,
        related_name="verdicts",
        verbose_name=_("criterion as judged"),
        db_index=False,
        db_constraint=False,  # see `criterion`
    )
    answer = models.JSONField(_("answer"), null=True)
    verdict = models.CharField(_("verdict"), max_length=10, choices=Verdict)
    reason = models.CharField(_("reason"), max_length=300)
    provenance = models.CharField(_("provenance"), max_length=20, choices=Provenance, blank=True)
    eligible_from = models.DateField(_("eligible from"), null=True, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    objects = CriterionVerdictManager()

    class Meta:
        verbose_name = _("criterion verdict")
        verbose_name_plural = _("criterion verdicts")
        ordering = ["participant", "order"]
        indexes = [
            # The dashboard's and the screening log's failed criteria: a few percent of rows.
            models.Index(
                fields=["criterion", "participant"],
                name="verdict_not_met",
                condition=Q(verdict="not_met"),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(verdict__in=Verdict.values), name="verdict_valid"),
        ]

    def __str__(self):
        return f"{self.criterion_snapshot.get('code')}: {self.verdict}"

    @property
    def criterion_snapshot(self) -> dict:
        """The criterion's text and rule as judged (joined by the default manager)."""
        return self.criterion_version.snapshot
