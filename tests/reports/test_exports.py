"""The exports: the screening log (NIDCR layout, no identifying data), the confidential
identification list, and the FHIR R4 bundle, validated with `fhir.resources` (its R4B
package: FHIR 4.3, whose ResearchStudy, ResearchSubject, Patient and Bundle are R4's)."""

import csv
import datetime as dt
import io
import json
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.researchstudy import ResearchStudy
from fhir.resources.R4B.researchsubject import ResearchSubject

from accounts import roles
from recruitment.evaluation import criterion_version_ids
from recruitment.models import (
    CriterionVerdict,
    DeclineReason,
    Participant,
    Status,
    Study,
    Verdict,
)
from recruitment.reports import exports
from recruitment.screening.retention import participants_erase_expired
from recruitment.screening.run_in import run_in_fail
from recruitment.screening.services import participant_transition
from tests.factories import (
    LDN_ELIGIBLE_ANSWERS,
    StudyFactory,
    UserFactory,
    applicant,
    participants_bulk,
    staff,
    submit,
    walk,
)

pytestmark = pytest.mark.django_db

APPLIED = dt.datetime(2026, 3, 2, 18, tzinfo=dt.UTC)  # noon in Birmingham, Alabama
# 10 pm on 9 March in Birmingham, already 10 March in UTC: dates are the site's.
SCREENED = dt.datetime(2026, 3, 10, 3, tzinfo=dt.UTC)
SCREENED_ON = "2026-03-09"
EXPORTED = dt.datetime(2026, 3, 16, 15, tzinfo=dt.UTC)

SCREENING_LOG = "staff:screening_log"
IDENTIFICATION_LIST = "staff:identification_list"
FHIR_BUNDLE = "staff:fhir_bundle"
EXPORTS = [SCREENING_LOG, IDENTIFICATION_LIST, FHIR_BUNDLE]

SCREENING_LOG_COLUMNS = [
    "Screening number",
    "Date screened",
    "Eligible",
    "Reason not eligible",
    "Date of consent",
    "Consent form version",
    "Participant ID",
    "Status",
    "Eligibility override",
]
IDENTIFICATION_COLUMNS = [
    "Screening number",
    "Participant ID",
    "First name",
    "Last name",
    "Email",
    "Phone",
    "Date of birth",
]
# The FHIR codes of each status as the product defines them, written out here so that a
# change to the model's mapping fails a test.
EXPECTED_FHIR_STATUS = {
    "new": "potential-candidate",
    "screening": "screening",
    "eligible": "eligible",
    "ineligible": "ineligible",
    "waitlisted": "eligible",
    "consented": "pending-on-study",
    "run_in": "pending-on-study",
    "enrolled": "on-study",
    "completed": "off-study",
    "withdrawn": "off-study",
    "declined": "not-registered",
}
# The answers of someone allergic to naltrexone and with liver disease.
NOT_MET_ANSWERS = {**LDN_ELIGIBLE_ANSWERS, "allergy": "yes", "liver": "yes"}


@pytest.fixture(autouse=True)
def now(time_machine):
    time_machine.move_to(APPLIED, tick=False)
    return APPLIED


@pytest.fixture
def small_study():
    """A study without criteria and three places, so every status can be reached."""
    return StudyFactory(slug="small", prefix="SML", target_enrolment=3)


def url(name, study):
    return reverse(name, kwargs={"slug": study.slug})


def download(client, user, name, study):
    client.force_login(user)
    response = client.get(url(name, study))
    assert response.status_code == 200, response.getvalue()[:300]
    return response


def csv_rows(response) -> list[list[str]]:
    text = response.getvalue().decode("utf-8")
    assert text.startswith("\ufeff"), "Excel needs the byte order mark to read UTF-8"
    return list(csv.reader(io.StringIO(text[1:])))


def as_dicts(response) -> dict[str, dict[str, str]]:
    header, *rows = csv_rows(response)
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


def bundle_json(client, user, study) -> dict:
    return json.loads(download(client, user, FHIR_BUNDLE, study).content)


def resources(bundle, resource_type) -> list[dict]:
    return [
        entry["resource"]
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == resource_type
    ]


def subjects_by_number(bundle) -> dict[str, dict]:
    return {
        subject["identifier"][0]["value"]: subject
        for subject in resources(bundle, "ResearchSubject")
    }


def validate_r4(bundle: dict) -> Bundle:
    """Parse the bundle into fhir.resources' R4B models, and each entry on its own."""
    parsed = Bundle.model_validate_json(json.dumps(bundle))
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return parsed


# =============================================================================================
# Hand-built participants in every kind of status
# =============================================================================================
@pytest.fixture
def cohort(ldn_study, coordinator, time_machine):
    """Seven participants who applied on 2 March and were handled on 9 March (site time)."""
    people = {
        "new": applicant(ldn_study, first_name="Nora", last_name="Newman"),
        "eligible": submit(
            ldn_study,
            answers=LDN_ELIGIBLE_ANSWERS,
            first_name="Ella",
            last_name="Eligh",
            email="ella@example.com",
            phone="",
        ),
        "ineligible": submit(
            ldn_study,
            answers=NOT_MET_ANSWERS,
            first_name="Ivan",
            last_name="Ineligh",
            email="ivan@example.com",
            phone="205-555-0199",
            date_of_birth=dt.date(1975, 6, 14),
            zip_code="35209",
        ),
        "declined": applicant(ldn_study, first_name="Dora", last_name="Decliner"),
        "consented": applicant(
            ldn_study, answers=LDN_ELIGIBLE_ANSWERS, first_name="Connie", last_name="Consenter"
        ),
        "enrolled": applicant(
            ldn_study, answers=LDN_ELIGIBLE_ANSWERS, first_name="Enzo", last_name="Enright"
        ),
        "withdrawn": applicant(
            ldn_study, answers=LDN_ELIGIBLE_ANSWERS, first_name="Wanda", last_name="Withdrawer"
        ),
    }
    time_machine.move_to(SCREENED, tick=False)
    by = coordinator
    people["eligible"] = walk(people["eligible"], Status.ELIGIBLE, by=by)
    screening = walk(people["ineligible"], Status.SCREENING, by=by)
    people["ineligible"] = participant_transition(
        participant=screening, to=Status.INELIGIBLE, by=by, reason="Allergic to naloxone"
    )
    people["declined"] = participant_transition(
        participant=people["declined"],
        to=Status.DECLINED,
        by=by,
        reason=DeclineReason.NOT_INTERESTED,
    )
    people["consented"] = walk(people["consented"], Status.CONSENTED, by=by)
    people["enrolled"] = walk(people["enrolled"], Status.ENROLLED, by=by)
    people["withdrawn"] = walk(people["withdrawn"], Status.ENROLLED, by=by)
    people["withdrawn"] = participant_transition(
        participant=people["withdrawn"], to=Status.WITHDRAWN, by=by, reason="Moved away"
    )
    time_machine.move_to(EXPORTED, tick=False)
    return people


# =============================================================================================
# The screening log
# =============================================================================================
def test_the_screening_log_has_the_nidcr_columns_and_one_row_per_participant_in_order(
    client, coordinator, ldn_study, cohort
):
    header, *rows = csv_rows(download(client, coordinator, SCREENING_LOG, ldn_study))

    assert header == SCREENING_LOG_COLUMNS
    assert [row[0] for row in rows] == [f"LDN-S-{n:04d}" for n in range(1, 8)]
    assert rows == [
        ["LDN-S-0001", "", "", "", "", "", "", "New", ""],
        ["LDN-S-0002", SCREENED_ON, "Yes", "", "", "", "", "Eligible", ""],
        [
            "LDN-S-0003",
            SCREENED_ON,
            "No",
            "Allergic to naloxone (criteria not met: No allergy to naltrexone or naloxone; "
            "No liver disease or hepatitis)",
            "",
            "",
            "",
            "Ineligible",
            "",
        ],
        ["LDN-S-0004", "", "", "Declined: no longer interested", "", "", "", "Declined", ""],
        ["LDN-S-0005", SCREENED_ON, "Yes", "", SCREENED_ON, "ICF v2.0", "", "Consented", ""],
        ["LDN-S-0006", SCREENED_ON, "Yes", "", SCREENED_ON, "ICF v2.0", "LDN-001", "Enrolled", ""],
        ["LDN-S-0007", SCREENED_ON, "Yes", "", SCREENED_ON, "ICF v2.0", "LDN-002", "Withdrawn", ""],
    ]


def test_the_screening_log_holds_no_name_email_phone_date_of_birth_or_zip_code(
    client, coordinator, ldn_study, cohort
):
    text = download(client, coordinator, SCREENING_LOG, ldn_study).getvalue().decode()

    for participant in Participant.objects.filter(study=ldn_study):
        for value in (
            participant.first_name,
            participant.last_name,
            participant.email,
            participant.date_of_birth.isoformat(),
            participant.date_of_birth.strftime("%m/%d/%Y"),
            participant.zip_code,
        ):
            assert value not in text
        if participant.phone:
            assert participant.phone not in text
            assert participant.phone_normalised[-7:] not in text


def test_exports_hold_only_the_study_s_own_participants(client, ldn_study, small_study):
    applicant(ldn_study, first_name="Lena")
    applicant(small_study, first_name="Sami")
    user = UserFactory(username="root", is_staff=True, is_superuser=True)

    texts = [download(client, user, name, ldn_study).getvalue().decode() for name in EXPORTS]

    for text in texts:
        assert "LDN-S-0001" in text
        assert "SML-S-0001" not in text
        assert "Sami" not in text


def test_a_participant_declined_after_being_judged_eligible_stays_eligible_in_the_log(
    client, coordinator, ldn_study
):
    eligible = walk(applicant(ldn_study), Status.ELIGIBLE, by=coordinator)
    participant_transition(
        participant=eligible, to=Status.DECLINED, by=coordinator, reason=DeclineReason.NOT_REACHED
    )

    row = as_dicts(download(client, coordinator, SCREENING_LOG, ldn_study))["LDN-S-0001"]

    assert row["Eligible"] == "Yes"
    assert row["Reason not eligible"] == "Declined: not reached"


def test_a_monitor_downloads_the_screening_log(client, monitor, ldn_study, cohort):
    rows = as_dicts(download(client, monitor, SCREENING_LOG, ldn_study))

    assert rows["LDN-S-0006"]["Participant ID"] == "LDN-001"


def test_csv_exports_are_utf8_with_a_bom_named_by_study_and_date_and_never_cached(
    client, coordinator, ldn_study, cohort
):
    for name, export in [
        (SCREENING_LOG, "screening-log"),
        (IDENTIFICATION_LIST, "identification-list"),
    ]:
        response = download(client, coordinator, name, ldn_study)

        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response.getvalue().startswith(b"\xef\xbb\xbf")
        assert response["Content-Disposition"] == (
            f'attachment; filename="ldn-mecfs-{export}-2026-03-16.csv"'
        )
        assert "no-store" in response["Cache-Control"]


# =============================================================================================
# The identification list
# =============================================================================================
def test_the_identification_list_maps_screening_numbers_to_names_and_contact_details(
    client, coordinator, ldn_study, cohort
):
    header, *rows = csv_rows(download(client, coordinator, IDENTIFICATION_LIST, ldn_study))

    assert header == IDENTIFICATION_COLUMNS
    assert [row[0] for row in rows] == [f"LDN-S-{n:04d}" for n in range(1, 8)]
    by_number = {row[0]: row for row in rows}
    assert by_number["LDN-S-0003"] == [
        "LDN-S-0003",
        "",
        "Ivan",
        "Ineligh",
        "ivan@example.com",
        "205-555-0199",  # stored as +12055550199: exported as people dial it
        "1975-06-14",
    ]
    assert by_number["LDN-S-0006"][:4] == ["LDN-S-0006", "LDN-001", "Enzo", "Enright"]


def test_a_monitor_may_not_download_the_identification_list(client, monitor, ldn_study, cohort):
    client.force_login(monitor)

    response = client.get(url(IDENTIFICATION_LIST, ldn_study))

    assert response.status_code == 403
    assert b"Ivan" not in response.getvalue()


# =============================================================================================
# Spreadsheet formula injection
# =============================================================================================
FORMULAS = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)"]


def test_cells_that_a_spreadsheet_would_run_get_a_leading_quote():
    for text in [*FORMULAS, "\tTAB", "\rCR", "=1+1"]:
        assert exports.cell_neutralise(text) == f"'{text}"
    for text in ["Ann", "LDN-S-0001", "2026-03-09", "", None, "a=b", " =1"]:
        assert exports.cell_neutralise(text) == ("" if text is None else text)


def test_the_identification_list_neutralises_formulas_in_names(client, coordinator, ldn_study):
    for formula in FORMULAS:
        applicant(ldn_study, first_name=formula, last_name=formula)

    rows = csv_rows(download(client, coordinator, IDENTIFICATION_LIST, ldn_study))[1:]

    assert [(row[2], row[3]) for row in rows] == [(f"'{f}", f"'{f}") for f in FORMULAS]


def test_the_screening_log_neutralises_formulas_in_staff_reasons(client, coordinator, ldn_study):
    for formula in FORMULAS:
        screening = walk(
            applicant(ldn_study, answers=NOT_MET_ANSWERS, first_name=formula),
            Status.SCREENING,
            by=coordinator,
        )
        participant_transition(
            participant=screening, to=Status.INELIGIBLE, by=coordinator, reason=formula
        )
    declined = applicant(ldn_study)
    participant_transition(
        participant=declined, to=Status.DECLINED, by=coordinator, reason="-1 day"
    )

    rows = csv_rows(download(client, coordinator, SCREENING_LOG, ldn_study))[1:]

    reasons = [row[3] for row in rows]
    assert reasons[:4] == [
        f"'{formula} (criteria not met: No allergy to naltrexone or naloxone; "
        "No liver disease or hepatitis)"
        for formula in FORMULAS
    ]
    assert reasons[4] == "Declined: -1 day"
    for row in rows:
        for cell in row:
            assert not cell.startswith(exports.FORMULA_TRIGGERS)


# =============================================================================================
# The FHIR R4 bundle
# =============================================================================================
def test_every_status_maps_to_the_fhir_research_subject_code_product_md_gives(client, small_study):
    by = staff("coordinator", roles.COORDINATOR, small_study)
    # Enrolled, completed and withdrawn take the three places, so waitlisting works.
    order = ["enrolled", "completed", "withdrawn"] + [
        s for s in Status.values if s not in ("enrolled", "completed", "withdrawn")
    ]
    numbers = {}
    for status in order:
        if status == Status.RUN_IN:  # once the places are taken, the study gets a run-in
            Study.objects.filter(pk=small_study.pk).update(run_in_days=28)
        numbers[walk(applicant(small_study), status, by=by).screening_number] = status

    bundle = bundle_json(client, by, small_study)

    validate_r4(bundle)
    allowed = ResearchSubject.model_fields["status"].json_schema_extra["enum_values"]
    subjects = subjects_by_number(bundle)
    assert {numbers[n]: s["status"] for n, s in subjects.items()} == EXPECTED_FHIR_STATUS
    assert set(EXPECTED_FHIR_STATUS) == set(Status.values)
    assert all(code in allowed for code in EXPECTED_FHIR_STATUS.values())


def test_the_bundle_is_a_valid_r4_collection_with_the_study_and_one_subject_each(
    client, coordinator, ldn_study, cohort
):
    bundle = bundle_json(client, coordinator, ldn_study)

    parsed = validate_r4(bundle)
    assert parsed.type == "collection"
    assert len(resources(bundle, "ResearchStudy")) == 1
    assert len(resources(bundle, "ResearchSubject")) == 7
    full_urls = [entry["fullUrl"] for entry in bundle["entry"]]
    assert len(set(full_urls)) == len(full_urls)
    for full_url in full_urls:
        assert full_url.startswith("urn:uuid:")
        uuid.UUID(full_url.removeprefix("urn:uuid:"))


def test_the_research_study_names_the_study_its_irb_number_status_and_target(
    client, coordinator, ldn_study
):
    study = resources(bundle_json(client, coordinator, ldn_study), "ResearchStudy")[0]

    ResearchStudy.model_validate(study)
    assert study["title"] == "Low-dose naltrexone (LDN) for ME/CFS"
    assert study["status"] == "active"
    assert study["description"] == ldn_study.description
    assert {"use": "official", "system": "http://testserver/studies", "value": "ldn-mecfs"} in (
        study["identifier"]
    )
    assert {"use": "secondary", "type": {"text": "IRB number"}, "value": "IRB-300012345"} in (
        study["identifier"]
    )
    # R4 has no target number; its `enrollment` Group "defines the quantity of subjects".
    (target,) = study["contained"]
    assert study["enrollment"][0]["reference"] == f"#{target['id']}"
    assert (target["resourceType"], target["actual"], target["quantity"]) == ("Group", False, 20)

    ldn_study.is_recruiting = False
    ldn_study.save()
    study = resources(bundle_json(client, coordinator, ldn_study), "ResearchStudy")[0]
    assert study["status"] == "closed-to-accrual"
    assert (
        "closed-to-accrual" in ResearchStudy.model_fields["status"].json_schema_extra["enum_values"]
    )


def test_a_failed_run_in_ends_the_participation_period_the_day_it_failed(
    client, small_study, time_machine
):
    by = staff("coordinator", roles.COORDINATOR, small_study)
    Study.objects.filter(pk=small_study.pk).update(run_in_days=28, run_in_min_adherence=80)
    person = walk(applicant(small_study), Status.RUN_IN, by=by)
    started = timezone.localdate()
    time_machine.move_to(timezone.now() + dt.timedelta(days=5), tick=False)
    run_in_fail(participant=person, by=by)

    subject = subjects_by_number(bundle_json(client, by, small_study))[person.screening_number]

    assert subject["status"] == "ineligible"
    assert subject["period"] == {
        "start": started.isoformat(),
        "end": (started + dt.timedelta(days=5)).isoformat(),
    }


def test_subjects_refer_to_the_study_and_carry_their_numbers_and_participation_period(
    client, coordinator, ldn_study, cohort
):
    bundle = bundle_json(client, coordinator, ldn_study)

    study_url = bundle["entry"][0]["fullUrl"]
    subjects = subjects_by_number(bundle)
    assert all(s["study"] == {"reference": study_url} for s in subjects.values())
    enrolled = subjects["LDN-S-0006"]
    assert enrolled["identifier"] == [
        {
            "system": "http://testserver/studies/ldn-mecfs/identifiers/screening-number",
            "value": "LDN-S-0006",
        },
        {
            "use": "official",
            "system": "http://testserver/studies/ldn-mecfs/identifiers/participant-id",
            "value": "LDN-001",
        },
    ]
    assert enrolled["period"] == {"start": SCREENED_ON}
    assert subjects["LDN-S-0007"]["period"] == {"start": SCREENED_ON, "end": SCREENED_ON}
    assert subjects["LDN-S-0005"]["period"] == {"start": SCREENED_ON}
    assert "period" not in subjects["LDN-S-0002"]
    assert len(subjects["LDN-S-0002"]["identifier"]) == 1


def test_full_urls_stay_the_same_from_one_export_to_the_next(
    client, coordinator, ldn_study, cohort, time_machine
):
    first = bundle_json(client, coordinator, ldn_study)
    time_machine.move_to(EXPORTED + dt.timedelta(days=30), tick=False)
    applicant(ldn_study)
    second = bundle_json(client, coordinator, ldn_study)

    def full_urls(bundle):
        return {
            (e["resource"]["resourceType"], e["resource"]["identifier"][0]["value"]): e["fullUrl"]
            for e in bundle["entry"]
        }

    assert len(full_urls(first)) == 1 + 7 + 7
    assert full_urls(first).items() < full_urls(second).items()


def test_without_identification_permission_the_bundle_has_no_patient_and_no_personal_data(
    client, monitor, ldn_study, cohort
):
    response = download(client, monitor, FHIR_BUNDLE, ldn_study)
    text = response.getvalue().decode()
    bundle = json.loads(text)

    validate_r4(bundle)
    assert resources(bundle, "Patient") == []
    assert "Patient/" not in text
    for participant in Participant.objects.filter(study=ldn_study):
        for value in (
            participant.first_name,
            participant.last_name,
            participant.email,
            participant.date_of_birth.isoformat(),
            participant.zip_code,
        ):
            assert value not in text
    # R4 requires `individual`: a logical reference, by screening number, to no resource.
    subject = subjects_by_number(bundle)["LDN-S-0003"]
    assert subject["individual"] == {
        "type": "Patient",
        "identifier": {
            "system": "http://testserver/studies/ldn-mecfs/identifiers/screening-number",
            "value": "LDN-S-0003",
        },
    }


def test_with_identification_permission_each_subject_refers_to_a_minimal_patient(
    client, coordinator, ldn_study, cohort
):
    bundle = bundle_json(client, coordinator, ldn_study)

    validate_r4(bundle)
    patients = {entry["fullUrl"]: entry["resource"] for entry in bundle["entry"]}
    assert len(resources(bundle, "Patient")) == 7
    subject = subjects_by_number(bundle)["LDN-S-0003"]
    patient = patients[subject["individual"]["reference"]]
    assert patient["resourceType"] == "Patient"
    assert patient["name"] == [{"family": "Ineligh", "given": ["Ivan"]}]
    assert patient["birthDate"] == "1975-06-14"
    assert patient["telecom"] == [
        {"system": "email", "value": "ivan@example.com"},
        {"system": "phone", "value": cohort["ineligible"].phone},
    ]
    assert patient["identifier"][0]["value"] == "LDN-S-0003"
    # No phone given: no empty telecom, which FHIR forbids.
    eligible = patients[subjects_by_number(bundle)["LDN-S-0002"]["individual"]["reference"]]
    assert eligible["telecom"] == [{"system": "email", "value": "ella@example.com"}]


def test_the_bundle_is_fhir_json_named_by_study_and_date_and_never_cached(
    client, coordinator, ldn_study
):
    response = download(client, coordinator, FHIR_BUNDLE, ldn_study)

    assert response["Content-Type"] == "application/fhir+json"
    assert response["Content-Disposition"] == (
        'attachment; filename="ldn-mecfs-fhir-bundle-2026-03-02.json"'
    )
    assert "no-store" in response["Cache-Control"]
    assert json.loads(response.content)["timestamp"] == "2026-03-02T12:00:00-06:00"


def test_an_erased_participant_keeps_an_anonymous_row_and_the_bundle_still_validates(
    client, coordinator, ldn_study, cohort, time_machine
):
    log_before = as_dicts(download(client, coordinator, SCREENING_LOG, ldn_study))
    time_machine.move_to(EXPORTED + dt.timedelta(days=ldn_study.retention_days + 1), tick=False)
    participants_erase_expired()

    log_after = as_dicts(download(client, coordinator, SCREENING_LOG, ldn_study))
    identification = as_dicts(download(client, coordinator, IDENTIFICATION_LIST, ldn_study))
    bundle = bundle_json(client, coordinator, ldn_study)

    assert log_after == log_before
    assert list(identification["LDN-S-0003"].values()) == ["LDN-S-0003"] + [""] * 6
    assert identification["LDN-S-0006"]["First name"] == "Enzo"
    validate_r4(bundle)
    patients = {entry["fullUrl"]: entry["resource"] for entry in bundle["entry"]}
    erased = patients[subjects_by_number(bundle)["LDN-S-0003"]["individual"]["reference"]]
    assert set(erased) == {"resourceType", "id", "identifier"}


# =============================================================================================
# Who may download
# =============================================================================================
@pytest.mark.parametrize("name", EXPORTS)
def test_an_anonymous_visitor_is_sent_to_the_login_page(client, ldn_study, name):
    response = client.get(url(name, ldn_study))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("name", EXPORTS)
def test_a_user_who_is_not_staff_is_refused(client, ldn_study, name):
    user = UserFactory(username="patient", password=None)
    ldn_study.members.add(user)
    client.force_login(user)

    assert client.get(url(name, ldn_study)).status_code == 403


@pytest.mark.parametrize("name", EXPORTS)
def test_staff_of_another_study_do_not_learn_the_study_exists(client, ldn_study, name):
    other = StudyFactory()
    client.force_login(staff("other", roles.COORDINATOR, other))

    assert client.get(url(name, ldn_study)).status_code == 404


@pytest.mark.parametrize("name", EXPORTS)
def test_a_study_member_without_a_role_is_refused(client, ldn_study, name):
    client.force_login(staff("no-role", None, ldn_study))

    assert client.get(url(name, ldn_study)).status_code == 403


@pytest.mark.parametrize("name", EXPORTS)
def test_a_superuser_downloads_every_export(client, ldn_study, name):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    assert client.get(url(name, ldn_study)).status_code == 200


# =============================================================================================
# Query counts: fixed, whatever the number of participants
# =============================================================================================
# Session, user, study, the user's two permission queries, then the export's own: two for the
# screening log (participants, not-met criteria), one for the others.
QUERY_BOUND = {SCREENING_LOG: 7, IDENTIFICATION_LIST: 6, FHIR_BUNDLE: 6}


def populate(study, count, *, by):
    """`count` participants: a third ineligible (with not-met verdicts), up to 20 enrolled,
    and the rest new; plus their status history for a few."""
    ineligible = participants_bulk(study, count // 3, status=Status.INELIGIBLE, by=by)
    participants_bulk(study, min(count // 3, 20), status=Status.ENROLLED, by=by)
    criteria = list(study.criteria.active()[:2])
    CriterionVerdict.objects.bulk_create(
        CriterionVerdict(
            participant=participant,
            criterion=criterion,
            criterion_version_id=criterion_version_ids([criterion])[criterion.pk],
            verdict=Verdict.NOT_MET,
            reason="Not met",
            order=order,
        )
        for participant in ineligible
        for order, criterion in enumerate(criteria)
    )
    rest = count - Participant.objects.filter(study=study).count()
    if rest:
        participants_bulk(study, rest, status=Status.NEW, by=by)
    assert Participant.objects.filter(study=study).count() == count


@pytest.mark.parametrize("count", [3, 300])
@pytest.mark.parametrize("name", EXPORTS)
def test_each_export_runs_a_fixed_number_of_queries(
    client, coordinator, ldn_study, name, count, django_assert_max_num_queries
):
    populate(ldn_study, count, by=coordinator)
    client.force_login(coordinator)

    with django_assert_max_num_queries(QUERY_BOUND[name]):
        response = client.get(url(name, ldn_study))

    assert response.status_code == 200
    if name == FHIR_BUNDLE:
        assert len(resources(json.loads(response.content), "ResearchSubject")) == count
    else:
        assert len(csv_rows(response)) == count + 1
