"""A coordinator enters the interest form for someone who phoned or walked in."""

import pytest
from django.core import mail

from accounts import roles
from recruitment.intake import forms as public_forms
from recruitment.intake.staff_entry import STAFF_CONSENT_LABEL
from recruitment.models import EntrySource, Participant
from recruitment.selectors import verdict_list
from tests.factories import ldn_form_data, staff, submit

ADD_URL = "/admin/recruitment/participant/add/"
QUEUE_URL = "/admin/recruitment/participant/"


def entry_data(**overrides) -> dict:
    data = ldn_form_data(token="", entry_source="phone", language="en")
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_the_queue_offers_to_enter_an_applicant_by_phone(coord_client):
    page = coord_client.get(QUEUE_URL).content.decode()
    assert "Enter an applicant (phone call)" in page
    assert f'href="{ADD_URL}"' in page


def test_the_entry_page_has_the_public_questions_and_the_staff_consent_wording(
    coord_client, ldn_study
):
    page = coord_client.get(ADD_URL).content.decode()
    assert str(STAFF_CONSENT_LABEL) in page
    assert "Send the confirmation email" in page
    for name in ("q_diagnosis", "q_core-symptoms__pem", "q_opioids__last", "date_of_birth"):
        assert f'name="{name}"' in page
    # The public form's anti-bot fields are not there.
    assert 'name="website"' not in page
    assert 'name="form_issued"' not in page


def test_an_entry_goes_through_the_submission_service_audited_as_the_coordinator(
    coord_client, coordinator, ldn_study
):
    response = coord_client.post(ADD_URL, entry_data(entry_source="walk_in"))
    participant = Participant.objects.get()
    assert response.status_code == 302
    assert response.url == f"/admin/recruitment/participant/{participant.pk}/change/"
    assert participant.entered_by == coordinator
    assert participant.entry_source == EntrySource.WALK_IN
    assert participant.screening_number == "LDN-S-0001"
    assert participant.outcome == "likely_eligible"
    assert len(verdict_list(participant=participant)) == ldn_study.criteria.count()
    (created,) = participant.history.all()
    assert created.history_type == "+"
    assert created.history_user == coordinator
    assert created.history_change_reason == "Entered by staff (Walk-in (entered by staff))"
    assert created.entry_source == EntrySource.WALK_IN
    assert created.outcome == "likely_eligible"


def test_no_email_to_the_person_unless_the_box_is_ticked(
    coord_client, ldn_study, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        coord_client.post(ADD_URL, entry_data())
    assert [m.to for m in mail.outbox] == [["coordinators@example.edu"]]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        coord_client.post(
            ADD_URL,
            entry_data(email="bo@example.com", first_name="Bo", send_confirmation="on"),
        )
    assert sorted(m.to[0] for m in mail.outbox) == ["bo@example.com", "coordinators@example.edu"]


def test_the_staff_form_refuses_what_the_public_form_refuses_with_the_same_words(
    coord_client, ldn_study
):
    bad = {
        "first_name": "",
        "date_of_birth": "1980-02-30",
        "zip_code": "1234",
        "contact_consent": None,
        "q_opioids": "yes",
    }
    response = coord_client.post(ADD_URL, entry_data(**bad))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["first_name"] == [str(public_forms.FIRST_NAME_NEEDED)]
    assert errors["date_of_birth"] == [str(public_forms.DOB_INVALID)]
    assert errors["zip_code"] == [str(public_forms.ZIP_INVALID)]
    assert errors["contact_consent"] == [str(public_forms.CONSENT_NEEDED)]
    assert errors["q_opioids__last"] == [str(public_forms.LAST_DOSE_NEEDED)]
    assert not Participant.objects.exists()


def test_an_entry_matching_someone_is_linked_as_a_possible_duplicate(coord_client, ldn_study):
    first = submit(ldn_study, email="ann.lee@example.com")
    response = coord_client.post(ADD_URL, entry_data(phone="(205) 555-0199"), follow=True)
    entered = Participant.objects.exclude(pk=first.pk).get()
    assert entered.duplicate_of == first
    assert entered.duplicate_review == "pending"
    assert f"Possible duplicate of {first.screening_number}" in response.content.decode()


def test_the_public_rate_limit_does_not_stop_an_office_entering_its_eleventh_person(
    coord_client, ldn_study, settings
):
    settings.RATELIMIT_ENABLE = True
    settings.INTEREST_RATE_LIMIT = "10/h"
    for n in range(11):
        response = coord_client.post(
            ADD_URL,
            entry_data(
                email=f"person{n}@example.com",
                first_name=f"P{n}",
                phone="",
                preferred_contact="email",
            ),
            REMOTE_ADDR="10.0.0.5",
        )
        assert response.status_code == 302, n
    assert Participant.objects.count() == 11


def test_a_double_click_saves_one_entry(coord_client, ldn_study):
    data = entry_data(submission_token="6f1f6b8e-3c1e-4d1e-9c55-8b1d2f0c8a11")
    coord_client.post(ADD_URL, data)
    coord_client.post(ADD_URL, data)
    assert Participant.objects.count() == 1


def test_monitors_cannot_enter_an_applicant(client, monitor, ldn_study):
    client.force_login(monitor)
    assert "Enter an applicant" not in client.get(QUEUE_URL).content.decode()
    assert client.get(ADD_URL).status_code == 403
    assert client.post(ADD_URL, entry_data()).status_code == 403
    assert not Participant.objects.exists()


def test_staff_of_another_study_cannot_enter_into_this_one(client, ldn_study):
    from tests.factories import StudyFactory

    other = StudyFactory(slug="other", prefix="OTH", is_recruiting=True)
    outsider = staff("outsider", roles.COORDINATOR, other)
    client.force_login(outsider)
    response = client.post(f"{ADD_URL}?study={ldn_study.pk}", entry_data(study=ldn_study.pk))
    assert response.status_code == 200
    assert not Participant.objects.filter(study=ldn_study).exists()


@pytest.mark.parametrize("existing", [10, 1000])
def test_the_entry_page_reads_as_much_at_1000_participants_as_at_10(
    coord_client, ldn_study, django_assert_max_num_queries, existing
):
    from tests.factories import participants_bulk

    participants_bulk(ldn_study, existing)
    coord_client.get(ADD_URL)
    with django_assert_max_num_queries(6):
        assert coord_client.get(ADD_URL).status_code == 200


@pytest.mark.parametrize("source", ["form", "import"])
def test_a_staff_source_needs_no_user_and_a_public_one_refuses_one(ldn_study, coordinator, source):
    from recruitment.intake.services import participant_submit
    from tests.factories import contact_details

    with pytest.raises(ValueError):
        participant_submit(
            study=ldn_study,
            contact=contact_details(),
            answers={},
            entered_by=coordinator,
            entry_source=source,
        )
    with pytest.raises(ValueError):
        participant_submit(
            study=ldn_study, contact=contact_details(), answers={}, entry_source="phone"
        )


def test_a_member_of_two_recruiting_studies_chooses_the_study_first(
    coord_client, coordinator, ldn_study
):
    from tests.factories import StudyFactory

    other = StudyFactory(slug="other", prefix="OTH", title="Another study", is_recruiting=True)
    other.members.add(coordinator)

    page = coord_client.get(ADD_URL).content.decode()
    assert 'id="staff-entry-studies"' in page
    assert f'href="?study={other.pk}"' in page
    assert 'id="staff-entry-form"' not in page
    chosen = coord_client.get(f"{ADD_URL}?study={ldn_study.pk}").content.decode()
    assert 'name="q_diagnosis"' in chosen
    response = coord_client.post(f"{ADD_URL}?study={ldn_study.pk}", entry_data())
    assert response.status_code == 302
    assert Participant.objects.get().study == ldn_study


def test_an_error_report_would_hide_every_posted_value(coord_client, ldn_study):
    from django.views.debug import SafeExceptionReporterFilter

    response = coord_client.post(ADD_URL, entry_data(first_name=""))
    request = response.wsgi_request
    shown = SafeExceptionReporterFilter().get_post_parameters(request)
    assert shown["q_diagnosis"] == SafeExceptionReporterFilter.cleansed_substitute
    assert shown["email"] == SafeExceptionReporterFilter.cleansed_substitute
