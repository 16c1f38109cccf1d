"""STOP and START: a reply to our number posted by the provider (signed with the auth token)
stops or restarts texts to that number; staff record "no more texts" heard on a call, with a
reason. Each change is audited; nothing of the reply is logged."""

import logging

import pytest
from django.urls import reverse

from recruitment.models import OptOutHow, TextOptOut
from recruitment.texts.services import text_allowed, texts_stopped
from recruitment.texts.signatures import twilio_signature
from tests.factories import submit

pytestmark = pytest.mark.django_db

TOKEN = "stand-in-auth-token"
URL = "/texts/inbound/"
NUMBER = "+12055550134"


@pytest.fixture(autouse=True)
def _twilio_token(settings):
    settings.TEXT_TWILIO_AUTH_TOKEN = TOKEN


def reply(client, body: str, *, sender: str = NUMBER, token: str = TOKEN, **extra):
    """A reply as Twilio posts it, signed as Twilio signs it."""
    params = {"From": sender, "To": "+12055550100", "Body": body, "MessageSid": "SM1", **extra}
    signature = twilio_signature(url=f"http://testserver{URL}", params=params, auth_token=token)
    return client.post(URL, params, HTTP_X_TWILIO_SIGNATURE=signature)


@pytest.mark.parametrize(
    "word", ["STOP", "stop", "StopAll", "UNSUBSCRIBE", " cancel ", "End", "QUIT"]
)
def test_a_stop_word_stops_texts_to_the_number_with_when_and_how(client, word):
    response = reply(client, word)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    opt_out = TextOptOut.objects.get(phone=NUMBER)
    assert (opt_out.stopped, opt_out.how, opt_out.by) == (True, OptOutHow.REPLY, None)
    assert opt_out.at is not None
    assert opt_out.history.get().history_change_reason == "Texts stopped (STOP reply)"


def test_start_allows_texts_again_and_both_changes_stay_in_the_history(client):
    reply(client, "STOP")
    reply(client, "START")

    opt_out = TextOptOut.objects.get(phone=NUMBER)
    assert not opt_out.stopped
    assert not texts_stopped(phone=NUMBER)
    assert [h.stopped for h in opt_out.history.order_by("history_date")] == [True, False]


def test_any_other_reply_changes_nothing_and_is_not_kept(client):
    response = reply(client, "Can I come Tuesday instead? My fatigue is bad")

    assert response.status_code == 200
    assert not TextOptOut.objects.exists()


def test_a_reply_with_a_wrong_signature_is_refused_and_records_nothing(client):
    assert reply(client, "STOP", token="not-the-token").status_code == 403
    params = {"From": NUMBER, "Body": "STOP"}
    assert client.post(URL, params).status_code == 403  # no signature at all
    assert not TextOptOut.objects.exists()


def test_a_signed_reply_whose_fields_were_changed_is_refused(client):
    params = {"From": "+12055550199", "Body": "STOP"}
    signature = twilio_signature(
        url=f"http://testserver{URL}", params={**params, "From": NUMBER}, auth_token=TOKEN
    )
    assert client.post(URL, params, HTTP_X_TWILIO_SIGNATURE=signature).status_code == 403


def test_the_webhook_needs_no_csrf_token_and_takes_only_post(client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert reply(strict, "STOP").status_code == 200
    assert client.get(URL).status_code == 405


def test_the_log_says_what_was_done_never_the_number_or_the_words(client, caplog):
    with caplog.at_level(logging.DEBUG):
        reply(client, "STOP")
        reply(client, "I feel awful today")

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Inbound text handled: stopped" in logged
    for secret in (NUMBER, "2055550134", "awful", "STOP\n"):
        assert secret not in logged


def test_a_stopped_number_gets_no_text_whoever_it_belongs_to(client, ldn_study):
    participant = submit(ldn_study, preferred_contact="text")
    assert text_allowed(participant=participant)

    reply(client, "STOP")

    assert not text_allowed(participant=participant)


def test_the_signature_is_twilios_hmac_sha1_of_the_url_and_sorted_fields():
    # The example in Twilio's security documentation.
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    assert (
        twilio_signature(url=url, params=params, auth_token="12345")
        == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    )


# -- Staff: "Stop texts (asked on the call)" ---------------------------------------------------
def stop_url(participant) -> str:
    return reverse("admin:recruitment_participant_texts_stop", args=[participant.pk])


def test_the_call_card_offers_to_stop_texts_and_then_says_when_and_how_they_stopped(
    coord_client, coordinator, ldn_study
):
    participant = submit(ldn_study, preferred_contact="text")
    page_url = reverse("admin:recruitment_participant_change", args=[participant.pk])
    assert stop_url(participant) in coord_client.get(page_url).content.decode()

    response = coord_client.post(stop_url(participant), {"reason": "Asked on the call"})

    assert response.status_code == 302
    opt_out = TextOptOut.objects.get(phone=participant.phone)
    assert (opt_out.how, opt_out.by, opt_out.reason, opt_out.participant) == (
        OptOutHow.STAFF,
        coordinator,
        "Asked on the call",
        participant,
    )
    (entry,) = opt_out.history.all()
    assert (entry.history_user, entry.history_change_reason) == (
        coordinator,
        "Texts stopped: Asked on the call",
    )
    page = coord_client.get(page_url).content.decode()
    assert 'id="call-card-texts"' in page
    assert "Texts stopped on" in page
    assert stop_url(participant) not in page


def test_stopping_texts_needs_a_reason_and_keeps_nothing_without_one(coord_client, ldn_study):
    participant = submit(ldn_study)

    response = coord_client.post(stop_url(participant), {"reason": "   "})

    assert response.status_code == 200
    assert 'id="id_reason_error"' in response.content.decode() or "required" in (
        response.content.decode()
    )
    assert not TextOptOut.objects.exists()


def test_a_participant_without_a_phone_has_no_texts_to_stop(coord_client, ldn_study):
    participant = submit(ldn_study, phone="", preferred_contact="email")

    response = coord_client.post(stop_url(participant), {"reason": "Asked"})

    assert response.status_code == 200
    assert "no phone number we could text" in response.content.decode()


def test_monitors_cannot_stop_texts(client, monitor, ldn_study):
    participant = submit(ldn_study)
    client.force_login(monitor)

    assert client.post(stop_url(participant), {"reason": "x"}).status_code == 403
    assert not TextOptOut.objects.exists()


# -- Staff: "Turn texts back on (asked on the call)" --------------------------------------------
def start_url(participant) -> str:
    return reverse("admin:recruitment_participant_texts_start", args=[participant.pk])


def stopped_by_staff(coord_client, participant):
    coord_client.post(stop_url(participant), {"reason": "Asked on the call"})
    assert texts_stopped(phone=participant.phone)


def test_texts_stopped_by_staff_go_back_on_from_the_same_card_with_a_reason_and_are_audited(
    coord_client, coordinator, ldn_study
):
    participant = submit(ldn_study, preferred_contact="text")
    page_url = reverse("admin:recruitment_participant_change", args=[participant.pk])
    assert start_url(participant) not in coord_client.get(page_url).content.decode()
    stopped_by_staff(coord_client, participant)
    assert start_url(participant) in coord_client.get(page_url).content.decode()

    response = coord_client.post(
        start_url(participant), {"asked": "on", "reason": "Asked for texts again"}, follow=True
    )

    assert f"Texts to {participant.screening_number} are back on." in response.content.decode()
    assert text_allowed(participant=participant)
    opt_out = TextOptOut.objects.get(phone=participant.phone)
    assert (opt_out.stopped, opt_out.how, opt_out.by, opt_out.reason) == (
        False,
        OptOutHow.STAFF,
        coordinator,
        "Asked for texts again",
    )
    latest = opt_out.history.order_by("-history_date", "-history_id").first()
    assert (latest.history_user, latest.history_change_reason) == (
        coordinator,
        "Texts allowed again: Asked for texts again",
    )
    page = coord_client.get(page_url).content.decode()
    assert stop_url(participant) in page and start_url(participant) not in page


@pytest.mark.parametrize(
    "data",
    [{"reason": "Asked for texts again"}, {"asked": "on", "reason": "  "}],
    ids=["not confirmed that the person asked", "no reason"],
)
def test_texts_go_back_on_only_when_the_person_asked_and_with_a_reason(
    coord_client, ldn_study, data
):
    participant = submit(ldn_study, preferred_contact="text")
    stopped_by_staff(coord_client, participant)

    response = coord_client.post(start_url(participant), data)

    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    assert texts_stopped(phone=participant.phone)


def test_a_stop_reply_is_lifted_by_the_person_s_start_alone(client, coord_client, ldn_study):
    participant = submit(ldn_study, preferred_contact="text", phone=NUMBER)
    reply(client, "STOP")
    page_url = reverse("admin:recruitment_participant_change", args=[participant.pk])
    assert start_url(participant) not in coord_client.get(page_url).content.decode()

    response = coord_client.post(start_url(participant), {"asked": "on", "reason": "Asked"})

    assert "only their START reply" in response.content.decode()
    assert texts_stopped(phone=NUMBER)


def test_the_service_refuses_staff_an_opt_in_over_a_stop_reply_and_writes_nothing(
    client, coordinator
):
    from recruitment.errors import RecruitmentError
    from recruitment.texts.services import STOPPED_BY_REPLY, text_opt_in_record

    reply(client, "STOP")

    with pytest.raises(RecruitmentError) as refused:
        text_opt_in_record(phone=NUMBER, how=OptOutHow.STAFF, by=coordinator, reason="Asked")

    assert str(refused.value) == str(STOPPED_BY_REPLY)
    opt_out = TextOptOut.objects.get(phone=NUMBER)
    assert (opt_out.stopped, opt_out.history.count()) == (True, 1)


def test_texts_never_stopped_cannot_be_turned_back_on(coord_client, ldn_study):
    participant = submit(ldn_study, preferred_contact="text")

    response = coord_client.post(start_url(participant), {"asked": "on", "reason": "Asked"})

    assert "are not stopped" in response.content.decode()
    assert not TextOptOut.objects.exists()


def test_monitors_cannot_turn_texts_back_on(client, monitor, coord_client, ldn_study):
    participant = submit(ldn_study, preferred_contact="text")
    stopped_by_staff(coord_client, participant)
    client.force_login(monitor)

    assert client.post(start_url(participant), {"asked": "on", "reason": "x"}).status_code == 403
    assert texts_stopped(phone=participant.phone)
