"""A registry member answers an invitation through its signed links: "No, thanks" declines
the study for good; "Yes" shows the carried-over answers, asks only the study's new questions
and makes the person an applicant of the study."""

import datetime as dt
import logging
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from accounts.log_filters import RedactSignedLinks
from recruitment.intake import invitation as invitations
from recruitment.invitations.services import InvitationRefused, registry_invitation_send
from recruitment.links import INVITATION_NO, INVITATION_YES, invitation_path
from recruitment.models import (
    Answer,
    EntrySource,
    MatchState,
    Outcome,
    Participant,
    RegistryMatch,
    Status,
)
from tests.factories import staff
from tests.invitations.scenario import (
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
    shared_answers_give(person)
    return person


@pytest.fixture
def study():
    return sleep_study()


@pytest.fixture
def invitation(study, person, coordinator, django_capture_on_commit_callbacks):
    match = match_of(study, person)
    with django_capture_on_commit_callbacks(execute=True):
        invitation = registry_invitation_send(
            match=match, by=coordinator, site_url="http://testserver/"
        )
    return invitation


def emailed_link(response: str) -> str:
    """The path of the "yes" or "no" link in the invitation email, as the person clicks it."""
    (email,) = [m for m in mail.outbox if m.subject == "A new study may fit you"]
    label = "Yes, tell me more and let me apply:" if response == "yes" else "No, thanks:"
    lines = email.body.splitlines()
    url = lines[lines.index(label) + 1].strip()
    return url.removeprefix("http://testserver")


def yes_post(client, path, **data):
    values = {"q_sleep-lab": "yes", "contact_consent": "on", **data}
    return client.post(path, {k: v for k, v in values.items() if v is not None})


# -- "No, thanks" ------------------------------------------------------------------------------
def test_opening_the_no_link_asks_to_confirm_and_records_nothing(client, invitation):
    page = client.get(emailed_link("no"))

    assert page.status_code == 200
    assert "Not interested in Sleep study?" in page.content.decode()
    invitation.refresh_from_db()
    assert (invitation.used_at, invitation.response) == (None, "")
    assert RegistryMatch.objects.get().state == MatchState.INVITED


def test_saying_no_declines_the_match_and_thanks_the_person(client, invitation):
    page = client.post(emailed_link("no"))

    assert page.status_code == 200
    assert "Thank you for your answer" in page.content.decode()
    match = RegistryMatch.objects.get()
    assert (match.state, match.responded_at) == (MatchState.DECLINED, DEC_7)
    invitation.refresh_from_db()
    assert (invitation.response, invitation.used_at, invitation.nonce) == ("no", DEC_7, "")
    assert invitation.history.first().history_change_reason.startswith("The person answered")


def test_after_a_no_the_person_is_never_invited_to_that_study_again(
    client, invitation, coordinator, time_machine
):
    client.post(emailed_link("no"))
    time_machine.move_to(DEC_7 + dt.timedelta(days=400), tick=False)

    with pytest.raises(InvitationRefused):
        registry_invitation_send(match=RegistryMatch.objects.get(), by=coordinator)


def test_both_links_die_once_one_is_used(client, invitation):
    no, yes = emailed_link("no"), emailed_link("yes")
    client.post(no)

    for path in (no, yes):
        assert client.get(path).status_code == 404
        assert client.post(path).status_code == 404
    assert "This link does not work" in client.get(yes).content.decode()


# -- "Yes" -------------------------------------------------------------------------------------
def test_the_yes_page_shows_the_study_and_the_carried_over_answers_with_their_date(
    client, invitation
):
    html = client.get(emailed_link("yes")).content.decode()

    assert "Apply to Sleep study" in html
    assert "One night in our sleep lab" in html
    carried = html[html.index('id="carried-answers"') :]
    carried = carried[: carried.index("</section>")]
    assert "Has a doctor told you that you have ME/CFS?" in carried
    assert "Are you pregnant or breastfeeding?" in carried
    assert carried.count("From your form of Dec 3, 2026") == 2


def test_the_yes_page_asks_only_the_study_s_new_questions_and_its_consent(client, invitation):
    html = client.get(emailed_link("yes")).content.decode()

    asked = set(re.findall(r'name="(q_[^"]+)"', html))
    assert asked == {"q_sleep-lab"}
    assert 'name="contact_consent"' in html
    for contact in ("first_name", "email", "date_of_birth", "zip_code", "phone"):
        assert f'name="{contact}"' not in html


def test_saying_yes_makes_the_person_an_applicant_of_the_study(
    client, invitation, person, study, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sent = yes_post(client, emailed_link("yes"))

    assert sent.status_code == 302
    assert sent["Location"] == reverse("recruitment:thanks", args=[study.slug])
    applicant = Participant.objects.get(study=study)
    assert (applicant.first_name, applicant.email) == ("Annabel", "annabel.quixley@example.com")
    assert applicant.person == person
    assert applicant.status == Status.NEW
    assert applicant.entry_source == EntrySource.REGISTRY
    assert applicant.screening_number == "SLP-S-0001"
    match = RegistryMatch.objects.get()
    assert (match.state, match.application, match.responded_at) == (
        MatchState.ACCEPTED,
        applicant,
        DEC_7,
    )
    invitation.refresh_from_db()
    assert (invitation.response, invitation.nonce) == ("yes", "")
    thanks = client.get(sent["Location"]).content.decode()
    assert "SLP-S-0001" in thanks
    assert any(m.to == [person.email] and "SLP-S-0001" in m.subject for m in mail.outbox)


def test_the_carried_over_answers_become_answers_of_the_application_with_their_source(
    client, invitation, person, study
):
    yes_post(client, emailed_link("yes"))

    applicant = Participant.objects.get(study=study)
    earlier = person.applications.exclude(pk=applicant.pk).get()
    answers = {
        a.criterion.code: a
        for a in Answer.objects.filter(participant=applicant).select_related("criterion")
    }
    assert {code: a.value for code, a in answers.items()} == {
        "diagnosis": "yes",
        "pregnant": "no",
        "sleep-lab": "yes",
    }
    assert (answers["diagnosis"].carried_over_on, answers["diagnosis"].carried_over_from) == (
        dt.date(2026, 12, 3),
        earlier,
    )
    assert answers["pregnant"].carried_over_on == dt.date(2026, 12, 3)
    assert (answers["sleep-lab"].carried_over_on, answers["sleep-lab"].carried_over_from) == (
        None,
        None,
    )
    assert applicant.outcome == Outcome.ALL_MET


def test_a_yes_without_the_consent_box_says_so_next_to_it_and_keeps_the_answers(
    client, invitation, study
):
    page = yes_post(client, emailed_link("yes"), contact_consent=None, **{"q_sleep-lab": "no"})

    html = page.content.decode()
    assert page.status_code == 200
    assert "Tick this box so we can contact you about the study." in html
    assert re.search(r'value="no"[^>]*checked', html)
    assert not Participant.objects.filter(study=study).exists()
    assert RegistryMatch.objects.get().state == MatchState.INVITED


def test_a_yes_link_used_twice_creates_one_application(client, invitation, study):
    yes = emailed_link("yes")
    yes_post(client, yes)

    again = yes_post(client, yes)

    assert again.status_code == 404
    assert Participant.objects.filter(study=study).count() == 1


def test_a_person_who_left_the_registry_finds_the_links_dead(client, invitation, person):
    type(person).objects.filter(pk=person.pk).update(registry_left_at=timezone.now())

    assert client.get(emailed_link("yes")).status_code == 404
    assert client.post(emailed_link("no")).status_code == 404
    assert RegistryMatch.objects.get().state == MatchState.INVITED


def test_the_links_expire_after_the_setting_s_days(client, invitation, time_machine, settings):
    yes = emailed_link("yes")
    time_machine.move_to(
        DEC_7 + dt.timedelta(days=settings.REGISTRY_INVITATION_LINK_MAX_AGE_DAYS, seconds=1),
        tick=False,
    )

    assert client.get(yes).status_code == 404


def test_a_tampered_or_forged_link_does_not_work(client, invitation):
    yes = emailed_link("yes")
    tampered = yes[:-3] + ("A" if yes[-3] != "A" else "B") + yes[-2:]
    invitation.nonce = "made-up"
    forged = invitation_path(invitation=invitation, response=INVITATION_YES)

    assert client.get(tampered).status_code == 404
    assert client.get(forged).status_code == 404


def test_a_no_link_cannot_be_turned_into_a_yes(client, invitation, study):
    no = emailed_link("no")

    yes_post(client, no)

    assert not Participant.objects.filter(study=study).exists()
    assert RegistryMatch.objects.get().state == MatchState.DECLINED


def test_the_pages_behind_the_links_are_never_cached_or_indexed_and_leak_no_referrer(
    client, invitation
):
    page = client.get(emailed_link("yes"))

    assert "no-cache" in page["Cache-Control"]
    assert page["Referrer-Policy"] == "strict-origin"
    assert page["X-Robots-Tag"] == "noindex"


def test_the_yes_page_is_in_spanish_for_a_spanish_speaker(
    client, ldn_study, study, coordinator, django_capture_on_commit_callbacks
):
    person = person_in_registry(ldn_study, language="es", first_name="Ana", email="ana@example.com")
    match = match_of(study, person)
    with django_capture_on_commit_callbacks(execute=True):
        invitation = registry_invitation_send(match=match, by=coordinator)

    html = client.get(invitation_path(invitation=invitation, response=INVITATION_YES))

    assert "Postularse a" in html.content.decode()
    assert invitation_path(invitation=invitation, response=INVITATION_NO) != ""


def test_the_study_team_sees_the_new_applicant_with_carried_over_answers_marked(
    client, invitation, study
):
    yes_post(client, emailed_link("yes"))
    applicant = Participant.objects.get(study=study)
    team = staff("sleep-coordinator", roles.COORDINATOR, study, password=None)
    client.force_login(team)

    queue = client.get(reverse("admin:recruitment_participant_changelist")).content.decode()
    page = client.get(
        reverse("admin:recruitment_participant_change", args=[applicant.pk])
    ).content.decode()

    assert "SLP-S-0001" in queue
    assert "Annabel" in page
    assert page.count("carried over from the registry: answered on Dec 3, 2026") == 2


def test_a_yes_keeps_the_persons_shared_answers_dated_the_day_they_gave_them(
    client, invitation, person, study
):
    before = {
        a.question.code: (a.value, a.answered_on, a.source_application_id)
        for a in person.shared_answers.select_related("question")
    }

    yes_post(client, emailed_link("yes"))

    after = {
        a.question.code: (a.value, a.answered_on, a.source_application_id)
        for a in person.shared_answers.select_related("question")
    }
    assert after["mecfs_diagnosis"] == before["mecfs_diagnosis"]
    assert after["pregnancy"] == before["pregnancy"]
    assert after["mecfs_diagnosis"][1] == dt.date(2026, 12, 3)


# -- never a 500, never the token in a log -------------------------------------------------------
def test_an_unexpected_error_is_a_friendly_page_and_the_log_has_no_token(
    client, invitation, monkeypatch, caplog
):
    path = emailed_link("yes")
    token = path.split("/")[3]

    def broken(**kwargs):
        raise RuntimeError(f"something mentioning {kwargs['token']}")

    monkeypatch.setattr(invitations, "invitation_link_check", broken)
    with caplog.at_level(logging.INFO):
        response = client.get(path)

    assert response.status_code == 503
    assert "Something went wrong on our side" in response.content.decode()
    assert token not in caplog.text
    assert "RuntimeError" in caplog.text


def test_log_lines_that_quote_an_invitation_path_lose_the_token():
    record = logging.LogRecord(
        "django.security.csrf",
        logging.WARNING,
        __file__,
        1,
        "Forbidden (%s): %s",
        ("CSRF cookie not set.", "/registry/invitation/eyJuIjoiYSJ9:1tXyZ:abc-DEF_123/"),
        None,
    )

    assert RedactSignedLinks().filter(record) is True
    assert record.getMessage() == (
        "Forbidden (CSRF cookie not set.): /registry/invitation/[redacted]/"
    )
