"""The trial center's registry: the box on every interest form, and two ways to take it back
(the withdraw page's second button, and the signed link in the footer of patient emails),
each removing the person from every future match at once and leaving the applications as
they are."""

import datetime as dt
import logging
import re

import pytest
from django.core import mail, signing
from django.urls import reverse

from accounts.log_filters import RedactSignedLinks
from recruitment.intake.services import participant_submit
from recruitment.intake.staff_entry import STAFF_REGISTRY_LABEL
from recruitment.intake.withdraw import withdraw_path
from recruitment.links import REGISTRY_LEAVE_SALT, registry_leave_path
from recruitment.models import Participant, Person, Status
from recruitment.people import REGISTRY_CONSENT_TEXT, person_registry_leave
from tests.dates import NOV_25
from tests.factories import applicant, contact_details, ldn_form_data

pytestmark = pytest.mark.django_db

FOOTER_LINK = re.compile(r"http://testserver(/registry/leave/[^/\s]+/)")
CANARIES = ("Zebulonia", "Quixworthy", "zq.canary")


@pytest.fixture(autouse=True)
def now(time_machine):
    time_machine.move_to(NOV_25, tick=False)
    return NOV_25


@pytest.fixture
def member(ldn_study, django_capture_on_commit_callbacks):
    """Someone who ticked the registry's box on the LDN form, with the emails it sent."""
    with django_capture_on_commit_callbacks(execute=True):
        return applicant(
            ldn_study,
            first_name="Zebulonia",
            last_name="Quixworthy",
            email="zq.canary@example.com",
            registry_consent=True,
        )


def footer_link(participant) -> str:
    (email,) = [m for m in mail.outbox if m.to == [participant.email]]
    match = FOOTER_LINK.search(email.body)
    assert match, email.body
    return match.group(1)


def person_of(participant) -> Person:
    return Person.objects.get(pk=participant.person_id)


# -- the box --------------------------------------------------------------------------------------
def test_the_interest_form_offers_the_registry_box_unticked_and_optional(client, ldn_study):
    page = client.get(reverse("recruitment:interest", args=[ldn_study.slug])).content.decode()

    box = re.search(r'<input[^>]*name="registry_consent"[^>]*>', page).group(0)
    assert 'type="checkbox"' in box
    assert "checked" not in box and "required" not in box
    assert str(REGISTRY_CONSENT_TEXT) in page


def test_a_form_sent_with_the_box_ticked_records_the_consent_on_the_person(
    client, ldn_study, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("recruitment:interest", args=[ldn_study.slug]),
            ldn_form_data(registry_consent="on"),
        )

    person = Participant.objects.get().person
    assert (person.registry_consent, person.registry_consent_at) == (True, NOV_25)
    assert person.in_registry


def test_a_form_sent_without_the_box_adds_nobody_to_the_registry(
    client, ldn_study, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("recruitment:interest", args=[ldn_study.slug]), ldn_form_data())

    assert Participant.objects.count() == 1
    assert not Person.objects.in_registry().exists()


# -- leaving --------------------------------------------------------------------------------------
def test_leaving_the_registry_removes_the_person_from_every_future_match_at_once(
    member, coordinator
):
    person_registry_leave(person=person_of(member), by=coordinator)

    assert not Person.objects.in_registry().exists()
    last = person_of(member).history.first()
    assert (last.history_user, last.registry_left_at) == (coordinator, NOV_25)
    assert last.history_change_reason == "Asked not to be contacted about other studies"


def test_leaving_twice_keeps_the_first_time(member, time_machine):
    person_registry_leave(person=person_of(member))
    time_machine.move_to(NOV_25 + dt.timedelta(days=3), tick=False)
    person_registry_leave(person=person_of(member))

    assert person_of(member).registry_left_at == NOV_25


def test_an_erased_person_is_never_in_the_registry(member):
    Person.objects.filter(pk=member.person_id).update(erased_at=NOV_25)

    assert not Person.objects.in_registry().exists()


# -- the footer link ------------------------------------------------------------------------------
def test_a_registry_members_email_ends_with_a_signed_link_to_leave(member):
    path = footer_link(member)
    token = path.split("/")[3]

    person = person_of(member)
    assert signing.loads(token, salt=REGISTRY_LEAVE_SALT) == {
        "p": person.pk,
        "n": person.registry_nonce,
    }
    assert path == registry_leave_path(person=person)


def test_someone_outside_the_registry_gets_no_such_link(
    ldn_study, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        participant = applicant(ldn_study)

    (email,) = [m for m in mail.outbox if m.to == [participant.email]]
    assert "/registry/leave/" not in email.body


def test_the_link_asks_first_then_leaves_the_registry_and_keeps_the_application(client, member):
    path = footer_link(member)

    asked = client.get(path)
    assert asked.status_code == 200
    assert person_of(member).in_registry
    done = client.post(path)

    assert done.status_code == 200
    assert "We will not contact you about other studies" in done.content.decode()
    assert not person_of(member).in_registry
    kept = Participant.objects.get(pk=member.pk)
    assert (kept.status, kept.withdraw_nonce) == (Status.NEW, member.withdraw_nonce)
    for page in (asked, done):
        assert not any(canary in page.content.decode() for canary in CANARIES)
        assert page["Referrer-Policy"] == "strict-origin"


def test_the_link_works_once(client, member):
    path = footer_link(member)
    client.post(path)

    assert client.get(path).status_code == 404
    assert client.post(path).status_code == 404


def test_the_link_expires(client, member, time_machine, settings):
    path = footer_link(member)
    time_machine.move_to(NOV_25 + dt.timedelta(days=settings.REGISTRY_LEAVE_LINK_MAX_AGE_DAYS + 1))

    assert client.post(path).status_code == 404
    assert person_of(member).in_registry


def test_a_tampered_link_does_nothing(client, member):
    token = footer_link(member).split("/")[3]
    payload, timestamp, signature = token.rsplit(":", 2)
    forged = f"{payload}:{timestamp}:{signature[:-1]}{'B' if signature[-1] != 'B' else 'C'}"

    assert client.post(f"/registry/leave/{forged}/").status_code == 404
    assert person_of(member).in_registry


def test_the_links_token_is_redacted_from_log_lines(member):
    path = footer_link(member)
    record = logging.LogRecord(
        "django.request", logging.WARNING, "", 0, "Not Found: %s", (path,), None
    )

    RedactSignedLinks().filter(record)

    assert record.getMessage() == "Not Found: /registry/leave/[redacted]/"


# -- the withdraw page's second button ------------------------------------------------------------
def test_the_withdraw_page_offers_a_registry_member_to_stop_other_studies_only(client, member):
    page = client.get(withdraw_path(participant=member)).content.decode()

    assert "Stop contacting me about other studies" in page
    assert 'name="leave_registry"' in page


def test_the_withdraw_page_has_no_second_button_for_others(client, ldn_study):
    participant = applicant(ldn_study)

    page = client.get(withdraw_path(participant=participant)).content.decode()

    assert "Stop contacting me about other studies" not in page


def test_the_second_button_leaves_the_registry_and_the_application_as_it_is(client, member):
    path = withdraw_path(participant=member)

    response = client.post(path, {"leave_registry": "1"})

    assert response.status_code == 200
    assert member.screening_number in response.content.decode()
    assert not person_of(member).in_registry
    kept = Participant.objects.get(pk=member.pk)
    assert kept.status == Status.NEW
    assert kept.withdraw_nonce == member.withdraw_nonce  # the withdraw link still works
    assert client.get(path).status_code == 200


def test_a_spanish_registry_member_gets_the_footer_in_spanish(
    ldn_study, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        participant = participant_submit(
            study=ldn_study,
            contact=contact_details(email="es@example.com", phone="", registry_consent=True),
            answers={},
            language="es",
            site_url="http://testserver/",
        )

    (email,) = [m for m in mail.outbox if m.to == [participant.email]]
    assert "Otros estudios" in email.body
    assert "centro de estudios puede comunicarse con usted" in email.body
    assert "/registry/leave/" in email.body


def test_staff_entering_a_phone_call_ask_before_ticking_the_registry_box(coord_client, ldn_study):
    page = coord_client.get("/admin/recruitment/participant/add/").content.decode()
    box = re.search(r'<input[^>]*name="registry_consent"[^>]*>', page).group(0)

    assert str(STAFF_REGISTRY_LABEL) in page
    assert "checked" not in box
    data = ldn_form_data(entry_source="phone", language="en", registry_consent="on")
    coord_client.post("/admin/recruitment/participant/add/", data)
    assert Participant.objects.get().person.in_registry
