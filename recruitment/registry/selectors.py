"""Reading a study's registry matches."""

from recruitment.models import MatchOutcome, RegistryMatch, Study


def registry_match_list(*, study: Study, outcome: str | None = None):
    """The matches a study's team sees (`RegistryMatchQuerySet.shown`): likely eligible, or
    eligible from a later date, not declined, of persons still in the registry and not
    applying to the study already; best first, then by number. No identity is read."""
    matches = RegistryMatch.objects.filter(study=study).shown()
    if outcome in MatchOutcome.values:
        matches = matches.filter(outcome=outcome)
    # "likely_eligible" sorts after "eligible_from": descending puts it first.
    return matches.order_by("-outcome", "eligible_from", "number")


def registry_match_get(*, study: Study, number: int) -> RegistryMatch:
    return RegistryMatch.objects.get(study=study, number=number)
