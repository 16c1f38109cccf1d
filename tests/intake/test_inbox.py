"""The public form in two steps: the request keeps the form as sent, numbered, with its task;
the worker takes it in (evaluates, matches, writes the participant) about a second later.
These tests run the database queue and its worker (`manage.py db_worker --batch`), as in
production."""

import datetime as dt
import io
import json
import logging

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from recruitment.intake import inbox
from recruitment.intake.services import participant_submit
from recruitment.models import Participant, SentForm, Study, form_pack
from recruitment.notifications.queue import SENT_FORMS_WAITING, queue_health
from tests.factories import LDN_ELIGIBLE_ANSWERS, contact_details, ldn_form_data

pytestmark = pytest.mark.django_db(transaction=True)  # the worker closes its connection

FORM_URL = "/studies/ldn-mecfs/interest/"
THANKS_URL = "/studies/ldn-mecfs/interest/thanks/"
TOKEN = "6f1c1d4e-0b0a-4a53-9d53-0c6a0f3a9b10"


@pytest.fixture(autouse=True)
def database_queue(settings, ldn_study):
    """The database queue, as in production, less the re-matching that loading the study
    queued (tested in tests/registry)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    DBTaskResult.objects.all().delete()


def run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)


def send(client, **overrides):
    response = client.post(FORM_URL, ldn_form_data(**overrides))
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


def test_the_thank_you_page_shows_the_number_before_and_after_the_form_is_taken_in(client):
    send(client)

    assert not Participant.objects.exists()
    assert "LDN-S-0001" in client.get(THANKS_URL).content.decode()

    run_worker()

    assert Participant.objects.get().screening_number == "LDN-S-0001"
    assert not SentForm.objects.waiting().exists()
    page = client.get(THANKS_URL).content.decode()
    assert "LDN-S-0001" in page
    assert "call you" in page.lower()  # who calls: the preferred contact method, phone


# The thank-you page: the study (1) and the form's row by its token (1), before the take-in and
# after it (the row is kept).
THANKS_QUERIES = 2


def test_the_thank_you_page_takes_the_same_two_queries_before_and_after_the_take_in(
    client, django_assert_num_queries
):
    send(client)
    with django_assert_num_queries(THANKS_QUERIES):
        assert client.get(THANKS_URL).status_code == 200

    run_worker()

    with django_assert_num_queries(THANKS_QUERIES):
        assert client.get(THANKS_URL).status_code == 200


def test_a_kept_form_holds_what_was_sent_compressed(client):
    send(client, email="ann@example.com", zip_code="35203")

    sent = SentForm.objects.get()
    assert sent.data["contact"]["email"] == "ann@example.com"
    assert sent.data["answers"] == LDN_ELIGIBLE_ANSWERS
    as_json = json.dumps(sent.data, separators=(",", ":")).encode()
    assert len(bytes(sent.packed)) < 0.7 * len(as_json)


def test_the_worker_writes_the_participant_as_sent_and_then_emails(client):
    with time_machine.travel(dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC), tick=False):
        send(client, email="ann@example.com")
    sent_at = SentForm.objects.get().sent_at

    with time_machine.travel(dt.datetime(2026, 11, 25, 15, 0, 2, tzinfo=dt.UTC), tick=False):
        run_worker()

    participant = Participant.objects.get()
    assert participant.email == "ann@example.com"
    assert participant.outcome == "likely_eligible"
    assert participant.answers.count() == 11
    assert participant.verdicts.count() == 13  # the five staff checks are not stored
    # Applied, and consented to contact, when they sent the form, not when it was taken in.
    assert participant.created_at == participant.contact_consent_at == sent_at
    version = participant.history.get()
    assert version.history_type == "+"
    assert version.history_change_reason == inbox.SUBMITTED_REASON
    assert sorted(m.to[0] for m in mail.outbox) == ["ann@example.com", "coordinators@example.edu"]


def test_a_form_taken_in_keeps_only_its_number_which_the_nightly_erasure_deletes_a_day_later(
    client,
):
    send(client, token=TOKEN)
    run_worker()

    kept = SentForm.objects.get()
    assert kept.packed == b""
    assert kept.data == {}
    assert kept.taken_in_at is not None
    assert kept.screening_number == "LDN-S-0001"
    with time_machine.travel(kept.sent_at + dt.timedelta(hours=23)):
        call_command("erase_expired_participants", stdout=io.StringIO())
    assert SentForm.objects.exists()
    with time_machine.travel(kept.sent_at + dt.timedelta(hours=25)):
        call_command("erase_expired_participants", stdout=io.StringIO())
    assert not SentForm.objects.exists()
    assert Participant.objects.get().screening_number == "LDN-S-0001"


def test_the_task_carries_only_the_sent_forms_id(client):
    send(client, email="ann@example.com", first_name="Annabel")

    queued = DBTaskResult.objects.get()
    assert queued.task_path == "recruitment.intake.inbox.sent_form_take_in_task"
    arguments = json.dumps(queued.args_kwargs)
    assert json.loads(arguments)["kwargs"] == {"sent_form_id": SentForm.objects.get().pk}
    for personal in ("ann@example.com", "Annabel", "1980-04-28", "555"):
        assert personal not in arguments


def test_a_form_taken_in_twice_is_written_once(client):
    send(client)
    sent = SentForm.objects.get()

    assert inbox.sent_form_take_in(sent_form_id=sent.pk) == "taken in; emails sent"
    assert inbox.sent_form_take_in(sent_form_id=sent.pk) == inbox.GONE
    run_worker()  # the queued task finds it gone too

    assert Participant.objects.count() == 1
    assert DBTaskResult.objects.filter(return_value=inbox.GONE).count() == 1


def test_a_take_in_stopped_before_its_emails_sends_them_next_time_and_writes_nothing_twice(
    client, ldn_study
):
    send(client, token=TOKEN, email="ann@example.com")
    sent = SentForm.objects.get()
    # What a worker killed between the participant's commit and the emails leaves behind.
    participant_submit(
        study=ldn_study,
        contact=contact_details(email="ann@example.com"),
        answers=LDN_ELIGIBLE_ANSWERS,
        token=sent.submission_token,
        patient_email=False,
        entered_by=None,
    )
    mail.outbox.clear()

    call_command("take_in_sent_forms", stdout=io.StringIO())

    assert Participant.objects.count() == 1
    assert not SentForm.objects.waiting().exists()
    assert sorted(m.to[0] for m in mail.outbox) == ["ann@example.com", "coordinators@example.edu"]


def test_the_same_form_sent_again_takes_no_new_number_before_or_after_it_is_taken_in(client):
    send(client, token=TOKEN)
    send(client, token=TOKEN)  # a double click

    assert SentForm.objects.count() == 1
    run_worker()
    send(client, token=TOKEN)  # the back button, once it was taken in

    assert not SentForm.objects.waiting().exists()
    assert Participant.objects.get().screening_number == "LDN-S-0001"
    assert Study.objects.get(slug="ldn-mecfs").last_screening_seq == 1
    assert "LDN-S-0001" in client.get(THANKS_URL).content.decode()


def test_forms_from_one_person_are_linked_as_possible_duplicates_when_taken_in(client):
    send(client, email="ann@example.com")
    send(client, email="ANN@example.com ")

    run_worker()

    first, second = Participant.objects.order_by("screening_seq")
    assert second.duplicate_of_id == first.pk
    assert first.duplicate_of_id is None


def test_a_study_closed_after_the_send_still_takes_the_form_in(client, ldn_study):
    send(client)
    Study.objects.filter(pk=ldn_study.pk).update(is_recruiting=False)

    run_worker()

    assert Participant.objects.get().screening_number == "LDN-S-0001"


def test_the_participant_keeps_the_consent_text_version_the_patient_saw(client, ldn_study):
    send(client)
    Study.objects.filter(pk=ldn_study.pk).update(contact_consent_version="2027-01-01")

    run_worker()

    assert Participant.objects.get().contact_consent_version == ldn_study.contact_consent_version


def test_a_form_that_fails_to_be_taken_in_waits_is_reported_and_is_taken_in_once_mended(
    client, caplog
):
    send(client, email="ann@example.com")
    sent = SentForm.objects.get()
    # A form the request's validation would refuse, as a bug in the take-in would meet one.
    data = sent.data
    data["contact"]["zip_code"] = "3520X"
    sent.packed = form_pack(data)
    sent.save()

    with caplog.at_level(logging.ERROR):
        run_worker()

    assert not Participant.objects.exists()
    assert SentForm.objects.get().pk == sent.pk
    assert DBTaskResult.objects.get().status == "FAILED"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"Sent form {sent.pk} not taken in: ValidationError" in logged
    for personal in ("ann@example.com", "3520X", "Ann"):
        assert personal not in logged
    later = timezone.now() + dt.timedelta(minutes=11)
    health = queue_health(now=later, max_wait_minutes=10)
    assert SENT_FORMS_WAITING.format(count=1, minutes=11) in health.problems
    with time_machine.travel(later), pytest.raises(CommandError, match="not taken in"):
        call_command("check_tasks", stdout=io.StringIO())

    data["contact"]["zip_code"] = "35203"
    SentForm.objects.filter(pk=sent.pk).update(packed=form_pack(data))
    call_command("take_in_sent_forms", stdout=io.StringIO())

    assert Participant.objects.get().zip_code == "35203"
    assert not SentForm.objects.waiting().exists()
    problems = queue_health(now=later, max_wait_minutes=10).problems
    assert not [p for p in problems if "sent and not taken in" in p]


def test_check_tasks_is_quiet_about_a_form_sent_a_moment_ago(client):
    send(client)

    health = queue_health(max_wait_minutes=10)
    assert health.sent_forms == 1
    assert not [p for p in health.problems if "sent and not taken in" in p]


def test_a_database_that_does_not_answer_is_tried_again(client, monkeypatch):
    send(client)
    monkeypatch.setattr(inbox, "RETRY_DELAYS", (0, 0))
    real, calls = inbox.sent_form_take_in, []

    def unreachable_once(*, sent_form_id):
        calls.append(sent_form_id)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(sent_form_id=sent_form_id)

    monkeypatch.setattr(inbox, "sent_form_take_in", unreachable_once)

    run_worker()

    assert len(calls) == 2
    assert Participant.objects.count() == 1
    first, second = DBTaskResult.objects.filter(
        task_path__endswith="sent_form_take_in_task"
    ).order_by("enqueued_at")
    assert first.return_value.startswith("retry at")
    assert second.args_kwargs["kwargs"]["attempt"] == 2
    assert second.return_value == "taken in; emails sent"
