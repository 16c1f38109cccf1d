"""The center-wide registry queue's reads: how many people are in the registry, and each of
the viewer's recruiting studies with its matches as `recruitment.registry.selectors` lists
them (the same groups and order as the study's own page, no identity)."""

from dataclasses import dataclass

from recruitment.models import Person, Study
from recruitment.registry.selectors import (
    MATCH_GROUPS,
    MatchGroup,
    criterion_titles,
    registry_match_counts,
    registry_match_first,
    registry_match_groups,
    registry_match_rows,
)

# How many matches of each study the queue shows; the study's page has them all.
FIRST_PER_STUDY = 10


@dataclass(frozen=True)
class StudyMatches:
    study: Study
    total: int
    counts: list[tuple[str, int]]  # each group's heading and count, in the groups' order
    groups: list[MatchGroup]  # its first matches, in their groups


def registry_studies(*, user) -> list[Study]:
    """The recruiting studies whose matches the user sees: those they are a member of (all,
    for a superuser). Staff with none do not see the registry at all."""
    return list(Study.objects.recruiting().visible_to(user).order_by("title"))


def registry_member_count() -> int:
    return Person.objects.in_registry().count()


def registry_study_matches(*, studies: list[Study], now=None) -> list[StudyMatches]:
    """Each study's match counts by group and its first `FIRST_PER_STUDY` matches. Three
    queries whatever the number of studies and matches: the counts, the matches, the
    criteria's titles."""
    counts = registry_match_counts(studies=studies)
    first = registry_match_first(studies=studies, per_study=FIRST_PER_STUDY)
    titles = criterion_titles(studies=studies)
    result = []
    for study in studies:
        mine = counts[study.pk]
        rows = registry_match_rows(matches=first[study.pk], titles=titles, now=now)
        result.append(
            StudyMatches(
                study=study,
                total=sum(mine.values()),
                counts=[(str(label), mine.get(outcome, 0)) for outcome, label in MATCH_GROUPS],
                groups=registry_match_groups(rows),
            )
        )
    return result
