# STUB (not committed): stands in for branch `matching` until it is merged.
from django.db import models

from recruitment.models.common import audit_history
from recruitment.models.participants import Participant
from recruitment.models.people import Person
from recruitment.models.studies import EligibilityCriterion, Study


class SharedQuestion(models.Model):
    code = models.SlugField(unique=True)
    question = models.TextField()
    translations = models.JSONField(default=dict)
    answer_type = models.CharField(max_length=20)
    options = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


models.ForeignKey(
    SharedQuestion, null=True, blank=True, on_delete=models.PROTECT
).contribute_to_class(EligibilityCriterion, "shared_question")


class SharedAnswer(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="shared_answers")
    question = models.ForeignKey(SharedQuestion, on_delete=models.PROTECT)
    value = models.JSONField(null=True)
    answered_on = models.DateField()
    source_application = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = audit_history()


class MatchOutcome(models.TextChoices):
    LIKELY_ELIGIBLE = "likely_eligible", "Likely eligible"
    NEEDS_ANSWERS = "needs_answers", "Needs answers"
    ELIGIBLE_FROM = "eligible_from", "Eligible from a date"
    INELIGIBLE = "ineligible", "Ineligible"


class MatchState(models.TextChoices):
    MATCHED = "matched", "Matched"
    INVITED = "invited", "Invited"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    CLOSED = "closed", "Closed"


class RegistryMatch(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="matches")
    number = models.PositiveIntegerField()
    outcome = models.CharField(max_length=20, choices=MatchOutcome)
    eligible_from = models.DateField(null=True, blank=True)
    verdicts = models.JSONField(default=list)
    criteria_version = models.PositiveIntegerField(default=1)
    inputs_fingerprint = models.CharField(max_length=64, blank=True)
    evaluated_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=MatchState, default=MatchState.MATCHED)
    invited_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    application = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "person"], name="stub_match_unique")
        ]
