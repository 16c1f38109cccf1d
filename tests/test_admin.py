import json

import pytest
from django.urls import reverse

from recruitment import roles
from recruitment.models import EligibilityCriterion, Study
from recruitment.services import roles_ensure
from tests.factories import LDN_ELIGIBLE_ANSWERS, StaffFactory, StudyFactory, UserFactory, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator(ldn_study):
    user = StaffFactory(username="coord")
    user.groups.add(roles_ensure()[roles.COORDINATOR])
    ldn_study.members.add(user)
    return user


def change_url(participant):
    return reverse("admin:recruitment_participant_change", args=[participant.pk])


def test_a_coordinator_sees_the_evaluation_explained_for_every_criterion(
    client, coordinator, ldn_study
):
    participant = submit(ldn_study, answers={**LDN_ELIGIBLE_ANSWERS, "pregnancy": "yes"})
    client.force_login(coordinator)

    response = client.get(change_url(participant))

    html = response.content.decode()
    assert response.status_code == 200
    assert "LDN-S-0001" in html
    assert "Likely ineligible" in html
    for verdict in participant.verdicts.all():
        assert (
            verdict.criterion_snapshot["title"] in html
            or verdict.criterion_snapshot["title"].replace("'", "&#x27;") in html
        )
        assert verdict.reason in html
    assert "Answered yes; needs no." in html
    assert "Self-reported" in html
    assert "Assessed by staff at screening; not yet entered." in html
    assert 'name="_save"' not in html  # read-only until the screening workflow lands


def test_the_participant_list_shows_outcome_and_links_possible_duplicates(
    client, coordinator, ldn_study
):
    first = submit(ldn_study)
    submit(ldn_study, email="ANN.LEE@example.com")
    client.force_login(coordinator)

    response = client.get(reverse("admin:recruitment_participant_changelist"))

    html = response.content.decode()
    assert "LDN-S-0001" in html and "LDN-S-0002" in html
    assert f'<a href="../../{first.pk}/change/">LDN-S-0001</a>' in html


@pytest.mark.parametrize("rows", [3, 30])
def test_the_participant_list_runs_a_fixed_number_of_queries(
    client, coordinator, ldn_study, rows, django_assert_max_num_queries
):
    for n in range(rows):
        submit(ldn_study, email=f"p{n}@example.com", phone="", first_name=f"P{n}")
    client.force_login(coordinator)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:recruitment_participant_changelist"))

    assert response.status_code == 200


def test_the_participant_search_finds_by_screening_number_and_email(client, coordinator, ldn_study):
    submit(ldn_study)
    submit(ldn_study, email="bo@example.com", phone="205-555-0177", first_name="Bo")
    client.force_login(coordinator)
    url = reverse("admin:recruitment_participant_changelist")

    assert "LDN-S-0002" in client.get(url, {"q": "bo@example.com"}).content.decode()
    assert "LDN-S-0001" not in client.get(url, {"q": "LDN-S-0002"}).content.decode()


def test_staff_of_another_study_cannot_see_its_participants(client, ldn_study):
    participant = submit(ldn_study)
    outsider = StaffFactory(username="outsider")
    outsider.groups.add(roles_ensure()[roles.COORDINATOR])
    StudyFactory().members.add(outsider)
    client.force_login(outsider)

    listing = client.get(reverse("admin:recruitment_participant_changelist"))
    detail = client.get(change_url(participant))

    assert "LDN-S-0001" not in listing.content.decode()
    assert detail.status_code == 302  # the admin's "does not exist" redirect to its index


def test_anonymous_and_non_staff_users_are_sent_to_the_login(client, ldn_study):
    participant = submit(ldn_study)

    anonymous = client.get(change_url(participant))
    client.force_login(UserFactory())
    non_staff = client.get(change_url(participant))

    for response in (anonymous, non_staff):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_coordinators_cannot_change_or_delete_participants_or_studies(
    client, coordinator, ldn_study
):
    participant = submit(ldn_study)
    client.force_login(coordinator)

    post = client.post(change_url(participant), {"first_name": "Changed"})
    delete = client.post(
        reverse("admin:recruitment_participant_delete", args=[participant.pk]), {"post": "yes"}
    )
    study_edit = client.post(
        reverse("admin:recruitment_study_change", args=[ldn_study.pk]), {"title": "Changed"}
    )

    assert post.status_code == 403
    assert delete.status_code == 403
    assert study_edit.status_code == 403
    participant.refresh_from_db()
    assert participant.first_name == "Ann"
    assert Study.objects.get(pk=ldn_study.pk).title != "Changed"


def test_a_superuser_edit_of_a_criterion_in_the_admin_makes_a_new_version(admin_client, ldn_study):
    url = reverse("admin:recruitment_study_change", args=[ldn_study.pk])
    form = admin_client.get(url).context["adminform"].form
    inline = admin_client.get(url).context["inline_admin_formsets"][0].formset
    data = {
        name: value
        for name, value in {**form.initial, **{"members": []}}.items()
        if value is not None
    }
    data.update(
        {
            f"{inline.prefix}-TOTAL_FORMS": str(len(inline.forms)),
            f"{inline.prefix}-INITIAL_FORMS": str(len(inline.forms)),
            f"{inline.prefix}-MIN_NUM_FORMS": "0",
            f"{inline.prefix}-MAX_NUM_FORMS": "1000",
        }
    )
    for i, sub in enumerate(inline.forms):
        for name, value in sub.initial.items():
            if name in sub.fields and value is not None:
                data[f"{inline.prefix}-{i}-{name}"] = (
                    json.dumps(value) if name == "params" else value
                )
        data[f"{inline.prefix}-{i}-id"] = sub.instance.pk
        data[f"{inline.prefix}-{i}-study"] = ldn_study.pk
        if sub.instance.code == "age":
            data[f"{inline.prefix}-{i}-params"] = '{"min": 18, "max": 70}'
    data = {k: v for k, v in data.items() if v is not False}

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["errors"] if response.context else ""
    age = EligibilityCriterion.objects.get(study=ldn_study, code="age")
    assert age.params == {"min": 18, "max": 70}
    assert age.version == 2
    assert EligibilityCriterion.objects.get(study=ldn_study, code="liver").version == 1
    assert Study.objects.get(pk=ldn_study.pk).criteria_version == 2
