"""What a new submission finds before it is written, in one statement: the same form saved
already, the study's possible duplicate, the person it belongs to (whether they are in the
registry, and whether the form gives them other details), and the study's numbering as the
submission's own UPDATE left it."""

import uuid
from dataclasses import dataclass

from django.db.models import (
    BigIntegerField,
    Case,
    Exists,
    ExpressionWrapper,
    F,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from recruitment.contact import MatchKeys, PersonKeys
from recruitment.models import Participant, Person, Study
from recruitment.models.people import IN_REGISTRY
from recruitment.people.services import REFRESHED_FIELDS

# The study's columns a submission reads under its lock: the number it took, the prefix it is
# written with, and the versions of the consent and criteria the person answered.
NUMBERING = ("last_screening_seq", "prefix", "contact_consent_version", "criteria_version")
# The person comes back as one number: id x 4, plus 2 when they are in the registry, plus 1
# when their details are those the form gives.
_IN_REGISTRY_BIT = 2
_SAME_DETAILS_BIT = 1


@dataclass(frozen=True)
class SubmissionMatch:
    """What `submission_match` found: whether this form was saved already (the same token),
    the record a possible duplicate points to (the study's first with a shared key, or the
    record that one duplicates), the id of the person the new participant is, and the study's
    numbering columns (`NUMBERING`, by name)."""

    saved_already: bool
    duplicate_of_id: int | None
    person_id: int | None
    person_in_registry: bool = False
    numbering: dict | None = None
    # The person's details differ from those the new form gives (a later application
    # refreshes them); False when no person was found.
    person_details_differ: bool = False


def submission_match(participant: Participant, token: uuid.UUID | None) -> SubmissionMatch:
    """One statement for every lookup a new participant needs, each an indexed subquery read
    with the study's row: the participant saved with the same `token`; the earliest of the
    study with the same email, phone, or name and date of birth; and the person they are, in
    any study (`PersonKeys`: the same email first, else the same name and date of birth).

    The person's id, whether they are in the registry and whether their details are the
    form's come back as one number (`_IN_REGISTRY_BIT`, `_SAME_DETAILS_BIT`): each further
    subquery the ORM builds costs about as much CPU as the database spends answering the whole
    statement."""
    keys = MatchKeys.of_participant(participant)
    in_study = Participant.objects.filter(study_id=participant.study_id)
    first = (
        in_study.filter(keys.query())
        .order_by("screening_seq")
        .values(kept=Coalesce("duplicate_of_id", "pk"))[:1]
    )
    given = {name: getattr(participant, name) for name in REFRESHED_FIELDS}
    given = {name: value for name, value in given.items() if value}
    same = Case(When(Q(**given), then=_SAME_DETAILS_BIT), default=0) if given else Value(1)
    code = ExpressionWrapper(
        F("pk") * 4 + Case(When(IN_REGISTRY, then=_IN_REGISTRY_BIT), default=0) + same,
        output_field=BigIntegerField(),
    )
    person = (
        Person.objects.filter(PersonKeys.of(keys).query(), erased_at__isnull=True)
        .annotate(by_email=Case(When(email_normalised=keys.email, then=0), default=1))
        .order_by("by_email", "pk")
        .values(code=code)[:1]
    )
    saved = Exists(in_study.filter(submission_token=token)) if token else Value(False)
    row = (
        Study.objects.filter(pk=participant.study_id)
        .annotate(saved=saved, first=Subquery(first), person=Subquery(person))
        .values_list("saved", "first", "person", *NUMBERING)
        .get()
    )
    found = row[2]
    return SubmissionMatch(
        saved_already=bool(row[0]),
        duplicate_of_id=row[1],
        person_id=found // 4 if found is not None else None,
        person_in_registry=found is not None and bool(found & _IN_REGISTRY_BIT),
        person_details_differ=found is not None and not found & _SAME_DETAILS_BIT,
        numbering=dict(zip(NUMBERING, row[3:], strict=True)),
    )
