"""The page a registry member reaches by saying yes to an invitation: the study's new
questions (criteria with no shared answer yet) and its consent to contact. The contact
details come from the person; the shared answers are shown, carried over, not asked again."""

from datetime import date

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Fieldset, Layout, Submit
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from recruitment.intake.forms import YES_NO_CHOICES, InterestForm
from recruitment.models import RuleKind

# Everything of the interest form but the questions and the consent: the person's details
# are known (so is their consent to the registry: they are in it), and a link that works
# once needs no spam check or double-post token.
NOT_ASKED = [
    *InterestForm.PAGE_ORDER_BEFORE,
    "form_issued",
    "referral_source",
    "note",
    "submission_token",
    "website",
    "registry_consent",
]
ANSWER_WORDS = dict(YES_NO_CHOICES)


class InvitationApplyForm(InterestForm):
    """The interest form's questions for `criteria` (the new ones) and its consent box."""

    def __init__(self, *args, study, criteria, **kwargs):
        super().__init__(*args, study=study, criteria=criteria, **kwargs)
        for name in NOT_ASKED:
            self.fields.pop(name, None)

    def _build_helper(self) -> FormHelper:
        helper = FormHelper()
        helper.form_tag = False
        helper.disable_csrf = True
        questions = []
        for criterion in self.criteria:
            names = self.question_fields[criterion.pk]
            if criterion.rule_kind == RuleKind.AT_LEAST_N:
                questions.append(
                    Fieldset(legend(criterion.text.question), *names, css_class="question-group")
                )
            else:
                questions.extend(names)
        helper.layout = Layout(
            Fieldset(_("New questions for this study"), *questions) if questions else HTML(""),
            Fieldset(_("Can the study team contact you?"), "contact_consent"),
            Submit("submit", _("Send my answers"), css_class="btn-lg"),
        )
        return helper


def answer_in_words(criterion, value) -> str:
    """A carried-over answer as the person gave it, in the page's language."""
    text = criterion.text
    if criterion.rule_kind == RuleKind.AT_LEAST_N and isinstance(value, dict):
        return "; ".join(
            f"{label}: {ANSWER_WORDS.get(value.get(key), '—')}"
            for key, label in text.items.items()
            if key in value
        )
    if criterion.rule_kind == RuleKind.WASHOUT and isinstance(value, dict):
        taken = str(ANSWER_WORDS.get(value.get("taken"), "—"))
        try:
            last = date.fromisoformat(value.get("last") or "")
        except ValueError:
            return taken
        return _("%(taken)s, last taken on %(last)s") % {
            "taken": taken,
            "last": date_format(last, "DATE_FORMAT"),
        }
    if criterion.rule_kind == RuleKind.CHOICE:
        return str(dict(text.options.items()).get(value, ANSWER_WORDS.get(value, value)))
    return str(ANSWER_WORDS.get(value, value))


def legend(text: str) -> str:
    """Study text as crispy's Fieldset legend, which is compiled as a Django template and
    output unescaped: the HTML and the braces escaped, so it shows as written."""
    return escape(text).replace("{", "&#123;").replace("}", "&#125;")
