"""The pages of the rule-out, verify-answers and staff-note steps read a fixed number of queries,
whatever the size of the study (10 or 1,000 other participants)."""

import pytest
from django.urls import reverse

from recruitment.screening.staff_notes import staff_note_add
from tests.factories import LDN_ELIGIBLE_ANSWERS, applicant, participants_bulk

pytestmark = pytest.mark.django_db

# Likely ineligible (two exclusions met), and one answer "not sure".
ANSWERS = {**LDN_ELIGIBLE_ANSWERS, "allergy": "yes", "liver": "yes", "can-attend": "unsure"}
# The participant page with the "Rule out" and "Verify answers (1 not sure)" buttons and the
# staff notes shown.
# The participant page's call card also lists the person's other applications (one query).
# The verdicts' lists (the rule-out gate, the page's inline, the call card) each read the
# study's active criteria for the staff checks not entered, which are not stored: one query.
PAGE_QUERIES = {"rule_out": 8, "verify": 8, "note": 6, "change": 24}


@pytest.mark.parametrize("others", [10, 1_000])
@pytest.mark.parametrize("name", PAGE_QUERIES)
def test_each_step_s_page_runs_a_fixed_number_of_queries(
    coord_client, coordinator, ldn_study, others, name, django_assert_max_num_queries
):
    participants_bulk(ldn_study, others)
    participant = applicant(ldn_study, answers=ANSWERS)
    for n in range(3):
        staff_note_add(participant=participant, text=f"Note {n}", by=coordinator)
    url = reverse(f"admin:recruitment_participant_{name}", args=[participant.pk])
    coord_client.get(url)  # a worker's first request fills Django's caches

    with django_assert_max_num_queries(PAGE_QUERIES[name]):
        response = coord_client.get(url)

    assert response.status_code == 200
    if name in ("note", "change"):
        html = response.content.decode()
        assert html.index("Note 2") < html.index("Note 1") < html.index("Note 0")  # newest first
