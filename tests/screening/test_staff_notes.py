"""Staff notes: timestamped notes on a participant (who, when, text), apart from the patient's
own note, added through `staff_note_add`, listed newest first on the participant page and in
the audit trail, never shown to monitors nor put in the exports, erased by retention."""

import datetime as dt

import pytest
from django.urls import reverse

from recruitment.errors import RecruitmentError
from recruitment.models import Participant, StaffNote, Status
from recruitment.screening.retention import participants_erase_expired
from recruitment.screening.staff_notes import NOTE_EMPTY, NOTE_ERASED, staff_note_add
from tests.factories import LDN_ELIGIBLE_ANSWERS, applicant, walk

pytestmark = pytest.mark.django_db

NOV_25 = dt.datetime(2026, 11, 25, 18, tzinfo=dt.UTC)
SECRET = "Prefers calls after her dialysis on Tuesdays"


@pytest.fixture(autouse=True)
def now(time_machine):
    time_machine.move_to(NOV_25, tick=False)
    return NOV_25


@pytest.fixture
def participant(ldn_study):
    return applicant(ldn_study, answers=LDN_ELIGIBLE_ANSWERS, note="The patient's own words")


def change_url(participant):
    return reverse("admin:recruitment_participant_change", args=[participant.pk])


def note_url(participant):
    return reverse("admin:recruitment_participant_note", args=[participant.pk])


def history_url(participant):
    return reverse("admin:recruitment_participant_history", args=[participant.pk])


# ---------------------------------------------------------------------------------------------
# The service
# ---------------------------------------------------------------------------------------------
def test_a_note_is_kept_with_who_wrote_it_and_when(participant, coordinator):
    note = staff_note_add(participant=participant, text=f"  {SECRET}\n", by=coordinator)

    assert (note.participant, note.text, note.by, note.at) == (
        participant,
        SECRET,
        coordinator,
        NOV_25,
    )
    # Apart from the patient's own note.
    assert Participant.objects.get(pk=participant.pk).note == "The patient's own words"


def test_an_empty_note_is_refused(participant, coordinator):
    with pytest.raises(RecruitmentError) as refused:
        staff_note_add(participant=participant, text="   ", by=coordinator)

    assert str(refused.value) == NOTE_EMPTY
    assert not StaffNote.objects.exists()


def test_retention_erases_the_text_and_keeps_who_and_when(
    ldn_study, participant, coordinator, time_machine
):
    staff_note_add(participant=participant, text=SECRET, by=coordinator)
    walk(participant, Status.DECLINED, by=coordinator)
    time_machine.move_to(NOV_25 + dt.timedelta(days=ldn_study.retention_days + 1), tick=False)

    participants_erase_expired()

    (note,) = StaffNote.objects.filter(participant=participant)
    assert (note.text, note.by, note.at) == ("", coordinator, NOV_25)
    with pytest.raises(RecruitmentError) as refused:
        staff_note_add(participant=participant, text="Too late", by=coordinator)
    assert str(refused.value) == NOTE_ERASED.format(number=participant.screening_number)


# ---------------------------------------------------------------------------------------------
# The pages
# ---------------------------------------------------------------------------------------------
def test_notes_are_added_on_their_page_and_listed_newest_first(
    coord_client, participant, time_machine
):
    response = coord_client.post(note_url(participant), {"text": "Called, left a message"})
    time_machine.move_to(NOV_25 + dt.timedelta(minutes=10), tick=False)  # signed in still
    coord_client.post(note_url(participant), {"text": "Called back: wants the evening"})

    page = coord_client.get(change_url(participant)).content.decode()

    assert response.status_code == 302
    assert note_url(participant) in page  # the "Add a note" button
    newer = page.index("Called back: wants the evening")
    assert newer < page.index("Called, left a message")
    history = coord_client.get(history_url(participant)).content.decode()
    assert history.index("Called back") < history.index("Called, left")


def test_the_note_page_refuses_an_empty_note(coord_client, participant):
    response = coord_client.post(note_url(participant), {"text": " "})

    assert response.status_code == 200
    assert not StaffNote.objects.exists()


def test_a_monitor_sees_no_note_anywhere_and_cannot_add_one(
    client, monitor, coordinator, ldn_study, participant
):
    staff_note_add(participant=participant, text=SECRET, by=coordinator)
    client.force_login(monitor)

    pages = [
        client.get(change_url(participant)),
        client.get(history_url(participant)),
        client.get(reverse("admin:recruitment_participant_changelist")),
        client.get(reverse("staff:screening_log", args=[ldn_study.slug])),
        client.get(reverse("staff:fhir_bundle", args=[ldn_study.slug])),
    ]

    for response in pages:
        assert response.status_code == 200
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert SECRET.encode() not in body
        assert b"dialysis" not in body
    assert note_url(participant).encode() not in pages[0].content
    assert client.get(note_url(participant)).status_code == 403
    assert client.post(note_url(participant), {"text": "A monitor's note"}).status_code == 403
    assert StaffNote.objects.count() == 1


def test_the_de_identified_exports_leave_the_notes_out_even_for_coordinators(
    coord_client, coordinator, ldn_study, participant
):
    staff_note_add(participant=participant, text=SECRET, by=coordinator)

    for name in ("staff:screening_log", "staff:fhir_bundle", "staff:identification_list"):
        response = coord_client.get(reverse(name, args=[ldn_study.slug]))
        assert response.status_code == 200
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert b"dialysis" not in body, name
