"""Inviting a registry member: the audited row, the email, and every refusal."""

import base64
import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from recruitment.invitations.services import InvitationRefused, registry_invitation_send
from recruitment.models import MatchOutcome, MatchState, RegistryInvitation, RegistryMatch
from recruitment.notifications.tasks import registry_invitation_email_send
from tests.factories import StudyFactory
from tests.invitations.scenario import (
    ANN_IDENTIFIERS,
    DEC_7,
    match_of,
    person_in_registry,
    shared_answers_give,
    sleep_study,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def now(time_machine):
    time_machine.move_to(DEC_7, tick=False)
    return DEC_7


@pytest.fixture
def person(ldn_study):
    person = person_in_registry(ldn_study)
    mail.outbox.clear()
    return person


@pytest.fixture
def study():
    return sleep_study()


@pytest.fixture
def match(study, person):
    shared_answers_give(person)
    return match_of(study, person)


def invite(match, by, capture, **kwargs):
    with capture(execute=True):
        return registry_invitation_send(match=match, by=by, site_url="http://testserver/", **kwargs)


def test_an_invitation_records_who_sent_it_and_when_and_marks_the_match_invited(
    match, coordinator, django_capture_on_commit_callbacks
):
    invitation = invite(match, coordinator, django_capture_on_commit_callbacks)

    assert (invitation.sent_by, invitation.sent_at) == (coordinator, DEC_7)
    match.refresh_from_db()
    assert (match.state, match.invited_at) == (MatchState.INVITED, DEC_7)
    (version,) = invitation.history.all()
    assert (version.history_user, version.history_type) == (coordinator, "+")


def test_the_invitation_email_names_the_study_and_its_two_links_and_no_health_data(
    match, coordinator, django_capture_on_commit_callbacks
):
    invite(match, coordinator, django_capture_on_commit_callbacks)

    (email,) = mail.outbox
    assert email.to == ["annabel.quixley@example.com"]
    assert email.subject == "A new study may fit you"
    assert "A sleep study for people with ME/CFS" in email.body
    assert "One night in our sleep lab" in email.body
    assert "Yes, tell me more and let me apply:" in email.body
    assert "No, thanks:" in email.body
    assert email.body.count("http://testserver/registry/invitation/") == 2
    html, _type = email.alternatives[0]
    assert "Yes, tell me more and let me apply</a>" in html
    assert "No, thanks</a>" in html
    for health in ("diagnos", "pregnan", "Met", "never asked", "M-0007", "opioid"):
        assert health not in email.body, health
        assert health not in html, health


def test_the_invitation_email_is_in_the_persons_language(
    ldn_study, study, coordinator, django_capture_on_commit_callbacks
):
    person = person_in_registry(ldn_study, language="es", first_name="Ana", email="ana@example.com")
    match = match_of(study, person)
    mail.outbox.clear()

    invite(match, coordinator, django_capture_on_commit_callbacks)

    (email,) = mail.outbox
    assert email.subject == "Un nuevo estudio podría ser para usted"
    assert "Sí, quiero saber más y postularme" in email.alternatives[0][0]


def test_the_links_carry_no_id_and_no_personal_data(
    match, coordinator, django_capture_on_commit_callbacks
):
    invitation = invite(match, coordinator, django_capture_on_commit_callbacks)

    (email,) = mail.outbox
    links = [line for line in email.body.splitlines() if "/registry/invitation/" in line]
    for link in links:
        token = link.strip().rsplit("/", 2)[-2]
        decoded = base64.urlsafe_b64decode(token.split(":")[0] + "==").decode()
        assert str(invitation.pk) not in decoded.replace(invitation.nonce, "")
        for identifier in ANN_IDENTIFIERS:
            assert identifier.lower() not in link.lower()


def test_a_person_invited_lately_to_another_study_is_refused_with_the_reason_and_the_date(
    match, person, coordinator, django_capture_on_commit_callbacks, time_machine
):
    other = match_of(StudyFactory(), person, number=1)
    time_machine.move_to(DEC_7 - dt.timedelta(days=10), tick=False)
    invite(other, coordinator, django_capture_on_commit_callbacks)
    time_machine.move_to(DEC_7, tick=False)
    mail.outbox.clear()

    with pytest.raises(InvitationRefused) as refused:
        invite(match, coordinator, django_capture_on_commit_callbacks)

    assert str(refused.value) == (
        "M-0007 was not invited: this person was invited to a study on Nov 27, 2026. A person "
        "gets at most one invitation in 30 days, so they can be invited from Dec 27, 2026."
    )
    assert not RegistryInvitation.objects.filter(match=match).exists()
    match.refresh_from_db()
    assert match.state == MatchState.MATCHED
    assert mail.outbox == []


def test_a_person_may_be_invited_again_once_the_setting_s_days_have_passed(
    match, person, coordinator, django_capture_on_commit_callbacks, time_machine, settings
):
    settings.REGISTRY_INVITE_MIN_DAYS = 7
    other = match_of(StudyFactory(), person, number=1)
    time_machine.move_to(DEC_7 - dt.timedelta(days=8), tick=False)
    invite(other, coordinator, django_capture_on_commit_callbacks)
    time_machine.move_to(DEC_7, tick=False)

    invitation = invite(match, coordinator, django_capture_on_commit_callbacks)

    assert invitation.match == match


def test_a_person_is_never_invited_twice_to_the_same_study(
    match, coordinator, django_capture_on_commit_callbacks, time_machine
):
    invite(match, coordinator, django_capture_on_commit_callbacks)
    RegistryMatch.objects.filter(pk=match.pk).update(state=MatchState.MATCHED)
    time_machine.move_to(DEC_7 + dt.timedelta(days=365), tick=False)

    with pytest.raises(InvitationRefused, match="invited to this study already"):
        invite(match, coordinator, django_capture_on_commit_callbacks)

    assert RegistryInvitation.objects.filter(match=match).count() == 1


def test_a_match_that_said_no_is_not_invited_again(
    match, coordinator, django_capture_on_commit_callbacks
):
    RegistryMatch.objects.filter(pk=match.pk).update(state=MatchState.DECLINED)
    match.refresh_from_db()

    with pytest.raises(InvitationRefused, match="this match is declined"):
        invite(match, coordinator, django_capture_on_commit_callbacks)


def test_a_person_who_left_the_registry_is_not_invited(
    match, person, coordinator, django_capture_on_commit_callbacks
):
    type(person).objects.filter(pk=person.pk).update(registry_left_at=timezone.now())

    with pytest.raises(InvitationRefused, match="has left the registry"):
        invite(match, coordinator, django_capture_on_commit_callbacks)

    assert not RegistryInvitation.objects.exists()
    assert mail.outbox == []


def test_a_person_who_left_the_registry_before_the_email_went_out_is_not_written_to(
    match, person, coordinator
):
    invitation = registry_invitation_send(match=match, by=coordinator)  # email not run yet
    type(person).objects.filter(pk=person.pk).update(registry_left_at=timezone.now())

    outcome = registry_invitation_email_send.call(
        invitation_id=invitation.pk, site_url="http://testserver/"
    )

    assert outcome == "left the registry"
    assert mail.outbox == []


def test_an_ineligible_match_is_not_invited(
    study, person, coordinator, django_capture_on_commit_callbacks
):
    match = match_of(study, person, outcome=MatchOutcome.INELIGIBLE)

    with pytest.raises(InvitationRefused, match="does not meet the criteria"):
        invite(match, coordinator, django_capture_on_commit_callbacks)


def test_a_study_not_recruiting_sends_no_invitation(
    study, match, coordinator, django_capture_on_commit_callbacks
):
    type(study).objects.filter(pk=study.pk).update(is_recruiting=False)

    with pytest.raises(InvitationRefused, match="not recruiting"):
        invite(match, coordinator, django_capture_on_commit_callbacks)
