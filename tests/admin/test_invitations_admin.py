"""The registry invitations in the admin: read-only, the staff's own studies only, each by its
match number, never the person."""

import pytest
from django.urls import reverse

from recruitment.invitations.services import registry_invitation_send
from recruitment.models import RegistryInvitation
from tests.factories import StudyFactory
from tests.invitations.scenario import ANN_IDENTIFIERS, match_of, person_in_registry, sleep_study

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:recruitment_registryinvitation_changelist")


@pytest.fixture
def staff_study():
    return sleep_study()


def test_a_coordinator_reads_who_invited_which_match_and_when_without_the_person(
    coord_client, coordinator, staff_study, ldn_study
):
    person = person_in_registry(ldn_study)
    registry_invitation_send(match=match_of(staff_study, person, number=7), by=coordinator)
    other = person_in_registry(ldn_study, first_name="Bo", email="bo@example.com")
    registry_invitation_send(match=match_of(StudyFactory(), other, number=9), by=coordinator)

    html = coord_client.get(CHANGELIST).content.decode()

    assert "M-0007" in html
    assert "M-0009" not in html  # another study's
    assert "coordinator" in html
    for identifier in ANN_IDENTIFIERS:
        assert identifier.lower() not in html.lower(), identifier


def test_nobody_adds_changes_or_deletes_an_invitation_in_the_admin(
    coord_client, coordinator, staff_study, ldn_study
):
    invitation = registry_invitation_send(
        match=match_of(staff_study, person_in_registry(ldn_study)), by=coordinator
    )
    change = reverse("admin:recruitment_registryinvitation_change", args=[invitation.pk])
    delete = reverse("admin:recruitment_registryinvitation_delete", args=[invitation.pk])

    assert coord_client.get(reverse("admin:recruitment_registryinvitation_add")).status_code == 403
    assert coord_client.post(change, {}).status_code == 403
    assert coord_client.post(delete, {"post": "yes"}).status_code == 403
    assert RegistryInvitation.objects.filter(pk=invitation.pk).exists()
