"""`manage.py seed_participants`: the bench's fast, fake participants (never production).

The command belongs to the bench app, installed only under the bench's settings, so the tests
call it as a command object."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from bench.management.commands.seed_participants import Command as SeedParticipants
from recruitment.models import (
    Answer,
    AnsweredBy,
    CriterionVerdict,
    Participant,
    Status,
    StatusChange,
)

pytestmark = pytest.mark.django_db
FLAG = "--i-know-this-is-not-production"


def test_it_refuses_to_run_without_the_bench_settings_or_the_flag(ldn_study):
    with pytest.raises(CommandError, match="throwaway database"):
        call_command(SeedParticipants(), "--total", "5")

    assert not Participant.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the seeder needs PostgreSQL")
def test_it_seeds_up_to_the_total_with_a_full_record_and_never_over_the_target(ldn_study):
    call_command(SeedParticipants(), "--total", "40", FLAG)
    call_command(SeedParticipants(), "--total", "300", FLAG)

    participants = Participant.objects.filter(study=ldn_study)
    assert participants.count() == 300
    # A verdict for each criterion judged: the patient's for everyone, the staff checks for
    # those judged eligible (not stored while pending, as the app stores them).
    criteria = ldn_study.criteria.active()
    judged = participants.filter(status__in=Status.judged_eligible()).count()
    patients = criteria.filter(answered_by=AnsweredBy.PATIENT).count()
    staff = criteria.filter(answered_by=AnsweredBy.STAFF).count()
    verdicts = CriterionVerdict.objects.filter(participant__study=ldn_study)
    assert verdicts.count() == 300 * patients + judged * staff
    assert 0 < judged < 300
    assert not verdicts.filter(verdict="pending").exists()
    assert Answer.objects.filter(participant__study=ldn_study).count() == 300 * 11
    enrolled = participants.filter(status__in=Status.holding_participant_id())
    assert 0 < enrolled.count() <= ldn_study.target_enrolment
    assert not enrolled.filter(consent__isnull=True).exists()
    not_new = participants.exclude(status="new")
    assert (
        StatusChange.objects.filter(participant__in=not_new)
        .values("participant")
        .distinct()
        .count()
        == not_new.count()
    )
    assert Participant.history.filter(study_id=ldn_study.pk).count() >= 300
    ldn_study.refresh_from_db()
    assert ldn_study.last_screening_seq == 300
