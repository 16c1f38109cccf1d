"""A study's registry matches as its team sees them: no name, no contact detail, no date of
birth, no ZIP code; only the match's number, its outcome and reasons, and where its
invitation stands. One page costs the same queries at 10 matches and at 10,000."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import (
    Case,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from recruitment.models import (
    EligibilityCriterion,
    MatchOutcome,
    MatchState,
    Person,
    RegistryInvitation,
    RegistryMatch,
    Study,
)


def match_label(match: RegistryMatch) -> str:
    """How staff name a match: its number in the study ("M-0007"), never the person."""
    return f"M-{match.number:04d}"


# Likely eligible first, then those with unknowns, then eligible from a later date.
OUTCOME_ORDER = Case(
    When(outcome=MatchOutcome.LIKELY_ELIGIBLE, then=Value(0)),
    When(outcome=MatchOutcome.NEEDS_ANSWERS, then=Value(1)),
    When(outcome=MatchOutcome.ELIGIBLE_FROM, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)
SHOWN_FIELDS = (
    "pk",
    "study_id",
    "person_id",
    "number",
    "outcome",
    "eligible_from",
    "verdicts",
    "evaluated_at",
    "state",
    "invited_at",
    "responded_at",
)


def registry_match_list_to_invite(*, study: Study) -> QuerySet[RegistryMatch]:
    """The study's matches as its team works through them: likely eligible, then those with
    unknowns (the invitation asks them), then eligible from a later date; each with when its
    person was last invited to any study (`last_invited_at`), so the page can say when they
    may be invited again. Left out: ineligible matches, people no longer in the registry, and
    people who applied to the study on their own (those who said yes stay, as accepted).
    Unlike `recruitment.registry.selectors.registry_match_list`, matches that need answers
    and those declined are listed: the first may be invited, the second show their answer."""
    last_invited = (
        RegistryInvitation.objects.filter(match__person_id=OuterRef("person_id"))
        .order_by("-sent_at")
        .values("sent_at")[:1]
    )
    return (
        RegistryMatch.objects.filter(study=study, person__in=Person.objects.in_registry())
        .exclude(outcome=MatchOutcome.INELIGIBLE)
        .exclude(Q(person__applications__study=F("study")) & ~Q(state=MatchState.ACCEPTED))
        .only(*SHOWN_FIELDS)
        .annotate(group=OUTCOME_ORDER, last_invited_at=Subquery(last_invited))
        .order_by("group", "eligible_from", "number")
    )


@dataclass(frozen=True)
class VerdictRow:
    title: str
    verdict: str
    reason: str


@dataclass(frozen=True)
class MatchRow:
    """One match as its row on the page."""

    match: RegistryMatch
    label: str
    verdicts: list[VerdictRow]
    may_invite: bool
    invite_from: date | None  # when a recent invitation to another study blocks one now


def registry_match_rows(*, study: Study, matches, now: datetime | None = None) -> list[MatchRow]:
    """The page's rows: each verdict under its criterion's title (one query for the study's
    criteria, whatever the number of matches)."""
    now = now or timezone.now()
    titles = dict(EligibilityCriterion.objects.filter(study=study).values_list("code", "title"))
    wait = timedelta(days=settings.REGISTRY_INVITE_MIN_DAYS)
    rows = []
    for match in matches:
        invite_from = None
        last = match.last_invited_at
        if last is not None and last > now - wait:
            invite_from = timezone.localdate(last + wait)
        rows.append(
            MatchRow(
                match=match,
                label=match_label(match),
                verdicts=[
                    VerdictRow(
                        title=titles.get(v.get("criterion"), v.get("criterion", "")),
                        verdict=v.get("verdict", ""),
                        reason=v.get("reason", ""),
                    )
                    for v in match.verdicts or []
                ],
                may_invite=match.state == MatchState.MATCHED and invite_from is None,
                invite_from=invite_from if match.state == MatchState.MATCHED else None,
            )
        )
    return rows
