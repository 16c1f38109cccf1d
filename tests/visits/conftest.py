"""Fixtures shared by the visits tests: the clock on a Monday morning in Birmingham, and an
LDN participant who consented that day."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from recruitment.models import PlannedVisit, Status
from tests.factories import LDN_ELIGIBLE_ANSWERS, submit, walk
from tests.notifications.conftest import database_queue, smtp_server  # noqa: F401 - fixtures

SITE = ZoneInfo("America/Chicago")
# Monday 7 December 2026, 9:00 in Birmingham (15:00 UTC).
DEC_7 = dt.datetime(2026, 12, 7, 9, tzinfo=SITE)
CONSENTED_ON = DEC_7.date()


def at(day: int, hour: int = 10, minute: int = 0, month: int = 12) -> dt.datetime:
    """A local time at the site in December 2026 (or `month`)."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SITE)


@pytest.fixture
def now(time_machine):
    time_machine.move_to(DEC_7, tick=False)
    return DEC_7


@pytest.fixture
def consented(now, ldn_study, coordinator):
    """An LDN participant who consented today (Dec 7)."""
    return walk(submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS), Status.CONSENTED, by=coordinator)


@pytest.fixture
def plan(ldn_study) -> dict[str, PlannedVisit]:
    return {p.code: p for p in ldn_study.planned_visits.all()}
