"""The screening workflow's records: status changes, enrollment slots, informed consent,
eligibility overrides and contact attempts."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from recruitment.models.common import CoveringIndex, audit_history
from recruitment.models.participants import Participant
from recruitment.models.status import ContactMethod, ContactOutcome, Status, StatusReason
from recruitment.models.studies import Study

# A StatusChange without a staff member: the patient used their signed withdraw link.
BY_PARTICIPANT = _("the participant, through their signed link")


class StatusChange(models.Model):
    """One move through the status machine: who, when, from, to and why. Never edited."""

    participant = models.ForeignKey(
        Participant,
        on_delete=models.CASCADE,
        related_name="status_changes",
        verbose_name=_("participant"),
    )
    from_status = models.CharField(_("from"), max_length=12, choices=Status)
    to_status = models.CharField(_("to"), max_length=12, choices=Status)
    reason = models.TextField(
        _("reason"),
        blank=True,
        help_text=_("Free text; shown only to staff who may see names and contact details."),
    )
    reason_code = models.CharField(
        _("reason code"),
        max_length=20,
        choices=StatusReason,
        blank=True,
        help_text=_("Required to decline, find ineligible or withdraw; counted in CONSORT."),
    )
    reason_criterion = models.SlugField(
        _("criterion not met"),
        max_length=60,
        blank=True,
        help_text=_("The criterion's code, with the reason code “fails a criterion”."),
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Empty when the participant withdrew their interest through their link."),
    )
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["participant", "at", "pk"]
        # Moves to one status (enrolled, declined) by date: the dashboard's weekly series.
        # Moves into one status: enrolments by date (the weekly series), and the reasons of
        # declines read from the index alone.
        indexes = [
            CoveringIndex(
                fields=["to_status", "participant"],
                covering=["at", "reason", "reason_code"],
                name="status_change_into",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(from_status__in=Status.values) & Q(to_status__in=Status.values),
                name="status_change_statuses_valid",
            ),
            models.CheckConstraint(
                condition=Q(reason_code__in=["", *StatusReason.values]),
                name="status_change_reason_code_valid",
            ),
            models.CheckConstraint(
                condition=Q(reason_code=StatusReason.FAILS_CRITERION, reason_criterion__gt="")
                | (~Q(reason_code=StatusReason.FAILS_CRITERION) & Q(reason_criterion="")),
                name="status_change_criterion_iff_fails_criterion",
            ),
        ]

    def __str__(self):
        return f"{self.from_status} → {self.to_status} ({self.by_display})"

    @property
    def reason_code_display(self) -> str:
        """The coded reason ("Fails a criterion: opioids"), which anyone may read."""
        # The member's own label: get_reason_code_display() hashes every choice's lazy label
        # on each call, which the screening log pays once per row.
        if not self.reason_code:
            return ""
        label = str(StatusReason(self.reason_code).label)
        if self.reason_code == StatusReason.FAILS_CRITERION:
            return f"{label}: {self.reason_criterion}"
        return label

    @property
    def by_display(self) -> str:
        """Who made the change: a staff member's username, or the participant themselves."""
        if self.by_id is None:
            return str(BY_PARTICIPANT)
        return self.by.get_username()


class EnrolmentSlotQuerySet(models.QuerySet):
    def free(self):
        return self.filter(participant__isnull=True)

    def taken(self):
        return self.filter(participant__isnull=False)


class EnrolmentSlot(models.Model):
    """One of a study's fixed enrolment slots (as many rows as the target). A participant
    holds one while enrolled or completed; the unique link makes over-enrolment impossible
    even for code that skips the services."""

    study = models.ForeignKey(
        Study, on_delete=models.CASCADE, related_name="slots", verbose_name=_("study")
    )
    number = models.PositiveSmallIntegerField(_("slot"), validators=[MinValueValidator(1)])

    objects = EnrolmentSlotQuerySet.as_manager()

    class Meta:
        verbose_name = _("enrollment slot")
        verbose_name_plural = _("enrollment slots")
        ordering = ["study", "number"]
        constraints = [
            models.UniqueConstraint(fields=["study", "number"], name="slot_number_unique_in_study"),
            models.CheckConstraint(condition=Q(number__gte=1), name="slot_number_positive"),
        ]

    def __str__(self):
        return f"{self.study.prefix} slot {self.number}"


class ConsentRecord(models.Model):
    """Informed consent to take part, recorded before enrolment."""

    participant = models.OneToOneField(
        Participant,
        on_delete=models.CASCADE,
        related_name="consent",
        verbose_name=_("participant"),
    )
    consented_on = models.DateField(_("date of consent"))
    form_version = models.CharField(_("consent form version"), max_length=40)
    obtained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("obtained by"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    history = audit_history()

    class Meta:
        verbose_name = _("informed consent")
        verbose_name_plural = _("informed consents")

    def __str__(self):
        return f"{self.form_version} on {self.consented_on}"


class EligibilityOverride(models.Model):
    """An investigator's decision that one criterion the participant does not meet (or whose
    value is unknown) shall not stop them. Written once by
    `services.eligibility_override_record`, never edited or deleted: the row is its own audit
    record (who, when, which criterion as it stood, why)."""

    participant = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        related_name="eligibility_overrides",
        verbose_name=_("participant"),
    )
    criterion_code = models.SlugField(_("criterion"), max_length=60)
    criterion_snapshot = models.JSONField(
        _("criterion as overridden"),
        help_text=_("The criterion's title, rule and the participant's verdict when overridden."),
    )
    reason = models.TextField(_("reason"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("investigator"),
    )
    at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("eligibility override")
        verbose_name_plural = _("eligibility overrides")
        ordering = ["participant", "at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "criterion_code"], name="one_override_per_criterion"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="override_has_reason"),
        ]

    def __str__(self):
        return f"{self.criterion_code} overridden"


class ContactAttempt(models.Model):
    """One attempt to reach a participant, before or after consent. Never edited."""

    participant = models.ForeignKey(
        Participant,
        on_delete=models.CASCADE,
        related_name="contact_attempts",
        verbose_name=_("participant"),
    )
    at = models.DateTimeField(_("when"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    method = models.CharField(_("how"), max_length=10, choices=ContactMethod)
    outcome = models.CharField(_("outcome"), max_length=15, choices=ContactOutcome)
    note = models.TextField(_("note"), max_length=1000, blank=True)
    follow_up_on = models.DateField(_("next follow-up"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("contact attempt")
        verbose_name_plural = _("contact attempts")
        ordering = ["participant", "-at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(method__in=ContactMethod.values), name="contact_method_valid"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=ContactOutcome.values), name="contact_outcome_valid"
            ),
        ]

    def __str__(self):
        return f"{self.get_method_display()}: {self.get_outcome_display()}"


class StaffNoteQuerySet(models.QuerySet):
    def newest_first(self):
        return self.order_by("-at", "-pk")


class StaffNote(models.Model):
    """A note staff keep on a participant (who, when, what), apart from the patient's own note
    on the form. Written once by `staff_notes.staff_note_add`, never edited or deleted: the
    row is its own audit record. Only staff who may see names read the text (monitors do
    not: a note may quote the person); retention erases the text with the personal data."""

    participant = models.ForeignKey(
        Participant,
        on_delete=models.CASCADE,
        related_name="staff_notes",
        verbose_name=_("participant"),
    )
    text = models.TextField(_("note"), max_length=2000)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("written at"), auto_now_add=True, db_index=True)

    objects = StaffNoteQuerySet.as_manager()

    class Meta:
        verbose_name = _("staff note")
        verbose_name_plural = _("staff notes")
        ordering = ["participant", "-at", "-pk"]
        indexes = [models.Index(fields=["participant", "-at"], name="staff_note_newest")]

    def __str__(self):
        return f"Note by {self.by_id} at {self.at:%Y-%m-%d %H:%M}" if self.at else "Note"
