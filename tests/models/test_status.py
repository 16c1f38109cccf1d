"""The status machine's tables (recruitment/models/status.py): every status has its FHIR code and
a route from `new` through the allowed transitions."""

import pytest

from recruitment.models import ALLOWED_TRANSITIONS, FHIR_STATUS, ROUTE_FROM_NEW, Status


def test_every_status_has_its_fhir_research_subject_code():
    assert FHIR_STATUS == {
        "new": "potential-candidate",
        "screening": "screening",
        "eligible": "eligible",
        "ineligible": "ineligible",
        "waitlisted": "eligible",
        "consented": "pending-on-study",
        "run_in": "pending-on-study",
        "enrolled": "on-study",
        "completed": "off-study",
        "withdrawn": "off-study",
        "declined": "not-registered",
    }


def test_every_status_has_a_route_from_new():
    assert set(ROUTE_FROM_NEW) == set(Status)


@pytest.mark.parametrize("status", list(Status), ids=lambda s: s.value)
def test_each_route_from_new_is_a_path_through_the_allowed_transitions(status):
    here = Status.NEW
    for step in ROUTE_FROM_NEW[status]:
        assert step in ALLOWED_TRANSITIONS[here], f"{here} → {step}"
        here = step
    assert here == status
