"""The visit plan's windows, and what the database refuses of a visit."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from recruitment.models import PlannedVisit, Status, Visit, VisitAnchor, VisitStatus, VisitWindow
from tests.factories import StaffFactory, StudyFactory, participants_bulk

pytestmark = pytest.mark.django_db


@pytest.fixture
def planned():
    return PlannedVisit.objects.create(
        study=StudyFactory(),
        code="baseline-start",
        name="Baseline start",
        anchor=VisitAnchor.CONSENT,
        target_day=7,
        days_before=3,
        days_after=7,
        place="The lab",
    )


def _visit(planned, **fields):
    participant = participants_bulk(planned.study, 1, status=Status.CONSENTED)[0]
    values = {
        "participant": participant,
        "planned_visit": planned,
        "starts_at": timezone.now(),
        "place": "The lab",
        "with_whom": "Dr. Lee",
        "booked_by": StaffFactory(password=None),
    }
    return Visit.objects.create(**{**values, **fields})


def test_the_window_is_counted_in_days_from_the_anchor_date(planned):
    assert planned.window(dt.date(2026, 12, 1)) == VisitWindow(
        target=dt.date(2026, 12, 8), earliest=dt.date(2026, 12, 5), latest=dt.date(2026, 12, 15)
    )


def test_the_window_is_unknown_while_the_anchor_date_is(planned):
    assert planned.window(None) is None


def test_a_window_holds_its_first_and_last_days_and_nothing_beyond(planned):
    window = planned.window(dt.date(2026, 12, 1))

    assert dt.date(2026, 12, 5) in window
    assert dt.date(2026, 12, 15) in window
    assert dt.date(2026, 12, 4) not in window
    assert dt.date(2026, 12, 16) not in window


def test_a_new_visit_is_booked_with_its_own_calendar_entry_at_sequence_zero(planned):
    first, second = _visit(planned), _visit(planned)

    assert first.status == VisitStatus.BOOKED
    assert first.sequence == 0
    assert first.calendar_uid != second.calendar_uid


def test_a_participant_cannot_hold_two_bookings_of_the_same_planned_visit(planned):
    visit = _visit(planned)

    with pytest.raises(IntegrityError), transaction.atomic():
        _visit(planned, participant=visit.participant)


def test_a_cancelled_visit_may_be_booked_again(planned):
    visit = _visit(planned, status=VisitStatus.CANCELLED, outcome_at=timezone.now())

    assert _visit(planned, participant=visit.participant).status == VisitStatus.BOOKED


def test_an_outcome_needs_its_time_and_a_booked_visit_has_none(planned):
    visit = _visit(planned)

    with pytest.raises(IntegrityError, match="visit_outcome_at_iff_outcome"), transaction.atomic():
        Visit.objects.filter(pk=visit.pk).update(status=VisitStatus.MISSED)
    with pytest.raises(IntegrityError, match="visit_outcome_at_iff_outcome"), transaction.atomic():
        Visit.objects.filter(pk=visit.pk).update(outcome_at=timezone.now())


def test_a_planned_visit_code_is_unique_in_its_study(planned):
    with pytest.raises(IntegrityError), transaction.atomic():
        PlannedVisit.objects.create(
            study=planned.study, code=planned.code, name="Again", anchor="consent", target_day=0
        )
