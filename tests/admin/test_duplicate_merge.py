"""Confirming a duplicate keeps what is new: the details that differ, copied on request."""

import datetime as dt

import pytest
from django.urls import reverse

from recruitment.errors import RecruitmentError
from recruitment.models import DuplicateReview, Participant, Status
from recruitment.screening import duplicates
from recruitment.screening import services as screening
from tests.factories import submit, walk

QUEUE_URL = "/admin/recruitment/participant/"


def page_url(name, participant):
    return reverse(f"admin:recruitment_participant_{name}", args=[participant.pk])


def change_url(participant):
    return reverse("admin:recruitment_participant_change", args=[participant.pk])


def fresh(participant):
    return Participant.objects.get(pk=participant.pk)


@pytest.fixture
def pair(ldn_study):
    """Ann applied, then applied again with a new phone number and a new ZIP code."""
    first = submit(ldn_study, phone="205-555-0134", zip_code="35203", best_time="")
    second = submit(
        ldn_study,
        phone="(205) 555-0199",
        zip_code="35294",
        best_time="evening",
        note="New number since last month.",
    )
    assert second.duplicate_of == first
    return first, second


def test_the_confirm_page_lists_the_details_that_differ_with_a_box_each(coord_client, pair):
    first, second = pair
    response = coord_client.get(page_url("duplicate_confirm", second))
    form = response.context["form"]
    assert [d.name for d in form.differences] == ["phone", "best_time", "zip_code", "note"]
    phone = form.differences[0]
    assert (phone.newer, phone.kept) == ("205-555-0199", "205-555-0134")  # as read
    page = response.content.decode()
    assert 'id="details-that-differ"' in page
    assert 'name="copy_phone"' in page
    assert "Copy the phone to LDN-S-0001" in page
    # The same email typed the same way is no difference.
    assert 'name="copy_email"' not in page


def test_ticked_details_are_copied_to_the_kept_record_audited(coord_client, coordinator, pair):
    first, second = pair
    response = coord_client.post(
        page_url("duplicate_confirm", second), {"copy_phone": "on", "copy_zip_code": "on"}
    )
    assert response.status_code == 302
    first, second = fresh(first), fresh(second)
    assert (second.status, second.duplicate_review) == (Status.DECLINED, "confirmed")
    assert first.phone == "+12055550199"  # E.164, as every staff edit stores it
    assert first.phone_normalised == second.phone_normalised
    assert first.zip_code == "35294"
    assert first.best_time == ""  # not ticked: not copied
    # The copy's version, then the pre-screen re-run for the new ZIP code.
    evaluated, copied = first.history.order_by("-history_date", "-history_id")[:2]
    assert evaluated.history_change_reason == "Pre-screen evaluated"
    assert copied.history_change_reason == f"Copied from duplicate {second.screening_number}"
    assert copied.history_user == coordinator
    assert copied.prev_record.phone == "+12055550134"
    assert copied.phone == "+12055550199"


def test_a_new_zip_code_copied_re_runs_the_pre_screen(coordinator, pair):
    first, second = pair
    evaluated = first.evaluated_at
    duplicates.duplicate_confirm(participant=second, by=coordinator, copy_fields=["zip_code"])
    assert fresh(first).evaluated_at > evaluated


def test_nothing_ticked_copies_nothing(coord_client, pair):
    first, second = pair
    versions = first.history.count()
    coord_client.post(page_url("duplicate_confirm", second))
    assert fresh(first).history.count() == versions
    assert fresh(second).duplicate_review == DuplicateReview.CONFIRMED


def test_a_refused_copy_leaves_the_duplicate_unconfirmed(coordinator, pair):
    first, second = pair
    with pytest.raises(RecruitmentError):
        duplicates.duplicate_confirm(participant=second, by=coordinator, copy_fields=["status"])
    assert fresh(second).duplicate_review == DuplicateReview.PENDING
    Participant.objects.filter(pk=first.pk).update(erased_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    with pytest.raises(RecruitmentError):
        duplicates.duplicate_confirm(participant=second, by=coordinator, copy_fields=["phone"])
    assert fresh(second).duplicate_review == DuplicateReview.PENDING
    assert fresh(second).status == Status.NEW


def test_staff_who_may_not_see_identities_get_no_copy_boxes(client, pair, ldn_study):
    from accounts import roles
    from tests.factories import staff

    first, second = pair
    user = staff("blind", roles.COORDINATOR, ldn_study)
    user.user_permissions.clear()
    from django.contrib.auth.models import Group

    group = Group.objects.get(name=roles.COORDINATOR)
    group.permissions.remove(group.permissions.get(codename="view_identification"))
    client.force_login(user)
    page = client.get(page_url("duplicate_confirm", second)).content.decode()
    assert 'name="copy_phone"' not in page
    assert "(205) 555-0199" not in page
    assert "+12055550199" not in page and "205-555-0199" not in page


def test_an_unreviewed_duplicate_is_flagged_on_both_pages_and_before_consent_and_enrollment(
    coord_client, coordinator, ldn_study, pair
):
    first, second = pair
    for participant, other in ((first, second), (second, first)):
        page = coord_client.get(change_url(participant)).content.decode()
        assert 'id="duplicate-warning"' in page
        assert other.screening_number in page
    eligible = walk(first, Status.ELIGIBLE, by=coordinator)
    consent = coord_client.get(page_url("consent", eligible)).content.decode()
    assert 'id="duplicate-warning"' in consent
    consented = screening.consent_record(
        participant=eligible,
        consented_on=dt.date.today(),
        form_version="ICF v2.0",
        obtained_by=coordinator,
        by=coordinator,
    )
    enrol = coord_client.get(page_url("enrol", consented)).content.decode()
    assert 'id="duplicate-warning"' in enrol
    # A warning, not a block: enrollment goes ahead.
    response = coord_client.post(page_url("enrol", consented), {"reason": ""})
    assert response.status_code == 302
    assert fresh(first).status == Status.ENROLLED


def test_no_warning_once_reviewed(coord_client, coordinator, pair):
    first, second = pair
    duplicates.duplicate_dismiss(participant=second, by=coordinator, reason="Sisters")
    for participant in (first, second):
        page = coord_client.get(change_url(participant)).content.decode()
        assert 'id="duplicate-warning"' not in page


def test_the_unreviewed_duplicates_are_read_in_one_query(pair, django_assert_num_queries):
    from recruitment import selectors

    first, second = pair
    with django_assert_num_queries(1):
        assert selectors.participant_duplicates_unreviewed(participant=first) == [
            second.screening_number
        ]
    with django_assert_num_queries(1):
        assert selectors.participant_duplicates_unreviewed(participant=second) == [
            first.screening_number
        ]


@pytest.mark.parametrize("existing", [10, 1000])
def test_the_confirm_page_and_the_warning_read_as_much_at_1000_participants_as_at_10(
    coord_client, pair, ldn_study, django_assert_max_num_queries, existing
):
    from tests.factories import participants_bulk

    first, second = pair
    participants_bulk(ldn_study, existing)
    coord_client.get(page_url("duplicate_confirm", second))
    with django_assert_max_num_queries(5):
        assert coord_client.get(page_url("duplicate_confirm", second)).status_code == 200
