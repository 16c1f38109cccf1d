"""The amendment pages' forms: a new draft, and the draft's criteria to edit."""

import copy
import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from recruitment.models import AnsweredBy, CriterionKind, RuleKind

# The draft's fields edited on the page for each criterion (the rest are kept as drafted).
EDITED = ("title", "question", "hint", "rule_kind", "params")
NEW_FIELDS = ("code", "kind", "answered_by", "rule_kind", "title", "question", "hint", "rationale")


class PrettyJSONField(forms.JSONField):
    """JSON shown indented, one key a line, so a number is easy to find and change."""

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


class DraftStartForm(forms.Form):
    note = forms.CharField(
        label=_("What the amendment changes"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: “Amendment 3: opioid washout 6 months instead of 3”."),
    )


class DraftEditForm(forms.Form):
    """Every criterion of the draft (its texts, rule and parameters, or "remove"), and an
    optional new criterion. Field names carry the criterion's place: `params_3`."""

    def __init__(self, *args, criteria: list[dict[str, Any]], note: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        self.fields["note"] = copy.deepcopy(DraftStartForm.base_fields["note"])
        self.initial.setdefault("note", note)
        for i, item in enumerate(criteria):
            self.fields[f"title_{i}"] = forms.CharField(label=_("Staff title"), max_length=120)
            self.fields[f"question_{i}"] = forms.CharField(
                label=_("Question for the patient"),
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.fields[f"hint_{i}"] = forms.CharField(
                label=_("Hint for the patient"),
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.fields[f"rule_kind_{i}"] = forms.ChoiceField(label=_("Rule"), choices=RuleKind)
            self.fields[f"params_{i}"] = PrettyJSONField(
                label=_("Rule parameters"),
                widget=forms.Textarea(attrs={"rows": 4, "class": "font-monospace"}),
                help_text=_("One shape per rule: see “Rule parameters” in docs/studies.md."),
            )
            self.fields[f"remove_{i}"] = forms.BooleanField(
                label=_("Remove this criterion"), required=False
            )
            for name in EDITED:
                self.initial.setdefault(f"{name}_{i}", item.get(name, ""))
        self.fields["new_code"] = forms.SlugField(
            label=_("Code"),
            required=False,
            max_length=60,
            help_text=_("Answers are stored under it."),
        )
        self.fields["new_kind"] = forms.ChoiceField(
            label=_("Inclusion or exclusion"), choices=CriterionKind, required=False
        )
        self.fields["new_answered_by"] = forms.ChoiceField(
            label=_("Answered by"), choices=AnsweredBy, required=False
        )
        self.fields["new_rule_kind"] = forms.ChoiceField(
            label=_("Rule"), choices=RuleKind, required=False
        )
        self.fields["new_title"] = forms.CharField(
            label=_("Staff title"), required=False, max_length=120
        )
        self.fields["new_question"] = forms.CharField(
            label=_("Question for the patient"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 2}),
        )
        self.fields["new_hint"] = forms.CharField(
            label=_("Hint for the patient"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 2}),
        )
        self.fields["new_rationale"] = forms.CharField(
            label=_("Rationale for staff"), required=False, widget=forms.Textarea(attrs={"rows": 2})
        )
        self.fields["new_params"] = PrettyJSONField(
            label=_("Rule parameters"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 3, "class": "font-monospace"}),
        )

    def criterion_rows(self):
        """(place, drafted criterion, its bound fields) for the template."""
        return [
            (
                i,
                item,
                [self[f"{name}_{i}"] for name in (*EDITED, "remove")],
            )
            for i, item in enumerate(self.criteria)
        ]

    def new_fields(self):
        return [self[f"new_{name}"] for name in (*NEW_FIELDS, "params")]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("new_code"):
            for name in ("title", "rationale"):
                if not cleaned.get(f"new_{name}"):
                    self.add_error(f"new_{name}", _("A new criterion needs this."))
            if cleaned.get("new_params") in (None, ""):
                self.add_error("new_params", _("A new criterion needs its rule parameters."))
        return cleaned

    def drafted_criteria(self) -> list[dict[str, Any]]:
        """The draft's criteria as edited: removed ones out, the new one (if any) last."""
        cleaned = self.cleaned_data
        result = []
        for i, item in enumerate(self.criteria):
            if cleaned.get(f"remove_{i}"):
                continue
            edited = dict(item)
            for name in EDITED:
                edited[name] = cleaned[f"{name}_{i}"]
            result.append(edited)
        if cleaned.get("new_code"):
            new = {name: cleaned.get(f"new_{name}", "") for name in NEW_FIELDS}
            new["params"] = cleaned.get("new_params") or {}
            new["translations"] = {}
            result.append(new)
        return result

    def add_problems(self, problems: dict[str, list[tuple[str, str]]], kept: list[dict]) -> None:
        """Put the service's problems next to the fields they are about (by criterion code)."""
        places = {item.get("code"): i for i, item in enumerate(self.criteria)}
        for code, found in problems.items():
            for name, message in found:
                if code in places:
                    field = f"{name}_{places[code]}" if name in EDITED else f"params_{places[code]}"
                    if name not in EDITED:
                        message = f"{name}: {message}" if name else message
                elif code and code == self.cleaned_data.get("new_code"):
                    field = f"new_{name}" if name in (*NEW_FIELDS, "params") else "new_params"
                else:
                    field = None
                self.add_error(field, message)
