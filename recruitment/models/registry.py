"""The center's registry: the question bank shared by every study, the answers people gave
to it, and each person's match against each study."""

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from recruitment import eligibility
from recruitment.models.common import audit_history
from recruitment.models.participants import Participant
from recruitment.models.people import Person
from recruitment.models.studies import CriterionText, Study


# ---------------------------------------------------------------------------------------------
# The question bank
# ---------------------------------------------------------------------------------------------
class AnswerType(models.TextChoices):
    """The shape of an answer, as the criteria store it (see `ANSWER_TYPE_RULES`)."""

    YES_NO = "yes_no", _("Yes, no or not sure")
    DATE = "date", _("A date")
    LAST_DOSE = "last_dose", _("Whether and when last taken")
    CHOICE = "choice", _("One choice of a set")
    NUMBER = "number", _("A number")
    ITEMS = "items", _("Yes, no or not sure for each of a group")


# The rule kinds of the criteria that may ask each type of shared question: the answer a
# criterion stores and the one the question bank keeps have the same shape.
ANSWER_TYPE_RULES: dict[str, frozenset[str]] = {
    AnswerType.YES_NO: frozenset({eligibility.RuleKind.YES_NO}),
    AnswerType.DATE: frozenset({eligibility.RuleKind.AGE_RANGE}),
    AnswerType.LAST_DOSE: frozenset({eligibility.RuleKind.WASHOUT}),
    AnswerType.CHOICE: frozenset({eligibility.RuleKind.CHOICE}),
    AnswerType.NUMBER: frozenset({eligibility.RuleKind.NUMBER_RANGE}),
    AnswerType.ITEMS: frozenset({eligibility.RuleKind.AT_LEAST_N}),
}

# The shared question whose answer the form's date of birth is.
DATE_OF_BIRTH = "date_of_birth"


class SharedQuestion(models.Model):
    """One question of the center-wide question bank (recruitment/studies/questions.toml).

    A criterion names the shared question it asks (`EligibilityCriterion.shared_question`);
    the answer a person gives on any study's form is kept as their `SharedAnswer` and serves
    every study whose criteria ask the same question."""

    code = models.SlugField(
        _("code"),
        max_length=60,
        unique=True,
        help_text=_("Stable key; study files name the question by it."),
    )
    question = models.TextField(
        _("question for the patient"), help_text=_("Plain language, grade 8 or below.")
    )
    hint = models.TextField(
        _("hint for the patient"), blank=True, help_text=_("Explains medical words.")
    )
    translations = models.JSONField(
        _("translations"),
        default=dict,
        blank=True,
        help_text=_('The text in other languages: {"es": {"question": ..., "hint": ...}}.'),
    )
    answer_type = models.CharField(_("answer type"), max_length=12, choices=AnswerType)
    options = models.JSONField(
        _("options"),
        default=dict,
        blank=True,
        help_text=_(
            "For a choice, its options ({value, label}); for a group, its items ({key, label}); "
            "for whether and when last taken, the window it asks about (months or days)."
        ),
    )
    valid_days = models.PositiveIntegerField(
        _("answer stays current for (days)"),
        null=True,
        blank=True,
        help_text=_(
            "An older answer is out of date: matching treats it as unknown, to be asked again. "
            "Empty: an answer never goes out of date (a date of birth, a diagnosis)."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("shared question")
        verbose_name_plural = _("shared questions")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(answer_type__in=AnswerType.values),
                name="shared_question_answer_type_valid",
            ),
        ]

    def __str__(self):
        return self.code

    @property
    def text(self) -> CriterionText:
        """Patient text in the active language (English fallback per text); no query."""
        return CriterionText(self)

    @property
    def params(self) -> dict:
        """The options and items in the shape criteria keep them, for `CriterionText`."""
        return self.options if isinstance(self.options, dict) else {}

    def clean(self):
        problem = options_problem(self.answer_type, self.options)
        if problem:
            raise ValidationError({"options": problem})

    def criterion_problem(self, rule_kind: str, params: Any) -> str:
        """Why a criterion with this rule and params may not ask this question ("" if it may):
        its rule must read this type of answer, a choice's options and a group's items must be
        this question's, and a washout may not be longer than the window the question asks
        about (a "no" to "in the last 3 months" says nothing about the months before)."""
        if rule_kind not in ANSWER_TYPE_RULES.get(self.answer_type, frozenset()):
            return (
                f"the shared question {self.code} has answers of type {self.answer_type}, "
                f"which a {rule_kind} rule does not read."
            )
        params = params if isinstance(params, dict) else {}
        options = self.params
        for group, key in (("options", "value"), ("items", "key")):
            mine = {e.get(key) for e in params.get(group) or () if isinstance(e, dict)}
            theirs = {e.get(key) for e in options.get(group) or () if isinstance(e, dict)}
            if mine - theirs:
                extra = ", ".join(sorted(str(v) for v in mine - theirs))
                return f"{extra} not among the {group} of the shared question {self.code}."
        washout = rule_kind == eligibility.RuleKind.WASHOUT
        if washout and _window_days(params) > _window_days(options):
            return (
                f"the washout is longer than the window the shared question {self.code} asks about."
            )
        return ""


def _window_days(params: dict) -> int:
    """A washout's length in days, months counted as 31 days (to compare, not to judge)."""
    if isinstance(params.get("months"), int):
        return params["months"] * 31
    return params.get("days") if isinstance(params.get("days"), int) else 0


def options_problem(answer_type: str, options: Any) -> str:
    """What is wrong with a shared question's options for its answer type ("" if nothing):
    a choice has options, a group items, whether and when last taken a window."""
    if not isinstance(options, dict):
        return "Options must be a table."
    try:
        if answer_type == AnswerType.CHOICE:
            first = (options.get("options") or [{}])[0]
            eligible = [first.get("value")] if isinstance(first, dict) else []
            choice = {"options": options.get("options"), "eligible": eligible}
            eligibility.validate_params(eligibility.RuleKind.CHOICE, choice)
        elif answer_type == AnswerType.ITEMS:
            eligibility.validate_params(
                eligibility.RuleKind.AT_LEAST_N, {"items": options.get("items"), "min": 1}
            )
        elif answer_type == AnswerType.LAST_DOSE:
            eligibility.validate_params(eligibility.RuleKind.WASHOUT, options)
    except ValueError as exc:
        return str(exc)
    allowed = {
        AnswerType.CHOICE: {"options"},
        AnswerType.ITEMS: {"items"},
        AnswerType.LAST_DOSE: {"months", "days"},
        AnswerType.NUMBER: {"unit"},
    }.get(answer_type, set())
    unknown = sorted(set(options) - allowed)
    if unknown:
        return f"Unknown options for answers of type {answer_type}: {', '.join(unknown)}."
    return ""


class SharedAnswer(models.Model):
    """The latest answer a person gave to a shared question, with the day they gave it and the
    application it came from (none: entered on the center's own form). Audited: every change
    keeps who, when and the old value in the history."""

    person = models.ForeignKey(
        Person,
        on_delete=models.CASCADE,
        related_name="shared_answers",
        verbose_name=_("person"),
        db_index=False,
    )
    question = models.ForeignKey(
        SharedQuestion,
        on_delete=models.PROTECT,
        related_name="answers",
        verbose_name=_("question"),
        db_index=False,
    )
    value = models.JSONField(_("answer"), null=True)
    answered_on = models.DateField(_("answered on"))
    source_application = models.ForeignKey(
        Participant,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="shared_answers_given",
        verbose_name=_("from the application"),
        help_text=_("The form it came from; empty when entered on the center's own form."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # The history is read by answer (id) or by person: fewer index entries per submission.
    history = audit_history(no_db_index=["question", "source_application"])

    class Meta:
        verbose_name = _("shared answer")
        verbose_name_plural = _("shared answers")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "question"], name="one_shared_answer_per_question"
            ),
        ]

    def __str__(self):
        return f"{self.question_id}: {self.answered_on}"


# ---------------------------------------------------------------------------------------------
# Matches
# ---------------------------------------------------------------------------------------------
class MatchOutcome(models.TextChoices):
    LIKELY_ELIGIBLE = "likely_eligible", _("Likely eligible")
    NEEDS_ANSWERS = "needs_answers", _("Needs answers")
    ELIGIBLE_FROM = "eligible_from", _("Eligible from a later date")
    INELIGIBLE = "ineligible", _("Ineligible")


class MatchState(models.TextChoices):
    MATCHED = "matched", _("Matched")
    INVITED = "invited", _("Invited")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    CLOSED = "closed", _("Closed")


class MatchVerdict(models.TextChoices):
    MET = "met", _("Met")
    NOT_MET = "not_met", _("Not met")
    UNKNOWN = "unknown", _("Unknown")


class RegistryMatchQuerySet(models.QuerySet):
    def due(self, today):
        """Matches that waited for a date (a washout) which has now come."""
        return self.filter(outcome=MatchOutcome.ELIGIBLE_FROM, eligible_from__lte=today)


class RegistryMatch(models.Model):
    """One person of the registry matched against one study, from the answers they already
    gave; never two for the same pair. Written only by `study_rematch`
    (recruitment/registry/services.py), which evaluates again whenever the study's criteria,
    the person's answers or the date change the outcome."""

    study = models.ForeignKey(
        Study, on_delete=models.CASCADE, related_name="matches", verbose_name=_("study")
    )
    person = models.ForeignKey(
        Person,
        on_delete=models.CASCADE,
        related_name="matches",
        verbose_name=_("person"),
    )
    number = models.PositiveIntegerField(
        _("number"), editable=False, help_text=_("Shown as M-0007; per study, never reused.")
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=MatchOutcome)
    eligible_from = models.DateField(
        _("eligible from"),
        null=True,
        blank=True,
        help_text=_("When a washout ends; matching runs again on that day."),
    )
    verdicts = models.JSONField(
        _("verdicts"),
        default=list,
        help_text=_('One per criterion: {"criterion": code, "verdict": ..., "reason": ...}.'),
    )
    verdicts_digest = models.CharField(
        _("verdicts digest"),
        max_length=64,
        blank=True,
        editable=False,
        help_text=_("A digest of the verdicts: matching again compares it, not the verdicts."),
    )
    criteria_version = models.PositiveIntegerField(_("criteria version used"))
    inputs_fingerprint = models.CharField(
        _("inputs fingerprint"),
        max_length=64,
        help_text=_("A digest of the criteria and answers judged: the same inputs, the same one."),
    )
    evaluated_at = models.DateTimeField(_("evaluated at"))
    state = models.CharField(
        _("state"), max_length=10, choices=MatchState, default=MatchState.MATCHED
    )
    invited_at = models.DateTimeField(_("invited at"), null=True, blank=True)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    application = models.ForeignKey(
        Participant,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="registry_matches",
        verbose_name=_("application"),
        help_text=_("The application made when the person said yes."),
    )

    objects = RegistryMatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("registry match")
        verbose_name_plural = _("registry matches")
        ordering = ["study", "number"]
        indexes = [
            models.Index(
                fields=["eligible_from"],
                name="registry_match_due",
                condition=Q(outcome="eligible_from"),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "person"], name="one_registry_match_per_person"
            ),
            models.UniqueConstraint(
                fields=["study", "number"], name="registry_match_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=MatchOutcome.values), name="registry_match_outcome_valid"
            ),
            models.CheckConstraint(
                condition=Q(state__in=MatchState.values), name="registry_match_state_valid"
            ),
        ]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        return f"M-{self.number:04d}"


# ---------------------------------------------------------------------------------------------
# Invitations
# ---------------------------------------------------------------------------------------------
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
