"""What a new submission finds before it is written, in one statement: the same form saved
already, the study's possible duplicate, the person it belongs to (and whether they are in
the registry), and the study's numbering as the submission's own UPDATE left it."""

import uuid
from dataclasses import dataclass

from django.db.models import BigIntegerField, Case, Exists, F, Subquery, Value, When
from django.db.models.functions import Coalesce

from recruitment.contact import MatchKeys, PersonKeys
from recruitment.models import Participant, Person, Study
from recruitment.models.people import IN_REGISTRY

# The study's columns a submission reads under its lock: the number it took, the prefix it is
# written with, and the versions of the consent and criteria the person answered.
NUMBERING = ("last_screening_seq", "prefix", "contact_consent_version", "criteria_version")


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


def submission_match(participant: Participant, token: uuid.UUID | None) -> SubmissionMatch:
    """One statement for every lookup a new participant needs, each an indexed subquery read
    with the study's row: the participant saved with the same `token`; the earliest of the
    study with the same email, phone, or name and date of birth; and the person they are, in
    any study (`PersonKeys`: the same email first, else the same name and date of birth).

    The person comes back as one number: their id, negated when they are in the registry, so
    that whether they are needs no second subquery (each one the ORM builds costs about as
    much CPU as the database spends answering the whole statement)."""
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
        .values(
            signed=Case(
                When(IN_REGISTRY, then=-F("pk")), default=F("pk"), output_field=BigIntegerField()
            )
        )[:1]
    )
    saved = Exists(in_study.filter(submission_token=token)) if token else Value(False)
    row = (
        Study.objects.filter(pk=participant.study_id)
        .annotate(saved=saved, first=Subquery(first), person=Subquery(person))
        .values_list("saved", "first", "person", *NUMBERING)
        .get()
    )
    signed = row[2]
    return SubmissionMatch(
        saved_already=bool(row[0]),
        duplicate_of_id=row[1],
        person_id=abs(signed) if signed is not None else None,
        person_in_registry=signed is not None and signed < 0,
        numbering=dict(zip(NUMBERING, row[3:], strict=True)),
    )
