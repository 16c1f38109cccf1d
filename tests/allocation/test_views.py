"""The allocation pages: the statistician's upload, what coordinators see at enrollment (the
pack code, never the arm), emergency unblinding with its email and report, and that nobody
else reads arms: not the admin, the history, the logs or a superuser."""

import logging

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts import roles
from recruitment.allocation.services import participant_stratum_set
from recruitment.models import (
    AllocationList,
    AllocationRow,
    ParticipantStratum,
    Status,
    Unblinding,
)
from recruitment.screening.services import participant_transition
from tests.allocation.conftest import ARM_A, ARM_B, ARMS, FOUR_ROWS, csv_bytes, upload
from tests.factories import UserFactory, participants_bulk, staff

pytestmark = pytest.mark.django_db


def list_url(study):
    return reverse("allocation:list", args=[study.slug])


def unblind_url(participant):
    return reverse("allocation:unblind", args=[participant.study.slug, participant.pk])


def report_url(study):
    return reverse("allocation:unblindings", args=[study.slug])


def enrolled(consented, coordinator):
    return participant_transition(participant=consented[0], to=Status.ENROLLED, by=coordinator)


def post_list(client, study, content, arms="ARM-LDN-THEN-PLACEBO, ARM-PLACEBO-THEN-LDN"):
    return client.post(
        list_url(study),
        {"arms": arms, "strata": "", "file": SimpleUploadedFile("list.csv", content)},
    )


# -- the statistician's page ------------------------------------------------------------------
def test_the_statistician_uploads_the_list_and_sees_what_is_left_by_arm(
    client, study, statistician
):
    client.force_login(statistician)

    response = post_list(client, study, FOUR_ROWS)

    assert response.status_code == 302
    assert AllocationRow.objects.filter(study=study).count() == 4
    page = client.get(list_url(study)).content.decode()
    assert "The allocation list is stored." in page
    assert ARM_A in page and ARM_B in page
    assert "4 rows unused" in page


def test_a_file_with_errors_lists_them_by_line_keeps_what_was_typed_and_stores_nothing(
    client, study, statistician
):
    client.force_login(statistician)
    content = csv_bytes(f"1,,{ARM_A},K-1", "2,,AC,K-1")

    response = post_list(client, study, content)

    page = response.content.decode()
    assert response.status_code == 200
    assert "The file has 2 errors; nothing was stored:" in page
    assert "Line 3: “AC” is not one of the declared arms" in page
    assert "Line 3: pack code “K-1” is already on line 2." in page
    assert 'value="ARM-LDN-THEN-PLACEBO, ARM-PLACEBO-THEN-LDN"' in page
    assert not AllocationList.objects.exists()


def test_a_missing_file_is_named_next_to_its_field(client, study, statistician):
    client.force_login(statistician)

    response = client.post(list_url(study), {"arms": "AB, BA"})

    assert 'id="id_file_errors"' in response.content.decode()
    assert "This field is required." in response.content.decode()


@pytest.mark.parametrize("role", [roles.COORDINATOR, roles.INVESTIGATOR, roles.MONITOR])
def test_the_blinded_team_may_not_open_the_list(client, study, sealed, role):
    client.force_login(staff(f"blinded-{role}", role, study, password=None))

    assert client.get(list_url(study)).status_code == 403
    assert post_list(client, study, FOUR_ROWS).status_code == 403


def test_a_superuser_outside_the_role_may_not_open_the_list(client, study, sealed):
    root = UserFactory(username="root", is_staff=True, is_superuser=True, password=None)
    study.members.add(root)
    client.force_login(root)

    assert client.get(list_url(study)).status_code == 403


def test_a_statistician_of_another_study_does_not_find_this_one(client, study, sealed):
    client.force_login(staff("other-stats", roles.UNBLINDED_STATISTICIAN, password=None))

    assert client.get(list_url(study)).status_code == 404


def test_no_allocation_table_is_in_the_admin(admin_client):
    for model in (AllocationList, AllocationRow, Unblinding, ParticipantStratum):
        assert not admin.site.is_registered(model)
    assert "allocation" not in admin_client.get(reverse("admin:index")).content.decode().lower()


def test_only_the_unblinded_statistician_role_holds_the_permission_to_see_arms():
    holders = [
        name for name, codes in roles.ROLE_PERMISSIONS.items() if "manage_allocation" in codes
    ]

    assert holders == [roles.UNBLINDED_STATISTICIAN]
    assert "view_participant" not in roles.ROLE_PERMISSIONS[roles.UNBLINDED_STATISTICIAN]


# -- what the coordinator sees ----------------------------------------------------------------
def test_enrolling_shows_the_coordinator_the_pack_code_and_never_the_arm(
    coord_client, study, sealed, consented
):
    participant = consented[0]
    url = reverse("admin:recruitment_participant_enrol", args=[participant.pk])

    response = coord_client.post(url, {"reason": ""}, follow=True)

    page = response.content.decode()
    assert "is enrolled as" in page and "Pack code: K-0001" in page
    assert ARM_A not in page and ARM_B not in page
    change = reverse("admin:recruitment_participant_change", args=[participant.pk])
    page = coord_client.get(change).content.decode()
    assert "K-0001" in page
    assert ARM_A not in page and ARM_B not in page


def test_the_bulk_enroll_action_names_each_pack_code_by_screening_number_never_the_arm(
    coord_client, study, sealed, consented
):
    response = coord_client.post(
        reverse("admin:recruitment_participant_changelist"),
        {"action": "enrol", "_selected_action": [p.pk for p in consented[:2]], "index": 0},
    )

    texts = [str(m) for m in get_messages(response.wsgi_request)]
    first, second = (p.screening_number for p in consented[:2])
    assert f"Pack codes to hand out: {first} → K-0001, {second} → K-0002." in texts
    assert not any(ARM_A in text or ARM_B in text for text in texts)


def test_the_bulk_enroll_action_names_no_pack_in_a_study_without_a_list(
    coord_client, study, consented
):
    response = coord_client.post(
        reverse("admin:recruitment_participant_changelist"),
        {"action": "enrol", "_selected_action": [consented[0].pk], "index": 0},
    )

    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert texts and not any("Pack code" in text for text in texts)
    assert any("is now “Enrolled”" in text for text in texts)


def test_the_history_of_an_allocated_participant_holds_no_arm(
    coord_client, study, sealed, consented, coordinator
):
    participant = enrolled(consented, coordinator)

    history = reverse("admin:recruitment_participant_history", args=[participant.pk])
    page = coord_client.get(history).content.decode()

    assert ARM_A not in page and ARM_B not in page


def test_enrolling_past_the_end_of_the_list_tells_the_coordinator_why(
    coord_client, study, statistician, coordinator
):
    upload(study, statistician, csv_bytes(f"1,,{ARM_A},K-1", f"2,,{ARM_B},K-2"))
    waiting = participants_bulk(study, 3, status=Status.CONSENTED, by=coordinator)
    for participant in waiting[:2]:
        participant_transition(participant=participant, to=Status.ENROLLED, by=coordinator)
    url = reverse("admin:recruitment_participant_enrol", args=[waiting[2].pk])

    response = coord_client.post(url, {"reason": ""}, follow=True)

    assert "The allocation list has no unused row left" in response.content.decode()


def test_staff_set_a_participant_s_stratum_on_its_page(
    coord_client, study, statistician, coordinator
):
    upload(
        study,
        statistician,
        csv_bytes(f"1,men,{ARM_A},M-1", f"1,women,{ARM_B},W-1"),
        strata=["men", "women"],
    )
    (participant,) = participants_bulk(study, 1, status=Status.CONSENTED, by=coordinator)
    url = reverse("allocation:stratum", args=[study.slug, participant.pk])

    response = coord_client.post(url, {"stratum": "women"})

    assert response.status_code == 302
    assert ParticipantStratum.objects.get(participant=participant).stratum == "women"
    refused = coord_client.post(url, {"stratum": "kids"}).content.decode()
    assert "Select a valid choice." in refused
    assert ParticipantStratum.objects.get(participant=participant).stratum == "women"


# -- emergency unblinding ---------------------------------------------------------------------
@pytest.fixture
def other_investigator(study):
    return staff("pi-2", roles.INVESTIGATOR, study, password=None, email="pi2@example.edu")


def test_an_investigator_unblinds_with_a_reason_sees_the_arm_and_the_team_is_told(
    client,
    study,
    sealed,
    consented,
    coordinator,
    investigator,
    statistician,
    other_investigator,
    django_capture_on_commit_callbacks,
    caplog,
):
    caplog.set_level(logging.DEBUG)
    participant = enrolled(consented, coordinator)
    client.force_login(investigator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(unblind_url(participant), {"reason": "Serious adverse event"})

    page = response.content.decode()
    assert response.status_code == 200
    assert f"Arm: {ARM_A}" in page
    (unblinding,) = Unblinding.objects.all()
    assert (unblinding.participant, unblinding.by) == (participant, investigator)
    assert unblinding.reason == "Serious adverse event"
    (email,) = mail.outbox
    assert sorted(email.to) == ["pi2@example.edu", "stats@example.edu"]
    text = email.subject + email.body
    assert participant.screening_number in text and participant.participant_id in text
    assert "investigator" in text and report_url(study) in text
    assert ARM_A not in text and ARM_B not in text
    assert participant.first_name not in text and participant.email not in text
    assert ARM_A not in caplog.text and ARM_B not in caplog.text


def test_unblinding_without_a_reason_is_refused_next_to_the_field(
    client, study, sealed, consented, coordinator, investigator
):
    participant = enrolled(consented, coordinator)
    client.force_login(investigator)

    response = client.post(unblind_url(participant), {"reason": "  "})

    page = response.content.decode()
    assert "Give the medical reason for unblinding." in page
    assert 'id="id_reason_errors"' in page
    assert ARM_A not in page
    assert not Unblinding.objects.exists()


def test_a_participant_without_allocation_cannot_be_unblinded(
    client, study, sealed, consented, investigator
):
    client.force_login(investigator)

    response = client.post(unblind_url(consented[0]), {"reason": "Emergency"})

    assert "has no allocation: there is nothing to unblind." in response.content.decode()
    assert not Unblinding.objects.exists()


@pytest.mark.parametrize("role", [roles.COORDINATOR, roles.MONITOR, roles.UNBLINDED_STATISTICIAN])
def test_only_investigators_may_unblind(client, study, sealed, consented, coordinator, role):
    participant = enrolled(consented, coordinator)
    client.force_login(staff(f"not-pi-{role}", role, study, password=None))

    assert client.post(unblind_url(participant), {"reason": "Emergency"}).status_code == 403
    assert not Unblinding.objects.exists()


@pytest.mark.parametrize("count", [3, 30])
def test_the_report_lists_unblindings_for_investigators_in_a_fixed_number_of_queries(
    client, study, statistician, coordinator, investigator, count, django_assert_max_num_queries
):
    lines = [f"{n},,{ARM_A},P-{n}" for n in range(1, count + 1)]
    upload(study, statistician, csv_bytes(*lines))
    for participant in participants_bulk(study, count, status=Status.CONSENTED, by=coordinator):
        participant = participant_transition(
            participant=participant, to=Status.ENROLLED, by=coordinator
        )
        Unblinding.objects.create(participant=participant, by=investigator, reason="SAE")
    client.force_login(investigator)

    with django_assert_max_num_queries(7):
        page = client.get(report_url(study)).content.decode()

    assert f"{count} unblindings" in page
    assert ARM_A not in page
    client.force_login(statistician)
    assert client.get(report_url(study)).status_code == 200


@pytest.mark.parametrize("role", [roles.COORDINATOR, roles.MONITOR])
def test_the_blinded_team_besides_investigators_does_not_see_the_report(client, study, role):
    client.force_login(staff(f"no-report-{role}", role, study, password=None))

    assert client.get(report_url(study)).status_code == 403


def test_the_stratum_is_required_on_its_form(coord_client, study, statistician, coordinator):
    upload(study, statistician, csv_bytes(f"1,men,{ARM_A},M-1"), strata=["men"], arms=ARMS)
    (participant,) = participants_bulk(study, 1, status=Status.CONSENTED, by=coordinator)
    participant_stratum_set(participant=participant, stratum="men", by=coordinator)
    url = reverse("allocation:stratum", args=[study.slug, participant.pk])

    response = coord_client.post(url, {"stratum": ""})

    assert "This field is required." in response.content.decode()


def test_the_participant_page_offers_unblinding_to_investigators_only(
    client, study, sealed, consented, coordinator, investigator
):
    participant = enrolled(consented, coordinator)
    change = reverse("admin:recruitment_participant_change", args=[participant.pk])
    client.force_login(investigator)
    assert unblind_url(participant) in client.get(change).content.decode()

    client.force_login(coordinator)
    assert unblind_url(participant) not in client.get(change).content.decode()


def test_the_participant_page_offers_the_stratum_while_awaiting_enrollment(
    coord_client, study, statistician, coordinator
):
    upload(study, statistician, csv_bytes(f"1,men,{ARM_A},M-1"), strata=["men"])
    (participant,) = participants_bulk(study, 1, status=Status.CONSENTED, by=coordinator)
    change = reverse("admin:recruitment_participant_change", args=[participant.pk])

    page = coord_client.get(change).content.decode()

    assert reverse("allocation:stratum", args=[study.slug, participant.pk]) in page


def test_the_migration_creates_the_unblinded_statistician_role_with_its_permissions():
    from django.contrib.auth.models import Group

    group = Group.objects.get(name=roles.UNBLINDED_STATISTICIAN)  # no roles_ensure() called

    assert sorted(group.permissions.values_list("codename", flat=True)) == sorted(
        roles.ROLE_PERMISSIONS[roles.UNBLINDED_STATISTICIAN]
    )
    investigators = Group.objects.get(name=roles.INVESTIGATOR).permissions
    assert investigators.filter(codename="unblind_participant").exists()
    assert not investigators.filter(codename="manage_allocation").exists()


@pytest.mark.parametrize("lookup", ["allocation__arm", "allocation__arm__startswith"])
def test_nobody_filters_the_queue_by_arm_not_even_a_superuser(admin_client, study, sealed, lookup):
    changelist = reverse("admin:recruitment_participant_changelist")

    response = admin_client.get(f"{changelist}?{lookup}={ARM_A}")

    assert response.status_code == 400
