"""The visit plan in the study's admin page: investigators amend it (a new version, with who
and why in its history); the others only read it."""

import pytest
from django.urls import reverse

from recruitment.models import PlannedVisit
from tests.admin_posts import form_data

pytestmark = pytest.mark.django_db


def study_url(study):
    return reverse("admin:recruitment_study_change", args=[study.pk])


def plan_inline(page):
    (formset,) = [
        f.formset for f in page.context["inline_admin_formsets"] if f.formset.model is PlannedVisit
    ]
    return formset


def test_an_investigator_amends_a_window_and_the_planned_visit_gets_a_new_version(
    client, investigator, ldn_study
):
    client.force_login(investigator)
    page = client.get(study_url(ldn_study))
    inline = plan_inline(page)
    row = next(i for i, f in enumerate(inline.forms) if f.instance.code == "baseline-end")

    response = client.post(
        study_url(ldn_study), form_data(page, **{f"{inline.prefix}-{row}-days_after": "5"})
    )

    assert response.status_code == 302, response.context["errors"] if response.context else ""
    amended = PlannedVisit.objects.get(study=ldn_study, code="baseline-end")
    assert (amended.days_after, amended.version) == (5, 2)
    latest = amended.history.order_by("history_id").last()
    assert (latest.history_user, latest.history_change_reason) == (
        investigator,
        "Edited in the admin",
    )
    assert PlannedVisit.objects.get(study=ldn_study, code="first-dose").version == 1


def test_a_bad_translation_of_a_planned_visit_is_a_form_error(client, investigator, ldn_study):
    client.force_login(investigator)
    page = client.get(study_url(ldn_study))
    inline = plan_inline(page)

    response = client.post(
        study_url(ldn_study),
        form_data(page, **{f"{inline.prefix}-0-translations": '{"fr": {"name": "Visite"}}'}),
    )

    assert response.status_code == 200
    assert PlannedVisit.objects.get(study=ldn_study, code="screening").translations["es"]


def test_a_coordinator_reads_the_plan_but_cannot_change_it(client, coordinator, ldn_study):
    client.force_login(coordinator)

    page = client.get(study_url(ldn_study))
    refused = client.post(study_url(ldn_study), form_data(page))

    assert page.status_code == 200
    assert "Start of the baseline weeks" in page.content.decode()
    assert refused.status_code == 403
