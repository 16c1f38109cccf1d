"""The pre-screen's verdicts in the words staff read at a glance: what needs attention first
(not met, then not sure, then staff checks pending, then met), each verdict and source in
words rather than codes, and the whole pre-screen in one line for the call card:
"16 met, 1 not met: No opioid painkiller in the last 3 months, eligible from 15 Feb 2027;
1 not sure: orthostatic intolerance".

`prescreen_summary` is a pure function of the verdicts (and the day): no query.
"""

from collections.abc import Iterable
from datetime import date

from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from recruitment.eligibility import UNSURE, RuleKind
from recruitment.models import AnsweredBy, CriterionKind, Provenance, Verdict

# What each verdict says, in the order staff should read them: what stops the person first.
VERDICT_WORDS = {
    Verdict.NOT_MET: _("Not met"),
    Verdict.UNKNOWN: _("Not sure"),
    Verdict.PENDING: _("Staff check pending"),
    Verdict.MET: _("Met"),
}
ATTENTION_ORDER = {verdict: position for position, verdict in enumerate(VERDICT_WORDS)}
# The class that colours each verdict (the words carry it too, for colour-blind staff).
VERDICT_CLASS = {
    Verdict.NOT_MET: "verdict-not-met",
    Verdict.UNKNOWN: "verdict-not-sure",
    Verdict.PENDING: "verdict-pending",
    Verdict.MET: "verdict-met",
}
PROVENANCE_WORDS = {
    Provenance.SELF_REPORTED: _("answered by the patient"),
    Provenance.STAFF_VERIFIED: _("entered by staff"),
}
ANSWERED_BY_WORDS = {
    AnsweredBy.PATIENT: _("asked of the patient"),
    AnsweredBy.STAFF: _("checked by staff"),
}
KIND_WORDS = {CriterionKind.INCLUSION: _("Inclusion"), CriterionKind.EXCLUSION: _("Exclusion")}
CRITERIA_VERSION = _("criteria version {version}")
ELIGIBLE_FROM = _("eligible from {day}")
NO_VERDICTS = _("No pre-screen verdicts.")


def verdict_attention_key(verdict) -> tuple[int, int]:
    """A verdict's place when staff read them: by what needs attention first, then in the
    study's order (a key for `sorted`)."""
    return ATTENTION_ORDER.get(verdict.verdict, len(ATTENTION_ORDER)), verdict.order


def day_shown(day: date) -> str:
    return date_format(day, "DATE_FORMAT")


def washout_over(verdict, *, today: date) -> bool:
    """A washout not met when judged whose "eligible from" day has come: met now (the rule
    of `selectors.verdict_blocks`)."""
    return (
        verdict.verdict == Verdict.NOT_MET
        and verdict.eligible_from is not None
        and verdict.eligible_from <= today
    )


def verdict_standing(verdict, *, today: date) -> Verdict:
    """The verdict as it stands today."""
    return Verdict.MET if washout_over(verdict, today=today) else Verdict(verdict.verdict)


def unsure_items(verdict) -> list[str]:
    """The items of an "at least N of a group" criterion answered "not sure" (or left out),
    by their staff titles: what to ask again."""
    snapshot = verdict.criterion_snapshot
    if snapshot.get("rule_kind") != RuleKind.AT_LEAST_N or not isinstance(verdict.answer, dict):
        return []
    return [
        item.get("title") or item["key"]
        for item in snapshot.get("params", {}).get("items", [])
        if verdict.answer.get(item["key"]) in (None, "", UNSURE)
    ]


def verdict_named(verdict, *, today: date) -> str:
    """One verdict in the summary: the criterion's title (an unsure group's unsure items),
    with the day a running washout ends."""
    standing = verdict_standing(verdict, today=today)
    if standing == Verdict.UNKNOWN:
        items = unsure_items(verdict)
        if items:
            return ", ".join(items)
    name = verdict.criterion_snapshot.get("title") or verdict.criterion_snapshot.get("code", "")
    if standing == Verdict.NOT_MET and verdict.eligible_from is not None:
        return f"{name}, {ELIGIBLE_FROM.format(day=day_shown(verdict.eligible_from))}"
    return name


def prescreen_summary(verdicts: Iterable, *, today: date, overridden: Iterable[str] = ()) -> str:
    """The pre-screen in one line: how many criteria are met, then those not met, not sure
    and pending, each named ("16 met, 2 not met: A · B; 1 not sure: C"). Criteria an
    investigator overrode say so. Pure: reads only the verdicts given."""
    verdicts = list(verdicts)
    if not verdicts:
        return str(NO_VERDICTS)
    overridden = set(overridden)
    groups: dict[Verdict, list[str]] = {verdict: [] for verdict in VERDICT_WORDS}
    for verdict in verdicts:
        standing = verdict_standing(verdict, today=today)
        name = verdict_named(verdict, today=today)
        if standing != Verdict.MET and verdict.criterion_snapshot.get("code") in overridden:
            name = f"{name} ({_('overridden')})"
        groups[standing].append(name)
    met = len(groups[Verdict.MET])
    parts = [ngettext("%(n)d met", "%(n)d met", met) % {"n": met}]
    heads = {
        Verdict.NOT_MET: lambda n: ngettext("%(n)d not met", "%(n)d not met", n),
        Verdict.UNKNOWN: lambda n: ngettext("%(n)d not sure", "%(n)d not sure", n),
        Verdict.PENDING: lambda n: ngettext(
            "%(n)d staff check pending", "%(n)d staff checks pending", n
        ),
    }
    named = []
    for verdict, head in heads.items():
        names = groups[verdict]
        if not names:
            continue
        text = head(len(names)) % {"n": len(names)}
        if verdict != Verdict.PENDING:
            text += ": " + " · ".join(names)
        named.append(text)
    if named:
        parts[0] += ", " + named[0]
        parts += named[1:]
    return "; ".join(parts)
