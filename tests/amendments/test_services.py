import pytest

from recruitment.amendments import services
from recruitment.amendments.services import CriteriaDraftError
from recruitment.models import CriteriaDraft, CriterionVersion, EligibilityCriterion
from tests.amendments.conftest import with_params

pytestmark = pytest.mark.django_db


def test_a_new_draft_copies_the_active_criteria_in_the_forms_order(ldn_study, investigator):
    draft = services.criteria_draft_create(study=ldn_study, by=investigator, note="Amendment 3")

    live = list(ldn_study.criteria.active().order_by("order", "pk"))
    assert [item["code"] for item in draft.criteria] == [c.code for c in live]
    assert draft.criteria[0] == services.criterion_as_draft(live[0])
    assert draft.base_version == ldn_study.criteria_version
    assert draft.history.get().history_user == investigator


def test_editing_a_draft_changes_no_live_criterion(ldn_study, investigator):
    draft = services.criteria_draft_create(study=ldn_study, by=investigator)
    version = ldn_study.criteria_version

    services.criteria_draft_update(
        draft=draft, by=investigator, criteria=with_params(draft, "opioids", months=2)
    )

    assert ldn_study.criteria.get(code="opioids").params == {"months": 3}
    ldn_study.refresh_from_db()
    assert ldn_study.criteria_version == version
    draft.refresh_from_db()
    assert next(c for c in draft.criteria if c["code"] == "opioids")["params"] == {"months": 2}
    assert draft.history.first().history_change_reason == "Draft edited"


def test_a_draft_with_bad_params_is_refused_naming_the_criterion_and_nothing_is_saved(
    ldn_study, investigator
):
    draft = services.criteria_draft_create(study=ldn_study, by=investigator)
    before = list(draft.criteria)

    with pytest.raises(CriteriaDraftError) as refused:
        services.criteria_draft_update(
            draft=draft, by=investigator, criteria=with_params(draft, "opioids", months=-1)
        )

    assert [field for field, _m in refused.value.problems["opioids"]] == ["params"]
    draft.refresh_from_db()
    assert draft.criteria == before


def test_a_draft_may_not_use_one_code_twice(ldn_study, investigator):
    draft = services.criteria_draft_create(study=ldn_study, by=investigator)

    with pytest.raises(CriteriaDraftError) as refused:
        services.criteria_draft_update(
            draft=draft, by=investigator, criteria=[*draft.criteria, draft.criteria[0]]
        )

    assert draft.criteria[0]["code"] in refused.value.problems


def test_publishing_loads_the_draft_as_the_next_criteria_version(ldn_study, investigator):
    draft = services.criteria_draft_create(study=ldn_study, by=investigator)
    criteria = [c for c in with_params(draft, "opioids", months=2) if c["code"] != "other-trial"]
    criteria.append(
        {
            **services.criterion_as_draft(ldn_study.criteria.get(code="allergy")),
            "code": "new-check",
            "title": "A new check",
            "translations": {},
        }
    )
    services.criteria_draft_update(draft=draft, by=investigator, criteria=criteria)
    version = ldn_study.criteria_version

    draft = services.criteria_draft_publish(draft=draft, by=investigator)

    ldn_study.refresh_from_db()
    assert ldn_study.criteria_version == version + 1 == draft.published_version
    opioids = ldn_study.criteria.get(code="opioids")
    assert opioids.params == {"months": 2}
    assert opioids.version == 2
    assert not ldn_study.criteria.get(code="other-trial").is_active
    assert ldn_study.criteria.get(code="new-check").is_active
    assert draft.published_by == investigator and draft.published_at is not None
    assert draft.history.first().history_change_reason.startswith("Published: ")


def test_the_form_after_publishing_judges_by_the_new_version_and_keeps_the_old(
    ldn_study, investigator
):
    from recruitment.evaluation import criterion_version_ids

    draft = services.criteria_draft_create(study=ldn_study, by=investigator)
    services.criteria_draft_update(
        draft=draft, by=investigator, criteria=with_params(draft, "opioids", months=2)
    )
    opioids = ldn_study.criteria.get(code="opioids")
    criterion_version_ids([opioids])  # the version a verdict judged before would point at

    services.criteria_draft_publish(draft=draft, by=investigator)
    opioids.refresh_from_db()
    criterion_version_ids([opioids])

    snapshots = [v.snapshot["params"] for v in CriterionVersion.objects.filter(criterion=opioids)]
    assert sorted(snapshots, key=str) == [{"months": 2}, {"months": 3}]


def test_a_published_draft_cannot_change_or_be_published_again(ldn_study, investigator):
    draft = services.criteria_draft_create(study=ldn_study, by=investigator)
    services.criteria_draft_update(
        draft=draft, by=investigator, criteria=with_params(draft, "opioids", months=2)
    )
    draft = services.criteria_draft_publish(draft=draft, by=investigator)

    with pytest.raises(CriteriaDraftError, match="published"):
        services.criteria_draft_update(draft=draft, by=investigator, criteria=draft.criteria)
    with pytest.raises(CriteriaDraftError, match="published"):
        services.criteria_draft_publish(draft=draft, by=investigator)


def test_a_draft_older_than_the_live_criteria_is_not_published(ldn_study, investigator):
    older = services.criteria_draft_create(study=ldn_study, by=investigator)
    services.criteria_draft_update(
        draft=older, by=investigator, criteria=with_params(older, "opioids", months=2)
    )
    newer = services.criteria_draft_create(study=ldn_study, by=investigator)
    services.criteria_draft_update(
        draft=newer, by=investigator, criteria=with_params(newer, "recent-ldn", required="yes")
    )
    services.criteria_draft_publish(draft=newer, by=investigator)

    with pytest.raises(CriteriaDraftError, match="changed after this draft"):
        services.criteria_draft_publish(draft=older, by=investigator)

    assert ldn_study.criteria.get(code="opioids").params == {"months": 3}
    assert CriteriaDraft.objects.get(pk=older.pk).published_at is None


def test_a_draft_that_changes_nothing_is_not_published(ldn_study, investigator):
    draft = services.criteria_draft_create(study=ldn_study, by=investigator)
    version = ldn_study.criteria_version

    with pytest.raises(CriteriaDraftError, match="nothing to publish"):
        services.criteria_draft_publish(draft=draft, by=investigator)

    ldn_study.refresh_from_db()
    assert ldn_study.criteria_version == version
    assert EligibilityCriterion.objects.filter(study=ldn_study, version__gt=1).count() == 0


def test_publishing_rematches_the_registry_by_the_new_criteria(
    ldn_study, investigator, django_capture_on_commit_callbacks
):
    from recruitment.models import RegistryMatch, SharedQuestion
    from tests.registry.conftest import answer, registry_person

    member = registry_person(email="member@example.com")
    answer(member, SharedQuestion.objects.get(code="last_opioid_dose"), {"taken": "no"})
    draft = services.criteria_draft_create(study=ldn_study, by=investigator)
    services.criteria_draft_update(
        draft=draft, by=investigator, criteria=with_params(draft, "opioids", months=2)
    )

    with django_capture_on_commit_callbacks(execute=True):
        draft = services.criteria_draft_publish(draft=draft, by=investigator)

    match = RegistryMatch.objects.get(person=member, study=ldn_study)
    assert match.criteria_version == draft.published_version
