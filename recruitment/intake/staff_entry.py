"""The interest form as a coordinator fills it in for someone who phoned or walked in.

The same form class as the public page (`InterestForm`: the same fields, questions and
validation), with what only staff need: how the person got in touch, whether they want the
confirmation email, and the consent box worded for the person on the phone. No honeypot and no
signed time: those keep bots out of the public page, and this page is behind the staff sign-in.
"""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from recruitment.intake.forms import InterestForm
from recruitment.models import EntrySource, RuleKind
from recruitment.people.consent import REGISTRY_CONSENT_TEXT

STAFF_CONSENT_LABEL = _("The person agreed on the phone to be contacted")
STAFF_CONSENT_HELP = _("Read them the study's consent-to-contact text: “%(text)s”")
STAFF_REGISTRY_LABEL = _(
    "The person agreed to be contacted about other studies (optional: ask, never assume)"
)
STAFF_REGISTRY_HELP = _("Ask them, in these words: “%(text)s”")
SEND_CONFIRMATION_LABEL = _("Send the confirmation email")
SEND_CONFIRMATION_HELP = _(
    "Only if the person wants one: it goes to the email address above, with their screening "
    "number and the link to withdraw."
)

# The public form's anti-bot fields: not on the staff page.
_PUBLIC_ONLY = ("form_issued", "website")


class StaffEntryForm(InterestForm):
    """`InterestForm` for staff: every public field and rule, plus the source of the entry,
    the person's language and the choice of a confirmation email."""

    entry_source = forms.ChoiceField(
        label=_("How did the person get in touch?"),
        choices=[(source.value, source.label) for source in EntrySource.staff_entries()],
        initial=EntrySource.PHONE,
        widget=forms.RadioSelect,
    )
    language = forms.ChoiceField(
        label=_("Language of the person"),
        choices=settings.LANGUAGES,
        initial="en",
        help_text=_("The confirmation email, and any later email, is in this language."),
    )
    send_confirmation = forms.BooleanField(
        label=SEND_CONFIRMATION_LABEL, required=False, help_text=SEND_CONFIRMATION_HELP
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in _PUBLIC_ONLY:
            del self.fields[name]
        consent = self.fields["contact_consent"]
        consent.label = STAFF_CONSENT_LABEL
        consent.help_text = STAFF_CONSENT_HELP % {"text": self.study.text.contact_consent_text}
        registry = self.fields["registry_consent"]
        registry.label = STAFF_REGISTRY_LABEL
        registry.help_text = STAFF_REGISTRY_HELP % {"text": REGISTRY_CONSENT_TEXT}

    @property
    def is_spam(self) -> bool:
        return False

    @property
    def is_expired(self) -> bool:
        return False

    def sections(self) -> list[tuple[str, str, list]]:
        """(legend, question text, bound fields) in page order, for the admin template: the
        contact part, one section per group question, the rest, then the staff choices."""
        before = [self[name] for name in self.PAGE_ORDER_BEFORE]
        sections = [
            (_("About the person"), "", before[:4]),
            (_("How to reach them"), "", before[4:]),
        ]
        singles: list = []
        for criterion in self.criteria:
            fields = [self[name] for name in self.question_fields[criterion.pk]]
            if criterion.rule_kind != RuleKind.AT_LEAST_N:
                singles.extend(fields)
                continue
            if singles:
                sections.append((_("Health"), "", singles))
                singles = []
            sections.append((_("Health"), criterion.text.question, fields))
        if singles:
            sections.append((_("Health"), "", singles))
        after = [
            self[name]
            for name in self.PAGE_ORDER_AFTER
            if name in self.fields and name != "submission_token"
        ]
        sections.append((_("Last few things"), "", after))
        sections.append(
            (
                _("This entry"),
                "",
                [self["entry_source"], self["language"], self["send_confirmation"]],
            )
        )
        return sections
