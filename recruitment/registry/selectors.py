"""What the registry's matches look like to staff, for every page that lists them: the study
team's page (/staff/registry/<slug>/matches/) and the center's registry queue
(/staff/registry/). One definition of which matches are listed, in which groups and order,
and what a row shows: the match's number, outcome and per-criterion reasons, never a name,
contact detail, date of birth or ZIP code.

- **Listed**: every match that is not ineligible, of a person still in the registry, who did
  not apply to the study on their own (one who said yes to its invitation stays, as
  accepted). Declined and closed matches stay listed, with their state.
- **Groups, in this order**: likely eligible now; needs answers (nothing rules the person
  out, some criteria are unknown: the invitation asks them); likely eligible from a later date
  (a washout still running). Within a group: the earliest date first (the third group), then
  the match number.

Each page costs the same queries at 10 matches and at 10,000."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from recruitment.models import (
    EligibilityCriterion,
    MatchOutcome,
    MatchState,
    Person,
    RegistryInvitation,
    RegistryMatch,
    Study,
)

# The groups a list shows, in order, each with its heading.
MATCH_GROUPS: tuple[tuple[str, str], ...] = (
    (MatchOutcome.LIKELY_ELIGIBLE, _("Likely eligible")),
    (MatchOutcome.NEEDS_ANSWERS, _("Needs answers")),
    (MatchOutcome.ELIGIBLE_FROM, _("Likely eligible from a later date")),
)
MATCH_GROUP = Case(
    *(When(outcome=outcome, then=Value(i)) for i, (outcome, _label) in enumerate(MATCH_GROUPS)),
    default=Value(len(MATCH_GROUPS)),
    output_field=IntegerField(),
)
MATCH_ORDER = ("group", F("eligible_from").asc(nulls_first=True), "number")
# What a row reads of a match: no identity, and not the verdicts' digests.
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


def match_label(match: RegistryMatch) -> str:
    """How staff name a match: its number in the study ("M-0007"), never the person."""
    return f"M-{match.number:04d}"


def registry_match_listed(*, studies) -> QuerySet[RegistryMatch]:
    """The matches of `studies` (a study or a list of them) that a list shows, each with its
    `group`, in the lists' order. The one definition both pages read."""
    studies = [studies] if isinstance(studies, Study) else list(studies)
    return (
        RegistryMatch.objects.filter(study__in=studies, person__in=Person.objects.in_registry())
        .exclude(outcome=MatchOutcome.INELIGIBLE)
        .exclude(Q(person__applications__study=F("study")) & ~Q(state=MatchState.ACCEPTED))
        .only(*SHOWN_FIELDS)
        .annotate(group=MATCH_GROUP)
        .order_by(*MATCH_ORDER)
    )


def registry_match_list(*, study: Study) -> QuerySet[RegistryMatch]:
    """The study team's list: the listed matches, each with when its person was last invited
    to any study (`last_invited_at`), so the page can say when they may be invited again."""
    last_invited = (
        RegistryInvitation.objects.filter(match__person_id=OuterRef("person_id"))
        .order_by("-sent_at")
        .values("sent_at")[:1]
    )
    return registry_match_listed(studies=study).annotate(last_invited_at=Subquery(last_invited))


def registry_match_get(*, study: Study, number: int) -> RegistryMatch:
    return RegistryMatch.objects.get(study=study, number=number)


def registry_match_counts(*, studies: list[Study]) -> dict[int, dict[str, int]]:
    """How many listed matches each study has in each group (one query)."""
    counts: dict[int, dict[str, int]] = {s.pk: {} for s in studies}
    rows = (
        registry_match_listed(studies=studies)
        .order_by()
        .values("study_id", "outcome")
        .annotate(n=Count("pk"))
        .values_list("study_id", "outcome", "n")
    )
    for study_id, outcome, n in rows:
        counts[study_id][outcome] = n
    return counts


def registry_match_first(*, studies: list[Study], per_study: int) -> dict[int, list]:
    """The first `per_study` listed matches of each study, in the lists' order (one query,
    whatever the number of studies and matches)."""
    ranked = registry_match_listed(studies=studies).annotate(
        rank=Window(RowNumber(), partition_by=[F("study_id")], order_by=list(_window_order()))
    )
    first: dict[int, list] = {s.pk: [] for s in studies}
    for match in ranked.filter(rank__lte=per_study):
        first[match.study_id].append(match)
    return first


def _window_order():
    return (MATCH_GROUP.asc(), F("eligible_from").asc(nulls_first=True), F("number").asc())


# ---------------------------------------------------------------------------------------------
# Rows and groups, as the pages show them
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VerdictRow:
    title: str
    verdict: str
    reason: str


@dataclass(frozen=True)
class MatchRow:
    """One match as its row on a page."""

    match: RegistryMatch
    label: str
    verdicts: list[VerdictRow]
    may_invite: bool
    invite_from: date | None  # when a recent invitation to another study blocks one now


@dataclass(frozen=True)
class MatchGroup:
    outcome: str
    label: str
    rows: list[MatchRow]


def criterion_titles(*, studies: list[Study]) -> dict[tuple[int, str], str]:
    """Each criterion's title by (study, code), for the reasons (one query)."""
    rows = EligibilityCriterion.objects.filter(study__in=studies).values_list(
        "study_id", "code", "title"
    )
    return {(study_id, code): title for study_id, code, title in rows}


def registry_match_rows(
    *, matches, titles: dict[tuple[int, str], str], now: datetime | None = None
) -> list[MatchRow]:
    """The rows of `matches`: each verdict under its criterion's title; whether the match may
    be invited now, or from when (read from `last_invited_at` when the list has it)."""
    now = now or timezone.now()
    wait = timedelta(days=settings.REGISTRY_INVITE_MIN_DAYS)
    rows = []
    for match in matches:
        invite_from = None
        last = getattr(match, "last_invited_at", None)
        if last is not None and last > now - wait:
            invite_from = timezone.localdate(last + wait)
        matched = match.state == MatchState.MATCHED
        rows.append(
            MatchRow(
                match=match,
                label=match_label(match),
                verdicts=[
                    VerdictRow(
                        title=titles.get(
                            (match.study_id, v.get("criterion")), v.get("criterion", "")
                        ),
                        verdict=v.get("verdict", ""),
                        reason=v.get("reason", ""),
                    )
                    for v in match.verdicts or []
                ],
                may_invite=matched and invite_from is None,
                invite_from=invite_from if matched else None,
            )
        )
    return rows


def registry_match_groups(rows: list[MatchRow]) -> list[MatchGroup]:
    """The rows under their group's heading, in the groups' order; empty groups left out."""
    groups = []
    for outcome, label in MATCH_GROUPS:
        mine = [row for row in rows if row.match.outcome == outcome]
        if mine:
            groups.append(MatchGroup(outcome=str(outcome), label=str(label), rows=mine))
    return groups
