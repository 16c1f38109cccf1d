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
