"""Draft amendments of a study's criteria: what an investigator is preparing, which nothing
but the what-if reads until it is published."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from recruitment.models.common import audit_history
from recruitment.models.studies import Study


class CriteriaDraftQuerySet(models.QuerySet):
    def unpublished(self):
        return self.filter(published_at__isnull=True)

    def published(self):
        return self.filter(published_at__isnull=False)


class CriteriaDraft(models.Model):
    """The study's whole set of criteria as an amendment would make it, kept as JSON in the
    study file's shape (one dict per criterion: code, kind, answered_by, title, question,
    hint, rationale, rule_kind, params, translations; in the order the form asks them).

    A whole copy, not a diff, so any rule can change and a criterion can be added or removed
    with one shape, and publishing is loading it the way `load_study` loads a study file. The
    form, the queue and the verdicts read only `EligibilityCriterion`: a draft is invisible
    to them until it is published. A published draft is never changed again."""

    study = models.ForeignKey(
        Study, on_delete=models.CASCADE, related_name="criteria_drafts", verbose_name=_("study")
    )
    note = models.TextField(
        _("what the amendment changes"),
        blank=True,
        help_text=_("For example the protocol amendment's number and what it changes."),
    )
    criteria = models.JSONField(
        _("criteria if published"),
        default=list,
        help_text=_("Every criterion as the amendment would have it, in the study file's shape."),
    )
    base_version = models.PositiveIntegerField(
        _("drafted from criteria version"),
        help_text=_(
            "The study's criteria version the draft was made from: a draft older than the "
            "criteria now live cannot be published (it would undo the newer change)."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("drafted by"),
    )
    created_at = models.DateTimeField(_("drafted"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
        verbose_name=_("published by"),
    )
    published_version = models.PositiveIntegerField(
        _("published as criteria version"), null=True, blank=True, editable=False
    )

    history = audit_history()
    objects = CriteriaDraftQuerySet.as_manager()

    class Meta:
        verbose_name = _("criteria draft")
        verbose_name_plural = _("criteria drafts")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(published_at__isnull=True, published_version__isnull=True)
                    | models.Q(published_at__isnull=False, published_version__isnull=False)
                ),
                name="criteria_draft_published_whole",
            ),
        ]

    def __str__(self):
        return f"{self.study} draft {self.pk}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class WhatIfState(models.TextChoices):
    QUEUED = "queued", _("Being computed")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class WhatIfRun(models.Model):
    """A draft's what-if computed in the background (a study with more people than
    AMENDMENT_WHAT_IF_INLINE_MAX): counts and the per-criterion table as JSON, and the
    per-person CSV, each row a random id; no name, no screening number, no answer. One per
    draft, criteria and day (`inputs_digest`): the same inputs are not judged twice."""

    draft = models.ForeignKey(
        CriteriaDraft,
        on_delete=models.CASCADE,
        related_name="whatif_runs",
        verbose_name=_("criteria draft"),
    )
    inputs_digest = models.CharField(
        _("inputs digest"),
        max_length=64,
        help_text=_("A digest of the draft's criteria, the criteria version in use and the day."),
    )
    today = models.DateField(_("judged on"))
    state = models.CharField(
        _("state"), max_length=8, choices=WhatIfState, default=WhatIfState.QUEUED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("asked by"),
    )
    requested_at = models.DateTimeField(_("asked at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    summary = models.JSONField(_("counts"), null=True, blank=True)
    csv = models.TextField(_("one row per person (CSV)"), blank=True)

    class Meta:
        verbose_name = _("what-if run")
        verbose_name_plural = _("what-if runs")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["draft", "inputs_digest"], name="one_whatif_run_per_input"
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=["queued", "done", "failed"]),
                name="whatif_run_state_valid",
            ),
        ]

    def __str__(self):
        return f"What-if {self.pk} of draft {self.draft_id}"
