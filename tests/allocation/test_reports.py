"""Arms in the reports: none in the blinded team's exports or dashboard; the unblinded
statistician's FHIR bundle fills `ResearchSubject.assignedArm` (validated as R4); the
dashboard counts the packs left per stratum (per arm for the statistician) and the
unblindings, in a fixed number of queries."""

import json

import pytest
from django.urls import reverse
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from accounts import roles
from recruitment.models import Status, Unblinding
from recruitment.screening.services import participant_transition
from tests.allocation.conftest import ARM_A, ARM_B, csv_bytes, upload
from tests.factories import UserFactory, participants_bulk, staff

pytestmark = pytest.mark.django_db


def body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8-sig")


@pytest.fixture
def allocated(study, sealed, coordinator, consented):
    """Two of the three consented participants enrolled: K-0001 (arm A) and K-0002 (arm B)."""
    return [
        participant_transition(participant=p, to=Status.ENROLLED, by=coordinator)
        for p in consented[:2]
    ]


def subjects(bundle: dict) -> dict[str, dict]:
    return {
        entry["resource"]["identifier"][0]["value"]: entry["resource"]
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == "ResearchSubject"
    }


@pytest.mark.parametrize("role", [roles.COORDINATOR, roles.INVESTIGATOR, roles.MONITOR])
def test_the_blinded_team_s_exports_carry_no_arm(client, study, allocated, role):
    client.force_login(staff(f"export-{role}", role, study, password=None))

    for name in ("staff:screening_log", "staff:fhir_bundle"):
        response = client.get(reverse(name, args=[study.slug]))
        assert response.status_code == 200
        text = body(response)
        assert ARM_A not in text and ARM_B not in text
        assert "assignedArm" not in text


def test_a_superuser_s_export_carries_no_arm(client, study, allocated):
    root = UserFactory(username="root", is_staff=True, is_superuser=True, password=None)
    client.force_login(root)

    text = body(client.get(reverse("staff:fhir_bundle", args=[study.slug])))

    assert ARM_A not in text and "assignedArm" not in text


def test_the_statistician_s_fhir_bundle_names_each_allocated_subject_s_arm(
    client, study, allocated, statistician
):
    client.force_login(statistician)

    response = client.get(reverse("staff:fhir_bundle", args=[study.slug]))

    assert response.status_code == 200
    bundle = json.loads(response.content)
    Bundle.model_validate_json(json.dumps(bundle))
    for entry in bundle["entry"]:
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    by_number = subjects(bundle)
    first, second = allocated
    assert by_number[first.screening_number]["assignedArm"] == ARM_A
    assert by_number[second.screening_number]["assignedArm"] == ARM_B
    not_allocated = [s for s in by_number.values() if "assignedArm" not in s]
    assert len(not_allocated) == 1
    study_resource = bundle["entry"][0]["resource"]
    assert [arm["name"] for arm in study_resource["arm"]] == [ARM_A, ARM_B]
    assert "Patient" not in {e["resource"]["resourceType"] for e in bundle["entry"]}


# -- the dashboard ----------------------------------------------------------------------------
def test_the_dashboard_shows_the_blinded_team_packs_left_without_arms(
    coord_client, study, allocated
):
    page = coord_client.get(reverse("staff:dashboard")).content.decode()

    assert "2 packs left" in page
    assert ARM_A not in page and ARM_B not in page
    assert "emergency unblinding" not in page


def test_the_dashboard_shows_packs_left_per_stratum(coord_client, study, statistician):
    upload(
        study,
        statistician,
        csv_bytes(f"1,men,{ARM_A},M-1", f"2,men,{ARM_B},M-2", f"1,women,{ARM_A},W-1"),
        strata=["men", "women"],
    )

    page = " ".join(coord_client.get(reverse("staff:dashboard")).content.decode().split())

    assert "Stratum men: 2 packs left" in page
    assert "Stratum women: 1 pack left" in page


def test_the_dashboard_shows_the_statistician_packs_left_by_arm(
    client, study, allocated, statistician
):
    client.force_login(statistician)

    page = " ".join(client.get(reverse("staff:dashboard")).content.decode().split())

    assert f"arm {ARM_A}: 1 pack left" in page
    assert f"arm {ARM_B}: 1 pack left" in page


def test_the_dashboard_counts_unblindings_for_investigators_with_a_link_to_the_report(
    client, study, allocated, investigator
):
    Unblinding.objects.create(participant=allocated[0], by=investigator, reason="SAE")
    client.force_login(investigator)

    page = client.get(reverse("staff:dashboard")).content.decode()

    assert "1 emergency unblinding" in page
    assert reverse("allocation:unblindings", args=[study.slug]) in page


# Session, user, permissions (2), the dashboard's report queries (14), the packs left (1), and
# for staff who may see them, the unblindings (1).
DASHBOARD_QUERIES = 22


@pytest.mark.parametrize("count", [3, 30])
def test_the_dashboard_with_a_list_and_unblindings_takes_a_fixed_number_of_queries(
    client, study, statistician, coordinator, investigator, count, django_assert_max_num_queries
):
    upload(study, statistician, csv_bytes(*(f"{n},,{ARM_A},P-{n}" for n in range(1, 41))))
    for participant in participants_bulk(study, count, status=Status.CONSENTED, by=coordinator):
        participant = participant_transition(
            participant=participant, to=Status.ENROLLED, by=coordinator
        )
        Unblinding.objects.create(participant=participant, by=investigator, reason="SAE")
    client.force_login(investigator)

    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        page = client.get(reverse("staff:dashboard")).content.decode()

    assert f"{40 - count} packs left" in page
    assert f"{count} emergency unblindings" in page
