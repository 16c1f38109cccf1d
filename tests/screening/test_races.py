"""Coordinators enrolling at the same moment can never exceed the target: the check and the
write run in one transaction that holds the study row's lock (SELECT ... FOR UPDATE on
PostgreSQL; a write transaction begun IMMEDIATE on SQLite), and the fixed slot rows back it
up.

Each test runs on one database only, chosen by the connection the suite runs on; CI runs the
suite on both. Threads are released together by one barrier and each closes its own
connection. Every round rebuilds its state (a new study) with bulk inserts, to stay fast.
Run with `-s` to see each round's figures.
"""

import threading
import time
import uuid
from collections import Counter

import pytest
from django.db import connection

from recruitment.errors import AlreadyEnrolled, StudyFull
from recruitment.intake.services import participant_submit
from recruitment.models import Participant, Status, StatusChange, Study
from recruitment.screening.services import participant_transition
from tests.factories import (
    StaffFactory,
    StudyFactory,
    contact_details,
    free_slot_count,
    participants_bulk,
)

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 5
TARGET = 20


def only_on(vendor: str) -> None:
    if connection.vendor != vendor:
        pytest.skip(
            f"This race runs on {vendor}; the suite is running on {connection.vendor}. "
            f"CI runs the suite on both databases."
        )


def race(calls) -> Counter:
    """Run each call in its own thread, all released at once by one barrier. Returns how
    many succeeded ("enrolled"), were refused with each domain error (by class name), or
    failed otherwise (by repr, so a surprise shows in the assertion)."""
    barrier = threading.Barrier(len(calls))
    outcomes = []

    def worker(call):
        try:
            barrier.wait(timeout=30)
            call()
            outcomes.append("enrolled")
        except (StudyFull, AlreadyEnrolled) as refusal:
            outcomes.append(type(refusal).__name__)
        except Exception as exc:  # noqa: BLE001 - counted, and so reported by the assertion
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return Counter(outcomes)


def enrolment(participant, by):
    def call():
        participant_transition(participant=participant, to=Status.ENROLLED, by=by)

    return call


def assert_full_and_consistent(study: Study, *, enrolments: int) -> None:
    enrolled = Participant.objects.filter(study=study, status=Status.ENROLLED)
    assert enrolled.count() == TARGET
    assert sorted(enrolled.values_list("participant_id", flat=True)) == [
        study.participant_id(n) for n in range(1, TARGET + 1)
    ]
    assert enrolled.filter(slot__isnull=False).values("slot").distinct().count() == TARGET
    assert free_slot_count(study) == 0
    assert Study.objects.get(pk=study.pk).last_participant_seq == TARGET
    assert StatusChange.objects.filter(participant__study=study).count() == enrolments


@pytest.mark.parametrize(("vendor", "threads"), [("postgresql", 50), ("sqlite", 10)])
def test_coordinators_racing_for_the_last_slot_enrol_exactly_one(vendor, threads):
    only_on(vendor)
    coordinator = StaffFactory(password=None)
    figures = []
    for round_ in range(1, ROUNDS + 1):
        study = StudyFactory(target_enrolment=TARGET)
        participants_bulk(study, TARGET - 1, status=Status.ENROLLED, by=coordinator)
        waiting = participants_bulk(study, threads, status=Status.CONSENTED, by=coordinator)

        started = time.perf_counter()
        outcomes = race([enrolment(p, coordinator) for p in waiting])
        elapsed = time.perf_counter() - started

        assert outcomes == Counter({"enrolled": 1, "StudyFull": threads - 1}), f"round {round_}"
        assert_full_and_consistent(study, enrolments=1)
        assert Participant.objects.filter(study=study, status=Status.CONSENTED).count() == (
            threads - 1
        )
        figures.append(f"round {round_}: {dict(outcomes)} in {elapsed:.2f}s")
    print(f"{vendor}, {threads} threads for the last slot:", *figures, sep="\n  ")


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_two_coordinators_enrolling_the_same_participant_enrol_them_once(vendor):
    only_on(vendor)
    coordinator = StaffFactory(password=None)
    figures = []
    for round_ in range(1, ROUNDS + 1):
        study = StudyFactory(target_enrolment=TARGET)
        participants_bulk(study, TARGET - 1, status=Status.ENROLLED, by=coordinator)
        (subject,) = participants_bulk(study, 1, status=Status.CONSENTED, by=coordinator)

        started = time.perf_counter()
        outcomes = race([enrolment(subject, coordinator), enrolment(subject, coordinator)])
        elapsed = time.perf_counter() - started

        assert outcomes == Counter({"enrolled": 1, "AlreadyEnrolled": 1}), f"round {round_}"
        assert_full_and_consistent(study, enrolments=1)
        assert Participant.objects.get(pk=subject.pk).participant_id == study.participant_id(20)
        figures.append(f"round {round_}: {dict(outcomes)} in {elapsed:.2f}s")
    print(f"{vendor}, 2 threads for the same participant:", *figures, sep="\n  ")


# -- Interest-form submissions -----------------------------------------------------------------
# A submission takes its screening number with one UPDATE of the study row at the end of its
# transaction (the row stays locked until commit); the duplicate and token lookups run after it.
def submit_all(calls) -> list:
    """Run each call in its own thread, released together; their results (or errors)."""
    barrier = threading.Barrier(len(calls))
    results = []

    def worker(call):
        try:
            barrier.wait(timeout=30)
            results.append(call())
        except Exception as exc:  # noqa: BLE001 - reported by the assertions
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def submission(study, n, **contact):
    def call():
        details = {"email": f"p{n}@example.com", "phone": "", "first_name": f"P{n}", **contact}
        return participant_submit(
            study=study, contact=contact_details(**details), answers={}, **contact_token(n)
        )

    return call


def contact_token(n):
    return {"token": uuid.UUID(int=n)} if n >= 1000 else {}


@pytest.mark.parametrize(("vendor", "threads"), [("postgresql", 30), ("sqlite", 6)])
def test_simultaneous_submissions_get_gapless_numbers_and_the_same_person_is_linked(
    vendor, threads
):
    only_on(vendor)
    for round_ in range(1, ROUNDS + 1):
        study = StudyFactory()
        same_person = {"email": "same@example.com", "first_name": "Same"}
        calls = [submission(study, n) for n in range(threads)]
        calls += [submission(study, 100 + n, **same_person) for n in range(2)]

        results = submit_all(calls)

        assert [r for r in results if not isinstance(r, Participant)] == [], f"round {round_}"
        numbers = sorted(p.screening_seq for p in results)
        assert numbers == list(range(1, threads + 3)), f"round {round_}"
        assert Study.objects.get(pk=study.pk).last_screening_seq == threads + 2
        linked = Participant.objects.filter(study=study, duplicate_of__isnull=False)
        (duplicate,) = linked
        assert duplicate.email == "same@example.com"
        assert duplicate.duplicate_of.email == "same@example.com"
        assert duplicate.screening_seq > duplicate.duplicate_of.screening_seq


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_the_same_form_posted_twice_at_once_saves_one_participant(vendor):
    only_on(vendor)
    for round_ in range(1, ROUNDS + 1):
        study = StudyFactory()

        results = submit_all([submission(study, 1000), submission(study, 1000)])

        assert all(isinstance(r, Participant) for r in results), f"round {round_}: {results}"
        assert results[0].pk == results[1].pk
        assert Participant.objects.filter(study=study).count() == 1
        assert Study.objects.get(pk=study.pk).last_screening_seq == 1
