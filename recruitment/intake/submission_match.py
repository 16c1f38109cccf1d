"""What a new submission finds before it is written, in one statement: the same form saved
already, the study's possible duplicate, and the person it belongs to (and whether they are in
the registry)."""

import uuid
from dataclasses import dataclass

from django.db.models import Case, Exists, Subquery, Value, When
from django.db.models.functions import Coalesce

from recruitment.contact import MatchKeys, PersonKeys
from recruitment.models import Participant, Person, Study
from recruitment.people.services import REFRESHED_FIELDS


@dataclass(frozen=True)
class SubmissionMatch:
    """What `_first_match` found: whether this form was saved already (the same token), the
    record a possible duplicate points to (the study's first with a shared key, or the record
    that one duplicates), and the id of the person the new participant is."""

    saved_already: bool
    duplicate_of_id: int | None
    person_id: int | None
    person_in_registry: bool = False
    # The person's details differ from those the new form gives (a later application
    # refreshes them); False when no person was found.
    person_details_differ: bool = False


def submission_match(participant: Participant, token: uuid.UUID | None) -> SubmissionMatch:
    """One statement for every lookup a new participant needs, each an indexed subquery read
    with the study's row: the participant saved with the same `token`; the earliest of the
    study with the same email, phone, or name and date of birth; and the person they are, in
    any study (`PersonKeys`: the same email first, else the same name and date of birth)."""
    keys = MatchKeys.of_participant(participant)
    in_study = Participant.objects.filter(study_id=participant.study_id)
    first = (
        in_study.filter(keys.query())
        .order_by("screening_seq")
        .values(kept=Coalesce("duplicate_of_id", "pk"))[:1]
    )
    person = (
        Person.objects.filter(PersonKeys.of(keys).query(), erased_at__isnull=True)
        .annotate(by_email=Case(When(email_normalised=keys.email, then=0), default=1))
        .order_by("by_email", "pk")
        .values("pk")[:1]
    )
    in_registry = Exists(Person.objects.in_registry().filter(pk=Subquery(person)))
    given = {name: getattr(participant, name) for name in REFRESHED_FIELDS}
    same = Exists(
        Person.objects.filter(pk=Subquery(person), **{k: v for k, v in given.items() if v})
    )
    saved = Exists(in_study.filter(submission_token=token)) if token else Value(False)
    row = (
        Study.objects.filter(pk=participant.study_id)
        .annotate(
            saved=saved,
            first=Subquery(first),
            person=Subquery(person),
            registry=in_registry,
            same=same,
        )
        .values_list("saved", "first", "person", "registry", "same")
        .get()
    )
    return SubmissionMatch(
        saved_already=bool(row[0]),
        duplicate_of_id=row[1],
        person_id=row[2],
        person_in_registry=bool(row[3]),
        person_details_differ=row[2] is not None and not row[4],
    )
