"""What a new submission finds before it is written, in one statement: the same form saved
already, the study's possible duplicate, the person it belongs to (whether they are in the
registry, and whether the form gives them other details), and the study's numbering as the
submission's own UPDATE left it."""

import threading
import uuid
from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    ForeignKey,
    Q,
    QuerySet,
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

    The ORM builds the statement (`match_queryset`) once per shape of submission in this
    process, and each submission binds its own values to it (`_Statement`): building it costs
    the worker several times what the database spends answering it."""
    statement = match_statement(participant, token)
    if statement is None:
        row = match_queryset(participant, token).get()
    else:
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, statement.params(participant, token))
            row = cursor.fetchone()
    found = row[2]
    return SubmissionMatch(
        saved_already=bool(row[0]),
        duplicate_of_id=row[1],
        person_id=found // 4 if found is not None else None,
        person_in_registry=found is not None and bool(found & _IN_REGISTRY_BIT),
        person_details_differ=found is not None and not found & _SAME_DETAILS_BIT,
        numbering=dict(zip(NUMBERING, row[3:], strict=True)),
    )


def match_queryset(participant: Participant, token: uuid.UUID | None) -> QuerySet:
    """The lookup as the ORM builds it: one row of `saved`, `first`, `person` (id x 4, plus
    `_IN_REGISTRY_BIT` and `_SAME_DETAILS_BIT`, so each further subquery is not built) and
    the `NUMBERING` columns."""
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
    return (
        Study.objects.filter(pk=participant.study_id)
        .annotate(saved=saved, first=Subquery(first), person=Subquery(person))
        .values_list("saved", "first", "person", *NUMBERING)
    )


# -- The statement, built once per shape ------------------------------------------------------
# The participant's values the lookup binds: the study, the match keys and the details a
# person's record is compared with. Each is either missing (None), empty ("") or given; which
# of them are given decides the statement's shape (a phone adds a condition, an empty detail
# is left out of the comparison, a missing date of birth is `IS NULL`), their values do not.
_BOUND = tuple(dict.fromkeys(("study_id", *MatchKeys.COLUMNS, *REFRESHED_FIELDS)))
_TOKEN = "submission_token"  # noqa: S105 - a field's name
_STATEMENTS_KEPT = 64
_statements: dict[tuple, "_Statement | None"] = {}
_statements_lock = threading.Lock()


@dataclass(frozen=True)
class _Statement:
    """The lookup's SQL for one shape, its parameters, and which of them are the
    submission's own values: (position, name of the value) pairs."""

    sql: str
    template: tuple
    slots: tuple[tuple[int, str], ...]

    def params(self, participant: Participant, token: uuid.UUID | None) -> list:
        params = list(self.template)
        for position, name in self.slots:
            value = token if name == _TOKEN else getattr(participant, name)
            params[position] = _bind(name, value)
        return params


def _bind(name: str, value):
    """`value` as the ORM passes it to the database driver for an exact match on `name`."""
    field = Participant._meta.get_field(name)
    return field.get_db_prep_value(field.get_prep_value(value), connection, prepared=True)


def _present(value) -> str:
    return "none" if value is None else "given" if value else "empty"


def _shape(participant: Participant, token: uuid.UUID | None) -> tuple:
    return (
        connection.alias,
        connection.vendor,
        _present(token),
        *(_present(getattr(participant, name)) for name in _BOUND),
    )


def match_statement(participant: Participant, token: uuid.UUID | None) -> _Statement | None:
    """The statement of this submission's shape, built on first use; None when it cannot be
    bound (the ORM's own statement is then run, built anew)."""
    shape = _shape(participant, token)
    try:
        return _statements[shape]
    except KeyError:
        pass
    statement = _statement_build(participant, token)
    with _statements_lock:
        if len(_statements) >= _STATEMENTS_KEPT:
            _statements.clear()
        _statements[shape] = statement
    return statement


def statements_forget() -> None:
    """Forget every statement built (tests)."""
    with _statements_lock:
        _statements.clear()


def _statement_build(participant: Participant, token: uuid.UUID | None) -> _Statement | None:
    """Build the lookup with the ORM for a stand-in with the same shape as `participant`,
    each given value replaced by a stand-in value of its own, and find where each stand-in
    went among the parameters. None if a stand-in is not found as itself (the ORM folded it
    into something else): such a statement is never reused."""
    stand_in = Participant()
    stand_ins: dict[str, object] = {}
    for number, name in enumerate(_BOUND, start=1):
        value = getattr(participant, name)
        if value:
            value = _stand_in_value(name, number)
            stand_ins[name] = value
        setattr(stand_in, name, value)
    stand_in_token = None
    if token:
        stand_in_token = uuid.UUID(int=0x5EA1ED)
        stand_ins[_TOKEN] = stand_in_token
    sql, params = match_queryset(stand_in, stand_in_token).query.sql_with_params()
    bound = {name: _bind(name, value) for name, value in stand_ins.items()}
    slots = []
    for position, param in enumerate(params):
        names = [name for name, value in bound.items() if _same(value, param)]
        if len(names) > 1:
            return None
        if names:
            slots.append((position, names[0]))
    if {name for _, name in slots} != set(bound):
        return None
    return _Statement(sql=sql, template=tuple(params), slots=tuple(slots))


def _same(value, param) -> bool:
    """The same value of the same type (a stand-in number is never taken for `True`)."""
    return type(value) is type(param) and value == param


def _stand_in_value(name: str, number: int):
    """A value for `name` that no real submission and no other stand-in has."""
    field = Participant._meta.get_field(name)
    if isinstance(field, DateField):
        return date(1, 1, number)
    if isinstance(field, ForeignKey):
        return -1_000_000 - number
    return f"\ue000stand-in-{number}\ue000"
