"""Coordinators enrolling at the same moment never get the same allocation row: the row is
taken in enrollment's transaction, which holds the study row's lock (SELECT ... FOR UPDATE on
PostgreSQL, a write transaction begun IMMEDIATE on SQLite), the row itself is locked, and the
one-to-one link to the participant backs it up.

Each test runs on the database the suite runs on (CI runs both); threads are released
together by one barrier and each closes its own connection."""

import threading
from collections import Counter

import pytest
from django.db import connection

from accounts import roles
from recruitment.allocation.services import AllocationUnavailable
from recruitment.models import AllocationRow, Participant, Status
from recruitment.screening.services import participant_transition
from tests.allocation.conftest import ARM_A, ARM_B, csv_bytes, upload
from tests.factories import StaffFactory, StudyFactory, participants_bulk, staff

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 3


def only_on(vendor: str) -> None:
    if connection.vendor != vendor:
        pytest.skip(
            f"This race runs on {vendor}; the suite is running on {connection.vendor}. "
            f"CI runs the suite on both databases."
        )


def race(participants, by) -> Counter:
    """Enroll each participant in its own thread, all released at once."""
    barrier = threading.Barrier(len(participants))
    outcomes = []

    def worker(participant):
        try:
            barrier.wait(timeout=30)
            participant_transition(participant=participant, to=Status.ENROLLED, by=by)
            outcomes.append("enrolled")
        except AllocationUnavailable:
            outcomes.append("list used up")
        except Exception as exc:  # noqa: BLE001 - counted, and so reported by the assertion
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(p,)) for p in participants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return Counter(outcomes)


def sealed_study(rows: int):
    study = StudyFactory(target_enrolment=40)
    statistician = staff(
        f"stats-{study.prefix}", roles.UNBLINDED_STATISTICIAN, study, password=None
    )
    lines = [f"{n},,{ARM_A if n % 2 else ARM_B},P-{n:03d}" for n in range(1, rows + 1)]
    upload(study, statistician, csv_bytes(*lines))
    return study


def assert_one_row_each(study, enrolled: int) -> None:
    used = AllocationRow.objects.filter(study=study).used()
    assert used.count() == enrolled
    assert used.values("participant").distinct().count() == enrolled
    # The first rows of the sequence, with no gap: none skipped, none given twice.
    assert sorted(used.values_list("sequence", flat=True)) == list(range(1, enrolled + 1))
    assert (
        Participant.objects.filter(
            study=study, status=Status.ENROLLED, allocation__isnull=True
        ).exists()
        is False
    )


@pytest.mark.parametrize(("vendor", "threads"), [("postgresql", 20), ("sqlite", 6)])
def test_coordinators_enrolling_at_once_each_get_their_own_row(vendor, threads):
    only_on(vendor)
    coordinator = StaffFactory(password=None)
    for round_ in range(1, ROUNDS + 1):
        study = sealed_study(rows=threads)
        waiting = participants_bulk(study, threads, status=Status.CONSENTED, by=coordinator)

        outcomes = race(waiting, coordinator)

        assert outcomes == Counter({"enrolled": threads}), f"round {round_}"
        assert_one_row_each(study, threads)


@pytest.mark.parametrize(("vendor", "threads"), [("postgresql", 20), ("sqlite", 6)])
def test_racing_for_the_last_rows_enrolls_only_as_many_as_the_list_holds(vendor, threads):
    only_on(vendor)
    coordinator = StaffFactory(password=None)
    for round_ in range(1, ROUNDS + 1):
        study = sealed_study(rows=2)
        waiting = participants_bulk(study, threads, status=Status.CONSENTED, by=coordinator)

        outcomes = race(waiting, coordinator)

        assert outcomes == Counter({"enrolled": 2, "list used up": threads - 2}), f"round {round_}"
        assert_one_row_each(study, 2)
        assert Participant.objects.filter(study=study, status=Status.CONSENTED).count() == (
            threads - 2
        )
