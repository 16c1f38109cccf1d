"""The admin queues a re-matching of the registry when a study opens for recruiting or an
investigator amends its criteria; the request itself matches nobody."""

from django.urls import reverse

from recruitment.models import RegistryMatch, Study
from tests.admin_posts import form_data
from tests.registry.conftest import registry_person


def study_url(study):
    return reverse("admin:recruitment_study_change", args=[study.pk])


def post(client, study, callbacks_fixture, **changes):
    page = client.get(study_url(study))
    with callbacks_fixture() as callbacks:
        response = client.post(study_url(study), form_data(page, **changes))
    assert response.status_code == 302
    return callbacks


def test_opening_a_study_in_the_admin_matches_the_registry_after_the_request(
    client, investigator, ldn_study, django_capture_on_commit_callbacks
):
    Study.objects.filter(pk=ldn_study.pk).update(is_recruiting=False)
    registry_person()
    client.force_login(investigator)

    callbacks = post(client, ldn_study, django_capture_on_commit_callbacks, is_recruiting="on")

    assert not RegistryMatch.objects.exists()  # not in the request
    assert len(callbacks) == 1
    callbacks[0]()  # the queued task (the tests' immediate backend runs it)
    assert RegistryMatch.objects.filter(study=ldn_study).count() == 1


def test_saving_a_study_without_opening_it_or_changing_criteria_queues_nothing(
    client, investigator, ldn_study, django_capture_on_commit_callbacks
):
    client.force_login(investigator)

    callbacks = post(
        client, ldn_study, django_capture_on_commit_callbacks, summary="A new summary."
    )

    assert callbacks == []


def test_naming_a_shared_question_in_the_admin_is_a_criteria_change_that_queues_a_rematch(
    client, investigator, ldn_study, django_capture_on_commit_callbacks
):
    client.force_login(investigator)
    page = client.get(study_url(ldn_study))
    inline = page.context["inline_admin_formsets"][0].formset
    attend = next(i for i, f in enumerate(inline.forms) if f.instance.code == "can-attend")
    question = ldn_study.criteria.get(code="diagnosis").shared_question

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            study_url(ldn_study),
            form_data(page, **{f"{inline.prefix}-{attend}-shared_question": question.pk}),
        )

    assert response.status_code == 302
    assert len(callbacks) == 1
    assert ldn_study.criteria.get(code="can-attend").version == 2


def test_the_study_page_reads_the_shared_questions_once_whatever_the_number_of_criteria(
    client, investigator, ldn_study
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import CriterionFactory

    client.force_login(investigator)
    client.get(study_url(ldn_study))
    with CaptureQueriesContext(connection) as before:
        client.get(study_url(ldn_study))
    for _ in range(5):
        CriterionFactory(study=ldn_study)
    with CaptureQueriesContext(connection) as after:
        response = client.get(study_url(ldn_study))

    assert response.status_code == 200
    assert len(after.captured_queries) == len(before.captured_queries)
    shared = [q for q in after.captured_queries if "recruitment_sharedquestion" in q["sql"]]
    assert len(shared) == 1
