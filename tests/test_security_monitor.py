"""A monitor (no `view_identification`) learns no identity from the queue: no filter, search
or sort order in the query string reads a name, a contact detail, a date of birth, a ZIP code
or free text, directly or through a related record. Every case below is generated from the
field lists in `recruitment.identification`, so a new identifying field is tested the day it
is classified, and a field nobody classified fails the first test."""

import datetime as dt

import pytest
from django.db import models
from django.urls import reverse
from django.utils import timezone

from recruitment import roles, services
from recruitment.admin import ParticipantAdmin
from recruitment.identification import (
    PARTICIPANT_IDENTIFYING_FIELDS,
    PARTICIPANT_NON_IDENTIFYING_FIELDS,
    PARTICIPANT_SECRET_FIELDS,
)
from recruitment.models import Participant, Status
from tests.factories import CriterionFactory, StaffFactory, StudyFactory, submit

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:recruitment_participant_changelist"
# The related models' fields a filter could read personal data or free text from.
TEXT_AND_DATES = (models.CharField, models.TextField, models.DateField, models.JSONField)
# Paths that reach a participant's identity through relations a monitor may otherwise use.
ROUNDABOUT_PATHS = [
    "study__participants__first_name",
    "slot__participant__first_name",
    "duplicate_of__duplicate_of__email",
    "duplicate_of__answers__value",
    "duplicate_of__status_changes__reason",
]
# A value that a date transform (`__year`, `__month`...) of the target's date of birth equals.
DATE_PARTS = {"year": "1980", "iso_year": "1980", "month": "4", "day": "28", "quarter": "2"}


def identifying_paths() -> list[str]:
    """Each identifying field of a participant, each text or date field of the related records
    that may quote one, and the same fields of the other participant matched as a duplicate."""
    paths = []
    for name in sorted(PARTICIPANT_IDENTIFYING_FIELDS):
        field = Participant._meta.get_field(name)
        if not field.is_relation:
            paths.append(name)
            continue
        related = field.related_model
        for other in related._meta.concrete_fields:
            if related is Participant:
                if other.name in PARTICIPANT_IDENTIFYING_FIELDS:
                    paths.append(f"{name}__{other.name}")
            elif isinstance(other, TEXT_AND_DATES) and not other.is_relation:
                paths.append(f"{name}__{other.name}")
    for name in sorted(PARTICIPANT_IDENTIFYING_FIELDS):
        field = Participant._meta.get_field(name)
        if not field.is_relation:
            paths.append(f"duplicate_of__{name}")
    return paths + ROUNDABOUT_PATHS


def final_field(path: str):
    model, field = Participant, None
    for part in path.split("__"):
        field = model._meta.get_field(part)
        if field.is_relation:
            model = field.related_model
    return field


def lookup_value(lookup: str, field) -> str:
    """A value that would pick out the target participant (or some rows) if the filter ran."""
    if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
        if lookup in DATE_PARTS:
            return DATE_PARTS[lookup]
        if lookup in ("week", "week_day", "iso_week_day"):
            return "2"
        whole = "1980-04-28"
        return f"{whole},{whole}" if lookup == "range" else whole
    return {
        "isnull": "True",
        "range": "S,Sz",
        "regex": "^S",
        "iregex": "^s",
        "in": "Sabrina,sabrina.quint@example.com",
        "has_keys": "a,b",
        "has_any_keys": "a,b",
    }.get(lookup, "Sab" if "start" in lookup or "contain" in lookup else "Sabrina")


def every_lookup(path: str) -> list[str]:
    return sorted(final_field(path).get_lookups())


# ---------------------------------------------------------------------------------------------
# Fixtures: one participant to find, two others, all the related records a filter could read
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def study(db):
    study = StudyFactory()
    CriterionFactory(study=study, code="fatigue")
    return study


def member(username: str, role: str, study):
    """A staff user in a role, without a password: the tests log in with `force_login`, and
    hashing one costs most of a test's setup."""
    user = StaffFactory(username=username, password=None)
    user.groups.add(services.roles_ensure()[role])
    study.members.add(user)
    return user


@pytest.fixture
def coordinator(study):
    return member("coord", roles.COORDINATOR, study)


@pytest.fixture
def monitor(study):
    return member("monitor", roles.MONITOR, study)


@pytest.fixture
def target(study, coordinator):
    return sabrina_quint(study, coordinator)


def sabrina_quint(study, coordinator) -> Participant:
    """Sabrina Quint, with an answer, a verdict, a contact note, a status change with a reason,
    consent, and an earlier record she duplicates."""
    first = submit(
        study,
        first_name="Sabrina",
        last_name="Quint",
        email="sabrina.quint@example.com",
        phone="205-555-0199",
        date_of_birth=dt.date(1980, 4, 28),
        note="Sabrina, call me at 205-555-0199",
        answers={"fatigue": "yes"},
    )
    person = submit(
        study,
        first_name="Sabrina",
        last_name="Quint",
        email="sabrina.quint@example.com",
        phone="205-555-0199",
        date_of_birth=dt.date(1980, 4, 28),
        zip_code="35209",
        note="Sabrina again",
        answers={"fatigue": "yes"},
    )
    assert person.duplicate_of_id == first.pk
    services.contact_attempt_record(
        participant=person, by=coordinator, method="phone", outcome="reached", note="Sabrina"
    )
    person = services.participant_transition(
        participant=person, to=Status.SCREENING, by=coordinator
    )
    person = services.participant_transition(
        participant=person, to=Status.ELIGIBLE, by=coordinator, reason="Sabrina Quint checked"
    )
    services.consent_record(
        participant=person,
        consented_on=timezone.localdate(),
        form_version="ICF v2.0",
        obtained_by=coordinator,
        by=coordinator,
    )
    for n in range(2):
        submit(
            study, first_name=f"Other{n}", last_name="Person", email=f"o{n}@example.org", phone=""
        )
    return person


def result_count(response) -> int:
    return response.context["cl"].result_count


def unfiltered_count(client) -> int:
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    return result_count(response)


# ---------------------------------------------------------------------------------------------
# Every field is classified
# ---------------------------------------------------------------------------------------------
def test_every_field_of_a_participant_is_classified_once():
    names = {field.name for field in Participant._meta.get_fields()}
    lists = [
        PARTICIPANT_IDENTIFYING_FIELDS,
        PARTICIPANT_NON_IDENTIFYING_FIELDS,
        PARTICIPANT_SECRET_FIELDS,
    ]
    classified = set().union(*lists)
    assert names - classified == set(), "classify these in recruitment/identification.py"
    assert classified - names == set(), "these are no fields of Participant"
    assert sum(len(names) for names in lists) == len(classified), "a field is in two lists"


def test_text_and_date_fields_with_personal_data_are_identifying():
    """The contact details, their normalised copies and the patient's note, by name."""
    for name in [
        "first_name",
        "last_name",
        "name_normalised",
        "email",
        "email_normalised",
        "phone",
        "phone_normalised",
        "date_of_birth",
        "zip_code",
        "note",
        "answers",
        "status_changes",
        "contact_attempts",
        "consent",
        "verdicts",
    ]:
        assert name in PARTICIPANT_IDENTIFYING_FIELDS


# ---------------------------------------------------------------------------------------------
# Filters in the query string
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", identifying_paths())
def test_a_monitor_cannot_filter_the_queue_by_identifying_data(client, monitor, target, path):
    """The path alone and with every lookup Django registers on its field: refused (400) or
    ignored, never a different count."""
    client.force_login(monitor)
    total = unfiltered_count(client)
    field = final_field(path)
    leaks = []
    for lookup in [None, *every_lookup(path)]:
        key = f"{path}__{lookup}" if lookup else path
        response = client.get(reverse(CHANGELIST), {key: lookup_value(lookup or "exact", field)})
        if response.status_code == 400:
            continue
        if response.status_code != 200 or result_count(response) != total:
            leaks.append(key)
    assert leaks == []


@pytest.mark.parametrize("name", sorted(PARTICIPANT_SECRET_FIELDS))
def test_nobody_filters_by_a_participant_s_secrets(client, coordinator, monitor, target, name):
    for user in (coordinator, monitor):
        client.force_login(user)
        response = client.get(reverse(CHANGELIST), {f"{name}__startswith": "a"})
        assert response.status_code == 400


def test_a_monitor_cannot_filter_studies_by_their_participants(client, monitor, target):
    client.force_login(monitor)
    url = reverse("admin:recruitment_study_changelist")
    response = client.get(url, {"participants__first_name__startswith": "Sab"})
    assert response.status_code == 400


def test_a_monitor_still_filters_the_queue_by_what_is_not_identifying(
    client, monitor, target, study
):
    client.force_login(monitor)
    assert unfiltered_count(client) == 4
    for params, expected in [
        ({"status__exact": Status.CONSENTED}, 1),
        ({"study": str(study.pk)}, 4),
        ({"duplicate": "pending"}, 1),
        ({"follow_up": "due"}, 0),
        ({"created_at__gte": (timezone.now() - dt.timedelta(days=1)).isoformat()}, 4),
        ({"duplicate_of__isnull": "False"}, 1),
        ({"screening_number": target.screening_number}, 1),
    ]:
        response = client.get(reverse(CHANGELIST), params)
        assert response.status_code == 200, params
        assert result_count(response) == expected, params


def test_a_coordinator_still_filters_and_searches_by_name(client, coordinator, target):
    client.force_login(coordinator)
    response = client.get(reverse(CHANGELIST), {"first_name__startswith": "Sab"})
    assert response.status_code == 200
    assert result_count(response) == 2
    for term in ("Sabrina", "Quint", "sabrina.quint@example.com", "(205) 555-0199"):
        response = client.get(reverse(CHANGELIST), {"q": term})
        assert result_count(response) == 2, term


# ---------------------------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "term",
    ["Sabrina", "Quint", "sabrina.quint@example.com", "2055550199", "205-555-0199", "35209"]
    + ["1980-04-28", "call me", "Sabrina Quint checked"],
)
def test_a_monitor_s_search_reads_no_identifying_data(client, monitor, target, term):
    client.force_login(monitor)
    response = client.get(reverse(CHANGELIST), {"q": term})
    assert response.status_code == 200
    assert result_count(response) == 0


def test_a_monitor_searches_only_fields_that_identify_nobody(rf, monitor):
    from django.contrib import admin

    request = rf.get("/")
    request.user = monitor
    fields = admin.site._registry[Participant].get_search_fields(request)
    assert fields
    for name in fields:
        assert name.lstrip("^=@").split("__")[0] in PARTICIPANT_NON_IDENTIFYING_FIELDS


# ---------------------------------------------------------------------------------------------
# Sort order
# ---------------------------------------------------------------------------------------------
def queue_order(client, o: str) -> list[int]:
    response = client.get(reverse(CHANGELIST), {"o": o})
    assert response.status_code == 200
    return [row.pk for row in response.context["cl"].result_list]


def twins(study) -> list[Participant]:
    """Two people alike in every column a monitor sees, named in opposite orders."""
    people = [
        submit(
            study,
            first_name=name,
            last_name=name,
            email=f"{name.lower()}@example.net",
            phone=phone,
            date_of_birth=born,
            zip_code=zip_code,
            note=name,
        )
        for name, phone, born, zip_code in [
            ("Aaron", "205-555-0101", dt.date(1970, 1, 1), "35203"),
            ("Zelda", "205-555-0109", dt.date(1990, 1, 1), "35209"),
        ]
    ]
    Participant.objects.filter(pk__in=[p.pk for p in people]).update(
        created_at=timezone.now(), duplicate_of=None
    )
    return people


def swap_identities(people: list[Participant]) -> None:
    a, b = (Participant.objects.get(pk=p.pk) for p in people)
    for name in PARTICIPANT_IDENTIFYING_FIELDS:
        field = Participant._meta.get_field(name)
        if field.is_relation:
            continue
        first, second = getattr(a, name), getattr(b, name)
        Participant.objects.filter(pk=a.pk).update(**{name: second})
        Participant.objects.filter(pk=b.pk).update(**{name: first})


def every_order_parameter(columns: int) -> list[str]:
    indexes = range(columns + 2)
    return [str(i) for i in indexes] + [f"-{i}" for i in indexes] + ["1.2", "-3.1", "x"]


@pytest.mark.parametrize(
    "column",
    sorted(
        name
        for name in PARTICIPANT_IDENTIFYING_FIELDS
        if not Participant._meta.get_field(name).is_relation
    ),
)
def test_a_monitor_cannot_sort_by_an_identifying_column(
    client, monitor, study, monkeypatch, column
):
    """Even if one were shown in the queue, `?o=` would not sort a monitor's list by it."""
    monkeypatch.setattr(ParticipantAdmin, "list_display", [*ParticipantAdmin.list_display, column])
    people = twins(study)
    client.force_login(monitor)
    parameters = every_order_parameter(len(ParticipantAdmin.list_display))
    before = {o: queue_order(client, o) for o in parameters}
    swap_identities(people)
    after = {o: queue_order(client, o) for o in parameters}
    assert after == before


def test_a_monitor_s_queue_order_never_depends_on_identities(client, monitor, study):
    people = twins(study)
    client.force_login(monitor)
    parameters = every_order_parameter(len(ParticipantAdmin.list_display))
    before = {o: queue_order(client, o) for o in parameters}
    swap_identities(people)
    assert {o: queue_order(client, o) for o in parameters} == before


def test_a_coordinator_can_still_sort_by_a_shown_name(client, coordinator, study, monkeypatch):
    monkeypatch.setattr(
        ParticipantAdmin, "list_display", [*ParticipantAdmin.list_display, "last_name"]
    )
    people = twins(study)
    client.force_login(coordinator)
    o = str(len(ParticipantAdmin.list_display))  # the last column; 0 is the checkbox
    assert queue_order(client, o) == [people[0].pk, people[1].pk]
    assert queue_order(client, f"-{o}") == [people[1].pk, people[0].pk]


# ---------------------------------------------------------------------------------------------
# Staff pages and exports take no filters
# ---------------------------------------------------------------------------------------------
def test_the_staff_exports_ignore_filters_in_the_query_string(client, monitor, study, target):
    client.force_login(monitor)
    url = reverse("staff:screening_log", args=[study.slug])
    plain = b"".join(client.get(url).streaming_content)
    filtered = b"".join(
        client.get(url, {"first_name__startswith": "Sab", "q": "Sabrina"}).streaming_content
    )
    assert filtered == plain
