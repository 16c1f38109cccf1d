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

from recruitment.admin.participants import ParticipantAdmin
from recruitment.errors import ReasonRequired
from recruitment.identification import (
    PARTICIPANT_IDENTIFYING_FIELDS,
    PARTICIPANT_NON_IDENTIFYING_FIELDS,
    PARTICIPANT_SECRET_FIELDS,
)
from recruitment.intake.withdraw import participant_withdraw_by_link, withdraw_token_make
from recruitment.models import Participant, Status, StatusChange, StatusReason
from recruitment.screening import duplicates
from recruitment.screening import services as screening
from tests.factories import CriterionFactory, StudyFactory, submit

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


@pytest.fixture
def staff_study(study):
    """The role fixtures' users (tests/conftest.py) are members of this study."""
    return study


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
    screening.contact_attempt_record(
        participant=person, by=coordinator, method="phone", outcome="reached", note="Sabrina"
    )
    person = screening.participant_transition(
        participant=person, to=Status.SCREENING, by=coordinator
    )
    person = screening.participant_transition(
        participant=person, to=Status.ELIGIBLE, by=coordinator, reason="Sabrina Quint checked"
    )
    screening.consent_record(
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
def identifying_paths_by_field() -> dict[str, list[str]]:
    """`identifying_paths()` grouped by the participant's field each starts from."""
    groups: dict[str, list[str]] = {}
    for path in identifying_paths():
        groups.setdefault(path.split("__")[0], []).append(path)
    return groups


PATHS_BY_FIELD = identifying_paths_by_field()


@pytest.mark.parametrize("paths", PATHS_BY_FIELD.values(), ids=PATHS_BY_FIELD)
def test_a_monitor_cannot_filter_the_queue_by_identifying_data(client, monitor, target, paths):
    """Each path alone and with every lookup Django registers on its field: refused (400) or
    ignored, never a different count. The paths from one field of a participant are one case:
    setting Sabrina up took longer than a path's requests, and the requests change nothing."""
    client.force_login(monitor)
    total = unfiltered_count(client)
    leaks = []
    for path in paths:
        field = final_field(path)
        for lookup in [None, *every_lookup(path)]:
            key = f"{path}__{lookup}" if lookup else path
            value = lookup_value(lookup or "exact", field)
            response = client.get(reverse(CHANGELIST), {key: value})
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
    fields = admin.site.get_model_admin(Participant).get_search_fields(request)
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
    """Two people alike in every column a monitor sees, unlike in every identifying field."""
    people = [
        submit(
            study,
            first_name=name,
            last_name=name,
            email=f"{name.lower()}@example.net",
            phone=phone,
            preferred_contact=method,
            best_time=best_time,
            date_of_birth=born,
            zip_code=zip_code,
            note=name,
        )
        for name, phone, method, best_time, born, zip_code in [
            ("Aaron", "205-555-0101", "email", "afternoon", dt.date(1970, 1, 1), "35203"),
            ("Zelda", "205-555-0109", "text", "morning", dt.date(1990, 1, 1), "35209"),
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
    # The column's place as the user's queue shows it (0 is the checkbox; the name column
    # comes after the screening number for staff who may see identities).
    o = str(client.get(reverse(CHANGELIST)).context["cl"].list_display.index("last_name"))
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


# =============================================================================================
# Free text a monitor may not read: reasons and notes staff wrote
# =============================================================================================
# Words staff wrote that quote the person; none may reach a monitor's screen or file (no
# character HTML escapes, so "not in the page" means not there).
DECLINE_WORDS = "Her sister Olga Quint says she moved to 14 Elm Road"
INELIGIBLE_WORDS = "Told us about her MS diagnosis at UAB clinic"
NOTE_WORDS = "Spoke to her husband Boris on 205-555-0177"
OVERRIDE_WORDS = "Dr Petrov vouches for the fatigue history of Olga"
EDIT_WORDS = "Olga phoned to spell her name"
SECRET_WORDS = [DECLINE_WORDS, INELIGIBLE_WORDS, NOTE_WORDS, OVERRIDE_WORDS, EDIT_WORDS]
HIDDEN = "reason recorded, hidden"


@pytest.fixture
def reasons(study, coordinator, investigator):
    """Three people whose records hold staff's words about them: a decline, an ineligibility
    and an investigator's override, a contact note and a reasoned contact edit."""
    declined = submit(study, first_name="Olga", email="olga@example.com", phone="")
    screening.contact_attempt_record(
        participant=declined, by=coordinator, method="phone", outcome="reached", note=NOTE_WORDS
    )
    declined = screening.participant_update(
        participant=declined, data={"first_name": "Olgah"}, by=coordinator, reason=EDIT_WORDS
    )
    declined = screening.participant_transition(
        participant=declined,
        to=Status.DECLINED,
        by=coordinator,
        reason=DECLINE_WORDS,
        reason_code=StatusReason.OTHER,
    )
    ineligible = submit(study, first_name="Ivy", email="ivy@example.com", phone="")
    ineligible = screening.participant_transition(
        participant=ineligible, to=Status.SCREENING, by=coordinator
    )
    ineligible = screening.participant_transition(
        participant=ineligible,
        to=Status.INELIGIBLE,
        by=coordinator,
        reason=INELIGIBLE_WORDS,
        reason_code=StatusReason.FAILS_CRITERION,
        reason_criterion="fatigue",
    )
    overridden = submit(
        study, first_name="Ona", email="ona@example.com", phone="", answers={"fatigue": "no"}
    )
    screening.eligibility_override_record(
        participant=overridden, reasons={"fatigue": OVERRIDE_WORDS}, by=investigator
    )
    return {"declined": declined, "ineligible": ineligible, "overridden": overridden}


def page_text(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def staff_pages(study, reasons) -> list[str]:
    urls = [
        reverse("staff:dashboard"),
        reverse("staff:screening_log", args=[study.slug]),
        reverse("staff:fhir_bundle", args=[study.slug]),
        reverse(CHANGELIST),
    ]
    for person in reasons.values():
        urls.append(reverse("admin:recruitment_participant_change", args=[person.pk]))
        urls.append(reverse("admin:recruitment_participant_history", args=[person.pk]))
    return urls


def test_a_monitor_reads_no_reason_or_note_staff_wrote_anywhere(client, monitor, study, reasons):
    client.force_login(monitor)
    for url in staff_pages(study, reasons):
        text = page_text(client, url)
        for words in SECRET_WORDS:
            assert words not in text, url


def test_a_monitor_sees_that_a_reason_or_note_was_recorded(client, monitor, reasons):
    client.force_login(monitor)
    declined = reasons["declined"]
    page = page_text(client, reverse("admin:recruitment_participant_change", args=[declined.pk]))
    assert "Other — reason recorded, hidden" in page
    assert "note recorded, hidden" in page
    history = page_text(
        client, reverse("admin:recruitment_participant_history", args=[declined.pk])
    )
    assert history.count(HIDDEN) >= 3  # the status change, its history row, the edit
    ineligible = reasons["ineligible"]
    page = page_text(client, reverse("admin:recruitment_participant_change", args=[ineligible.pk]))
    assert "Fails a criterion: fatigue — reason recorded, hidden" in page


def test_staff_who_may_see_identities_read_the_words(client, coordinator, study, reasons):
    client.force_login(coordinator)
    declined = reasons["declined"]
    page = page_text(client, reverse("admin:recruitment_participant_change", args=[declined.pk]))
    assert DECLINE_WORDS in page and NOTE_WORDS in page
    history = page_text(
        client, reverse("admin:recruitment_participant_history", args=[declined.pk])
    )
    assert DECLINE_WORDS in history and EDIT_WORDS in history
    overridden = reasons["overridden"]
    history = page_text(
        client, reverse("admin:recruitment_participant_history", args=[overridden.pk])
    )
    assert OVERRIDE_WORDS in history
    log = page_text(client, reverse("staff:screening_log", args=[study.slug]))
    assert DECLINE_WORDS in log and INELIGIBLE_WORDS in log


def test_a_monitor_s_screening_log_gives_reasons_as_codes(client, monitor, study, reasons):
    client.force_login(monitor)
    log = page_text(client, reverse("staff:screening_log", args=[study.slug]))
    assert "Declined: Other — reason recorded, hidden" in log
    assert "Fails a criterion: fatigue — reason recorded, hidden" in log


# ---------------------------------------------------------------------------------------------
# The status service takes a reason code
# ---------------------------------------------------------------------------------------------
def test_a_decline_can_be_coded_without_words(study, coordinator):
    person = submit(study)
    person = screening.participant_transition(
        participant=person,
        to=Status.DECLINED,
        by=coordinator,
        reason_code=StatusReason.NOT_REACHED,
    )
    change = person.status_changes.get(to_status=Status.DECLINED)
    assert (change.reason_code, change.reason, change.reason_criterion) == ("not_reached", "", "")


def test_ineligibility_names_the_criterion_failed(study, coordinator):
    person = screening.participant_transition(
        participant=submit(study), to=Status.SCREENING, by=coordinator
    )
    person = screening.participant_transition(
        participant=person,
        to=Status.INELIGIBLE,
        by=coordinator,
        reason_code=StatusReason.FAILS_CRITERION,
        reason_criterion="fatigue",
    )
    change = person.status_changes.get(to_status=Status.INELIGIBLE)
    assert (change.reason_code, change.reason_criterion) == ("fails_criterion", "fatigue")
    assert change.reason_code_display == "Fails a criterion: fatigue"


@pytest.mark.parametrize(
    ("to", "code", "criterion", "words", "message"),
    [
        (Status.DECLINED, StatusReason.OTHER, "", "", screening.REASON_OTHER_NEEDS_TEXT),
        (Status.DECLINED, "", "", "", screening.REASON_NEEDED),
        (Status.DECLINED, StatusReason.FAILS_CRITERION, "fatigue", "", None),
        (Status.DECLINED, "made_up", "", "", screening.REASON_CODE_NOT_FOR_STATUS),
        (Status.SCREENING, StatusReason.NOT_REACHED, "", "", screening.REASON_CODE_NOT_FOR_STATUS),
        (Status.INELIGIBLE, StatusReason.NOT_REACHED, "", "", screening.REASON_CODE_NOT_FOR_STATUS),
        (Status.INELIGIBLE, StatusReason.FAILS_CRITERION, "", "", None),
        (Status.INELIGIBLE, StatusReason.FAILS_CRITERION, "no-such", "", None),
    ],
)
def test_a_reason_code_that_does_not_fit_is_refused_and_nothing_is_written(
    study, coordinator, to, code, criterion, words, message
):
    person = submit(study)
    if to == Status.INELIGIBLE:
        person = screening.participant_transition(
            participant=person, to=Status.SCREENING, by=coordinator
        )
    before = (StatusChange.objects.count(), Participant.history.count())
    with pytest.raises(ReasonRequired) as refused:
        screening.participant_transition(
            participant=person,
            to=to,
            by=coordinator,
            reason=words,
            reason_code=code,
            reason_criterion=criterion,
        )
    if message is not None:
        head = str(message).split("{")[0]
        assert head in str(refused.value)
    assert (StatusChange.objects.count(), Participant.history.count()) == before
    assert Participant.objects.get(pk=person.pk).status == person.status


@pytest.mark.parametrize(
    ("words", "code"),
    [
        ("not reached", "not_reached"),
        ("Not reached ", "not_reached"),
        ("no longer interested", "not_interested"),
        ("Moved to Ohio", "other"),
    ],
)
def test_callers_that_give_only_words_get_the_code_they_name(study, coordinator, words, code):
    person = screening.participant_transition(
        participant=submit(study), to=Status.DECLINED, by=coordinator, reason=words
    )
    assert person.status_changes.get().reason_code == code


def test_a_confirmed_duplicate_and_a_withdrawal_by_link_are_coded(study, coordinator):
    first = submit(study, email="twin@example.com", phone="")
    second = submit(study, email="twin@example.com", phone="", first_name="Twin")
    second = duplicates.duplicate_confirm(participant=second, by=coordinator)
    assert second.status_changes.get(to_status=Status.DECLINED).reason_code == "duplicate"
    token = withdraw_token_make(participant=first)
    participant_withdraw_by_link(token=token)
    change = StatusChange.objects.get(participant=first, to_status=Status.DECLINED)
    assert change.reason_code == "withdrew_by_link"


# ---------------------------------------------------------------------------------------------
# The admin's forms offer the codes
# ---------------------------------------------------------------------------------------------
def status_url(person) -> str:
    return reverse("admin:recruitment_participant_status", args=[person.pk])


def test_the_status_page_offers_the_codes_and_the_study_s_criteria(client, coordinator, study):
    person = screening.participant_transition(
        participant=submit(study), to=Status.SCREENING, by=coordinator
    )
    client.force_login(coordinator)
    page = page_text(client, status_url(person))
    assert 'value="not_reached"' in page
    assert 'value="fails_criterion:fatigue"' in page
    assert 'value="other"' in page

    response = client.post(
        status_url(person), {"to": Status.INELIGIBLE, "reason_code": "fails_criterion:fatigue"}
    )

    assert response.status_code == 302
    change = StatusChange.objects.get(participant=person, to_status=Status.INELIGIBLE)
    assert (change.reason_code, change.reason_criterion, change.reason) == (
        "fails_criterion",
        "fatigue",
        "",
    )


def test_the_status_page_asks_for_words_with_other(client, coordinator, study):
    person = submit(study)
    client.force_login(coordinator)

    response = client.post(status_url(person), {"to": Status.DECLINED, "reason_code": "other"})

    assert response.status_code == 200
    assert "Describe the reason" in response.content.decode()
    assert not StatusChange.objects.filter(participant=person).exists()


def test_the_bulk_decline_takes_a_reason_code(client, coordinator, study):
    people = [submit(study, email=f"p{n}@example.com", phone="") for n in range(2)]
    client.force_login(coordinator)

    response = client.post(
        reverse(CHANGELIST),
        {
            "action": "close_as_declined",
            "_selected_action": [p.pk for p in people],
            "reason_code": "not_interested",
        },
    )

    assert response.status_code == 302
    codes = StatusChange.objects.filter(participant__in=people).values_list(
        "reason_code", flat=True
    )
    assert list(codes) == ["not_interested", "not_interested"]


# ---------------------------------------------------------------------------------------------
# CONSORT counts by code
# ---------------------------------------------------------------------------------------------
def test_the_consort_box_counts_declines_by_code_never_by_words(study, coordinator):
    from recruitment.reports.consort import consort_counts

    for words, code in [
        ("", StatusReason.NOT_REACHED),
        ("not reached", ""),
        (DECLINE_WORDS, StatusReason.OTHER),
        ("Moved to Ohio", ""),
        ("", StatusReason.NOT_INTERESTED),
    ]:
        screening.participant_transition(
            participant=submit(study, email=f"{len(words)}{code}@example.com", phone=""),
            to=Status.DECLINED,
            by=coordinator,
            reason=words,
            reason_code=code,
        )

    consort = consort_counts(study=study)

    assert {item.label: item.count for item in consort.declined_by_reason} == {
        "Not reached": 2,
        "Other": 2,
        "No longer interested": 1,
    }
    assert consort.adds_up


# ---------------------------------------------------------------------------------------------
# The data migration
# ---------------------------------------------------------------------------------------------
def test_the_migration_codes_the_reasons_written_before_the_codes(study, coordinator):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("recruitment.migrations.0009_status_change_reason_code")
    written = {}
    for to, words in [
        (Status.DECLINED, "Not reached "),
        (Status.DECLINED, "no longer interested"),
        (Status.DECLINED, "duplicate"),
        (Status.DECLINED, "withdrew interest (patient link)"),
        (Status.DECLINED, "Moved to Ohio"),
        (Status.INELIGIBLE, "not reached"),
        (Status.INELIGIBLE, "Has MS"),
    ]:
        person = submit(study, email=f"{len(written)}@example.com", phone="")
        if to == Status.INELIGIBLE:
            person = screening.participant_transition(
                participant=person, to=Status.SCREENING, by=coordinator
            )
        person = screening.participant_transition(
            participant=person, to=to, by=coordinator, reason=words
        )
        written[(to, words)] = person.status_changes.get(to_status=to).pk
    StatusChange.objects.update(reason_code="", reason_criterion="")

    migration.reasons_coded(apps, None)

    codes = dict(StatusChange.objects.values_list("pk", "reason_code"))
    assert {key: codes[pk] for key, pk in written.items()} == {
        (Status.DECLINED, "Not reached "): "not_reached",
        (Status.DECLINED, "no longer interested"): "not_interested",
        (Status.DECLINED, "duplicate"): "duplicate",
        (Status.DECLINED, "withdrew interest (patient link)"): "withdrew_by_link",
        (Status.DECLINED, "Moved to Ohio"): "other",
        (Status.INELIGIBLE, "not reached"): "other",
        (Status.INELIGIBLE, "Has MS"): "other",
    }
    assert set(
        StatusChange.objects.filter(to_status=Status.SCREENING).values_list(
            "reason_code", flat=True
        )
    ) == {""}
