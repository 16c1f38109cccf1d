import pytest
import time_machine

from tests.dates import NOV_25
from tests.factories import LDN_ELIGIBLE_ANSWERS, applicant


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOV_25, tick=False):
        yield


def opioid_user(study, last: str):
    """An applicant eligible but for an opioid taken on `last` (ISO date)."""
    return applicant(
        study, answers={**LDN_ELIGIBLE_ANSWERS, "opioids": {"taken": "yes", "last": last}}
    )


def clean_applicant(study):
    return applicant(study, answers=dict(LDN_ELIGIBLE_ANSWERS))


def with_params(draft, code: str, **params) -> list[dict]:
    """The draft's criteria with one criterion's params replaced."""
    return [
        {**item, "params": params} if item["code"] == code else dict(item)
        for item in draft.criteria
    ]
