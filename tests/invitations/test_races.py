"""Two coordinators of two studies pressing "Invite" for the same person at the same moment:
one invitation is sent, the other refused with its reason (the person's row is locked while
their last invitation is read: SELECT ... FOR UPDATE on PostgreSQL; on SQLite a write
transaction begun IMMEDIATE). And two presses for the same match: one invitation."""

import threading
from collections import Counter

import pytest
from django.db import connection

from recruitment.invitations.services import InvitationRefused, registry_invitation_send
from recruitment.models import Person, RegistryInvitation
from tests.factories import StaffFactory, StudyFactory
from tests.invitations.scenario import match_of

pytestmark = pytest.mark.django_db(transaction=True)


def race(calls) -> Counter:
    barrier = threading.Barrier(len(calls))
    outcomes = []

    def worker(call):
        try:
            barrier.wait(timeout=30)
            call()
            outcomes.append("invited")
        except InvitationRefused as refusal:
            outcomes.append("refused" if str(refusal) else repr(refusal))
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


def a_person() -> Person:
    return Person.objects.create(
        first_name="Ann",
        last_name="Lee",
        email="ann.lee@example.com",
        zip_code="35203",
        registry_consent=True,
        registry_consent_version="r1",
        registry_consent_at="2026-12-01T12:00:00Z",
    )


def invite(match, by):
    return lambda: registry_invitation_send(match=match, by=by)


@pytest.mark.parametrize("round_", range(3))
def test_two_studies_inviting_one_person_at_once_send_one_invitation(round_):
    person = a_person()
    first, second = (match_of(StudyFactory(), person, number=1) for _ in range(2))
    one, two = StaffFactory(password=None), StaffFactory(password=None)

    outcomes = race([invite(first, one), invite(second, two)])

    assert outcomes == Counter({"invited": 1, "refused": 1})
    assert RegistryInvitation.objects.filter(match__person=person).count() == 1


def test_two_presses_on_one_match_at_once_send_one_invitation():
    match = match_of(StudyFactory(), a_person(), number=1)
    one, two = StaffFactory(password=None), StaffFactory(password=None)

    outcomes = race([invite(match, one), invite(match, two)])

    assert outcomes == Counter({"invited": 1, "refused": 1})
    assert RegistryInvitation.objects.count() == 1
