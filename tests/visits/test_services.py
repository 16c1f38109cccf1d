"""Booking, moving and cancelling visits, and recording how they went: who may, what is
refused (and nothing written), and the audit trail."""

import pytest
from django.utils import timezone

from recruitment.errors import RecruitmentError
from recruitment.models import Participant, Status, Visit, VisitStatus
from recruitment.visits import services
from recruitment.visits.services import visit_book, visit_cancel, visit_outcome_record, visit_rebook
from tests.factories import LDN_ELIGIBLE_ANSWERS, StudyFactory, submit, walk
from tests.visits.conftest import at

pytestmark = pytest.mark.django_db


def book(participant, planned, by, **changes):
    values = {
        "participant": participant,
        "planned_visit": planned,
        "starts_at": at(10),
        "place": planned.place,
        "with_whom": "Dr. Rivera",
        "by": by,
    }
    return visit_book(**{**values, **changes})


def test_a_coordinator_books_a_visit_for_a_participant_who_consented(
    consented, plan, coordinator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        visit = book(consented, plan["screening"], coordinator)

    visit.refresh_from_db()
    assert (visit.status, visit.sequence, visit.booked_by) == ("booked", 0, coordinator)
    assert visit.starts_at == at(10)
    assert visit.duration_minutes == plan["screening"].duration_minutes
    record = visit.history.get()
    assert (record.history_user, record.history_change_reason) == (coordinator, "Visit booked")


@pytest.mark.parametrize("status", [Status.SCREENING, Status.ELIGIBLE])
def test_nobody_who_has_not_consented_can_have_a_visit_booked(
    now, ldn_study, plan, coordinator, status
):
    participant = walk(submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS), status, by=coordinator)

    with pytest.raises(RecruitmentError, match="consented"):
        book(participant, plan["screening"], coordinator)

    assert Visit.objects.count() == 0


def test_nobody_who_has_left_the_study_can_have_a_visit_booked(consented, plan, coordinator):
    Participant.objects.filter(pk=consented.pk).update(status=Status.DECLINED)
    consented.refresh_from_db()

    with pytest.raises(RecruitmentError, match="still taking part"):
        book(consented, plan["screening"], coordinator)


def test_an_enrolled_participant_can_have_a_visit_booked(now, ldn_study, plan, coordinator):
    enrolled = walk(submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS), "enrolled", by=coordinator)

    assert book(enrolled, plan["first-dose"], coordinator).status == VisitStatus.BOOKED


def test_a_visit_of_another_studys_plan_is_refused(consented, coordinator):
    other = StudyFactory()
    planned = other.planned_visits.create(
        code="x", name="X", anchor="consent", target_day=0, place="There"
    )

    with pytest.raises(RecruitmentError, match="study plan"):
        book(consented, planned, coordinator)


def test_a_time_in_the_past_is_refused(consented, plan, coordinator):
    with pytest.raises(RecruitmentError, match="from now on"):
        book(consented, plan["screening"], coordinator, starts_at=at(7, 8))

    assert Visit.objects.count() == 0


@pytest.mark.parametrize(("field", "message"), [("place", "where"), ("with_whom", "who")])
def test_a_place_and_someone_to_see_are_required(consented, plan, coordinator, field, message):
    with pytest.raises(RecruitmentError, match=message):
        book(consented, plan["screening"], coordinator, **{field: "  "})


def test_the_same_planned_visit_cannot_be_booked_twice(consented, plan, coordinator):
    book(consented, plan["screening"], coordinator)

    with pytest.raises(RecruitmentError, match="already has this visit booked"):
        book(consented, plan["screening"], coordinator, starts_at=at(11))

    assert Visit.objects.count() == 1


def test_a_time_outside_the_window_is_booked_all_the_same(consented, plan, coordinator):
    visit = book(consented, plan["baseline-start"], coordinator, starts_at=at(30))

    assert visit.status == VisitStatus.BOOKED


def test_rebooking_moves_the_same_visit_and_raises_its_sequence(consented, plan, coordinator):
    visit = book(consented, plan["screening"], coordinator)

    moved = visit_rebook(
        visit=visit,
        starts_at=at(11, 14),
        place="Room 2",
        with_whom="Dr. Rivera",
        by=coordinator,
        reason="Asked for an afternoon",
    )

    moved.refresh_from_db()
    assert (moved.pk, moved.calendar_uid) == (visit.pk, visit.calendar_uid)
    assert (moved.starts_at, moved.place, moved.sequence) == (at(11, 14), "Room 2", 1)
    booked, rebooked = moved.history.order_by("history_id")
    assert (booked.starts_at, rebooked.starts_at) == (at(10), at(11, 14))
    assert rebooked.history_change_reason == "Asked for an afternoon"
    assert rebooked.history_user == coordinator


def test_rebooking_needs_a_reason_and_a_change(consented, plan, coordinator):
    visit = book(consented, plan["screening"], coordinator)
    same = {"starts_at": at(10), "place": visit.place, "with_whom": visit.with_whom}

    with pytest.raises(RecruitmentError, match="reason"):
        visit_rebook(visit=visit, by=coordinator, reason=" ", **same)
    with pytest.raises(RecruitmentError, match="Change the date"):
        visit_rebook(visit=visit, by=coordinator, reason="Why not", **same)

    visit.refresh_from_db()
    assert (visit.sequence, visit.history.count()) == (0, 1)


def test_cancelling_ends_the_visit_and_frees_the_planned_visit(consented, plan, coordinator):
    visit = book(consented, plan["screening"], coordinator)

    cancelled = visit_cancel(visit=visit, by=coordinator, reason="Has the flu")

    assert (cancelled.status, cancelled.sequence) == (VisitStatus.CANCELLED, 1)
    assert cancelled.outcome_at == timezone.now()
    assert cancelled.history.order_by("history_id").last().history_change_reason == "Has the flu"
    assert book(consented, plan["screening"], coordinator, starts_at=at(14)).pk != visit.pk


def test_cancelling_needs_a_reason(consented, plan, coordinator):
    visit = book(consented, plan["screening"], coordinator)

    with pytest.raises(RecruitmentError, match="reason"):
        visit_cancel(visit=visit, by=coordinator, reason="")

    visit.refresh_from_db()
    assert visit.status == VisitStatus.BOOKED


@pytest.mark.parametrize("outcome", [VisitStatus.ATTENDED, VisitStatus.MISSED])
def test_a_visit_is_marked_attended_or_missed_once_it_has_started(
    consented, plan, coordinator, time_machine, outcome
):
    visit = book(consented, plan["screening"], coordinator)
    time_machine.move_to(at(10, 10, 30), tick=False)

    marked = visit_outcome_record(visit=visit, outcome=outcome, by=coordinator)

    assert (marked.status, marked.outcome_at) == (outcome, at(10, 10, 30))
    assert marked.history.order_by("history_id").last().history_user == coordinator


def test_a_visit_cannot_be_marked_before_it_starts(consented, plan, coordinator):
    visit = book(consented, plan["screening"], coordinator)

    with pytest.raises(RecruitmentError, match="not started yet"):
        visit_outcome_record(visit=visit, outcome=VisitStatus.MISSED, by=coordinator)

    visit.refresh_from_db()
    assert visit.status == VisitStatus.BOOKED


def test_an_outcome_is_final(consented, plan, coordinator, time_machine):
    visit = book(consented, plan["screening"], coordinator)
    time_machine.move_to(at(10, 12), tick=False)
    visit_outcome_record(visit=visit, outcome=VisitStatus.ATTENDED, by=coordinator)

    for change in (
        lambda: visit_outcome_record(visit=visit, outcome=VisitStatus.MISSED, by=coordinator),
        lambda: visit_cancel(visit=visit, by=coordinator, reason="Oops"),
        lambda: visit_rebook(
            visit=visit, starts_at=at(14), place="A", with_whom="B", by=coordinator, reason="C"
        ),
    ):
        with pytest.raises(RecruitmentError, match="already attended"):
            change()


def test_only_attended_or_missed_are_outcomes(consented, plan, coordinator):
    visit = book(consented, plan["screening"], coordinator)

    with pytest.raises(RecruitmentError, match=str(services.VISIT_OUTCOME_UNKNOWN)):
        visit_outcome_record(visit=visit, outcome=VisitStatus.CANCELLED, by=coordinator)
