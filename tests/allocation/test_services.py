"""The sealed list's upload (every check, nothing stored on an error, replaced only while
unused), the row a participant takes at enrollment, strata, and who may do what."""

import pytest

from accounts import roles
from recruitment.allocation import services
from recruitment.allocation.services import (
    AllocationFileInvalid,
    AllocationRefused,
    AllocationUnavailable,
    participant_stratum_set,
)
from recruitment.errors import RecruitmentError
from recruitment.models import (
    AllocationList,
    AllocationRow,
    Participant,
    Status,
    StatusChange,
)
from recruitment.screening.services import participant_transition
from tests.allocation.conftest import ARM_A, ARM_B, ARMS, FOUR_ROWS, csv_bytes, upload
from tests.factories import UserFactory, free_slot_count, participants_bulk, staff

pytestmark = pytest.mark.django_db


def enrol(participant, by):
    return participant_transition(participant=participant, to=Status.ENROLLED, by=by)


def errors_of(study, by, content, **options) -> list[str]:
    with pytest.raises(AllocationFileInvalid) as refused:
        upload(study, by, content, **options)
    return refused.value.errors


# -- the upload -------------------------------------------------------------------------------
def test_a_valid_list_is_stored_with_its_arms_and_every_row_unused(study, statistician):
    stored = upload(study, statistician)

    assert stored.arms == ARMS and stored.strata == []
    assert stored.uploaded_by == statistician
    rows = AllocationRow.objects.filter(study=study).order_by("sequence")
    assert [(r.sequence, r.stratum, r.arm, r.pack_code) for r in rows] == [
        (1, "", ARM_A, "K-0001"),
        (2, "", ARM_B, "K-0002"),
        (3, "", ARM_B, "K-0003"),
        (4, "", ARM_A, "K-0004"),
    ]
    assert not rows.used().exists()


def test_the_stratum_column_may_be_left_out_when_the_study_has_no_strata(study, statistician):
    content = csv_bytes(f"1,{ARM_A},P1", f"2,{ARM_B},P2", header="Sequence,Arm,Pack code")

    upload(study, statistician, content)

    assert AllocationRow.objects.filter(study=study).count() == 2


def test_every_error_is_listed_with_its_line_number_and_nothing_is_stored(study, statistician):
    content = csv_bytes(
        f"1,,{ARM_A},K-1",
        f"1,,{ARM_B},K-2",  # sequence repeated
        "3,,AC,K-3",  # arm not declared
        f"x,,{ARM_A},K-4",  # not a number
        f"5,,{ARM_B},K-1",  # pack code repeated
        f"6,,{ARM_A},",  # empty cell
        f"7,,{ARM_A}",  # a cell missing
    )

    errors = errors_of(study, statistician, content)

    assert errors == [
        "Line 3: sequence number 1 is already on line 2 (stratum “”).",
        f"Line 4: “AC” is not one of the declared arms ({ARM_A}, {ARM_B}).",
        "Line 5: the sequence number “x” is not a whole number from 1.",
        "Line 6: pack code “K-1” is already on line 2.",
        "Line 7: the “pack_code” cell is empty.",
        "Line 8: expected 4 cells, found 3.",
    ]
    assert not AllocationList.objects.filter(study=study).exists()
    assert not AllocationRow.objects.filter(study=study).exists()


def test_sequences_must_run_from_one_with_no_gap_in_each_stratum(study, statistician):
    content = csv_bytes(
        f"1,men,{ARM_A},M1",
        f"3,men,{ARM_B},M3",
        f"1,women,{ARM_A},W1",
        f"2,women,{ARM_B},W2",
    )

    errors = errors_of(study, statistician, content, strata=["men", "women"])

    assert errors == [
        "Stratum “men”: sequence numbers must run from 1 to 3 with no gap; missing: 2."
    ]


def test_strata_must_be_declared_and_every_row_of_a_stratified_list_names_one(study, statistician):
    content = csv_bytes(f"1,men,{ARM_A},M1", f"2,,{ARM_B},M2", f"1,kids,{ARM_B},K1")

    errors = errors_of(study, statistician, content, strata=["men", "women"])

    assert errors == [
        "Line 3: the stratum is empty, but this list declares strata.",
        "Line 4: “kids” is not one of the declared strata (men, women).",
    ]
    unstratified = errors_of(study, statistician, csv_bytes(f"1,men,{ARM_A},M1"))
    assert unstratified == [
        "Line 2: the stratum “men” is given, but no strata are declared for this list."
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "The file has no allocation rows."),
        (b"sequence,stratum,arm,pack_code\n", "The file has no allocation rows."),
        (
            b"number,arm,pack\n1,AB,K1\n",
            "Line 1: the header must be “sequence,stratum,arm,pack_code” (stratum may be left "
            "out); found “number,arm,pack”.",
        ),
        (b"\xff\xfe\x00", "The file is not a UTF-8 CSV file."),
    ],
)
def test_a_file_without_rows_or_header_is_refused(study, statistician, content, expected):
    assert errors_of(study, statistician, content) == [expected]


def test_at_least_two_distinct_arms_are_declared(study, statistician):
    assert errors_of(study, statistician, FOUR_ROWS, arms=[ARM_A]) == [
        "Declare at least two arms (for example: AB, BA)."
    ]
    assert errors_of(study, statistician, FOUR_ROWS, arms=[ARM_A, ARM_A]) == [
        "Each arm may be declared once."
    ]


def test_a_new_upload_replaces_a_list_nobody_has_used_yet(study, statistician):
    upload(study, statistician)

    upload(study, statistician, csv_bytes(f"1,,{ARM_B},N-1", f"2,,{ARM_A},N-2"))

    assert list(AllocationRow.objects.filter(study=study).values_list("pack_code", flat=True)) == [
        "N-1",
        "N-2",
    ]
    assert AllocationList.objects.filter(study=study).count() == 1


def test_an_upload_is_refused_once_a_row_is_used_and_the_list_is_unchanged(
    study, sealed, statistician, coordinator, consented
):
    enrol(consented[0], coordinator)

    with pytest.raises(AllocationRefused, match="1 participants allocated"):
        upload(study, statistician, csv_bytes(f"1,,{ARM_B},N-1", f"2,,{ARM_A},N-2"))

    assert AllocationRow.objects.filter(study=study).count() == 4


@pytest.mark.parametrize("role", [roles.COORDINATOR, roles.INVESTIGATOR, roles.MONITOR])
def test_only_the_unblinded_statistician_may_upload(study, role):
    user = staff(f"someone-{role}", role, study, password=None)

    with pytest.raises(AllocationRefused):
        upload(study, user)

    assert not AllocationRow.objects.exists()


def test_a_superuser_outside_the_role_may_not_upload(study):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True, password=None)
    study.members.add(admin)

    with pytest.raises(AllocationRefused):
        upload(study, admin)


def test_a_statistician_of_another_study_may_not_upload(study):
    outsider = staff("other-stats", roles.UNBLINDED_STATISTICIAN, password=None)

    with pytest.raises(AllocationRefused):
        upload(study, outsider)


# -- allocation at enrollment -----------------------------------------------------------------
def test_enrolling_takes_the_next_unused_row_in_sequence_order(
    study, sealed, coordinator, consented
):
    first = enrol(consented[0], coordinator)
    second = enrol(consented[1], coordinator)

    assert first.allocation.pack_code == "K-0001"
    assert AllocationRow.objects.get(participant=second).pack_code == "K-0002"
    assert AllocationRow.objects.get(participant=second).allocated_at is not None
    assert AllocationRow.objects.filter(study=study).unused().count() == 2


def test_a_study_without_a_list_enrolls_as_before(study, coordinator, consented):
    enrolled = enrol(consented[0], coordinator)

    assert enrolled.status == Status.ENROLLED
    assert not AllocationRow.objects.exists()


def test_enrollment_is_refused_when_the_list_is_used_up_and_nothing_is_written(
    study, statistician, coordinator, consented
):
    upload(study, statistician, csv_bytes(f"1,,{ARM_A},K-1", f"2,,{ARM_B},K-2"))
    enrol(consented[0], coordinator)
    enrol(consented[1], coordinator)
    free_before = free_slot_count(study)

    with pytest.raises(AllocationUnavailable) as refused:
        enrol(consented[2], coordinator)

    assert str(refused.value) == (
        f"The allocation list has no unused row left: {consented[2].screening_number} cannot "
        "be enrolled. Tell the unblinded statistician."
    )
    third = Participant.objects.get(pk=consented[2].pk)
    assert third.status == Status.CONSENTED and third.participant_id is None
    assert free_slot_count(study) == free_before
    assert not StatusChange.objects.filter(participant=third).exists()


def stratified(study, statistician):
    return upload(
        study,
        statistician,
        csv_bytes(
            f"1,men,{ARM_A},M-1",
            f"1,women,{ARM_B},W-1",
            f"2,women,{ARM_A},W-2",
        ),
        strata=["men", "women"],
    )


def test_a_stratified_list_gives_the_next_row_of_the_participant_s_stratum(
    study, statistician, coordinator, consented
):
    stratified(study, statistician)
    for participant, stratum in zip(consented, ["women", "men", "women"], strict=True):
        participant_stratum_set(participant=participant, stratum=stratum, by=coordinator)

    codes = [enrol(p, coordinator).allocation.pack_code for p in consented]

    assert codes == ["W-1", "M-1", "W-2"]


def test_a_stratum_used_up_refuses_enrollment_naming_the_stratum(study, statistician, coordinator):
    stratified(study, statistician)
    first, second = participants_bulk(study, 2, status=Status.CONSENTED, by=coordinator)
    for participant in (first, second):
        participant_stratum_set(participant=participant, stratum="men", by=coordinator)
    enrol(first, coordinator)

    with pytest.raises(AllocationUnavailable, match="left for stratum “men”"):
        enrol(second, coordinator)


def test_a_stratified_list_needs_the_participant_s_stratum_before_enrollment(
    study, statistician, coordinator, consented
):
    stratified(study, statistician)

    with pytest.raises(AllocationUnavailable, match="Set the stratum of"):
        enrol(consented[0], coordinator)


def test_the_stratum_must_be_one_of_the_list_s_and_is_fixed_once_allocated(
    study, statistician, coordinator, consented
):
    stratified(study, statistician)
    participant = consented[0]

    with pytest.raises(RecruitmentError, match="not one of the strata"):
        participant_stratum_set(participant=participant, stratum="kids", by=coordinator)
    record = participant_stratum_set(participant=participant, stratum="men", by=coordinator)
    assert record.history.get().history_user == coordinator
    enrol(participant, coordinator)
    with pytest.raises(RecruitmentError, match="already allocated"):
        participant_stratum_set(participant=participant, stratum="women", by=coordinator)


def test_a_study_without_strata_has_no_stratum_to_set(study, sealed, coordinator, consented):
    with pytest.raises(RecruitmentError, match="has no strata"):
        participant_stratum_set(participant=consented[0], stratum="men", by=coordinator)


def test_the_database_refuses_a_row_given_to_a_second_participant(
    study, sealed, coordinator, consented
):
    from django.db import IntegrityError, transaction

    enrolled = enrol(consented[0], coordinator)
    row = AllocationRow.objects.filter(study=study).unused().first()
    row.participant = enrolled
    row.allocated_at = enrolled.updated_at

    with pytest.raises(IntegrityError), transaction.atomic():
        row.save()


def test_a_row_s_text_never_holds_its_arm(study, sealed):
    row = AllocationRow.objects.filter(study=study).first()

    assert row.arm not in str(row)
    assert services.HEADER == ("sequence", "stratum", "arm", "pack_code")
