"""Fixtures shared by the screening tests."""

import pytest

from recruitment.models import Status
from tests.factories import LDN_ELIGIBLE_ANSWERS, submit, walk


@pytest.fixture
def screened(ldn_study, coordinator):
    """An LDN applicant whose every answer on the form meets the criteria, now in screening;
    lab values not yet entered."""
    return walk(submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS), Status.SCREENING, by=coordinator)
