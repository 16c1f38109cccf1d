"""The public interest form: contact details plus one question per patient criterion.

Forms only validate. The pre-screen questions are generated from the study's criteria, so a
new criterion in a study file needs no code. Every question is optional and offers "Not sure":
a skipped or unsure answer sends the application to review; it never blocks it.
"""

import logging
import re
import uuid
from datetime import date, datetime

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout, Submit
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.translation import gettext_lazy as _

from recruitment import eligibility, form_fields
from recruitment.contact import format_phone, normalise_phone
from recruitment.intake.form_timing import FormTiming, form_issued_token, form_timing
from recruitment.intake.services import ContactDetails
from recruitment.models import (
    BestTime,
    ContactMethod,
    EligibilityCriterion,
    ReferralSource,
    RuleKind,
)
from recruitment.people.consent import REGISTRY_CONSENT_HELP, REGISTRY_CONSENT_TEXT
from recruitment.unicode_text import ascii_digits, without_invisible

logger = logging.getLogger(__name__)

YES, NO = "yes", "no"
UNSURE = eligibility.UNSURE
YES_NO_CHOICES = [(YES, _("Yes")), (NO, _("No")), (UNSURE, _("Not sure"))]
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y"]
NOTE_MAX = 1000
MAX_AGE_YEARS = 120

FIRST_NAME_NEEDED = _("Enter your first name.")
LAST_NAME_NEEDED = _("Enter your last name.")
NAME_TOO_LONG = _("Use 100 characters or fewer.")
NAME_CONTROL_CHARS = _("Use only letters, spaces and punctuation.")
EMAIL_NEEDED = _("Enter your email address.")
EMAIL_INVALID = _("Enter an email address like name@example.com.")
CONTACT_METHOD_NEEDED = _("Choose how we should contact you.")
CHOICE_INVALID = _("Choose one of the answers shown.")
DOB_NEEDED = _("Enter your date of birth.")
DOB_INVALID = _("Enter your date of birth like 04/28/1980 (month, day, year).")
ZIP_NEEDED = _("Enter your ZIP code.")
NOTE_TOO_LONG = _("Make your note shorter: up to 1,000 characters. It has %(show_value)s.")
NOTE_CONTROL_CHARS = _("Remove the special characters from your note.")
DATE_INVALID = _("Enter the date like 10/25/2026 (month, day, year).")
NUMBER_INVALID = _("Enter a number, or leave it empty if you are not sure.")

DOB_FUTURE = _("Your date of birth cannot be in the future.")
DOB_TOO_OLD = _("Check the year of your date of birth.")
ZIP_INVALID = _("Enter a 5-digit ZIP code, like 35294.")
ZIP_UNKNOWN = _("We could not find this ZIP code. Check it and try again.")
PHONE_NEEDED = _("Enter a phone number so we can call or text you.")
CONSENT_NEEDED = _("Tick this box so we can contact you about the study.")
LAST_DOSE_NEEDED = _("Enter the date of your last dose, or choose “Not sure”.")
LAST_DOSE_FUTURE = _("The date of your last dose cannot be in the future.")
LAST_DOSE_NOT_RECENT = _("Only enter a date if you said “Yes”.")


# Control characters (other than line breaks and tabs in the note) are never typed by people.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NAME_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def question_field_name(criterion: EligibilityCriterion, item: str = "") -> str:
    return f"q_{criterion.code}" + (f"__{item}" if item else "")


def _radio(label, choices, help_text="") -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=choices,
        required=False,
        widget=forms.RadioSelect,
        help_text=_hint(help_text),
        error_messages={"invalid_choice": CHOICE_INVALID},
    )


class InterestForm(forms.Form):
    """Contact details, consent to be contacted, and the study's pre-screen questions."""

    first_name = forms.CharField(
        label=_("First name"),
        max_length=100,
        error_messages={"required": FIRST_NAME_NEEDED, "max_length": NAME_TOO_LONG},
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=100,
        error_messages={"required": LAST_NAME_NEEDED, "max_length": NAME_TOO_LONG},
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        help_text=_("We send you a confirmation here."),
        error_messages={"required": EMAIL_NEEDED, "invalid": EMAIL_INVALID},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Phone number"),
        max_length=30,
        required=False,
        help_text=_("Needed if you want a call or a text."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "type": "tel"}),
    )
    preferred_contact = forms.ChoiceField(
        label=_("How should we contact you?"),
        choices=ContactMethod.preferable(),
        widget=forms.RadioSelect,
        error_messages={"required": CONTACT_METHOD_NEEDED, "invalid_choice": CHOICE_INVALID},
    )
    best_time = forms.ChoiceField(
        label=_("Best time to reach you (optional)"),
        choices=BestTime.choices,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": CHOICE_INVALID},
    )
    date_of_birth = form_fields.DateField(
        label=_("Date of birth"),
        input_formats=DATE_INPUT_FORMATS,
        help_text=_("For example 04/28/1980."),
        error_messages={"required": DOB_NEEDED, "invalid": DOB_INVALID},
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
    )
    zip_code = forms.CharField(
        label=_("ZIP code"),
        max_length=10,
        error_messages={"required": ZIP_NEEDED, "max_length": ZIP_INVALID},
        widget=forms.TextInput(
            attrs={"autocomplete": "postal-code", "inputmode": "numeric", "size": 10}
        ),
    )
    referral_source = forms.ChoiceField(
        label=_("How did you hear about this study? (optional)"),
        choices=[("", _("Choose one"))] + ReferralSource.choices,
        required=False,
        error_messages={"invalid_choice": CHOICE_INVALID},
    )
    note = form_fields.NoteField(
        label=_("Anything else you want us to know? (optional)"),
        max_length=NOTE_MAX,
        required=False,
        help_text=_("Up to 1,000 characters."),
        error_messages={"max_length": NOTE_TOO_LONG},
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    contact_consent = forms.BooleanField(label="", error_messages={"required": CONSENT_NEEDED})
    # The trial center's registry: optional, separate, never ticked for the person.
    registry_consent = forms.BooleanField(
        label=REGISTRY_CONSENT_TEXT, required=False, help_text=REGISTRY_CONSENT_HELP
    )
    # Idempotency token; read leniently in clean_submission_token (people cannot fix it).
    submission_token = forms.Field(widget=forms.HiddenInput, required=False)
    # When the form was served, signed; judged in __init__ (FormTiming), never a form error.
    form_issued = forms.CharField(widget=forms.HiddenInput, required=False, strip=False)
    # Honeypot: hidden from people (and from screen readers); bots fill every field.
    website = forms.CharField(
        label=_("Leave this empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(
        self,
        *args,
        study,
        criteria,
        today: date | None = None,
        now: datetime | None = None,
        fields: dict[str, forms.Field] | None = None,
        **kwargs,
    ):
        # `fields`: the fields of a form built earlier for the same criteria and language
        # (form_cache.validation_fields), used as they are, not copied: to validate a post,
        # never to be shown (rendering sets attributes on the widgets).
        if fields is not None:
            self.base_fields = {}
        super().__init__(*args, **kwargs)
        self.study = study
        self.today = today or timezone.localdate()
        now = now or timezone.now()
        self.for_validation_only = fields is not None
        if fields is None:
            self.fields["form_issued"].initial = form_issued_token(now)
        else:
            self.fields = dict(fields)
        self.timing = None
        if self.is_bound:
            name = self.add_prefix("form_issued")
            self.timing = form_timing(
                self.data.get(name), now=now, min_seconds=settings.INTEREST_FORM_MIN_SECONDS
            )
            if self.timing in (FormTiming.INVALID, FormTiming.EXPIRED):
                # The re-shown form (errors to fix, or expired) carries a fresh time; a valid
                # one is kept, so a person correcting a mistake is never judged "too fast".
                self.data = self.data.copy()
                self.data[name] = form_issued_token(now)
        self.criteria = [c for c in criteria if _asks_patient(c)]
        if fields is not None:
            return
        self.fields["contact_consent"].label = study.text.contact_consent_text
        if not self.is_bound:
            self.initial.setdefault("submission_token", uuid.uuid4())
        self.question_fields = {c.pk: self._add_question(c) for c in self.criteria}
        self.helper = self._build_helper()
        # Fields in page order, so the error summary lists errors in the order people meet them.
        self.order_fields(self.PAGE_ORDER_BEFORE + self._question_names() + self.PAGE_ORDER_AFTER)

    PAGE_ORDER_BEFORE = [
        "first_name",
        "last_name",
        "date_of_birth",
        "zip_code",
        "email",
        "phone",
        "preferred_contact",
        "best_time",
    ]
    PAGE_ORDER_AFTER = [
        "form_issued",
        "referral_source",
        "note",
        "contact_consent",
        "registry_consent",
        "submission_token",
        "website",
    ]

    def _question_names(self) -> list[str]:
        return [name for c in self.criteria for name in self.question_fields[c.pk]]

    # -- Questions generated from criteria ---------------------------------------------------
    def _add_question(self, criterion: EligibilityCriterion) -> list[str]:
        """Add the field(s) asking one criterion; return their names in page order."""
        name = question_field_name(criterion)
        # Labels in the active language; field names and values are the same in every one.
        text = criterion.text
        if criterion.rule_kind == RuleKind.AT_LEAST_N:
            names = []
            for key, label in text.items.items():
                item_name = question_field_name(criterion, key)
                self.fields[item_name] = _radio(label, YES_NO_CHOICES)
                names.append(item_name)
            return names
        if criterion.rule_kind == RuleKind.WASHOUT:
            self.fields[name] = _radio(text.question, YES_NO_CHOICES, text.hint)
            self.fields[f"{name}__last"] = form_fields.DateField(
                label=_("If yes, when did you last take it?"),
                required=False,
                input_formats=DATE_INPUT_FORMATS,
                help_text=_("Your best guess is fine."),
                error_messages={"invalid": DATE_INVALID},
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )
            return [name, f"{name}__last"]
        if criterion.rule_kind == RuleKind.CHOICE:
            choices = list(text.options.items())
            self.fields[name] = _radio(
                text.question, choices + [(UNSURE, _("Not sure"))], text.hint
            )
        elif criterion.rule_kind == RuleKind.NUMBER_RANGE:
            not_sure = _("Leave it empty if you are not sure.")
            self.fields[name] = form_fields.DecimalField(
                label=text.question,
                required=False,
                max_digits=10,
                decimal_places=3,
                help_text=format_html("{} {}", text.hint, not_sure) if text.hint else not_sure,
                error_messages={
                    "invalid": NUMBER_INVALID,
                    "max_digits": NUMBER_INVALID,
                    "max_decimal_places": NUMBER_INVALID,
                    "max_whole_digits": NUMBER_INVALID,
                },
            )
        else:
            self.fields[name] = _radio(text.question, YES_NO_CHOICES, text.hint)
        return [name]

    def _build_helper(self) -> FormHelper:
        helper = FormHelper()
        helper.form_tag = False
        helper.disable_csrf = True
        questions = []
        for criterion in self.criteria:
            names = self.question_fields[criterion.pk]
            if criterion.rule_kind == RuleKind.AT_LEAST_N:
                text = criterion.text
                hint = f'<p class="form-text">{_literal(text.hint)}</p>' if text.hint else ""
                questions.append(
                    Fieldset(
                        _literal(text.question), HTML(hint), *names, css_class="question-group"
                    )
                )
            else:
                questions.extend(names)
        before, after = self.PAGE_ORDER_BEFORE, self.PAGE_ORDER_AFTER
        helper.layout = Layout(
            Fieldset(_("About you"), *before[:4]),
            Fieldset(_("How to reach you"), *before[4:]),
            Fieldset(_("Your health"), *questions) if questions else HTML(""),
            Fieldset(
                _("Last few things"),
                *after[:-1],
                Div(after[-1], css_class="hp-field", aria_hidden="true"),
            ),
            Submit("submit", _("Send my interest"), css_class="btn-lg"),
        )
        return helper

    # -- Validation --------------------------------------------------------------------------
    def clean_first_name(self):
        return _clean_name(self.cleaned_data["first_name"], FIRST_NAME_NEEDED)

    def clean_last_name(self):
        return _clean_name(self.cleaned_data["last_name"], LAST_NAME_NEEDED)

    def clean_date_of_birth(self):
        dob = self.cleaned_data["date_of_birth"]
        if dob > self.today:
            raise ValidationError(DOB_FUTURE, code="future")
        if dob < eligibility.add_months(self.today, -12 * MAX_AGE_YEARS):
            raise ValidationError(DOB_TOO_OLD, code="too_old")
        return dob

    def clean_note(self):
        note = without_invisible(text=self.cleaned_data["note"]).strip()
        if _CONTROL_CHARS.search(note):
            raise ValidationError(NOTE_CONTROL_CHARS, code="control_chars")
        return note

    def clean_submission_token(self) -> uuid.UUID | None:
        """A missing or mangled token only turns off double-click protection: never an error
        people would have to fix in a field they cannot see."""
        try:
            return uuid.UUID(str(self.cleaned_data["submission_token"] or ""))
        except ValueError:
            return None

    def clean_zip_code(self):
        # Any script's digits read as ASCII; then ASCII only, as the ZIP database expects.
        value = ascii_digits(text=self.cleaned_data["zip_code"].strip())
        if not re.fullmatch(r"[0-9]{5}(-[0-9]{4})?", value):
            raise ValidationError(ZIP_INVALID, code="invalid")
        value = value[:5]
        if not eligibility.zip_is_known(value):
            raise ValidationError(ZIP_UNKNOWN, code="unknown")
        return value

    def clean_phone(self):
        value = self.cleaned_data["phone"].strip()
        if not value:
            return ""
        return format_phone(normalise_phone(value))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("preferred_contact") in (ContactMethod.PHONE, ContactMethod.TEXT) and not (
            cleaned.get("phone") or self.errors.get("phone")
        ):
            self.add_error("phone", ValidationError(PHONE_NEEDED, code="required"))
        for criterion in self.criteria:
            if criterion.rule_kind == RuleKind.WASHOUT:
                self._clean_washout(criterion, cleaned)
        return cleaned

    def _clean_washout(self, criterion, cleaned) -> None:
        name = question_field_name(criterion)
        taken, last = cleaned.get(name), cleaned.get(f"{name}__last")
        if last and taken != YES:
            self.add_error(f"{name}__last", ValidationError(LAST_DOSE_NOT_RECENT, code="not_yes"))
        elif taken == YES and last is None and f"{name}__last" not in self.errors:
            self.add_error(f"{name}__last", ValidationError(LAST_DOSE_NEEDED, code="required"))
        elif last and last > self.today:
            self.add_error(f"{name}__last", ValidationError(LAST_DOSE_FUTURE, code="future"))

    # -- Results for the service -------------------------------------------------------------
    @property
    def is_spam(self) -> bool:
        """A bot: the honeypot is filled, or the form came back too fast or without a valid
        signed time. The view treats it as a success and saves nothing."""
        return bool(self.cleaned_data.get("website")) or self.timing in (
            FormTiming.TOO_FAST,
            FormTiming.INVALID,
        )

    @property
    def is_expired(self) -> bool:
        """Served more than a day ago: shown again (answers kept) to be sent once more."""
        return self.timing == FormTiming.EXPIRED

    def contact_details(self) -> ContactDetails:
        data = self.cleaned_data
        return ContactDetails(
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            phone=data["phone"],
            preferred_contact=data["preferred_contact"],
            best_time=data["best_time"],
            date_of_birth=data["date_of_birth"],
            zip_code=data["zip_code"],
            referral_source=data["referral_source"],
            note=data["note"],
            contact_consent=data["contact_consent"],
            registry_consent=bool(data.get("registry_consent")),
        )

    def answers(self) -> dict:
        """The answers in the JSON form the eligibility engine reads; unanswered ones left out."""
        data = self.cleaned_data
        answers = {}
        for criterion in self.criteria:
            name = question_field_name(criterion)
            if criterion.rule_kind == RuleKind.AT_LEAST_N:
                items = {
                    item["key"]: data.get(question_field_name(criterion, item["key"]))
                    for item in criterion.params["items"]
                }
                items = {key: value for key, value in items.items() if value}
                if items:
                    answers[criterion.code] = items
            elif criterion.rule_kind == RuleKind.WASHOUT:
                taken = data.get(name)
                if taken == YES:
                    last = data.get(f"{name}__last")
                    answers[criterion.code] = {"taken": YES, "last": last.isoformat()}
                elif taken:
                    answers[criterion.code] = {"taken": taken}
            elif criterion.rule_kind == RuleKind.NUMBER_RANGE:
                if data.get(name) is not None:
                    answers[criterion.code] = str(data[name])
            elif data.get(name):
                answers[criterion.code] = data[name]
        return answers

    def error_summary(self) -> list[tuple[str, str]]:
        """(field id, message) for the error list at the top of the page, in page order."""
        order = {name: i for i, name in enumerate(self.fields)}
        items = []
        for name in sorted(self.errors, key=lambda n: order.get(n, -1)):
            if name == "__all__":
                target = "interest-form"
            else:
                field = self[name]
                target = field.auto_id
                if isinstance(field.field.widget, forms.RadioSelect):
                    target = f"{field.auto_id}_0"
            items.extend((target, message) for message in self.errors[name])
        return items


def _clean_name(value: str, needed) -> str:
    """Collapse runs of spaces (and pasted tabs or line breaks); drop invisible characters
    (zero-width, bidirectional controls: a name made only of them is no name); refuse control
    characters."""
    value = " ".join(without_invisible(text=value).split())
    if not value:
        raise ValidationError(needed, code="required")
    if _NAME_CONTROL_CHARS.search(value):
        raise ValidationError(NAME_CONTROL_CHARS, code="control_chars")
    return value


def _hint(text: str) -> str:
    """A criterion's hint (from a study file or the admin) as a field's help text: escaped
    here, because crispy-forms and the admin output help text as HTML (`|safe`)."""
    return escape(text) if text else ""


def _literal(text: str) -> str:
    """Study text for crispy's Fieldset legend and HTML objects, which compile their string
    as a Django template and output it unescaped: escape the HTML, and the braces, so a
    question or hint (from a study file or the admin) shows as written and runs no tag."""
    return escape(text).replace("{", "&#123;").replace("}", "&#125;")


def _asks_patient(criterion: EligibilityCriterion) -> bool:
    """Age and distance come from the date of birth and ZIP code: no separate question."""
    return (
        criterion.answered_by == "patient"
        and criterion.rule_kind not in eligibility.RULES_FROM_CONTACT_DETAILS
    )
