"""Each participant keeps their latest contact attempt's time and outcome, written by the
contact-attempt service in the attempt's own transaction, so the call list and the queue read two
columns instead of every applicant's attempts."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
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


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.mark.django_db(transaction=True)
def test_the_migration_copies_each_participants_latest_attempt(ldn_study, coordinator):
    before = [("recruitment", "0020_us_english_labels")]
    reached = submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS, email="a@example.com")
    untouched = submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS, email="b@example.com")
    now = timezone.now()
    for outcome, at in (("call_back", now), ("reached", now - timedelta(days=2))):
        contact_attempt_record(
            participant=reached, by=coordinator, method="phone", outcome=outcome, at=at
        )
    try:
        executor = _migrate(before)
        old_apps = executor.loader.project_state(before[0]).apps
        old_participant = old_apps.get_model("recruitment", "Participant")
        assert "last_attempt_at" not in {f.name for f in old_participant._meta.get_fields()}
    finally:
        executor = MigrationExecutor(connection)
        _migrate(executor.loader.graph.leaf_nodes())

    reached.refresh_from_db()
    untouched.refresh_from_db()
    assert (reached.last_attempt_at, reached.last_attempt_outcome) == (now, "call_back")
    assert (untouched.last_attempt_at, untouched.last_attempt_outcome) == (None, "")
