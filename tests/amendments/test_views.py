import pytest
from django.urls import reverse

from recruitment.amendments import services
from recruitment.models import CriteriaDraft
from tests.amendments.conftest import opioid_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def inv_client(client, investigator):
    client.force_login(investigator)
    return client


def amendments_url(study):
    return reverse("staff:amendments", args=[study.slug])


def draft_url(draft):
    return reverse("staff:amendment", args=[draft.study.slug, draft.pk])


def edit_data(draft, **changes) -> dict:
    """The draft page's edit form as the browser posts it, with `changes` on top."""
    data = {"save": "1", "note": draft.note}
    for i, item in enumerate(draft.criteria):
        for name in ("title", "question", "hint", "rule_kind"):
            data[f"{name}_{i}"] = item[name]
        import json

        data[f"params_{i}"] = json.dumps(item["params"])
    data.update(changes)
    return data


def place(draft, code):
    return next(i for i, item in enumerate(draft.criteria) if item["code"] == code)


def test_an_investigator_starts_a_draft_from_the_amendments_page(ldn_study, inv_client):
    response = inv_client.post(amendments_url(ldn_study), {"note": "Amendment 3"})

    draft = CriteriaDraft.objects.get()
    assert response.status_code == 302 and response["Location"] == draft_url(draft)
    assert draft.note == "Amendment 3"
    page = inv_client.get(amendments_url(ldn_study)).content.decode()
    assert "Amendment 3" in page and "Not published" in page


def test_the_dashboard_links_investigators_to_the_amendments(ldn_study, inv_client):
    page = inv_client.get(reverse("staff:dashboard")).content.decode()

    assert amendments_url(ldn_study) in page


@pytest.mark.parametrize("who", ["coordinator", "monitor"])
def test_staff_who_may_not_edit_criteria_cannot_open_the_amendments(
    ldn_study, client, request, who
):
    client.force_login(request.getfixturevalue(who))

    assert client.get(amendments_url(ldn_study)).status_code == 403
    assert client.post(amendments_url(ldn_study), {"note": "x"}).status_code == 403
    assert not CriteriaDraft.objects.exists()


def test_staff_of_another_study_do_not_learn_it_exists(ldn_study, client):
    from accounts import roles
    from tests.factories import StudyFactory, staff

    other = staff("other-inv", roles.INVESTIGATOR, StudyFactory(), password=None)
    client.force_login(other)

    assert client.get(amendments_url(ldn_study)).status_code == 404


def test_shortening_the_washout_on_the_draft_page_shows_who_would_move(
    ldn_study, inv_client, investigator
):
    opioid_user(ldn_study, "2026-09-10")
    draft = services.criteria_draft_create(study=ldn_study, by=investigator)
    i = place(draft, "opioids")

    response = inv_client.post(
        draft_url(draft), edit_data(draft, **{f"params_{i}": '{"months": 2}'})
    )

    assert response.status_code == 302
    page = inv_client.get(draft_url(draft)).content.decode()
    assert "1 would change outcome" in page
    assert "+1 likely eligible" in page
    assert "-1 eligible from a later date" in page
    assert ldn_study.criteria.get(code="opioids").params == {"months": 3}


def test_a_bad_parameter_is_shown_next_to_its_field_and_what_was_typed_is_kept(
    ldn_study, inv_client, investigator
):
    draft = services.criteria_draft_create(study=ldn_study, by=investigator)
    i = place(draft, "opioids")

    response = inv_client.post(
        draft_url(draft), edit_data(draft, **{f"params_{i}": '{"months": -2}'})
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert f'href="#id_params_{i}"' in page
    assert "must be a positive whole number" in page
    assert "&quot;months&quot;: -2" in page


def test_invalid_json_is_an_error_next_to_the_field(ldn_study, inv_client, investigator):
    draft = services.criteria_draft_create(study=ldn_study, by=investigator)
    i = place(draft, "opioids")

    response = inv_client.post(draft_url(draft), edit_data(draft, **{f"params_{i}": "{months: 6"}))

    assert response.status_code == 200
    assert f'href="#id_params_{i}"' in response.content.decode()
    draft.refresh_from_db()
    assert draft.criteria[i]["params"] == {"months": 3}


def test_removing_and_adding_criteria_on_the_draft_page(ldn_study, inv_client, investigator):
    draft = services.criteria_draft_create(study=ldn_study, by=investigator)
    i = place(draft, "other-trial")
    data = edit_data(
        draft,
        **{
            f"remove_{i}": "on",
            "new_code": "shift-work",
            "new_kind": "exclusion",
            "new_answered_by": "patient",
            "new_rule_kind": "yes_no",
            "new_title": "No night shifts",
            "new_question": "Do you work night shifts?",
            "new_rationale": "Sleep is an outcome.",
            "new_params": '{"required": "no"}',
        },
    )

    assert inv_client.post(draft_url(draft), data).status_code == 302

    draft.refresh_from_db()
    codes = [item["code"] for item in draft.criteria]
    assert "other-trial" not in codes and codes[-1] == "shift-work"


def test_publishing_from_the_page_makes_the_draft_read_only(ldn_study, inv_client, investigator):
    draft = services.criteria_draft_create(study=ldn_study, by=investigator)
    i = place(draft, "opioids")
    inv_client.post(draft_url(draft), edit_data(draft, **{f"params_{i}": '{"months": 2}'}))

    response = inv_client.post(draft_url(draft), {"publish": "1"}, follow=True)

    page = response.content.decode()
    assert "Published as criteria version 2" in page
    assert 'name="save"' not in page and 'name="publish"' not in page
    assert ldn_study.criteria.get(code="opioids").params == {"months": 2}
    refused = inv_client.post(draft_url(draft), edit_data(draft), follow=True)
    assert "can no longer change" in refused.content.decode()


def test_the_what_if_csv_downloads_for_the_investigator(ldn_study, inv_client, investigator):
    participant = opioid_user(ldn_study, "2026-07-20")
    draft = services.criteria_draft_create(study=ldn_study, by=investigator)

    response = inv_client.get(reverse("staff:amendment_whatif", args=[ldn_study.slug, draft.pk]))

    body = b"".join(response.streaming_content).decode()
    assert response["Content-Disposition"].startswith('attachment; filename="ldn-mecfs-')
    assert body.count("\n") == 2
    assert participant.screening_number not in body
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_draft_page_reads_a_fixed_number_of_queries_for_3_and_30_applicants(
    ldn_study, inv_client, investigator, django_assert_max_num_queries
):
    draft = services.criteria_draft_create(study=ldn_study, by=investigator)
    for _n in range(3):
        opioid_user(ldn_study, "2026-07-20")
    # 14 for the what-if and the page, 2 to count who it judges (inline or in the background).
    with django_assert_max_num_queries(16):
        inv_client.get(draft_url(draft))
    for _n in range(27):
        opioid_user(ldn_study, "2026-07-20")
    with django_assert_max_num_queries(16):
        assert "30 people judged" in inv_client.get(draft_url(draft)).content.decode()


@pytest.mark.parametrize("drafts", [3, 30])
def test_the_drafts_list_reads_a_fixed_number_of_queries(
    ldn_study, inv_client, investigator, django_assert_max_num_queries, drafts
):
    for n in range(drafts):
        services.criteria_draft_create(study=ldn_study, by=investigator, note=f"Amendment {n}")

    with django_assert_max_num_queries(8):
        page = inv_client.get(amendments_url(ldn_study)).content.decode()

    assert page.count("Not published") == drafts
