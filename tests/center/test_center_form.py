import pytest
import time_machine
from django.urls import reverse

from recruitment.models import Participant, Person, RegistryMatch, SharedAnswer
from tests.dates import NOV_25
from tests.html_reading import parse, rendered_values, text

pytestmark = pytest.mark.django_db

URL = "/center/interest/"


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOV_25, tick=False):
        yield


def center_data(**overrides) -> dict:
    """A valid POST of the center's form: an adult near Birmingham who meets the LDN study's
    shared questions."""
    data = {
        "first_name": "Rosa",
        "last_name": "Diaz",
        "email": "rosa.diaz@example.com",
        "phone": "(205) 555-0177",
        "date_of_birth": "1979-03-14",
        "zip_code": "35203",
        "registry_consent": "on",
        "q_mecfs_diagnosis": "yes",
        "q_mecfs_core_symptoms__pem": "yes",
        "q_mecfs_core_symptoms__sleep": "yes",
        "q_mecfs_core_symptoms__cognitive": "yes",
        "q_last_opioid_dose": "no",
        "q_naltrexone_use": "no",
        "q_naltrexone_allergy": "no",
        "q_pregnancy": "no",
        "q_liver_disease": "no",
        "q_autoimmune_disease": "no",
        "q_substance_misuse": "no",
        "q_recent_drug_trial": "no",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_the_home_page_offers_the_center_form(client, ldn_study):
    page = client.get("/").content.decode()

    assert f'href="{URL}"' in page
    assert "any study that may fit me" in page


def test_the_form_asks_the_shared_questions_and_the_registry_consent(client, ldn_study):
    page = client.get(URL).content.decode()

    assert 'name="q_last_opioid_dose"' in page
    assert 'name="q_mecfs_core_symptoms__pem"' in page
    assert 'name="registry_consent"' in page
    for not_asked in ("contact_consent", "preferred_contact", "best_time", "note"):
        assert f'name="{not_asked}"' not in page
    assert "<script" not in page


def test_sending_the_form_puts_the_person_in_the_registry_with_their_answers_and_no_application(
    client, ldn_study
):
    response = client.post(URL, center_data())

    assert response.status_code == 302 and response["Location"] == reverse("center:thanks")
    person = Person.objects.get()
    assert person.in_registry and person.registry_consent_version
    assert person.email == "rosa.diaz@example.com"
    assert not Participant.objects.exists()
    answers = {a.question.code: a.value for a in SharedAnswer.objects.select_related("question")}
    assert answers["last_opioid_dose"] == {"taken": "no"}
    assert answers["date_of_birth"] == "1979-03-14"
    assert answers["mecfs_core_symptoms"] == {"pem": "yes", "sleep": "yes", "cognitive": "yes"}
    assert person.history.first().history_change_reason.startswith("Joined the registry")


def test_the_new_person_is_matched_against_the_recruiting_studies(
    client, ldn_study, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, center_data())

    match = RegistryMatch.objects.get()
    assert match.study == ldn_study and match.person == Person.objects.get()


def test_the_thank_you_page_tells_no_verdict(client, ldn_study):
    page = text(parse(client.get(reverse("center:thanks"))))

    assert "Thank you" in page
    assert "does not tell you if you can take part" in page
    for word in ("eligible", "M-0", "likely"):
        assert word not in page


def test_without_the_registry_consent_nothing_is_saved_and_every_answer_is_kept(client, ldn_study):
    response = client.post(URL, center_data(registry_consent=None))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'href="#id_registry_consent"' in page
    assert "Tick this box so the trial center can contact you" in page
    values = rendered_values(parse(response))
    assert values["email"] == "rosa.diaz@example.com"
    assert values["q_last_opioid_dose"] == "no"
    assert values["q_mecfs_core_symptoms__pem"] == "yes"
    assert not Person.objects.exists()


def test_a_person_known_by_email_is_updated_not_duplicated(client, ldn_study):
    client.post(URL, center_data())
    client.post(URL, center_data(zip_code="35294", q_pregnancy="yes"))

    person = Person.objects.get()
    assert person.zip_code == "35294"
    assert SharedAnswer.objects.get(person=person, question__code="pregnancy").value == "yes"


def test_the_form_is_rate_limited_like_the_interest_form(client, ldn_study, settings):
    settings.RATELIMIT_ENABLE = True
    settings.INTEREST_RATE_LIMIT = "2/h"

    statuses = [
        client.post(URL, center_data(email=f"p{n}@example.com")).status_code for n in range(3)
    ]

    assert statuses == [302, 302, 429]
    assert Person.objects.count() == 2


def test_the_form_in_spanish(client, ldn_study):
    page = client.get(URL, HTTP_ACCEPT_LANGUAGE="es").content.decode()

    assert "Enterarse de estudios" in page
