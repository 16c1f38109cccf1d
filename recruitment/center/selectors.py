"""The center-wide registry queue's reads: who is in the registry, with their matches."""

from django.core.paginator import Page, Paginator
from django.db.models import Prefetch

from recruitment.models import Person, RegistryMatch, Study

PER_PAGE = 50


def registry_studies(*, user) -> list[Study]:
    """The recruiting studies whose matches the user sees: those they are a member of (all,
    for a superuser). Staff with none do not see the registry at all."""
    return list(Study.objects.recruiting().visible_to(user).order_by("title"))


def registry_person_list(*, studies: list[Study], page: int | str = 1) -> Page:
    """Registry members, newest consent first, a page at a time, each with `shown_matches`:
    their matches to `studies` only. Three queries: the count, the page, the matches."""
    matches = (
        RegistryMatch.objects.filter(study__in=studies)
        .select_related("study")
        .order_by("study__title", "number")
    )
    people = (
        Person.objects.in_registry()
        .order_by("-registry_consent_at", "-pk")
        .only("pk", "first_name", "last_name", "email", "registry_consent_at")
        .prefetch_related(Prefetch("matches", queryset=matches, to_attr="shown_matches"))
    )
    return Paginator(people, PER_PAGE).get_page(page)
