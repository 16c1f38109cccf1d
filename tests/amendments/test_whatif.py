import csv
import io

import pytest

from recruitment.amendments import services, whatif
from recruitment.models import Outcome
from recruitment.reports.exports import csv_stream
from tests.amendments.conftest import clean_applicant, opioid_user, with_params
from tests.dates import TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(ldn_study, investigator):
    return services.criteria_draft_create(study=ldn_study, by=investigator)


def draft_with(draft, investigator, code, **params):
    return services.criteria_draft_update(
        draft=draft, by=investigator, criteria=with_params(draft, code, **params)
    )


def counts(result) -> dict:
    return {o.outcome: (o.before, o.after) for o in result.outcomes if o.before or o.after}


def test_a_shorter_washout_moves_those_whose_last_dose_falls_between_the_two(
    ldn_study, draft, investigator
):
    opioid_user(ldn_study, "2026-09-10")  # over 2 months ago, under 3
    opioid_user(ldn_study, "2026-10-20")  # under 2 months ago: waiting either way
    clean_applicant(ldn_study)
    draft = draft_with(draft, investigator, "opioids", months=2)

    result = whatif.whatif_summarise(draft=draft, today=TODAY)

    assert result.people == result.applicants == 3
    assert result.changed == 1
    assert counts(result) == {
        Outcome.LIKELY_ELIGIBLE: (1, 2),
        Outcome.ELIGIBLE_FROM: (2, 1),
    }
    opioids = next(c for c in result.criteria if c.code == "opioids")
    assert (opioids.change, opioids.now_failing, opioids.would_fail) == ("changed", 2, 1)
    assert (opioids.newly_failing, opioids.newly_met, opioids.moved_outcome) == (0, 1, 1)
    assert result.moves == [
        (str(Outcome.ELIGIBLE_FROM.label), str(Outcome.LIKELY_ELIGIBLE.label), 1)
    ]


def test_an_unchanged_criterion_is_counted_but_moves_nobody(ldn_study, draft, investigator):
    opioid_user(ldn_study, "2026-10-20")
    draft = draft_with(draft, investigator, "opioids", months=2)

    result = whatif.whatif_summarise(draft=draft, today=TODAY)

    pregnancy = next(c for c in result.criteria if c.code == "pregnancy")
    assert (pregnancy.change, pregnancy.now_failing, pregnancy.moved_outcome) == ("same", 0, 0)
    assert result.changed == 0


def test_a_washout_in_days_counts_those_now_failing_it_who_would_meet_it(
    ldn_study, draft, investigator
):
    for last in ("2026-10-01", "2026-10-20", "2026-11-20"):
        opioid_user(ldn_study, last)
    draft = draft_with(draft, investigator, "opioids", days=30)

    result = whatif.whatif_summarise(draft=draft, today=TODAY)

    opioids = next(c for c in result.criteria if c.code == "opioids")
    assert (opioids.now_failing, opioids.would_fail, opioids.newly_met) == (3, 1, 2)
    assert counts(result)[Outcome.LIKELY_ELIGIBLE] == (0, 2)


def test_a_removed_criterion_no_longer_fails_anyone(ldn_study, draft, investigator):
    participant = clean_applicant(ldn_study)
    answer = participant.answers.get(criterion__code="pregnancy")
    answer.value = "yes"
    answer.save()
    criteria = [c for c in draft.criteria if c["code"] != "pregnancy"]
    draft = services.criteria_draft_update(draft=draft, by=investigator, criteria=criteria)

    result = whatif.whatif_summarise(draft=draft, today=TODAY)

    pregnancy = next(c for c in result.criteria if c.code == "pregnancy")
    assert (pregnancy.change, pregnancy.now_failing, pregnancy.would_fail) == ("removed", 1, 0)
    assert counts(result) == {
        Outcome.LIKELY_INELIGIBLE: (1, 0),
        Outcome.LIKELY_ELIGIBLE: (0, 1),
    }


def test_an_added_criterion_nobody_answered_puts_everyone_in_review(ldn_study, draft, investigator):
    clean_applicant(ldn_study)
    clean_applicant(ldn_study)
    allergy = next(c for c in draft.criteria if c["code"] == "allergy")
    new = {**allergy, "code": "new-question", "title": "New question"}
    new["translations"] = {}
    draft = services.criteria_draft_update(
        draft=draft, by=investigator, criteria=[*draft.criteria, new]
    )

    result = whatif.whatif_summarise(draft=draft, today=TODAY)

    added = next(c for c in result.criteria if c.code == "new-question")
    assert (added.change, added.now_unsure, added.would_be_unsure) == ("added", 0, 2)
    assert counts(result) == {Outcome.LIKELY_ELIGIBLE: (2, 0), Outcome.NEEDS_REVIEW: (0, 2)}


def test_erased_applicants_are_not_judged(ldn_study, draft):
    from django.utils import timezone

    kept = clean_applicant(ldn_study)
    erased = clean_applicant(ldn_study)
    erased.erased_at = timezone.now()
    erased.save(update_fields=["erased_at"])

    result = whatif.whatif_summarise(draft=draft, today=TODAY)

    assert result.people == 1
    assert kept.pk


def test_the_what_if_reads_in_chunks_with_the_same_queries_for_3_and_30_applicants(
    ldn_study, draft, investigator, django_assert_max_num_queries
):
    for n in range(30):
        opioid_user(ldn_study, f"2026-09-{n % 28 + 1:02d}")
    draft = draft_with(draft, investigator, "opioids", months=2)

    # 2 for the criteria, 2 per chunk of applicants, 2 for the registry (its questions, and
    # the first chunk of its members: none here).
    with django_assert_max_num_queries(2 + 2 * 3 + 2):
        small = whatif.whatif_summarise(draft=draft, today=TODAY, chunk=12)
    with django_assert_max_num_queries(2 + 2 * 3 + 2):
        rows = list(whatif.whatif_rows(draft=draft, today=TODAY, chunk=12))

    assert small.people == len(rows) == 30


def test_the_export_has_random_row_ids_and_no_identity(ldn_study, draft, investigator):
    people = [opioid_user(ldn_study, "2026-09-10") for _ in range(3)]
    draft = draft_with(draft, investigator, "opioids", months=2)

    text = "".join(
        csv_stream(whatif.whatif_header(draft=draft), whatif.whatif_rows(draft=draft, today=TODAY))
    )

    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 3
    assert {r["outcome now"] for r in rows} == {"eligible_from"}
    assert {r["outcome if published"] for r in rows} == {"likely_eligible"}
    assert {r["opioids now"] for r in rows} == {"not_met"}
    assert {r["opioids if published"] for r in rows} == {"met"}
    assert len({r["row"] for r in rows}) == 3
    for person in people:
        for secret in (person.screening_number, person.first_name, person.email, str(person.pk)):
            assert secret not in {cell for r in rows for cell in r.values()}
        assert person.screening_number not in text and person.email not in text


def test_registry_members_are_judged_by_their_shared_answers_and_applicants_only_once(
    ldn_study, draft, investigator
):
    from django.utils import timezone

    from recruitment.models import SharedQuestion
    from tests.registry.conftest import answer, registry_person

    opioid = SharedQuestion.objects.get(code="last_opioid_dose")
    member = registry_person(email="member@example.com")
    answer(member, opioid, {"taken": "yes", "last": "2026-09-10"})
    stale = registry_person(email="stale@example.com")
    answer(stale, opioid, {"taken": "no"}, on=TODAY.replace(year=2025))
    left = registry_person(email="left@example.com", registry_left_at=timezone.now())
    answer(left, opioid, {"taken": "yes", "last": "2026-09-10"})
    applied = opioid_user(ldn_study, "2026-09-10")
    applied.person.registry_consent = True
    applied.person.registry_consent_at = timezone.now()
    applied.person.save()
    draft = draft_with(draft, investigator, "opioids", months=2)

    result = whatif.whatif_summarise(draft=draft, today=TODAY)

    assert (result.applicants, result.registry) == (1, 2)
    opioids = next(c for c in result.criteria if c.code == "opioids")
    # The applicant and the member fail it now and would meet it; the stale answer is unknown.
    assert (opioids.now_failing, opioids.newly_met, opioids.now_unsure) == (2, 2, 1)


def test_the_what_if_judges_as_the_engine_does_person_by_person(ldn_study, draft, investigator):
    from recruitment import eligibility
    from recruitment.amendments.whatif import CriteriaJudge, draft_rules

    for last in ("2026-09-10", "2026-10-20", "2026-11-20", "2026-09-10"):
        opioid_user(ldn_study, last)
    clean_applicant(ldn_study)
    draft = draft_with(draft, investigator, "opioids", days=45)
    rules = draft_rules(draft.criteria)
    judge = CriteriaJudge(rules, TODAY)
    codes = dict(ldn_study.criteria.values_list("pk", "code"))

    for chunk in whatif.applicants_iter(study=ldn_study, codes=codes):
        for applicant, answers in chunk:
            expected = eligibility.evaluate(rules, answers, applicant=applicant, today=TODAY)
            assert judge(answers, applicant) == expected
