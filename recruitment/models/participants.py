"""Participants (their answers are in `answers`, the verdicts of their pre-screen in
`verdicts`)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from recruitment.models.common import ZIP_VALIDATOR, CoveringIndex, audit_history
from recruitment.models.people import Person
from recruitment.models.status import (
    ALLOWED_TRANSITIONS,
    FHIR_STATUS,
    BestTime,
    ContactMethod,
    ContactOutcome,
    DuplicateReview,
    EvaluationCause,
    Outcome,
    ReferralSource,
    Status,
)
from recruitment.models.studies import Study


class EntrySource(models.TextChoices):
    """How a participant's interest reached the study: the public form, an imported list, or a
    coordinator entering the form on the person's behalf."""

    FORM = "form", _("Interest form (online)")
    IMPORT = "import", _("Imported interest list")
    PHONE = "phone", _("Phone call (entered by staff)")
    WALK_IN = "walk_in", _("Walk-in (entered by staff)")
    OTHER = "other", _("Other (entered by staff)")
    REGISTRY = "registry", _("Registry invitation (the person said yes)")

    @classmethod
    def staff_entries(cls) -> list["EntrySource"]:
        return [cls.PHONE, cls.WALK_IN, cls.OTHER]


class ParticipantQuerySet(models.QuerySet):
    def visible_to(self, user):
        if user.is_superuser:
            return self
        return self.filter(study__members=user)

    def possible_duplicates(self):
        return self.filter(duplicate_review=DuplicateReview.PENDING)

    def open(self):
        """Not yet in a final status: someone still has to act on them."""
        return self.exclude(status__in=Status.final())

    def waitlist(self):
        """Waitlisted participants in the order they became eligible."""
        return self.filter(status=Status.WAITLISTED).order_by("eligible_at", "screening_seq")

    def not_contacted(self):
        """New applicants nobody has tried to contact yet (no contact attempt at all)."""
        return self.filter(status=Status.NEW, last_attempt_at__isnull=True)

    def due_for_follow_up(self, today):
        return self.open().filter(next_follow_up_on__lte=today)

    def not_reached(self):
        """Open participants with at least the study's number of unanswered attempts."""
        return self.open().filter(unanswered_attempts__gte=models.F("study__not_reached_after"))

    def erasable(self):
        """Never enrolled, in a final status, personal data not yet erased (the retention
        period is checked by `services.participants_erase_expired`)."""
        return self.filter(status__in=Status.erasable(), erased_at__isnull=True)


class Participant(models.Model):
    """Everyone from the moment they express interest; `status` says how far they have come."""

    # Indexed by the composite indexes that start with it (Meta.indexes).
    study = models.ForeignKey(
        Study,
        on_delete=models.PROTECT,
        related_name="participants",
        verbose_name=_("study"),
        db_index=False,
    )
    # The person across studies; the contact fields below are this application's own copy.
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name=_("person"),
        editable=False,
        help_text=_("The same person's applications to other studies share this record."),
    )
    screening_seq = models.PositiveIntegerField(_("screening sequence"), editable=False)
    # Unique (Meta.constraints): a constraint rather than `unique=True`, which on PostgreSQL
    # adds a LIKE-pattern index beside the unique one.
    screening_number = models.CharField(_("screening number"), max_length=30, editable=False)
    # NULL until enrolment: unique per study among those who have one.
    participant_id = models.CharField(  # noqa: DJ001
        _("participant ID"),
        max_length=30,
        null=True,
        blank=True,
        editable=False,
        help_text=_("Given at enrollment, e.g. LDN-001."),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status, default=Status.NEW, editable=False
    )

    # Contact details
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    # Case-folded in Python: SQLite's case-insensitive match covers ASCII letters only.
    name_normalised = models.CharField(max_length=201, editable=False)
    email = models.EmailField(_("email"), max_length=254)
    email_normalised = models.CharField(max_length=254, editable=False)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    phone_normalised = models.CharField(max_length=15, editable=False, blank=True)
    preferred_contact = models.CharField(
        _("preferred contact method"), max_length=10, choices=ContactMethod.preferable()
    )
    best_time = models.CharField(
        _("best time to call"), max_length=10, choices=BestTime, blank=True
    )
    # NULL only once erased (see `erased_at`); every form and `full_clean()` still require it.
    date_of_birth = models.DateField(_("date of birth"), null=True)
    zip_code = models.CharField(_("ZIP code"), max_length=5, validators=[ZIP_VALIDATOR])
    referral_source = models.CharField(
        _("heard of the study from"), max_length=20, choices=ReferralSource, blank=True
    )
    note = models.TextField(_("note from the patient"), max_length=1000, blank=True)
    language = models.CharField(_("language"), max_length=10, default="en")
    entry_source = models.CharField(
        _("source"),
        max_length=10,
        choices=EntrySource,
        default=EntrySource.FORM,
        editable=False,
        help_text=_("The public form, an import, or staff entering the form for the person."),
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by (staff)"),
        editable=False,
        db_index=False,  # a partial index: `participant_entered_by`
        help_text=_("The staff member who entered the interest form on the person's behalf."),
    )

    # Consent to be contacted
    contact_consent = models.BooleanField(_("agreed to be contacted"))
    contact_consent_version = models.CharField(_("consent-to-contact version"), max_length=20)
    contact_consent_at = models.DateTimeField(_("agreed at"))

    # Pre-screen evaluation (the per-criterion verdicts are CriterionVerdict rows)
    outcome = models.CharField(
        _("pre-screen outcome"), max_length=20, choices=Outcome, editable=False
    )
    eligible_from = models.DateField(
        _("eligible from"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When a washout window is still running: the first eligible date."),
    )
    criteria_version = models.PositiveIntegerField(_("criteria version used"), editable=False)
    evaluated_at = models.DateTimeField(_("evaluated at"), editable=False)

    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="possible_duplicates",
        verbose_name=_("possible duplicate of"),
        editable=False,
        db_index=False,  # a partial index: `participant_duplicate_of`
        help_text=_(
            "Matched on email, phone, or name and date of birth. Staff confirm or dismiss."
        ),
    )
    duplicate_review = models.CharField(
        _("duplicate review"),
        max_length=10,
        choices=DuplicateReview,
        default=DuplicateReview.NONE,
        blank=True,
        editable=False,
    )
    eligible_at = models.DateTimeField(
        _("became eligible"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("The waitlist is ordered by this time."),
    )
    # One participant a slot at most: `slot_held_once` below, a unique index of the rows that
    # hold a slot only (a OneToOneField's index would take an entry for every applicant).
    slot = models.ForeignKey(
        "EnrolmentSlot",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="participant",
        verbose_name=_("enrollment slot"),
        editable=False,
        db_index=False,
    )
    # Kept up to date by the contact-attempt service, so queue filters need no subquery.
    unanswered_attempts = models.PositiveSmallIntegerField(
        _("unanswered attempts"),
        default=0,
        editable=False,
        help_text=_("Contact attempts without an answer since the person was last reached."),
    )
    next_follow_up_on = models.DateField(_("next follow-up"), null=True, blank=True, editable=False)
    # The latest contact attempt (latest `at`, then latest entered), kept by the same service:
    # "not contacted yet", "asked to call back" and "not reached" read these two columns
    # instead of looking up every applicant's attempts.
    last_attempt_at = models.DateTimeField(
        _("last contact attempt"), null=True, blank=True, editable=False
    )
    last_attempt_outcome = models.CharField(
        _("last contact outcome"),
        max_length=20,
        choices=ContactOutcome,
        blank=True,
        default="",
        editable=False,
    )
    # Set by the evaluation when new values (lab values, a corrected date of birth or ZIP code)
    # make someone already eligible, waitlisted or consented fail a criterion; cleared when
    # they pass again, are overridden, or leave those statuses.
    criteria_failed_at = models.DateTimeField(
        _("fails a criterion since"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "Consent and enrollment are refused until the values pass again or an "
            "investigator records an eligibility override."
        ),
    )
    criteria_failed_by = models.CharField(
        _("failing since the entry of"),
        max_length=20,
        choices=EvaluationCause,
        blank=True,
        editable=False,
    )
    submission_token = models.UUIDField(null=True, blank=True, editable=False)
    # The secret half of the patient's withdraw link (`services.withdraw_token_make`): the
    # link works while it matches, so using the link clears it.
    withdraw_nonce = models.CharField(max_length=32, blank=True, default="", editable=False)
    erased_at = models.DateTimeField(
        _("personal data erased"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "Set when the study's retention period passed after the person left before "
            "enrollment: names, contact details, date of birth, ZIP code, notes and answers "
            "were erased; the screening number, status, verdicts and status history stay."
        ),
    )
    # Indexed by participant_queue_order and participant_applied (Meta.indexes). When the
    # person applied: set by the service as the row is inserted (a form taken in by the worker,
    # or an imported list, gives its own time), else now.
    created_at = models.DateTimeField(_("applied"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ParticipantQuerySet.as_manager()
    # The history is read by participant (id) and date; the indexes the participant table
    # needs to find duplicates, numbers and people would only be written, two entries a
    # submission each. The match keys are not kept: each is derived from a field the history
    # keeps (name, email, phone), and says nothing of its own.
    history = audit_history(
        excluded_fields=[
            "submission_token",
            "withdraw_nonce",
            "email_normalised",
            "phone_normalised",
            "name_normalised",
        ],
        no_db_index=[
            "screening_number",
            "created_at",
            "duplicate_of",
            "slot",
            "study",
            "person",
            "entered_by",
        ],
    )

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        ordering = ["-created_at"]
        permissions = [
            ("view_identification", _("Can see names and contact details")),
            (
                "override_eligibility",
                _("Can record an eligibility override (investigators only)"),
            ),
        ]
        indexes = [
            # The duplicate lookup's equality matches. Declared here rather than with
            # `db_index`, which on PostgreSQL adds a second, LIKE-pattern index that nothing
            # uses and every submission would write.
            models.Index(fields=["email_normalised"], name="participant_email_match"),
            models.Index(fields=["name_normalised"], name="participant_name_match"),
            models.Index(fields=["phone_normalised"], name="participant_phone_match"),
            # By study and status: `participant_tally` below (its first two columns).
            models.Index(fields=["study", "outcome"]),
            # The queue's default order (newest first, ties by pk), and filtered by status.
            models.Index(fields=["-created_at", "-id"], name="participant_queue_order"),
            models.Index(fields=["status", "-created_at"], name="participant_status_applied"),
            # The dashboard's tallies, read from the index alone (no table access).
            CoveringIndex(
                fields=["study", "status", "referral_source"],
                covering=["id"],
                name="participant_tally",
            ),
            # Not reached: each study's people with at least its number of attempts (one or
            # more): only those with an unanswered attempt, so a new applicant writes none.
            models.Index(
                fields=["study", "unanswered_attempts"],
                name="participant_attempts",
                condition=Q(unanswered_attempts__gt=0),
            ),
            # The waitlist in order (the queue's and the dashboard's "next on the waitlist"):
            # only the people on it. With the id and screening number, the dashboard's list of
            # the first waiting and their total (a window over every waitlisted row) reads the
            # index alone (PostgreSQL; SQLite has no covering indexes).
            CoveringIndex(
                fields=["study", "eligible_at", "screening_seq"],
                covering=["id", "screening_number"],
                name="participant_waitlist",
                condition=Q(status=Status.WAITLISTED),
            ),
            # The few rows that point somewhere: only those are indexed, so an application
            # (no duplicate, not entered by staff) writes no entry here.
            models.Index(
                fields=["duplicate_of"],
                name="participant_duplicate_of",
                condition=Q(duplicate_of__isnull=False),
            ),
            models.Index(
                fields=["entered_by"],
                name="participant_entered_by",
                condition=Q(entered_by__isnull=False),
            ),
            # Applications per week: the last weeks' dates read from the index alone.
            models.Index(fields=["study", "created_at"], name="participant_applied"),
            # Follow-ups due: only the people who have a follow-up date.
            models.Index(
                fields=["study", "next_follow_up_on"],
                name="participant_follow_up",
                condition=Q(next_follow_up_on__isnull=False),
            ),
            # New, not contacted yet, oldest first (the call list's first group): only them.
            models.Index(
                fields=["study", "created_at", "screening_seq"],
                name="participant_not_contacted",
                condition=Q(status=Status.NEW, last_attempt_at__isnull=True),
            ),
            # Asked to call back, with no follow-up date: only them.
            models.Index(
                fields=["study", "last_attempt_at"],
                name="participant_call_back",
                condition=Q(
                    last_attempt_outcome=ContactOutcome.CALL_BACK, next_follow_up_on__isnull=True
                ),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["screening_number"], name="screening_number_unique"),
            models.UniqueConstraint(
                fields=["study", "screening_seq"], name="screening_seq_unique_in_study"
            ),
            # Only enrolled participants hold an ID: nobody else writes an entry.
            models.UniqueConstraint(
                fields=["study", "participant_id"],
                name="participant_id_unique_in_study",
                condition=Q(participant_id__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["study", "submission_token"], name="submission_token_unique_in_study"
            ),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="status_valid"),
            models.CheckConstraint(condition=Q(outcome__in=Outcome.values), name="outcome_valid"),
            models.CheckConstraint(
                condition=Q(participant_id__isnull=True, status__in=Status.never_enrolled())
                | Q(participant_id__isnull=False, status__in=Status.holding_participant_id()),
                name="participant_id_iff_enrolled",
            ),
            models.CheckConstraint(
                condition=Q(contact_consent=True), name="contact_consent_required"
            ),
            models.CheckConstraint(
                condition=~Q(duplicate_of=models.F("pk")), name="not_duplicate_of_self"
            ),
            # The enrolment cap's backstop: every enrolled or completed participant holds one
            # of the study's fixed slot rows, and a slot holds at most one participant.
            models.UniqueConstraint(
                fields=["slot"], name="slot_held_once", condition=Q(slot__isnull=False)
            ),
            models.CheckConstraint(
                condition=Q(slot__isnull=False, status__in=Status.holding_slot())
                | Q(status=Status.WITHDRAWN)
                | Q(slot__isnull=True, status__in=Status.never_enrolled()),
                name="slot_iff_enrolled",
            ),
        ]

    def __str__(self):
        return self.screening_number

    @property
    def fhir_status(self) -> str:
        return FHIR_STATUS[Status(self.status)]

    def can_transition_to(self, status: str) -> bool:
        """Whether the status machine allows this move (no database access)."""
        return status in ALLOWED_TRANSITIONS[self.status]

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"
