"""Digits from any keyboard and invisible characters: no request takes down a worker, and no
name or note shown on a screening list hides characters that change how it reads.

Phones with a Japanese, Arabic or Hindi keyboard type fullwidth (３５２９４), Arabic-Indic
(٣٥٢٩٤) or Devanagari (३५२९४) digits. Every entry point reads them as the ASCII digits they
stand for; the offline ZIP database's native code, which panicked on them (a BaseException
that killed the gunicorn worker), only ever sees ASCII, and a panic it still raises is an
unknown ZIP code.
"""

import datetime as dt
import logging
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest
import zipcodes
from django.utils import timezone

from recruitment import eligibility
from recruitment.eligibility import (
    AnsweredBy,
    Applicant,
    Criterion,
    CriterionKind,
    RuleKind,
    places,
)
from recruitment.intake import forms, import_messages
from recruitment.intake.importer import interest_list_import
from recruitment.models import Answer, ConsentRecord, ContactAttempt, Participant, Status
from tests.admin.test_admin import NORMAL_LABS_ALL, change_url, fresh, page_url
from tests.admin_posts import form_data
from tests.dates import TODAY
from tests.factories import LDN_ELIGIBLE_ANSWERS, ldn_form_data, submit, walk
from tests.intake.test_import import csv_bytes, row
from tests.test_serving import ROOT, Server, get, production_env

FORM_URL = "/studies/ldn-mecfs/interest/"

# The digit zero of each script; the other nine follow it in Unicode.
SCRIPTS = {"fullwidth": 0xFF10, "arabic-indic": 0x0660, "devanagari": 0x0966}
# Zero-width characters, then bidirectional marks, embeddings, overrides and isolates.
INVISIBLE = (
    "\u200b\u200c\u200d\u2060\ufeff"
    "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def in_script(text: str, script: str) -> str:
    """`text` with every ASCII digit written in another script's digits."""
    zero = SCRIPTS[script]
    return text.translate({ord("0") + n: chr(zero + n) for n in range(10)})


by_script = pytest.mark.parametrize("script", list(SCRIPTS))


@pytest.fixture
def fresh_zip_lookups():
    """Forget remembered ZIP lookups before and after, so a patched library is really asked
    and its answers are not kept for later tests."""
    places.zip_centroid.cache_clear()
    yield
    places.zip_centroid.cache_clear()


# ---------------------------------------------------------------------------------------------
# The shared helpers
# ---------------------------------------------------------------------------------------------
@by_script
def test_digits_of_any_script_become_ascii_and_other_characters_stay(script):
    from recruitment.unicode_text import ascii_digits

    assert ascii_digits(text=in_script("35294-0001", script)) == "35294-0001"
    assert ascii_digits(text="3529٤") == "35294"
    # Superscripts and circled numbers are not decimal digits: left for the checks to refuse.
    assert ascii_digits(text="3²①x") == "3²①x"


def test_zero_width_and_bidirectional_control_characters_are_removed():
    from recruitment.unicode_text import without_invisible

    assert without_invisible(text=f"A{INVISIBLE}nn") == "Ann"
    assert without_invisible(text=INVISIBLE) == ""
    assert without_invisible(text="José Ñúñez-O'Brien\nline two") == "José Ñúñez-O'Brien\nline two"


# ---------------------------------------------------------------------------------------------
# The eligibility engine
# ---------------------------------------------------------------------------------------------
ZIP_CRITERION = Criterion(
    code="lives-nearby",
    kind=CriterionKind.INCLUSION,
    answered_by=AnsweredBy.PATIENT,
    rule_kind=RuleKind.ZIP_DISTANCE,
    params={"site_zip": "35294", "max_miles": 100},
)


@by_script
def test_the_engine_reads_a_zip_code_in_any_script_s_digits(script, fresh_zip_lookups):
    verdict = eligibility.evaluate_one(
        ZIP_CRITERION,
        None,
        applicant=Applicant(date_of_birth=None, zip_code=in_script("35203", script)),
        today=TODAY,
    )

    assert verdict.status is eligibility.VerdictStatus.MET
    assert verdict.reason == "About 7 miles from 35294; limit 100 miles."
    assert eligibility.zip_is_known(in_script("35294-0001", script))
    assert eligibility.zip_distance_miles(in_script("36104", script), "35294") == pytest.approx(
        88.6, abs=0.05
    )


@by_script
def test_the_engine_reads_dates_and_numbers_in_any_script_s_digits(script):
    washout = Criterion(
        code="opioids",
        kind=CriterionKind.INCLUSION,
        answered_by=AnsweredBy.PATIENT,
        rule_kind=RuleKind.WASHOUT,
        params={"days": 30},
    )
    crp = Criterion(
        code="hs-crp",
        kind=CriterionKind.INCLUSION,
        answered_by=AnsweredBy.STAFF,
        rule_kind=RuleKind.NUMBER_RANGE,
        params={"max": 3, "max_inclusive": False, "unit": "mg/L"},
    )
    applicant = Applicant(date_of_birth=None, zip_code=None)

    last_dose = {"taken": "yes", "last": in_script("2026-01-02", script)}
    dose = eligibility.evaluate_one(washout, last_dose, applicant=applicant, today=TODAY)
    lab = eligibility.evaluate_one(crp, in_script("1.2", script), applicant=applicant, today=TODAY)

    assert dose.status is eligibility.VerdictStatus.MET
    assert "2026-01-02" in dose.reason
    assert lab.status is eligibility.VerdictStatus.MET
    assert lab.reason == "Answer 1.2 mg/L; needs under 3 mg/L."


@by_script
def test_a_study_s_site_zip_code_must_be_ascii_digits(script):
    """A criterion's params (a study file, or staff in the admin) are checked, never looked up
    with other digits."""
    params = {"site_zip": in_script("35294", script), "max_miles": 100}

    with pytest.raises(ValueError, match="'site_zip' must be a 5-digit string"):
        eligibility.validate_params(RuleKind.ZIP_DISTANCE, params)


@by_script
def test_a_service_call_cannot_store_a_zip_code_in_other_digits(ldn_study, coordinator, script):
    """The model's own check is the last line: a caller that skips the forms is refused."""
    from django.core.exceptions import ValidationError

    from recruitment.screening.services import participant_update

    person = submit(ldn_study)

    with pytest.raises(ValidationError):
        participant_update(
            participant=person,
            data={"zip_code": in_script("35294", script)},
            by=coordinator,
            reason="Typed by hand",
        )

    assert fresh(person).zip_code == "35203"


def _real_panic() -> BaseException:
    """The exception the ZIP library's native code raises for a ZIP code it cannot slice."""
    try:
        zipcodes.matching("３５２９４")
    except BaseException as error:  # noqa: BLE001 -- it is not an Exception: that is the point
        return error
    raise AssertionError("the ZIP library no longer panics on fullwidth digits")


def test_a_panic_in_the_zip_library_is_an_unknown_zip_logged_by_its_type_only(
    monkeypatch, caplog, fresh_zip_lookups
):
    panic = _real_panic()
    assert not isinstance(panic, Exception)  # why a plain `except Exception` did not stop it

    real_matching = zipcodes.matching

    def panicking_for_the_patient(zip_code):
        if zip_code == "35203":
            raise type(panic)("end byte index 5 is not a char boundary; it is inside 35203")
        return real_matching(zip_code)

    monkeypatch.setattr(zipcodes, "matching", panicking_for_the_patient)
    with caplog.at_level(logging.WARNING):
        known = eligibility.zip_is_known("35203-0001")
        verdict = eligibility.evaluate_one(
            ZIP_CRITERION,
            None,
            applicant=Applicant(date_of_birth=None, zip_code="35203"),
            today=TODAY,
            distance=eligibility.zip_distance_miles,
        )

    assert known is False
    assert verdict.status is eligibility.VerdictStatus.UNKNOWN
    assert verdict.reason == "ZIP code 35203 is not in the ZIP database."
    assert "PanicException" in caplog.text
    assert "35203" not in caplog.text


@pytest.mark.parametrize("stop", [KeyboardInterrupt, SystemExit, GeneratorExit])
def test_a_stop_request_inside_the_zip_library_is_never_swallowed(
    monkeypatch, stop, fresh_zip_lookups
):
    def stopped(zip_code):
        raise stop

    monkeypatch.setattr(zipcodes, "matching", stopped)

    with pytest.raises(stop):
        eligibility.zip_is_known("35294")


# ---------------------------------------------------------------------------------------------
# The public interest form
# ---------------------------------------------------------------------------------------------
@by_script
def test_the_interest_form_reads_zip_phone_and_dates_in_any_script_s_digits(
    client, ldn_study, script
):
    response = client.post(
        FORM_URL,
        ldn_form_data(
            zip_code=in_script("35203", script),
            phone=in_script("(205) 555-0134", script),
            date_of_birth=in_script("04/28/1980", script),
            **{"q_opioids": "yes", "q_opioids__last": in_script("2020-01-02", script)},
        ),
    )

    assert response.status_code == 302, response.context["form"].errors
    participant = Participant.objects.get()
    assert participant.zip_code == "35203"
    assert (participant.phone, participant.phone_normalised) == ("+12055550134", "2055550134")
    assert participant.date_of_birth == dt.date(1980, 4, 28)
    assert participant.verdicts.get(criterion__code="lives-nearby").verdict == "met"
    opioids = Answer.objects.get(participant=participant, criterion__code="opioids")
    assert opioids.value == {"taken": "yes", "last": "2020-01-02"}


def test_the_interest_form_reads_a_zip_code_with_one_arabic_indic_digit(client, ldn_study):
    response = client.post(FORM_URL, ldn_form_data(zip_code="3529٤"))

    assert response.status_code == 302
    assert Participant.objects.get().zip_code == "35294"


@pytest.mark.parametrize("zip_code", ["3529²", "３５２９", "35294\u200b"])
def test_the_interest_form_refuses_what_is_not_five_digits_next_to_the_field(
    client, ldn_study, zip_code
):
    response = client.post(FORM_URL, ldn_form_data(zip_code=zip_code))

    assert response.status_code == 200
    assert response.context["form"].errors["zip_code"] == [str(forms.ZIP_INVALID)]
    assert not Participant.objects.exists()


def test_the_interest_form_stores_names_and_notes_without_invisible_characters(client, ldn_study):
    earlier = submit(ldn_study, email="someone.else@example.com", phone="")

    response = client.post(
        FORM_URL,
        ldn_form_data(
            first_name="\u202eA\u200bnn\u2066",
            last_name="Le\u200de\u2069\ufeff",
            note="Call me\u200f after 3pm\u202c",
        ),
    )

    assert response.status_code == 302
    participant = Participant.objects.exclude(pk=earlier.pk).get()
    assert (participant.first_name, participant.last_name) == ("Ann", "Lee")
    assert participant.note == "Call me after 3pm"
    assert participant.duplicate_of == earlier  # same name and date of birth: one person


def test_a_name_made_only_of_invisible_characters_is_required_next_to_the_field(client, ldn_study):
    response = client.post(FORM_URL, ldn_form_data(first_name=INVISIBLE, last_name="\u200b"))

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["first_name"] == [str(forms.FIRST_NAME_NEEDED)]
    assert errors["last_name"] == [str(forms.LAST_NAME_NEEDED)]
    assert not Participant.objects.exists()


# ---------------------------------------------------------------------------------------------
# The staff pages of the admin
# ---------------------------------------------------------------------------------------------
@by_script
def test_a_staff_edit_reads_zip_phone_and_date_in_any_script_s_digits(
    coord_client, ldn_study, script
):
    participant = submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS)
    page = coord_client.get(change_url(participant))

    response = coord_client.post(
        change_url(participant),
        form_data(
            page,
            zip_code=in_script("10001", script),
            phone=in_script("(205) 555-0199", script),
            date_of_birth=in_script("1981-05-06", script),
            change_reason="Moved to New York",
        ),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    participant = fresh(participant)
    assert participant.zip_code == "10001"
    assert (participant.phone, participant.phone_normalised) == ("+12055550199", "2055550199")
    assert participant.date_of_birth == dt.date(1981, 5, 6)
    assert participant.verdicts.get(criterion__code="lives-nearby").verdict == "not_met"


def test_a_staff_edit_stores_names_and_notes_without_invisible_characters(coord_client, ldn_study):
    participant = submit(ldn_study)
    page = coord_client.get(change_url(participant))

    response = coord_client.post(
        change_url(participant),
        form_data(
            page,
            first_name="\u2067An\u200bne\u2069",
            last_name="\u202dLee",
            note="Prefers\u200e texts",
            change_reason="Spelling",
        ),
    )

    assert response.status_code == 302
    participant = fresh(participant)
    assert (participant.first_name, participant.last_name) == ("Anne", "Lee")
    assert participant.name_normalised == "anne lee"
    assert participant.note == "Prefers texts"


def test_a_staff_edit_to_a_name_of_invisible_characters_is_required(coord_client, ldn_study):
    participant = submit(ldn_study)
    page = coord_client.get(change_url(participant))

    response = coord_client.post(
        change_url(participant), form_data(page, first_name=INVISIBLE, change_reason="Typo")
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["first_name"] == ["This field is required."]
    assert fresh(participant).first_name == "Ann"


@by_script
def test_lab_values_in_any_script_s_digits_are_read_as_numbers(
    coord_client, coordinator, ldn_study, script
):
    participant = walk(submit(ldn_study, answers=LDN_ELIGIBLE_ANSWERS), "screening", by=coordinator)

    response = coord_client.post(
        page_url("lab_values", participant),
        {
            **NORMAL_LABS_ALL,
            "hs-crp": in_script("1.2", script),
            "esr": in_script("12", script),
        },
    )

    assert response.status_code == 302
    values = dict(
        Answer.objects.filter(participant=participant, answered_by="staff").values_list(
            "criterion__code", "value"
        )
    )
    assert (values["hs-crp"], values["esr"]) == (1.2, 12)
    assert fresh(participant).outcome == "all_met"


@by_script
def test_a_contact_attempt_and_a_consent_read_dates_in_any_script_s_digits(
    coord_client, coordinator, ldn_study, script
):
    participant = walk(submit(ldn_study), Status.ELIGIBLE, by=coordinator)
    at = timezone.localtime().replace(second=0, microsecond=0) - dt.timedelta(hours=1)
    follow_up = timezone.localdate() + dt.timedelta(days=2)
    today = timezone.localdate()

    contact = coord_client.post(
        page_url("contact", participant),
        {
            "at": in_script(at.strftime("%Y-%m-%dT%H:%M"), script),
            "method": "phone",
            "outcome": "voicemail",
            "follow_up_on": in_script(follow_up.isoformat(), script),
        },
    )
    consent = coord_client.post(
        page_url("consent", participant),
        {
            "consented_on": in_script(today.isoformat(), script),
            "form_version": "ICF v2.0",
            "obtained_by": coordinator.pk,
        },
    )

    assert contact.status_code == 302, contact.context["form"].errors
    attempt = ContactAttempt.objects.get(participant=participant)
    assert (attempt.at, attempt.follow_up_on) == (at, follow_up)
    assert consent.status_code == 302, consent.context["form"].errors
    assert ConsentRecord.objects.get(participant=participant).consented_on == today


def test_a_contact_attempt_note_is_stored_without_invisible_characters(coord_client, ldn_study):
    participant = submit(ldn_study)

    response = coord_client.post(
        page_url("contact", participant),
        {
            "at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "method": "phone",
            "outcome": "reached",
            "note": "\u202eWill call\u200b back\u2069",
        },
    )

    assert response.status_code == 302
    assert ContactAttempt.objects.get(participant=participant).note == "Will call back"


# ---------------------------------------------------------------------------------------------
# The CSV import
# ---------------------------------------------------------------------------------------------
@by_script
def test_an_imported_row_reads_zip_phone_and_date_in_any_script_s_digits(ldn_study, script):
    data = csv_bytes(
        [
            row(
                zip_code=in_script("35203", script),
                phone=in_script("205.555.0134", script),
                date_of_birth=in_script("04/28/1980", script),
            ),
            row(
                first_name="Bo",
                email="bo@example.com",
                phone="",
                preferred_contact="email",
                zip_code=in_script("2138", script),  # Excel dropped the leading zero
            ),
        ]
    )

    report = interest_list_import(study=ldn_study, data=data, dry_run=False)

    assert report.errors == []
    first, second = Participant.objects.order_by("screening_number")
    assert (first.zip_code, first.phone_normalised) == ("35203", "2055550134")
    assert first.date_of_birth == dt.date(1980, 4, 28)
    assert second.zip_code == "02138"


def test_an_imported_row_stores_names_and_notes_without_invisible_characters(ldn_study):
    hidden = row(first_name="\u202eAnn\u200b", last_name="\u2066Lee\u2069", note="Evenings\u200f")
    blank = row(
        first_name=INVISIBLE, email="nobody@example.com", phone="", preferred_contact="email"
    )

    checked = interest_list_import(study=ldn_study, data=csv_bytes([hidden, blank]), dry_run=True)
    imported = interest_list_import(study=ldn_study, data=csv_bytes([hidden]), dry_run=False)

    assert [(e.row, e.column, e.message) for e in checked.errors] == [
        (3, "first name", str(import_messages.MISSING))
    ]
    assert imported.errors == []
    participant = Participant.objects.get()
    assert (participant.first_name, participant.last_name, participant.note) == (
        "Ann",
        "Lee",
        "Evenings",
    )


# ---------------------------------------------------------------------------------------------
# Under gunicorn
# ---------------------------------------------------------------------------------------------
def _post(url: str, fields: dict, cookie: str) -> int:
    request = urllib.request.Request(  # noqa: S310 (loopback)
        url,
        data=urllib.parse.urlencode(fields).encode(),
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 (loopback)
        return response.status


def test_a_zip_code_in_fullwidth_digits_does_not_take_down_a_gunicorn_worker(
    sqlite_with_ldn_study, collected_static
):
    """One worker, never recycled: before, the panic ended it with the request (the client saw
    the connection drop) and gunicorn booted another."""
    env = production_env(
        DATABASE_URL=f"sqlite:///{sqlite_with_ldn_study}",
        STATIC_ROOT=str(collected_static),
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        INTEREST_FORM_MIN_SECONDS="0",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        GUNICORN_WORKERS="1",
        GUNICORN_MAX_REQUESTS="0",
        # The form taken in on the request too, so this worker also evaluates the ZIP code.
        TASKS_BACKEND="immediate",
    )

    server = Server(env)
    try:
        server.wait_until_up()
        form_url = f"{server.url}{FORM_URL}"
        with urllib.request.urlopen(form_url, timeout=20) as response:  # noqa: S310 (loopback)
            page = response.read().decode()
            cookies = response.headers.get_all("Set-Cookie")
        csrf_cookie = next(c.split(";")[0] for c in cookies if c.startswith("csrftoken="))
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        fields = {
            **ldn_form_data(zip_code="３５２９４"),
            "csrfmiddlewaretoken": token,
        }
        statuses = [_post(form_url, fields, csrf_cookie)]
        time.sleep(1)  # time for the arbiter to notice a worker gone, had one died
        statuses.append(get(f"{server.url}/healthz")[0])
    finally:
        returncode, log = server.stop()

    assert statuses == [200, 200], log  # redirected to the thank-you page, then healthy
    assert log.count("Booting worker") == 1, log
    assert "panicked" not in log and "３５２９４" not in log
    assert returncode == 0, log
    saved = subprocess.run(  # noqa: S603 (our own interpreter)
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from recruitment.models import Participant; "
            "print(list(Participant.objects.values_list('zip_code', flat=True)))",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert saved.stdout.strip() == "['35294']", saved.stderr
