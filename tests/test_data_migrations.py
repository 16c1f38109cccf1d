"""The data migrations keep every row's meaning, both ways, on rows the app wrote today:
- 0014 and 0015 moved each verdict's copy of its criterion into shared version rows, and back:
  every verdict keeps its criterion's text and rule exactly;
- 0021 copied each participant's latest contact attempt onto the participant;
- 0022 built one person per human from the applications already there (the same email, or
  the same name and date of birth, and confirmed duplicates), never joins two that staff said
  are different people, and loses no row and no history;
- 0041 packed the data of each form still waiting for the worker (a test of its own).

Migrating back and forward costs Django many seconds of rendering model states, so one test
writes the rows each migration needs, migrates back once to the earliest state they need
(before 0014) and forward again, then checks each migration's rows. Each scenario's people
have names and emails of their own, so no migration joins them with another scenario's."""

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from recruitment.models import (
    AnsweredBy,
    CriterionVerdict,
    CriterionVersion,
    EligibilityCriterion,
    Participant,
    Person,
    SentForm,
    Status,
)
from recruitment.screening.duplicates import duplicate_confirm, duplicate_dismiss
from recruitment.screening.retention import participants_erase_expired
from recruitment.screening.services import contact_attempt_record
from recruitment.studies.services import study_criteria_changed
from tests.factories import LDN_ELIGIBLE_ANSWERS, StudyFactory, submit, walk

BEFORE = ("recruitment", "0013_study_call_script")
UNPACKED = ("recruitment", "0040_participant_applied_set_on_insert")


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def head() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def applications_before_people(ldn_study, coordinator) -> dict[str, int]:
    """For 0022: applications to two studies, as they were before people existed."""
    other = StudyFactory()
    made = {
        "ann": submit(ldn_study, email="ann@example.com"),
        # The same email typed differently, in another study: the same person.
        "ann_other_study": submit(
            other, email=" ANN@example.com", phone="205-555-0101", first_name="Annie"
        ),
        # The same name and date of birth, another email: the same person.
        "ann_new_email": submit(
            other, email="ann.lee@work.example.com", phone="", first_name="ANN", last_name="lee"
        ),
        "cara": submit(
            ldn_study, email="cara@example.com", phone="205-555-0177", first_name="Cara"
        ),
        # Only the phone in common, and staff confirmed the duplicate.
        "cara_again": submit(
            ldn_study, email="c.m@example.com", phone="205-555-0177", first_name="Carol"
        ),
        "dan": submit(ldn_study, email="family@example.com", phone="", first_name="Dan"),
        # A family's shared email, and staff dismissed the match: two people.
        "dina": submit(ldn_study, email="family@example.com", phone="", first_name="Dina"),
        "eve": submit(ldn_study, email="eve@example.com", phone="", first_name="Eve"),
    }
    duplicate_confirm(participant=made["cara_again"], by=coordinator)
    duplicate_dismiss(participant=made["dina"], by=coordinator)
    walk(made["eve"], Status.DECLINED, by=coordinator)
    participants_erase_expired(now=timezone.now() + dt.timedelta(days=1000))
    return {name: p.pk for name, p in made.items()}


def verdicts_of_two_criterion_versions(ldn_study) -> tuple[Participant, Participant]:
    """For 0014 and 0015: two applicants judged before and after a change of one criterion."""
    first = submit(
        ldn_study,
        answers=LDN_ELIGIBLE_ANSWERS,
        email="vera@example.com",
        first_name="Vera",
        last_name="Stone",
        phone="205-555-0141",
    )
    liver = EligibilityCriterion.objects.get(study=ldn_study, code="liver")
    liver.question = "Has a doctor ever said your liver is sick?"
    liver.save()
    study_criteria_changed(study=ldn_study, criteria=[liver])
    second = submit(
        ldn_study,
        answers=LDN_ELIGIBLE_ANSWERS,
        email="victor@example.com",
        first_name="Victor",
        last_name="Hale",
        phone="205-555-0142",
    )
    return first, second


def applicants_with_and_without_attempts(ldn_study, coordinator):
    """For 0021: one applicant called twice (the later call entered first), one never."""
    reached = submit(
        ldn_study,
        answers=LDN_ELIGIBLE_ANSWERS,
        email="rita@example.com",
        first_name="Rita",
        last_name="Moss",
        phone="205-555-0151",
    )
    untouched = submit(
        ldn_study,
        answers=LDN_ELIGIBLE_ANSWERS,
        email="uma@example.com",
        first_name="Uma",
        last_name="Reyes",
        phone="205-555-0152",
    )
    now = timezone.now()
    for outcome, at in (("call_back", now), ("reached", now - dt.timedelta(days=2))):
        contact_attempt_record(
            participant=reached, by=coordinator, method="phone", outcome=outcome, at=at
        )
    return reached, untouched, now


def judged_criteria(participants=None) -> dict[tuple[int, int], dict]:
    """Each verdict's criterion as judged, of these participants' (everyone's by default)."""
    verdicts = CriterionVerdict.objects.select_related("criterion_version")
    if participants is not None:
        verdicts = verdicts.filter(participant__in=participants)
    return {(v.participant_id, v.criterion_id): v.criterion_snapshot for v in verdicts}


@pytest.mark.django_db(transaction=True)
def test_the_data_migrations_keep_every_rows_meaning_back_and_forth(ldn_study, coordinator):
    # The applications first: the retention run they need erases only their own.
    applications = applications_before_people(ldn_study, coordinator)
    first, second = verdicts_of_two_criterion_versions(ldn_study)
    reached, untouched, attempted_at = applicants_with_and_without_attempts(ldn_study, coordinator)
    others = [first.pk, second.pk, reached.pk, untouched.pk]
    every_participant = sorted([*applications.values(), *others])
    assert sorted(Participant.objects.values_list("pk", flat=True)) == every_participant

    judged_everyone = judged_criteria()
    pointed_at = CriterionVersion.objects.filter(verdicts__isnull=False).distinct()
    assert len({str(s) for s in judged_everyone.values()}) == pointed_at.count()
    judged = judged_criteria([first.pk, second.pk])
    assert len(judged) == 26  # 13 each: the staff checks not entered are not stored
    history = Participant.history.model
    versions_before = {pk: history.objects.filter(id=pk).count() for pk in applications.values()}

    try:
        executor = migrate([BEFORE])
        old_apps = executor.loader.project_state(BEFORE).apps
        # 0014 and 0015 backward: each verdict holds its own copy, the same text and rule.
        old_verdict = old_apps.get_model("recruitment", "CriterionVerdict")
        copies = {
            (participant, criterion): snapshot
            for participant, criterion, snapshot in old_verdict.objects.values_list(
                "participant_id", "criterion_id", "criterion_snapshot"
            )
        }
        assert copies == judged_everyone
        # 0021 and 0022 backward: no last attempt on the participant, and no people.
        old_participant = old_apps.get_model("recruitment", "Participant")
        old_fields = {f.name for f in old_participant._meta.get_fields()}
        assert not {"last_attempt_at", "last_attempt_outcome", "person"} & old_fields
        assert "person" not in {m._meta.model_name for m in old_apps.get_models()}
    finally:
        migrate(head())

    # 0014 and 0015 forward: one version row per distinct (criterion, text and rule), every
    # verdict at its own.
    from recruitment.evaluation import criterion_versions_forget

    criterion_versions_forget()
    assert judged_criteria() == judged_everyone
    # Rebuilt from the verdicts: the patient's criteria, and liver's second text.
    patients = ldn_study.criteria.active().filter(answered_by=AnsweredBy.PATIENT)
    assert CriterionVersion.objects.count() == patients.count() + 1
    liver_versions = {
        v.criterion_snapshot["question"]
        for v in CriterionVerdict.objects.filter(criterion__code="liver").select_related(
            "criterion_version"
        )
    }
    assert liver_versions == {
        "Do you have liver disease or hepatitis?",
        "Has a doctor ever said your liver is sick?",
    }
    assert first.verdicts.count() == second.verdicts.count() == 13

    # 0021 forward: each participant's latest attempt (latest time, not latest entered).
    reached.refresh_from_db()
    untouched.refresh_from_db()
    assert (reached.last_attempt_at, reached.last_attempt_outcome) == (attempted_at, "call_back")
    assert (untouched.last_attempt_at, untouched.last_attempt_outcome) == (None, "")

    # 0022 forward: people built from the applications.
    person = {name: Participant.objects.get(pk=pk).person_id for name, pk in applications.items()}
    assert person["ann"] == person["ann_other_study"] == person["ann_new_email"]
    assert person["cara"] == person["cara_again"]
    assert person["dan"] != person["dina"]
    assert len(set(person.values())) == 5
    # No application joined another scenario's person, and no person is left without one.
    assert set(
        Participant.objects.filter(person__in=person.values()).values_list("pk", flat=True)
    ) == set(applications.values())
    every_person = set(Participant.objects.values_list("person_id", flat=True))
    assert len(every_person) == Person.objects.count() == 5 + len(others)
    assert sorted(Participant.objects.values_list("pk", flat=True)) == every_participant

    # Each person has the details of their latest application not erased.
    ann = Person.objects.get(pk=person["ann"])
    assert (ann.email, ann.first_name, ann.erased_at) == ("ann.lee@work.example.com", "ANN", None)
    cara = Person.objects.get(pk=person["cara"])
    assert cara.email == "cara@example.com"  # her duplicate was erased after it was closed
    eve = Person.objects.get(pk=person["eve"])
    assert eve.erased_at is not None
    assert (eve.first_name, eve.email, eve.date_of_birth) == ("", "", None)
    assert not Person.objects.in_registry().exists()

    # No history lost: each application keeps every version and gains one naming its person.
    for name, pk in applications.items():
        versions = history.objects.filter(id=pk)
        assert versions.count() == versions_before[pk] + 1
        linked = versions.get(history_change_reason__startswith="Linked to its person")
        assert (linked.person_id, linked.history_type) == (person[name], "~")
    built = Person.history.filter(history_type="+")
    assert sorted(built.values_list("id", flat=True)) == sorted(every_person)


@pytest.mark.django_db(transaction=True)
def test_a_form_waiting_for_the_worker_is_packed_by_the_migration_and_unpacked_back(ldn_study):
    """0041: a form sent before the upgrade and not yet taken in keeps what the patient sent,
    and one taken in stays empty."""
    sent = {"contact": {"email": "ann@example.com"}, "answers": {"liver": "no"}, "site_url": "/"}
    executor = migrate([UNPACKED])
    try:
        unpacked = executor.loader.project_state(UNPACKED).apps.get_model("recruitment", "SentForm")
        fields = {"study_id": ldn_study.pk, "language": "en", "preferred_contact": "email"}
        waiting = unpacked.objects.create(
            **fields,
            screening_seq=1,
            screening_number="LDN-S-0001",
            data=sent,
            submission_token=uuid.uuid4(),
        )
        taken_in = unpacked.objects.create(
            **fields,
            screening_seq=2,
            screening_number="LDN-S-0002",
            data={},
            submission_token=uuid.uuid4(),
            taken_in_at=timezone.now(),
        )
    finally:
        migrate(head())

    assert SentForm.objects.get(pk=waiting.pk).data == sent
    assert SentForm.objects.get(pk=taken_in.pk).packed == b""

    executor = migrate([UNPACKED])
    try:
        unpacked = executor.loader.project_state(UNPACKED).apps.get_model("recruitment", "SentForm")
        assert unpacked.objects.get(pk=waiting.pk).data == sent
    finally:
        migrate(head())
