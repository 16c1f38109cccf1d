"""Studies and their eligibility criteria, and their public text in the active language."""

import hashlib
import json

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from recruitment import eligibility
from recruitment.models.common import PREFIX_VALIDATOR, ZIP_VALIDATOR

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
        _("target enrollment"),
        validators=[MinValueValidator(1), MaxValueValidator(999)],
        help_text=_("Participants to enroll; enrollment stops at this number."),
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
    call_script = models.TextField(
        _("call script"),
        blank=True,
        help_text=_(
            "Optional: what to say and what to ask when calling an applicant, shown to staff "
            "beside the contact-attempt form. Separate paragraphs with a blank line; a line "
            "starting with “- ” is a point on a list."
        ),
    )
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
    call_within_working_days = models.PositiveSmallIntegerField(
        _("first contact within (working days)"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_(
            "What the thank-you page promises: the team contacts a new applicant within this "
            "many working days (Monday to Friday). The call list counts the days left."
        ),
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
    shared_question = models.ForeignKey(
        "recruitment.SharedQuestion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="criteria",
        verbose_name=_("shared question"),
        help_text=_(
            "The question of the center's question bank this criterion asks: a person's answer "
            "to it serves every study that asks it, and matches the registry to this study."
        ),
    )
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
        if self.shared_question_id is not None:
            problem = self.shared_question.criterion_problem(self.rule_kind, self.params)
            if problem:
                raise ValidationError({"shared_question": problem})

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


def snapshot_digest(snapshot: dict) -> str:
    """A criterion snapshot's fingerprint: the same text and rule give the same digest."""
    canonical = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class CriterionVersion(models.Model):
    """A criterion exactly as participants were judged by it (its text and rule, see
    `EligibilityCriterion.snapshot`), stored once and shared by every verdict judged by the
    same text and rule. Rows are written once and never changed: a change of the criterion
    gives a new row, so a verdict always shows what it was judged by."""

    criterion = models.ForeignKey(
        EligibilityCriterion,
        on_delete=models.PROTECT,
        related_name="versions",
        verbose_name=_("criterion"),
    )
    digest = models.CharField(_("digest"), max_length=64, editable=False)
    snapshot = models.JSONField(_("criterion as judged"), editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("criterion version")
        verbose_name_plural = _("criterion versions")
        constraints = [
            models.UniqueConstraint(
                fields=["criterion", "digest"], name="criterion_version_unique"
            ),
        ]

    def __str__(self):
        return f"{self.snapshot.get('code')} v{self.snapshot.get('version')}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("A criterion version is never changed.")
        self.digest = snapshot_digest(self.snapshot)
        super().save(*args, **kwargs)
