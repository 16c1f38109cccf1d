"""Studies, their eligibility criteria, and the participants who express interest.

Invariants that must never be false live here as database constraints; cross-field rules live
in `clean()`. Every write goes through `recruitment.services`; `save()` has no side effects.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from recruitment import eligibility

ZIP_VALIDATOR = RegexValidator(r"^[0-9]{5}$", _("Enter a 5-digit ZIP code."))
PREFIX_VALIDATOR = RegexValidator(
    r"^[A-Z][A-Z0-9]{1,9}$", _("Use 2 to 10 capital letters or digits.")
)


def audit_history(**options) -> HistoricalRecords:
    """Read-only history of every change, with the staff member's reason kept whole:
    simple-history's default reason column holds 100 characters, and PostgreSQL refuses a
    longer reason, which would make the change itself fail."""
    return HistoricalRecords(
        cascade_delete_history=False,
        history_change_reason_field=models.TextField(null=True),
        **options,
    )


# ---------------------------------------------------------------------------------------------
# Public text in the active language (study files carry the translations)
# ---------------------------------------------------------------------------------------------
# The study's public text fields that a study file may translate ([translations.<lang>]).
STUDY_TEXT_FIELDS = (
    "title",
    "short_title",
    "summary",
    "description",
    "what_it_involves",
    "contact_name",
    "site_name",
    "contact_consent_text",
)
# A criterion's patient text that a study file may translate ([criteria.translations.<lang>]),
# besides the `items` (at_least_n item key -> label) and `options` (choice value -> label) tables.
CRITERION_TEXT_FIELDS = ("question", "hint")


def active_translation(translations: dict) -> dict:
    """The translation table for the active language: "es-mx" uses "es-mx", else "es"; English
    (the text in the fields themselves) and unknown languages give an empty table."""
    if not translations:
        return {}
    language = (get_language() or settings.LANGUAGE_CODE).lower()
    table = translations.get(language)
    if table is None:
        table = translations.get(language.split("-")[0])
    return table if isinstance(table, dict) else {}


def _pick(table: dict, key: str, english: str) -> str:
    """A translated text, or the English one when the translation lacks it or leaves it empty."""
    text = table.get(key)
    return text if isinstance(text, str) and text.strip() else english


class StudyText:
    """A study's public text in the active language, each field falling back to English.

    Built from fields already loaded: reading it never queries the database.
    """

    __slots__ = ("_study", "_table")

    def __init__(self, study: "Study"):
        self._study = study
        self._table = active_translation(study.translations)

    def __getattr__(self, name: str) -> str:
        if name not in STUDY_TEXT_FIELDS:
            raise AttributeError(name)
        return _pick(self._table, name, getattr(self._study, name))


class CriterionText:
    """A criterion's patient text in the active language, with English fallback per text:
    `question`, `hint`, `items` (item key -> label) and `options` (choice value -> label).
    Answers keep the item keys and option values, so they are the same in every language."""

    __slots__ = ("_criterion", "_table")

    def __init__(self, criterion: "EligibilityCriterion"):
        self._criterion = criterion
        self._table = active_translation(criterion.translations)

    @property
    def question(self) -> str:
        return _pick(self._table, "question", self._criterion.question)

    @property
    def hint(self) -> str:
        return _pick(self._table, "hint", self._criterion.hint)

    @property
    def items(self) -> dict[str, str]:
        return self._labels("items", "key")

    @property
    def options(self) -> dict[str, str]:
        return self._labels("options", "value")

    def _labels(self, group: str, id_key: str) -> dict[str, str]:
        params = self._criterion.params if isinstance(self._criterion.params, dict) else {}
        translated = self._table.get(group)
        translated = translated if isinstance(translated, dict) else {}
        labels = {}
        for entry in params.get(group) or ():
            if isinstance(entry, dict) and id_key in entry:
                ident = entry[id_key]
                labels[ident] = _pick(translated, ident, entry.get("label") or str(ident))
        return labels


# ---------------------------------------------------------------------------------------------
# Study
# ---------------------------------------------------------------------------------------------
class StudyQuerySet(models.QuerySet):
    def recruiting(self):
        return self.filter(is_recruiting=True)

    def visible_to(self, user):
        """Staff see only the studies they are members of; superusers see all."""
        if user.is_superuser:
            return self
        return self.filter(members=user)


class Study(models.Model):
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    title = models.CharField(_("title"), max_length=200)
    short_title = models.CharField(_("short title"), max_length=80)
    summary = models.TextField(_("plain-language summary"), help_text=_("Shown on the home page."))
    description = models.TextField(
        _("about the study"),
        help_text=_("Shown on the study page. Separate paragraphs with a blank line."),
    )
    what_it_involves = models.TextField(
        _("what taking part involves"),
        blank=True,
        help_text=_("One item per line; shown as a list on the study page."),
    )
    form_minutes = models.PositiveSmallIntegerField(
        _("minutes to fill the form"), default=5, help_text=_("Told to patients before they start.")
    )
    site_name = models.CharField(_("site name"), max_length=200)
    site_zip = models.CharField(_("site ZIP code"), max_length=5, validators=[ZIP_VALIDATOR])
    catchment_miles = models.PositiveSmallIntegerField(
        _("catchment radius (miles)"), validators=[MinValueValidator(1)]
    )
    target_enrolment = models.PositiveSmallIntegerField(
        _("target enrolment"),
        validators=[MinValueValidator(1), MaxValueValidator(999)],
        help_text=_("Participants to enrol; enrolment stops at this number."),
    )
    withdrawal_frees_slot = models.BooleanField(
        _("a withdrawal frees a slot"),
        default=False,
        help_text=_("If set, a withdrawn participant's slot can be given to someone else."),
    )
    is_recruiting = models.BooleanField(
        _("recruiting"), default=True, help_text=_("When off, the interest form is closed.")
    )
    contact_name = models.CharField(_("contact name"), max_length=200)
    contact_email = models.EmailField(_("contact email"))
    contact_phone = models.CharField(_("contact phone"), max_length=30)
    irb_number = models.CharField(_("IRB number"), max_length=60)
    prefix = models.CharField(
        _("number prefix"),
        max_length=10,
        unique=True,
        validators=[PREFIX_VALIDATOR],
        help_text=_("Screening numbers are PREFIX-S-0001; participant IDs are PREFIX-001."),
    )
    contact_consent_text = models.TextField(
        _("consent-to-contact text"),
        help_text=_("The checkbox text on the form: what is stored and who sees it."),
    )
    contact_consent_version = models.CharField(_("consent-to-contact version"), max_length=20)
    retention_days = models.PositiveIntegerField(
        _("retention (days)"),
        default=180,
        help_text=_("Personal data of people never enrolled is erased after this many days."),
    )
    not_reached_after = models.PositiveSmallIntegerField(
        _("not reached after N attempts"),
        default=3,
        validators=[MinValueValidator(1)],
        help_text=_("Unanswered contact attempts before a participant shows as not reached."),
    )
    criteria_version = models.PositiveIntegerField(
        _("criteria version"),
        default=1,
        editable=False,
        help_text=_("Goes up by one whenever a criterion changes."),
    )
    last_screening_seq = models.PositiveIntegerField(
        _("last screening sequence"),
        default=0,
        editable=False,
        help_text=_("Screening numbers come from this counter and are never reused."),
    )
    last_participant_seq = models.PositiveIntegerField(
        _("last participant sequence"),
        default=0,
        editable=False,
        help_text=_("Participant IDs come from this counter and are never reused."),
    )
    translations = models.JSONField(
        _("translations"),
        default=dict,
        blank=True,
        help_text=_(
            'Public text in other languages, from the study file: {"es": {"title": ..., '
            '"summary": ...}}. A missing text falls back to English.'
        ),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff members"),
        related_name="studies",
        blank=True,
        help_text=_("Staff who work on this study; they see only their studies' participants."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = StudyQuerySet.as_manager()

    class Meta:
        verbose_name = _("study")
        verbose_name_plural = _("studies")
        ordering = ["title"]

    def __str__(self):
        return self.short_title or self.title

    @property
    def text(self) -> StudyText:
        """Public text in the active language (English fallback per field); no query."""
        return StudyText(self)

    def screening_number(self, seq: int) -> str:
        return f"{self.prefix}-S-{seq:04d}"

    def participant_id(self, slot: int) -> str:
        return f"{self.prefix}-{slot:03d}"


# ---------------------------------------------------------------------------------------------
# Eligibility criteria
# ---------------------------------------------------------------------------------------------
class CriterionKind(models.TextChoices):
    INCLUSION = eligibility.CriterionKind.INCLUSION, _("Inclusion")
    EXCLUSION = eligibility.CriterionKind.EXCLUSION, _("Exclusion")


class AnsweredBy(models.TextChoices):
    PATIENT = eligibility.AnsweredBy.PATIENT, _("Patient, on the form")
    STAFF = eligibility.AnsweredBy.STAFF, _("Staff, at screening")


class RuleKind(models.TextChoices):
    YES_NO = eligibility.RuleKind.YES_NO, _("Yes/no with the answer required")
    AGE_RANGE = eligibility.RuleKind.AGE_RANGE, _("Age range from date of birth")
    NUMBER_RANGE = eligibility.RuleKind.NUMBER_RANGE, _("Number range")
    CHOICE = eligibility.RuleKind.CHOICE, _("Choice in a set")
    ZIP_DISTANCE = eligibility.RuleKind.ZIP_DISTANCE, _("ZIP code within N miles of the site")
    AT_LEAST_N = eligibility.RuleKind.AT_LEAST_N, _("At least N of a group of yes/no questions")
    WASHOUT = eligibility.RuleKind.WASHOUT, _("Washout window (eligible N days after)")


class CriterionQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def for_patient(self):
        return self.filter(answered_by=AnsweredBy.PATIENT)

    def for_staff(self):
        return self.filter(answered_by=AnsweredBy.STAFF)


class EligibilityCriterion(models.Model):
    study = models.ForeignKey(
        Study, on_delete=models.CASCADE, related_name="criteria", verbose_name=_("study")
    )
    code = models.SlugField(
        _("code"), max_length=60, help_text=_("Stable key; answers are stored under it.")
    )
    kind = models.CharField(_("inclusion or exclusion"), max_length=10, choices=CriterionKind)
    answered_by = models.CharField(_("answered by"), max_length=10, choices=AnsweredBy)
    title = models.CharField(_("staff title"), max_length=120)
    question = models.TextField(
        _("question for the patient"),
        blank=True,
        help_text=_("Plain language, grade 8 or below. Not used for age and ZIP criteria."),
    )
    hint = models.TextField(
        _("hint for the patient"),
        blank=True,
        help_text=_("Explains medical words in the question."),
    )
    rationale = models.TextField(
        _("rationale for staff"), help_text=_("Why the protocol has this criterion.")
    )
    rule_kind = models.CharField(_("rule"), max_length=20, choices=RuleKind)
    params = models.JSONField(
        _("rule parameters"),
        default=dict,
        help_text=_("One shape per rule kind: see docs/studies.md."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    version = models.PositiveIntegerField(
        _("version"), default=1, editable=False, help_text=_("Goes up by one at every change.")
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Retired criteria stay for the record.")
    )
    translations = models.JSONField(
        _("translations"),
        default=dict,
        blank=True,
        help_text=_(
            'Patient text in other languages, from the study file: {"es": {"question": ..., '
            '"hint": ...}}. A missing text falls back to English.'
        ),
    )

    objects = CriterionQuerySet.as_manager()

    class Meta:
        verbose_name = _("eligibility criterion")
        verbose_name_plural = _("eligibility criteria")
        ordering = ["study", "order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "code"], name="criterion_code_unique_in_study"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=CriterionKind.values), name="criterion_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(answered_by__in=AnsweredBy.values), name="criterion_answered_by_valid"
            ),
            models.CheckConstraint(
                condition=Q(rule_kind__in=RuleKind.values), name="criterion_rule_kind_valid"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.title}"

    def clean(self):
        from django.core.exceptions import ValidationError

        try:
            eligibility.validate_params(eligibility.RuleKind(self.rule_kind), self.params)
        except ValueError as exc:
            raise ValidationError({"params": str(exc)}) from exc
        needs_question = (
            self.answered_by == AnsweredBy.PATIENT
            and self.rule_kind not in eligibility.RULES_FROM_CONTACT_DETAILS
        )
        if needs_question and not self.question:
            raise ValidationError({"question": _("A patient-answered criterion needs a question.")})

    @property
    def text(self) -> CriterionText:
        """Patient text in the active language (English fallback per text); no query."""
        return CriterionText(self)

    def as_rule(self) -> eligibility.Criterion:
        return eligibility.Criterion(
            code=self.code,
            kind=eligibility.CriterionKind(self.kind),
            answered_by=eligibility.AnsweredBy(self.answered_by),
            rule_kind=eligibility.RuleKind(self.rule_kind),
            params=self.params,
            title=self.title,
        )

    def snapshot(self) -> dict:
        """The exact text and rule a participant is judged by, kept with their verdict."""
        return {
            "code": self.code,
            "version": self.version,
            "kind": self.kind,
            "answered_by": self.answered_by,
            "title": self.title,
            "question": self.question,
            "hint": self.hint,
            "rationale": self.rationale,
            "rule_kind": self.rule_kind,
            "params": self.params,
        }


# ---------------------------------------------------------------------------------------------
# Participants
# ---------------------------------------------------------------------------------------------
class Status(models.TextChoices):
    """Where a participant stands; FHIR R4 ResearchSubject codes are in FHIR_STATUS."""

    NEW = "new", _("New")
    SCREENING = "screening", _("Screening")
    ELIGIBLE = "eligible", _("Eligible")
    INELIGIBLE = "ineligible", _("Ineligible")
    WAITLISTED = "waitlisted", _("Waitlisted")
    CONSENTED = "consented", _("Consented")
    ENROLLED = "enrolled", _("Enrolled")
    COMPLETED = "completed", _("Completed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    DECLINED = "declined", _("Declined")

    # Groups of statuses, each defined here once; every group lists its statuses in the order
    # above. `final` and `open` follow from ALLOWED_TRANSITIONS.
    @classmethod
    def final(cls) -> tuple["Status", ...]:
        """Where the status machine ends: nobody has anything left to do with them."""
        return tuple(status for status in cls if not ALLOWED_TRANSITIONS[status])

    @classmethod
    def open(cls) -> tuple["Status", ...]:
        """Not in a final status: someone still has to act on them."""
        return tuple(status for status in cls if ALLOWED_TRANSITIONS[status])

    @classmethod
    def holding_participant_id(cls) -> tuple["Status", ...]:
        """Enrolled at some point: the participant ID given at enrolment is kept afterwards
        (CONSORT's "enrolled")."""
        return (cls.ENROLLED, cls.COMPLETED, cls.WITHDRAWN)

    @classmethod
    def never_enrolled(cls) -> tuple["Status", ...]:
        """Not enrolled so far: no participant ID, no slot."""
        return tuple(s for s in cls if s not in cls.holding_participant_id())

    @classmethod
    def in_progress(cls) -> tuple["Status", ...]:
        """Open and not yet enrolled: on the way from the form to enrolment."""
        return tuple(s for s in cls.open() if s not in cls.holding_participant_id())

    @classmethod
    def holding_slot(cls, *, withdrawal_frees_slot: bool = True) -> tuple["Status", ...]:
        """Those who hold an enrolment slot: enrolled and completed always, withdrawn too
        unless the study lets a withdrawal free its slot (by default, the statuses that hold
        one in every study)."""
        if withdrawal_frees_slot:
            return (cls.ENROLLED, cls.COMPLETED)
        return (cls.ENROLLED, cls.COMPLETED, cls.WITHDRAWN)

    @classmethod
    def awaiting_enrollment(cls) -> tuple["Status", ...]:
        """Judged eligible but not yet enrolled: new values that make them fail a criterion
        put a warning on their page and in the queue."""
        return (cls.ELIGIBLE, cls.WAITLISTED, cls.CONSENTED)

    @classmethod
    def judged_eligible(cls) -> tuple["Status", ...]:
        """Coordinators judged them eligible (and they may have gone further)."""
        return (*cls.awaiting_enrollment(), *cls.holding_participant_id())

    @classmethod
    def having_consented(cls) -> tuple["Status", ...]:
        """Reached only through informed consent: a consent record exists."""
        return (cls.CONSENTED, *cls.holding_participant_id())

    @classmethod
    def erasable(cls) -> tuple["Status", ...]:
        """The final statuses of people never enrolled: their personal data are erased once
        the study's retention period has passed."""
        return (cls.INELIGIBLE, cls.DECLINED)

    @classmethod
    def needing_reason(cls) -> tuple["Status", ...]:
        """Moves into these statuses need a reason (REASON_CODES lists each one's codes)."""
        return (cls.INELIGIBLE, cls.WITHDRAWN, cls.DECLINED)


FHIR_STATUS = {
    Status.NEW: "potential-candidate",
    Status.SCREENING: "screening",
    Status.ELIGIBLE: "eligible",
    Status.INELIGIBLE: "ineligible",
    Status.WAITLISTED: "eligible",
    Status.CONSENTED: "pending-on-study",
    Status.ENROLLED: "on-study",
    Status.COMPLETED: "off-study",
    Status.WITHDRAWN: "off-study",
    Status.DECLINED: "not-registered",
}

# The status machine: where each status may go next. Terminal statuses map to nothing.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.SCREENING, Status.DECLINED}),
    Status.SCREENING: frozenset({Status.ELIGIBLE, Status.INELIGIBLE, Status.DECLINED}),
    Status.ELIGIBLE: frozenset(
        {Status.CONSENTED, Status.WAITLISTED, Status.INELIGIBLE, Status.DECLINED}
    ),
    Status.WAITLISTED: frozenset({Status.CONSENTED, Status.INELIGIBLE, Status.DECLINED}),
    Status.CONSENTED: frozenset({Status.ENROLLED, Status.WAITLISTED, Status.DECLINED}),
    Status.ENROLLED: frozenset({Status.COMPLETED, Status.WITHDRAWN}),
    Status.INELIGIBLE: frozenset(),
    Status.COMPLETED: frozenset(),
    Status.WITHDRAWN: frozenset(),
    Status.DECLINED: frozenset(),
}
# How a participant gets from `new` to each status: the moves coordinators make, in order,
# each one allowed by ALLOWED_TRANSITIONS. Tests and the bench's seeder walk these routes.
ROUTE_FROM_NEW: dict[str, tuple[Status, ...]] = {
    Status.NEW: (),
    Status.SCREENING: (Status.SCREENING,),
    Status.ELIGIBLE: (Status.SCREENING, Status.ELIGIBLE),
    Status.INELIGIBLE: (Status.SCREENING, Status.INELIGIBLE),
    Status.DECLINED: (Status.DECLINED,),
    Status.WAITLISTED: (Status.SCREENING, Status.ELIGIBLE, Status.WAITLISTED),
    Status.CONSENTED: (Status.SCREENING, Status.ELIGIBLE, Status.CONSENTED),
    Status.ENROLLED: (Status.SCREENING, Status.ELIGIBLE, Status.CONSENTED, Status.ENROLLED),
    Status.COMPLETED: (
        *(Status.SCREENING, Status.ELIGIBLE, Status.CONSENTED),
        *(Status.ENROLLED, Status.COMPLETED),
    ),
    Status.WITHDRAWN: (
        *(Status.SCREENING, Status.ELIGIBLE, Status.CONSENTED),
        *(Status.ENROLLED, Status.WITHDRAWN),
    ),
}


class Outcome(models.TextChoices):
    LIKELY_ELIGIBLE = (
        eligibility.Outcome.LIKELY_ELIGIBLE,
        _("Likely eligible (staff checks pending)"),
    )
    ALL_MET = eligibility.Outcome.ALL_MET, _("All criteria met")
    LIKELY_INELIGIBLE = eligibility.Outcome.LIKELY_INELIGIBLE, _("Likely ineligible")
    NEEDS_REVIEW = eligibility.Outcome.NEEDS_REVIEW, _("Needs review")
    ELIGIBLE_FROM = eligibility.Outcome.ELIGIBLE_FROM, _("Eligible from a later date")


class ContactMethod(models.TextChoices):
    """How staff and a participant reach each other: a contact attempt's "how", and (all but
    in person) the method a patient prefers."""

    PHONE = "phone", _("Phone call")
    EMAIL = "email", _("Email")
    TEXT = "text", _("Text message")
    IN_PERSON = "in_person", _("In person")

    @classmethod
    def preferable(cls) -> list[tuple[str, str]]:
        """The choices a patient may prefer, in the form's order: not "in person"."""
        return [(method.value, method.label) for method in (cls.PHONE, cls.TEXT, cls.EMAIL)]


class BestTime(models.TextChoices):
    MORNING = "morning", _("Morning (9 to 12)")
    AFTERNOON = "afternoon", _("Afternoon (12 to 5)")
    EVENING = "evening", _("Early evening (5 to 7)")
    ANY = "any", _("Any time")


class ReferralSource(models.TextChoices):
    DOCTOR = "doctor", _("My doctor or nurse")
    PROHEALTH = "prohealth", _("ProHealth")
    PATIENTSLIKEME = "patientslikeme", _("PatientsLikeMe")
    SUPPORT_GROUP = "support_group", _("A support group")
    SOCIAL_MEDIA = "social_media", _("Social media")
    NEWS = "news", _("News or a magazine")
    FRIEND = "friend", _("A friend or family member")
    UNIVERSITY = "university", _("The university's website")
    OTHER = "other", _("Somewhere else")


class DuplicateReview(models.TextChoices):
    NONE = "", _("No match")
    PENDING = "pending", _("Possible duplicate, not reviewed")
    CONFIRMED = "confirmed", _("Confirmed duplicate")
    DISMISSED = "dismissed", _("Dismissed: a different person")


class DeclineReason(models.TextChoices):
    """Common reasons to close a participant as declined; staff may also write their own."""

    NOT_REACHED = "not reached", _("Not reached")
    NOT_INTERESTED = "no longer interested", _("No longer interested")
    DUPLICATE = "duplicate", _("Duplicate")
    # Written only by the patient's signed withdraw link (`services.participant_withdraw_by_link`).
    WITHDREW_BY_LINK = "withdrew interest (patient link)", _("Withdrew interest (patient link)")


class StatusReason(models.TextChoices):
    """Why someone was declined, found ineligible or withdrawn, as a code: the CONSORT box and
    the screening log count these, and staff without `view_identification` see only them,
    since the free text beside a code may quote the person."""

    NOT_REACHED = "not_reached", _("Not reached")
    NOT_INTERESTED = "not_interested", _("No longer interested")
    DUPLICATE = "duplicate", _("Duplicate")
    # Written only by the patient's signed withdraw link (`services.participant_withdraw_by_link`).
    WITHDREW_BY_LINK = "withdrew_by_link", _("Withdrew interest (patient link)")
    FAILS_CRITERION = "fails_criterion", _("Fails a criterion")
    OTHER = "other", _("Other")


# The codes each status that needs a reason takes (`Status.needing_reason()`): staff write free
# text only with "other".
REASON_CODES: dict[str, tuple[str, ...]] = {
    Status.DECLINED: (
        StatusReason.NOT_REACHED,
        StatusReason.NOT_INTERESTED,
        StatusReason.DUPLICATE,
        StatusReason.WITHDREW_BY_LINK,
        StatusReason.OTHER,
    ),
    Status.INELIGIBLE: (StatusReason.FAILS_CRITERION, StatusReason.OTHER),
    Status.WITHDRAWN: (StatusReason.NOT_REACHED, StatusReason.NOT_INTERESTED, StatusReason.OTHER),
}
# The common reasons, as staff and the services wrote them before the codes: their code.
DECLINE_REASON_CODES: dict[str, str] = {
    DeclineReason.NOT_REACHED: StatusReason.NOT_REACHED,
    DeclineReason.NOT_INTERESTED: StatusReason.NOT_INTERESTED,
    DeclineReason.DUPLICATE: StatusReason.DUPLICATE,
    DeclineReason.WITHDREW_BY_LINK: StatusReason.WITHDREW_BY_LINK,
}


class EvaluationCause(models.TextChoices):
    """What made the pre-screen run again: the warning on a participant's page names it."""

    LAB_VALUES = "lab values", _("lab values")
    CONTACT_DETAILS = "contact details", _("contact details")


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

    study = models.ForeignKey(
        Study, on_delete=models.PROTECT, related_name="participants", verbose_name=_("study")
    )
    screening_seq = models.PositiveIntegerField(_("screening sequence"), editable=False)
    screening_number = models.CharField(
        _("screening number"), max_length=30, unique=True, editable=False
    )
    # NULL until enrolment: unique per study among those who have one.
    participant_id = models.CharField(  # noqa: DJ001
        _("participant ID"),
        max_length=30,
        null=True,
        blank=True,
        editable=False,
        help_text=_("Given at enrolment, e.g. LDN-001."),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status, default=Status.NEW, editable=False
    )

    # Contact details
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    # Case-folded in Python: SQLite's case-insensitive match covers ASCII letters only.
    name_normalised = models.CharField(max_length=201, editable=False, db_index=True)
    email = models.EmailField(_("email"), max_length=254)
    email_normalised = models.CharField(max_length=254, editable=False, db_index=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    phone_normalised = models.CharField(max_length=15, editable=False, blank=True, db_index=True)
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
    slot = models.OneToOneField(
        "EnrolmentSlot",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="participant",
        verbose_name=_("enrolment slot"),
        editable=False,
    )
    # Kept up to date by the contact-attempt service, so queue filters need no subquery.
    unanswered_attempts = models.PositiveSmallIntegerField(
        _("unanswered attempts"),
        default=0,
        editable=False,
        help_text=_("Contact attempts without an answer since the person was last reached."),
    )
    next_follow_up_on = models.DateField(_("next follow-up"), null=True, blank=True, editable=False)
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
            "enrolment: names, contact details, date of birth, ZIP code, notes and answers "
            "were erased; the screening number, status, verdicts and status history stay."
        ),
    )
    created_at = models.DateTimeField(_("applied"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ParticipantQuerySet.as_manager()
    history = audit_history(excluded_fields=["submission_token", "withdraw_nonce"])

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
            models.Index(fields=["study", "status"]),
            models.Index(fields=["study", "outcome"]),
            # The queue's default order (newest first, ties by pk), and filtered by status.
            models.Index(fields=["-created_at", "-id"], name="participant_queue_order"),
            models.Index(fields=["status", "-created_at"], name="participant_status_applied"),
            # The dashboard's tallies, read from the index alone (no table access).
            models.Index(
                fields=["study", "status", "referral_source"],
                include=["id"],
                name="participant_tally",
            ),
            # Not reached: each study's people with at least its number of attempts.
            models.Index(fields=["study", "unanswered_attempts"], name="participant_attempts"),
            # The waitlist in order (the queue's and the dashboard's "next on the waitlist").
            models.Index(
                fields=["study", "status", "eligible_at", "screening_seq"],
                name="participant_waitlist",
            ),
            # Applications per week: the last weeks' dates read from the index alone.
            models.Index(fields=["study", "created_at"], name="participant_applied"),
            # Follow-ups due: only the people who have a follow-up date.
            models.Index(
                fields=["study", "next_follow_up_on"],
                name="participant_follow_up",
                condition=Q(next_follow_up_on__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "screening_seq"], name="screening_seq_unique_in_study"
            ),
            models.UniqueConstraint(
                fields=["study", "participant_id"], name="participant_id_unique_in_study"
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


class Answer(models.Model):
    """One answer to one criterion: the patient's on the form, or a value staff entered."""

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="answers", verbose_name=_("participant")
    )
    criterion = models.ForeignKey(
        EligibilityCriterion,
        on_delete=models.PROTECT,
        related_name="answers",
        verbose_name=_("criterion"),
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
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now=True)
    history = audit_history()

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "criterion"], name="one_answer_per_criterion"
            ),
        ]

    def __str__(self):
        return f"{self.criterion.code}: {self.value!r}"


class Verdict(models.TextChoices):
    MET = eligibility.VerdictStatus.MET, _("Met")
    NOT_MET = eligibility.VerdictStatus.NOT_MET, _("Not met")
    UNKNOWN = eligibility.VerdictStatus.UNKNOWN, _("Unknown")
    PENDING = eligibility.VerdictStatus.PENDING, _("Pending (staff)")


class Provenance(models.TextChoices):
    SELF_REPORTED = eligibility.Source.SELF_REPORTED, _("Self-reported")
    STAFF_VERIFIED = eligibility.Source.STAFF_VERIFIED, _("Staff-verified")


class CriterionVerdict(models.Model):
    """One criterion's verdict in a participant's stored evaluation, with the exact criterion
    text and rule it was judged by (so later protocol amendments do not rewrite history)."""

    participant = models.ForeignKey(
        Participant,
        on_delete=models.CASCADE,
        related_name="verdicts",
        verbose_name=_("participant"),
    )
    criterion = models.ForeignKey(
        EligibilityCriterion,
        on_delete=models.PROTECT,
        related_name="verdicts",
        verbose_name=_("criterion"),
    )
    criterion_snapshot = models.JSONField(_("criterion as judged"))
    answer = models.JSONField(_("answer"), null=True)
    verdict = models.CharField(_("verdict"), max_length=10, choices=Verdict)
    reason = models.CharField(_("reason"), max_length=300)
    provenance = models.CharField(_("provenance"), max_length=20, choices=Provenance, blank=True)
    eligible_from = models.DateField(_("eligible from"), null=True, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

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
            models.UniqueConstraint(
                fields=["participant", "criterion"], name="one_verdict_per_criterion"
            ),
            models.CheckConstraint(condition=Q(verdict__in=Verdict.values), name="verdict_valid"),
        ]

    def __str__(self):
        return f"{self.criterion_snapshot.get('code')}: {self.verdict}"


# ---------------------------------------------------------------------------------------------
# Screening workflow
# ---------------------------------------------------------------------------------------------
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
            models.Index(
                fields=["to_status", "participant"],
                include=["at", "reason", "reason_code"],
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
        if self.reason_code == StatusReason.FAILS_CRITERION:
            return f"{self.get_reason_code_display()}: {self.reason_criterion}"
        return self.get_reason_code_display() if self.reason_code else ""

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
        verbose_name = _("enrolment slot")
        verbose_name_plural = _("enrolment slots")
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


class ContactOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    VOICEMAIL = "voicemail", _("Left voicemail")
    NO_ANSWER = "no_answer", _("No answer")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    CALL_BACK = "call_back", _("Asked to call back")


# Outcomes where nobody was reached: they count towards "not reached".
UNANSWERED_OUTCOMES = (
    ContactOutcome.VOICEMAIL,
    ContactOutcome.NO_ANSWER,
    ContactOutcome.WRONG_NUMBER,
)


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
