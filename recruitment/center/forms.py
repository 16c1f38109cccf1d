"""The center's interest form: the interest form's contact part and rules, asking the shared
question bank instead of one study's criteria, with the registry's consent required."""

from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from recruitment.intake.forms import InterestForm
from recruitment.intake.services import ContactDetails
from recruitment.models import ANSWER_TYPE_RULES, AnsweredBy, CriterionText, SharedQuestion
from recruitment.people.consent import REGISTRY_CONSENT_TEXT

REGISTRY_CONSENT_NEEDED = _(
    "Tick this box so the trial center can contact you about studies that may fit you."
)
CENTRE_CONSENT_HELP = _(
    "We keep your name, contact details and answers to tell you about studies. Only the trial "
    "center's staff see them. You can say stop at any time, with the link in our emails."
)


@dataclass(frozen=True)
class AskedQuestion:
    """A shared question in the shape the interest form asks a criterion in: the same field
    names (`q_<code>`), widgets, checks and stored answers."""

    question: SharedQuestion

    @property
    def pk(self) -> int:
        return self.question.pk

    @property
    def code(self) -> str:
        return self.question.code

    @property
    def rule_kind(self) -> str:
        (kind,) = ANSWER_TYPE_RULES[self.question.answer_type]
        return kind

    @property
    def answered_by(self) -> str:
        return AnsweredBy.PATIENT

    @property
    def params(self) -> dict[str, Any]:
        return self.question.params

    @property
    def text(self) -> CriterionText:
        return self.question.text


class _CenterText:
    """What the interest form reads of a study's text: the consent box's words."""

    contact_consent_text = REGISTRY_CONSENT_TEXT


class _Center:
    text = _CenterText()


class CenterInterestForm(InterestForm):
    """Contact details once, the shared questions, and the registry's consent (required: it
    is what the form is for). No study's consent box: the registry's is the one."""

    registry_consent = forms.BooleanField(
        label=REGISTRY_CONSENT_TEXT,
        help_text=CENTRE_CONSENT_HELP,
        error_messages={"required": REGISTRY_CONSENT_NEEDED},
    )
    # Only what a person record keeps: no preferred way or time to be reached, no note, no
    # referral source (a study's application keeps those; asking and dropping them would lose
    # what the person typed).
    PAGE_ORDER_BEFORE = ["first_name", "last_name", "date_of_birth", "zip_code", "email", "phone"]
    PAGE_ORDER_AFTER = ["form_issued", "registry_consent", "submission_token", "website"]
    NOT_ASKED = ("contact_consent", "preferred_contact", "best_time", "referral_source", "note")

    def __init__(self, *args, questions: list[SharedQuestion], **kwargs):
        super().__init__(
            *args, study=_Center(), criteria=[AskedQuestion(q) for q in questions], **kwargs
        )
        # The registry's box is this form's consent: no study's box (in no layout here).
        for name in self.NOT_ASKED:
            self.fields.pop(name, None)

    def contact_details(self) -> ContactDetails:
        data = self.cleaned_data
        return ContactDetails(
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            phone=data["phone"],
            preferred_contact="",
            best_time="",
            date_of_birth=data["date_of_birth"],
            zip_code=data["zip_code"],
            referral_source="",
            note="",
            contact_consent=True,  # the registry's box is this form's consent
            registry_consent=data["registry_consent"],
        )
