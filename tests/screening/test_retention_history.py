"""The erasure's version of each participant, as simple-history's bulk history writes it: a
change ('~') at the erasure's time, its reason, no user, the erased values, in batches."""

import datetime as dt

import pytest

from recruitment.models import Participant, Status
from recruitment.screening import retention
from recruitment.screening.retention import ERASED_CHANGE_REASON, participants_erase_expired
from tests.factories import StaffFactory, StudyFactory, applicant, walk

pytestmark = pytest.mark.django_db

ERASED_AT = dt.datetime(2026, 9, 1, 12, tzinfo=dt.UTC)


@pytest.fixture
def declined(time_machine):
    time_machine.move_to(dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC), tick=False)
    study = StudyFactory(retention_days=30)
    by = StaffFactory()
    return [walk(applicant(study), Status.DECLINED, by=by) for _ in range(5)]


def test_each_erased_participant_gets_one_change_at_the_erasure_saying_why_with_no_user(
    declined,
):
    participants_erase_expired(now=ERASED_AT)

    for participant in declined:
        latest = Participant.history.filter(id=participant.pk).latest("history_date", "history_id")
        assert latest.history_type == "~"
        assert latest.history_date == ERASED_AT
        assert latest.history_user is None
        assert latest.history_change_reason == ERASED_CHANGE_REASON.format(days=30)
        assert (latest.first_name, latest.email, latest.date_of_birth) == ("", "", None)
        assert latest.erased_at == ERASED_AT
        assert latest.status == Status.DECLINED


def test_the_history_rows_are_written_batch_by_batch(declined, monkeypatch):
    monkeypatch.setattr(retention, "ERASE_BATCH", 2)
    written = []
    create = Participant.history.model.objects.bulk_create

    def counting(objs, *args, **kwargs):
        written.append(len(objs))
        return create(objs, *args, **kwargs)

    monkeypatch.setattr(Participant.history.model.objects, "bulk_create", counting)

    participants_erase_expired(now=ERASED_AT)

    assert written == [2, 2, 1]
    assert Participant.history.filter(history_date=ERASED_AT).count() == len(declined)
