"""Each participant keeps their latest contact attempt's time and outcome, written by the
contact-attempt service in the attempt's own transaction, so the call list and the queue read two
columns instead of every applicant's attempts. The migration that copied the latest attempt onto the
participants already there is checked in tests/test_data_migrations.py."""

from datetime import timedelta

import pytest
from django.utils import timezone

from recruitment.models import ContactOutcome, Participant
from recruitment.screening.services import contact_attempt_record
from tests.factories import LDN_ELIGIBLE_ANSWERS, submit

pytestmark = pytest.mark.django_db


def test_a_new_applicant_has_no_last_attempt_and_counts_as_not_contacted(ldn_study):
    person = submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)

    assert person.last_attempt_at is None
    assert person.last_attempt_outcome == ""
    assert list(Participant.objects.not_contacted()) == [person]


def test_an_attempt_becomes_the_last_attempt_and_ends_not_contacted(ldn_study, coordinator):
    person = submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)
    at = timezone.now() - timedelta(hours=1)

    contact_attempt_record(
        participant=person, by=coordinator, method="phone", outcome="call_back", at=at
    )

    person.refresh_from_db()
    assert person.last_attempt_at == at
    assert person.last_attempt_outcome == ContactOutcome.CALL_BACK
    assert not Participant.objects.not_contacted().exists()


def test_an_attempt_logged_late_for_an_earlier_time_does_not_replace_the_latest(
    ldn_study, coordinator
):
    person = submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)
    now = timezone.now()
    contact_attempt_record(
        participant=person, by=coordinator, method="phone", outcome="reached", at=now
    )

    contact_attempt_record(
        participant=person,
        by=coordinator,
        method="phone",
        outcome="voicemail",
        at=now - timedelta(days=1),
    )

    person.refresh_from_db()
    assert person.last_attempt_at == now
    assert person.last_attempt_outcome == ContactOutcome.REACHED


def test_two_attempts_at_the_same_time_keep_the_one_entered_last(ldn_study, coordinator):
    person = submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)
    at = timezone.now()
    for outcome in ("voicemail", "call_back"):
        contact_attempt_record(
            participant=person, by=coordinator, method="phone", outcome=outcome, at=at
        )

    person.refresh_from_db()
    assert person.last_attempt_outcome == ContactOutcome.CALL_BACK
