"""The migrations that moved each verdict's copy of its criterion into shared version rows
keep every verdict's text and rule exactly, both ways."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from recruitment.models import CriterionVerdict, CriterionVersion, EligibilityCriterion
from recruitment.studies.services import study_criteria_changed
from tests.factories import LDN_ELIGIBLE_ANSWERS, submit

BEFORE = [("recruitment", "0013_study_call_script")]


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def head() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_every_verdict_keeps_its_criterion_as_judged_through_the_migrations(ldn_study):
    first = submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS, email="a@example.com")
    liver = EligibilityCriterion.objects.get(code="liver")
    liver.question = "Has a doctor ever said your liver is sick?"
    liver.save()
    study_criteria_changed(study=ldn_study, criteria=[liver])
    second = submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS, email="b@example.com")
    judged = {
        (v.participant_id, v.criterion_id): v.criterion_snapshot
        for v in CriterionVerdict.objects.select_related("criterion_version")
    }
    assert len({str(s) for s in judged.values()}) == CriterionVersion.objects.count()
    assert len(judged) == 36

    try:
        executor = migrate(BEFORE)
        # Before: each verdict holds its own copy, the same text and rule.
        old = executor.loader.project_state(BEFORE[0]).apps.get_model(
            "recruitment", "CriterionVerdict"
        )
        copies = {
            (participant, criterion): snapshot
            for participant, criterion, snapshot in old.objects.values_list(
                "participant_id", "criterion_id", "criterion_snapshot"
            )
        }
        assert copies == judged
    finally:
        migrate(head())

    # After: one version row per distinct (criterion, text and rule), every verdict at its own.
    from recruitment.evaluation import criterion_versions_forget

    criterion_versions_forget()
    after = {
        (v.participant_id, v.criterion_id): v.criterion_snapshot
        for v in CriterionVerdict.objects.select_related("criterion_version")
    }
    assert after == judged
    assert CriterionVersion.objects.count() == ldn_study.criteria.active().count() + 1
    liver_versions = {
        v.criterion_snapshot["question"]
        for v in CriterionVerdict.objects.filter(criterion__code="liver").select_related(
            "criterion_version"
        )
    }
    assert liver_versions == {
        "Do you have liver disease or hepatitis?",
        "Has a doctor ever said your liver is sick?",
    }
    assert first.verdicts.count() == second.verdicts.count() == 18
