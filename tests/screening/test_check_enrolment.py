"""`manage.py check_enrolment`: the statuses and the slot rows agree, or the command says where
they do not and exits non-zero.

Each corruption is made the way a hand-written UPDATE or a half-done restore would make it:
queryset `.update()` and `.delete()` that skip the services, and, for what the database's own
constraints forbid, with those constraints switched off for the test.
"""

import os
import subprocess
import sys
from contextlib import contextmanager
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from recruitment.management.commands.check_enrolment import Holder, Slot, StudyFacts
from recruitment.management.commands.check_enrolment import study_problems as problems_of
from recruitment.models import EnrolmentSlot, Participant, Status, Study
from tests.factories import StaffFactory, StudyFactory, applicant, participants_bulk, walk

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def check(*args) -> tuple[str, str | None]:
    """Run the command: its output, and its error message when it fails (exit code 1)."""
    out = StringIO()
    try:
        call_command("check_enrolment", *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), str(exc)
    return out.getvalue(), None


def study_with_enrolments(*, target=20, withdrawal_frees_slot=False) -> Study:
    """2 enrolled, 1 completed, 1 withdrawn and 2 eligible participants, in that order
    (screening numbers PREFIX-S-0001 to PREFIX-S-0006)."""
    study = StudyFactory(target_enrolment=target, withdrawal_frees_slot=withdrawal_frees_slot)
    participants_bulk(study, 2, status=Status.ENROLLED)
    participants_bulk(study, 1, status=Status.COMPLETED)
    participants_bulk(study, 1, status=Status.WITHDRAWN)
    participants_bulk(study, 2, status=Status.ELIGIBLE)
    study.refresh_from_db()
    return study


def number(study: Study, seq: int) -> str:
    return study.screening_number(seq)


def participants(study: Study, *seqs: int):
    return Participant.objects.filter(study=study, screening_seq__in=seqs)


def free_slot(study: Study) -> EnrolmentSlot:
    return EnrolmentSlot.objects.free().filter(study=study).order_by("number").first()


@contextmanager
def constraints_off():
    """Let the test write rows the database's constraints refuse. SQLite ignores its CHECK
    constraints for a while (it cannot drop a UNIQUE one); PostgreSQL drops the participant
    table's checks and unique constraints (and the unique index the participant ID's partial
    constraint is) inside the test's transaction, whose rollback brings them back."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA ignore_check_constraints = ON")
            try:
                yield
            finally:
                cursor.execute("PRAGMA ignore_check_constraints = OFF")
            return
        # PostgreSQL: every CHECK, and the UNIQUE ones on the slot and the participant ID.
        # Deferred foreign-key checks still pending would block ALTER TABLE: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        table = Participant._meta.db_table
        for name, info in connection.introspection.get_constraints(cursor, table).items():
            if info["check"] or (
                info["unique"]
                and not info["primary_key"]
                and info["columns"] in (["slot_id"], ["study_id", "participant_id"])
            ):
                if info["index"]:  # a partial unique index (the participant ID's)
                    cursor.execute(f'DROP INDEX "{name}"')
                else:
                    cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    yield


def skip_on_sqlite():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite cannot drop a UNIQUE constraint; PostgreSQL runs this (CI runs both)")


# -- A clean study ----------------------------------------------------------------------------
def test_a_study_worked_through_the_services_passes(ldn_study):
    coordinator = StaffFactory()
    for to in (Status.ENROLLED, Status.COMPLETED, Status.WITHDRAWN, Status.ELIGIBLE):
        walk(applicant(ldn_study), to, by=coordinator)
    walk(applicant(ldn_study), Status.DECLINED, by=coordinator)

    out, error = check()

    assert error is None
    # LDN: a withdrawal keeps its slot, so enrolled + completed + withdrawn = 3 taken.
    assert out == "ldn-mecfs: 3 of 20 enrolled, 17 free: OK\n"


def test_a_withdrawal_that_frees_its_slot_passes():
    study = study_with_enrolments(withdrawal_frees_slot=True)

    out, error = check("--study", study.slug)

    assert error is None
    assert out == f"{study.slug}: 3 of 20 enrolled, 17 free: OK\n"


def test_a_study_without_participants_passes_with_every_slot_free():
    study = StudyFactory(target_enrolment=5)

    assert check() == (f"{study.slug}: 0 of 5 enrolled, 5 free: OK\n", None)


def test_every_study_gets_a_line_and_the_study_option_checks_one():
    first = study_with_enrolments(target=10)
    second = StudyFactory(target_enrolment=4)
    EnrolmentSlot.objects.filter(study=second).order_by("number").first().delete()

    out, error = check()

    assert f"{first.slug}: 4 of 10 enrolled, 6 free: OK" in out
    assert f"{second.slug}: 0 of 4 enrolled, 3 free: 1 problem" in out
    assert error == "Enrolment check failed: 1 problem in 1 study."
    assert check("--study", first.slug) == (f"{first.slug}: 4 of 10 enrolled, 6 free: OK\n", None)


def test_an_unknown_study_is_refused():
    with pytest.raises(CommandError, match="No study with the slug 'no-such-study'."):
        call_command("check_enrolment", "--study", "no-such-study", stdout=StringIO())


def test_no_studies_is_not_a_failure():
    assert check() == ("No studies.\n", None)


# -- Corruptions, each reported with the screening numbers involved ---------------------------
def release_withdrawn_slot(study):
    participants(study, 4).update(slot=None)
    return [
        f"{number(study, 4)} is withdrawn and holds no slot, but withdrawals do not free a slot "
        "in this study (was the setting changed after the withdrawal?).",
        "The statuses take 4 slots (2 enrolled, 1 completed, 1 withdrawn) but 3 of the "
        "study's slot rows are held.",
    ]


def delete_a_free_slot_row(study):
    free_slot(study).delete()
    return ["19 slot rows for a target of 20: there must be exactly 20."]


def add_an_extra_slot_row(study):
    EnrolmentSlot.objects.create(study=study, number=21)
    return ["21 slot rows for a target of 20: there must be exactly 20."]


def lower_the_target_below_the_enrolled(study):
    Study.objects.filter(pk=study.pk).update(target_enrolment=3)
    return [
        "20 slot rows for a target of 3: there must be exactly 3.",
        "Over the target: 4 slots taken for a target of 3.",
    ]


def enrol_past_the_target_through_an_extra_slot(study):
    Study.objects.filter(pk=study.pk).update(target_enrolment=4)
    EnrolmentSlot.objects.filter(study=study, number__gt=5).delete()
    participants_bulk(study, 1, status=Status.ENROLLED)
    return [
        "5 slot rows for a target of 4: there must be exactly 4.",
        "Over the target: 5 slots taken for a target of 4.",
    ]


def hold_a_slot_of_another_study(study):
    other = StudyFactory(target_enrolment=2)
    participants(study, 1).update(slot=free_slot(other))
    return [
        f"{number(study, 1)} holds a slot of another study.",
        "The statuses take 4 slots (2 enrolled, 1 completed, 1 withdrawn) but 3 of the "
        "study's slot rows are held.",
        f"Slot 1 is held by {number(study, 1)} of another study.",  # the other study's line
    ]


def set_the_participant_counter_back(study):
    Study.objects.filter(pk=study.pk).update(last_participant_seq=2)
    return [
        f"Participant ID {study.participant_id(3)} is past the study's counter (2): the next "
        "enrolment would fail.",
        f"Participant ID {study.participant_id(4)} is past the study's counter (2): the next "
        "enrolment would fail.",
    ]


def take_an_enrolled_participant_s_slot(study):
    with constraints_off():
        participants(study, 1).update(slot=None)
    return [
        f"{number(study, 1)} is enrolled but holds no slot.",
        "The statuses take 4 slots (2 enrolled, 1 completed, 1 withdrawn) but 3 of the "
        "study's slot rows are held.",
    ]


def give_an_eligible_participant_a_slot(study):
    with constraints_off():
        participants(study, 5).update(slot=free_slot(study))
    return [
        f"{number(study, 5)} is eligible but holds a slot.",
        "The statuses take 4 slots (2 enrolled, 1 completed, 1 withdrawn) but 5 of the "
        "study's slot rows are held.",
    ]


def drop_a_participant_id(study):
    with constraints_off():
        participants(study, 2).update(participant_id=None)
    return [f"{number(study, 2)} is enrolled but has no participant ID."]


def give_an_eligible_participant_an_id(study):
    with constraints_off():
        participants(study, 6).update(participant_id=study.participant_id(5))
    return [
        f"{number(study, 6)} is eligible but has participant ID {study.participant_id(5)}.",
        f"Participant ID {study.participant_id(5)} is past the study's counter (4): the next "
        "enrolment would fail.",
    ]


def set_the_status_to_enrolled_without_a_slot(study):
    with constraints_off():
        participants(study, 5).update(status=Status.ENROLLED)
    return [
        f"{number(study, 5)} is enrolled but holds no slot.",
        f"{number(study, 5)} is enrolled but has no participant ID.",
        "The statuses take 5 slots (3 enrolled, 1 completed, 1 withdrawn) but 4 of the "
        "study's slot rows are held.",
    ]


@pytest.mark.parametrize(
    "corrupt",
    [
        release_withdrawn_slot,
        delete_a_free_slot_row,
        add_an_extra_slot_row,
        lower_the_target_below_the_enrolled,
        enrol_past_the_target_through_an_extra_slot,
        hold_a_slot_of_another_study,
        set_the_participant_counter_back,
        take_an_enrolled_participant_s_slot,
        give_an_eligible_participant_a_slot,
        drop_a_participant_id,
        give_an_eligible_participant_an_id,
        set_the_status_to_enrolled_without_a_slot,
    ],
)
def test_each_corruption_is_reported_and_fails_the_check(corrupt):
    study = study_with_enrolments()
    assert check()[1] is None

    expected = corrupt(study)
    out, error = check()

    assert error is not None
    assert error.startswith("Enrolment check failed: ")
    reported = [line.removeprefix("  - ") for line in out.splitlines() if line.startswith("  - ")]
    assert sorted(reported) == sorted(expected)
    (line,) = [line for line in out.splitlines() if line.startswith(f"{study.slug}: ")]
    assert line.endswith("problem" if len(expected) == 1 else "problems")


def test_a_withdrawn_participant_still_holding_a_slot_fails_when_withdrawals_free_slots():
    study = study_with_enrolments(withdrawal_frees_slot=True)
    participants(study, 4).update(slot=free_slot(study))

    out, error = check()

    assert f"{study.slug}: 3 of 20 enrolled, 16 free: 2 problems" in out
    assert (
        f"  - {number(study, 4)} is withdrawn and still holds a slot, but withdrawals free a "
        "slot in this study (was the setting changed after the withdrawal?)."
    ) in out
    assert error == "Enrolment check failed: 2 problems in 1 study."


def test_a_slot_held_twice_is_reported():
    skip_on_sqlite()
    study = study_with_enrolments()
    first = participants(study, 1).get()
    with constraints_off():
        participants(study, 2).update(slot=first.slot_id)

    out, error = check()

    slot = EnrolmentSlot.objects.get(pk=first.slot_id).number
    assert f"  - Slot {slot} is held by {number(study, 1)} and {number(study, 2)}." in out
    assert error is not None


def test_a_participant_id_given_twice_is_reported():
    skip_on_sqlite()
    study = study_with_enrolments()
    first = participants(study, 1).get()
    with constraints_off():
        participants(study, 2).update(participant_id=first.participant_id)

    out, error = check()

    assert (
        f"  - Participant ID {first.participant_id} is given to {number(study, 1)} and "
        f"{number(study, 2)}."
    ) in out
    assert error is not None


def test_the_rules_find_double_use_even_where_the_database_could_not_store_it():
    """The same rules on rows made by hand: what SQLite's UNIQUE constraints never let a test
    write."""
    study = StudyFacts(
        pk=1, slug="s", prefix="S", target=2, withdrawal_frees_slot=False, last_participant_seq=3
    )
    slots = [Slot(pk=10, study_id=1, number=1), Slot(pk=11, study_id=1, number=2)]
    holders = [
        Holder(1, "S-S-0001", Status.ENROLLED, "S-001", 10),
        Holder(1, "S-S-0002", Status.ENROLLED, "S-001", 10),
        Holder(1, "S-S-0003", Status.COMPLETED, "S-003", 11),
    ]

    report = problems_of(study, slots, holders, {slot.pk: slot for slot in slots})

    assert report.problems == (
        "Slot 1 is held by S-S-0001 and S-S-0002.",
        "Participant ID S-001 is given to S-S-0001 and S-S-0002.",
        "The statuses take 3 slots (2 enrolled, 1 completed) but 2 of the study's slot rows "
        "are held.",
        "Over the target: 3 slots taken for a target of 2.",
    )


# -- Cost and exit code -----------------------------------------------------------------------
@pytest.mark.parametrize("per_status", [1, 10])
def test_the_check_runs_three_queries_however_many_participants(
    per_status, django_assert_max_num_queries
):
    study = StudyFactory(target_enrolment=40)
    other = StudyFactory(target_enrolment=40)
    for status in (Status.ENROLLED, Status.WITHDRAWN, Status.NEW):  # 3 or 30 participants
        participants_bulk(study, per_status, status=status)
        participants_bulk(other, per_status, status=status)

    with django_assert_max_num_queries(3):
        out, error = check()

    assert error is None
    assert f"{study.slug}: {2 * per_status} of 40 enrolled, {40 - 2 * per_status} free: OK" in out


def database_url() -> str:
    """The test database as DATABASE_URL, for a command run in another process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_the_command_exits_0_when_the_data_agree_and_1_when_they_do_not():
    study = study_with_enrolments()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG")},
        "DATABASE_URL": database_url(),
        "DEBUG": "0",
        "SECRET_KEY": "check-enrolment-test-" + "k" * 40,
    }
    command = [sys.executable, "manage.py", "check_enrolment"]

    passed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)  # noqa: S603
    participants(study, 4).update(slot=None)
    failed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)  # noqa: S603

    assert passed.returncode == 0, passed.stderr
    assert passed.stdout == f"{study.slug}: 4 of 20 enrolled, 16 free: OK\n"
    assert failed.returncode == 1
    assert f"{study.slug}: 4 of 20 enrolled, 17 free: 2 problems" in failed.stdout
    assert "CommandError: Enrolment check failed: 2 problems in 1 study." in failed.stderr
