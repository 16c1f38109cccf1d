"""The center-wide registry queue's reads: how many people are in the registry, and each of
the viewer's recruiting studies with its matches as `recruitment.registry.selectors` lists
them (the same groups and order as the study's own page, no identity)."""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator

from recruitment.contact import format_phone
from recruitment.models import MatchOutcome, Person, RegistryMatch, Study
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
# Registry members a page, for the center's coordinators.
PEOPLE_PER_PAGE = 50


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


@dataclass(frozen=True)
class PersonMatch:
    study_title: str
    number: int
    outcome: str  # in words


@dataclass(frozen=True)
class RegistryPerson:
    """A registry member as the center's coordinators see them: who, how to reach them, when
    they joined, and their match to each recruiting study (number and outcome)."""

    name: str
    email: str
    phone: str
    joined: object  # the registry consent's date and time
    matches: list[PersonMatch]


def registry_people_page(*, studies: list[Study], page: int | str = 1) -> Page:
    """A page of the registry's members, newest first, each with their matches to `studies`
    (two queries and the count, whatever the page's size). Only for staff with
    `recruitment.view_registry_people`: the center's coordinators, never a study's team."""
    members = Person.objects.in_registry().order_by("-registry_consent_at", "-pk")
    shown = Paginator(members, PEOPLE_PER_PAGE).get_page(page)
    people = list(shown.object_list)
    titles = {study.pk: study.short_title or study.title for study in studies}
    matches: dict[int, list[PersonMatch]] = {person.pk: [] for person in people}
    rows = (
        RegistryMatch.objects.filter(person__in=people, study_id__in=list(titles))
        .order_by("study_id", "number")
        .values_list("person_id", "study_id", "number", "outcome")
    )
    for person_id, study_id, number, outcome in rows:
        label = MatchOutcome(outcome).label if outcome in MatchOutcome.values else outcome
        matches[person_id].append(PersonMatch(titles[study_id], number, str(label)))
    shown.object_list = [
        RegistryPerson(
            name=person.full_name,
            email=person.email,
            phone=format_phone(person.phone),
            joined=person.registry_consent_at,
            matches=matches[person.pk],
        )
        for person in people
    ]
    return shown
