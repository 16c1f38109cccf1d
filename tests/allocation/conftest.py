"""What the allocation tests share: a small study, its unblinded statistician, a sealed list
uploaded through the service, and consented participants ready to enroll."""

import pytest

from accounts import roles
from recruitment.allocation.services import allocation_list_upload
from recruitment.models import Status
from tests.factories import StudyFactory, participants_bulk, staff

# Arm names no other text of a page or an export could contain by chance.
ARM_A = "ARM-LDN-THEN-PLACEBO"
ARM_B = "ARM-PLACEBO-THEN-LDN"
ARMS = [ARM_A, ARM_B]


def csv_bytes(*lines: str, header: str = "sequence,stratum,arm,pack_code") -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode()


FOUR_ROWS = csv_bytes(
    f"1,,{ARM_A},K-0001",
    f"2,,{ARM_B},K-0002",
    f"3,,{ARM_B},K-0003",
    f"4,,{ARM_A},K-0004",
)


def upload(study, by, content=FOUR_ROWS, *, arms=ARMS, strata=(), filename="list.csv"):
    return allocation_list_upload(
        study=study,
        content=content,
        filename=filename,
        arms=list(arms),
        strata=list(strata),
        by=by,
    )


@pytest.fixture
def study():
    return StudyFactory(target_enrolment=40)


@pytest.fixture
def staff_study(study):
    """The role fixtures (coordinator, investigator, monitor) work on the allocation study."""
    return study


@pytest.fixture
def statistician(study):
    return staff(
        "statistician",
        roles.UNBLINDED_STATISTICIAN,
        study,
        password=None,
        email="stats@example.edu",
    )


@pytest.fixture
def sealed(study, statistician):
    """The study with its sealed four-row list (no strata)."""
    return upload(study, statistician)


@pytest.fixture
def consented(study, coordinator):
    """Three consented participants, ready to enroll."""
    return participants_bulk(study, 3, status=Status.CONSENTED, by=coordinator)
