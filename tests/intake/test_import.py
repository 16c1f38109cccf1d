"""Importing an interest list from CSV: every row checked like the public form, a dry run that
writes nothing, an all-or-nothing real run, duplicates linked, the command and the admin page."""

import csv
import datetime as dt
import io
import logging
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from accounts import roles
from recruitment.intake import import_uploads, importer
from recruitment.intake.importer import interest_list_import
from recruitment.models import Answer, DuplicateReview, Participant, Study
from tests.factories import StudyFactory, ldn_form_data, staff, submit

pytestmark = pytest.mark.django_db

TEMPLATE_FILE = Path(__file__).resolve().parents[2] / "docs" / "import-template.csv"


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
def row(**overrides) -> dict:
    """One CSV row of the LDN study: the public form's valid POST, consent written as yes."""
    values = {
        name: value
        for name, value in ldn_form_data().items()
        if name not in ("submission_token", "contact_consent")
    }
    values["date_of_birth"] = "04/28/1980"  # as Excel writes dates
    values["q_opioids__last"] = ""
    values["contact_consent"] = "yes"
    values.update(overrides)
    return values


def person(n: int, **overrides) -> dict:
    """A row that matches nobody else: own name and email, no phone."""
    values = {
        "first_name": f"Pat{n}",
        "email": f"pat{n}@example.com",
        "phone": "",
        "preferred_contact": "email",
    }
    return row(**{**values, **overrides})


def csv_bytes(rows, *, columns=None, encoding="utf-8", delimiter=",") -> bytes:
    columns = columns or list(rows[0])
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({name: r.get(name, "") for name in columns} for r in rows)
    return out.getvalue().encode(encoding)


def write(tmp_path, rows, name="list.csv", **kwargs) -> Path:
    path = tmp_path / name
    path.write_bytes(csv_bytes(rows, **kwargs) if isinstance(rows, list) else rows)
    return path


def check(study, data, **kwargs):
    return interest_list_import(study=study, data=data, dry_run=True, **kwargs)


def run(study, data, **kwargs):
    return interest_list_import(study=study, data=data, dry_run=False, **kwargs)


def verdicts(participant) -> list[tuple]:
    return [
        (v.criterion.code, v.verdict, v.reason, v.provenance, v.eligible_from, v.answer)
        for v in participant.verdicts.select_related("criterion").order_by("order")
    ]


def nothing_written(study) -> bool:
    study.refresh_from_db()
    return not Participant.objects.exists() and study.last_screening_seq == 0


# ---------------------------------------------------------------------------------------------
# The real run
# ---------------------------------------------------------------------------------------------
def test_a_valid_file_imports_every_row_with_consecutive_screening_numbers_and_no_email(
    ldn_study,
):
    submit(ldn_study, email="earlier@example.com", first_name="Earlier", phone="")
    mail.outbox.clear()

    report = run(ldn_study, csv_bytes([person(1), person(2), person(3)]))

    assert report.created == ["LDN-S-0002", "LDN-S-0003", "LDN-S-0004"]
    assert report.summary()[0] == "Imported 3 participants: LDN-S-0002 to LDN-S-0004."
    imported = list(Participant.objects.filter(screening_seq__gt=1).order_by("screening_seq"))
    assert [p.first_name for p in imported] == ["Pat1", "Pat2", "Pat3"]
    assert all(p.outcome == "likely_eligible" for p in imported)
    assert all(p.contact_consent and p.contact_consent_version for p in imported)
    assert Answer.objects.filter(participant=imported[0]).count() == 11
    assert mail.outbox == []


def test_an_imported_row_is_judged_exactly_like_the_same_answers_sent_through_the_form(
    client, ldn_study
):
    last_dose = (timezone.localdate() - dt.timedelta(days=20)).strftime("%m/%d/%Y")
    answers = {"q_opioids": "yes", "q_opioids__last": last_dose, "q_diagnosis": "unsure"}
    response = client.post(
        reverse("recruitment:interest", args=[ldn_study.slug]),
        ldn_form_data(**answers, date_of_birth="04/28/1980"),
    )
    assert response.status_code == 302
    from_form = Participant.objects.get()

    run(ldn_study, csv_bytes([row(**answers, email="other@example.com", first_name="Bo")]))

    imported = Participant.objects.exclude(pk=from_form.pk).get()
    assert imported.outcome == from_form.outcome == "needs_review"
    assert imported.eligible_from == from_form.eligible_from is not None
    assert verdicts(imported) == verdicts(from_form)
    assert imported.phone == from_form.phone
    assert imported.duplicate_of == from_form  # the same phone number
    assert imported.date_of_birth == from_form.date_of_birth


def test_answers_and_choices_are_read_whatever_their_case_and_blank_answers_are_no_answer(
    ldn_study,
):
    data = csv_bytes(
        [
            person(
                1,
                q_diagnosis="YES",
                q_allergy="Not sure",
                q_liver="Unsure",
                preferred_contact="Email",
                referral_source="A support group",
                best_time="",
                **{"q_can-attend": "", "q_core-symptoms__pem": ""},
            )
        ]
    )

    run(ldn_study, data)

    imported = Participant.objects.get()
    assert (imported.preferred_contact, imported.referral_source) == ("email", "support_group")
    given = {a.criterion.code: a.value for a in imported.answers.select_related("criterion")}
    assert given["diagnosis"] == "yes"
    assert given["allergy"] == given["liver"] == "unsure"
    assert "can-attend" not in given
    assert "pem" not in given["core-symptoms"]
    assert imported.outcome == "needs_review"


def test_a_file_with_one_bad_row_imports_nothing(ldn_study):
    report = run(ldn_study, csv_bytes([person(1), person(2, zip_code="99999"), person(3)]))

    assert not report.imported
    assert [str(e) for e in report.errors] == [
        "Row 3, ZIP code: “99999” is not a known US ZIP code."
    ]
    assert nothing_written(ldn_study)


def test_a_failure_midway_through_the_real_run_leaves_nothing(ldn_study):
    # A real database refusal on the third data row (CSV row 4): a participant already
    # holds screening sequence 3 while the study's counter was set back (as if restored
    # from an old backup), so the third imported row's number collides.
    taken = submit(ldn_study, email="taken@example.com", first_name="Taken", phone="")
    Participant.objects.filter(pk=taken.pk).update(screening_seq=3, screening_number="LDN-S-0003")
    Study.objects.filter(pk=ldn_study.pk).update(last_screening_seq=0)

    with pytest.raises(importer.InterestListError, match="Row 4 could not be saved"):
        run(ldn_study, csv_bytes([person(1), person(2), person(3), person(4)]))

    assert list(Participant.objects.values_list("pk", flat=True)) == [taken.pk]
    ldn_study.refresh_from_db()
    assert ldn_study.last_screening_seq == 0


def test_a_closed_study_takes_an_existing_list_with_a_warning_and_no_email(ldn_study):
    Study.objects.filter(pk=ldn_study.pk).update(is_recruiting=False)
    ldn_study.refresh_from_db()
    data = csv_bytes([person(1), person(2)])

    report = check(ldn_study, data)
    assert report.valid == 2
    assert str(importer.STUDY_CLOSED_WARNING) in report.warnings
    run(ldn_study, data)

    assert Participant.objects.filter(study=ldn_study).count() == 2
    assert mail.outbox == []


def test_imported_participants_say_so_in_their_history(ldn_study):
    run(ldn_study, csv_bytes([person(1)]))

    record = Participant.objects.get().history.earliest()
    assert record.history_change_reason == "Imported from an interest list"


# ---------------------------------------------------------------------------------------------
# The dry run and the row errors
# ---------------------------------------------------------------------------------------------
def test_a_dry_run_writes_nothing_and_lists_each_error_with_its_row_number(ldn_study):
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    rows = [
        person(1),
        person(2, zip_code="99999"),
        person(3, date_of_birth=future),
        person(4, email="not-an-email"),
        person(5, q_allergy="maybe"),
        person(6, contact_consent="no"),
        person(7, contact_consent=""),
        person(8, first_name="", preferred_contact="phone"),
    ]

    report = check(ldn_study, csv_bytes(rows))

    assert [str(e) for e in report.errors] == [
        "Row 3, ZIP code: “99999” is not a known US ZIP code.",
        f"Row 4, date of birth: “{future}” is in the future.",
        "Row 5, email: “not-an-email” is not an email address.",
        "Row 6, q_allergy: Use one of: yes, no, unsure.",
        f"Row 7, agreed to be contacted: {importer.CONSENT_MISSING}",
        f"Row 8, agreed to be contacted: {importer.CONSENT_MISSING}",
        "Row 9, first name: empty, and it is required.",
        "Row 9, phone: empty, and it is needed when the preferred contact method is phone or text.",
    ]
    assert (report.rows, report.valid, report.rows_with_errors) == (8, 1, 7)
    assert report.summary()[0] == "1 row valid, 7 rows with errors."
    assert nothing_written(ldn_study)


def test_errors_quote_only_the_contact_cell_to_fix_never_a_health_answer_nor_a_log(
    ldn_study, caplog
):
    caplog.set_level(logging.DEBUG)
    rows = [person(1, q_allergy="secret-answer", email="secret@", zip_code="12")]

    report = check(ldn_study, csv_bytes(rows))
    run(ldn_study, csv_bytes([person(2, last_name="Confidential")]))

    shown = " ".join(str(e) for e in report.errors)
    assert report.rows_with_errors == 1
    assert "secret-answer" not in shown
    assert "Row 2, email: “secret@” is not an email address." in shown
    assert "Row 2, ZIP code: “12” is not a 5-digit ZIP code." in shown
    assert "secret" not in caplog.text
    assert "Pat2" not in caplog.text and "Confidential" not in caplog.text
    assert "pat2@example.com" not in caplog.text


def test_row_numbers_count_records_as_a_spreadsheet_does(ldn_study):
    rows = [person(1, note="Line one\nline two"), person(2), person(3, zip_code="99999")]
    data = csv_bytes(rows).replace(b"\r\n", b"\r\n,,,\r\n", 1)  # a blank row after the header

    report = check(ldn_study, data)

    assert [e.row for e in report.errors] == [5]
    assert report.rows == 3


def test_a_value_under_no_column_name_is_a_row_error(ldn_study):
    data = csv_bytes([person(1)])
    lines = data.split(b"\r\n")
    lines[1] += b",stray"
    report = check(ldn_study, b"\r\n".join(lines))

    assert [str(e) for e in report.errors] == [
        "Row 2: This row has a value in column 27, which has no name in the header row."
    ]


def test_a_zip_code_that_lost_its_leading_zero_in_excel_is_read_as_five_digits(ldn_study):
    run(ldn_study, csv_bytes([person(1, zip_code="2134")]))

    assert Participant.objects.get().zip_code == "02134"


# ---------------------------------------------------------------------------------------------
# Possible duplicates
# ---------------------------------------------------------------------------------------------
def test_a_duplicate_of_an_existing_participant_and_a_duplicate_within_the_file_are_linked(
    ldn_study,
):
    existing = submit(ldn_study, email="ann.lee@example.com", phone="")
    rows = [
        person(1, email="ANN.LEE@example.com"),  # the existing participant's email
        person(2, phone="205-555-0199", preferred_contact="phone"),
        person(3, phone="(205) 555-0199"),  # row 3's phone
        person(4),
        person(5, first_name="pat4 ", email="other@example.com"),  # row 5's name and birth date
    ]
    data = csv_bytes(rows)

    assert check(ldn_study, data).duplicates == 3
    report = run(ldn_study, data)

    assert report.duplicates == 3
    assert report.summary()[1] == "3 are marked as possible duplicates."
    by_name = {p.first_name: p for p in Participant.objects.all()}
    assert by_name["Pat1"].duplicate_of == existing
    assert by_name["Pat3"].duplicate_of == by_name["Pat2"]
    assert by_name["pat4"].duplicate_of == by_name["Pat4"]
    assert by_name["Pat2"].duplicate_of is None and by_name["Pat4"].duplicate_of is None
    assert by_name["Pat1"].duplicate_review == DuplicateReview.PENDING


def test_duplicates_are_matched_only_within_the_study(ldn_study):
    other = StudyFactory()
    submit(other, email="pat1@example.com", phone="")

    assert check(ldn_study, csv_bytes([person(1)])).duplicates == 0


# ---------------------------------------------------------------------------------------------
# The file: columns, encodings, size
# ---------------------------------------------------------------------------------------------
def test_unknown_columns_are_refused_by_name_before_any_row_is_checked(ldn_study):
    rows = [person(1, zip_code="99999", favourite_colour="blue", **{"q_nonsense": "yes"})]

    with pytest.raises(importer.InterestListFileError) as refused:
        check(ldn_study, csv_bytes(rows))

    assert str(refused.value) == (
        "Unknown columns: favourite_colour, q_nonsense. Use the column names of the template."
    )


def test_missing_or_repeated_columns_are_refused(ldn_study):
    columns = [c for c in row() if c not in ("email", "contact_consent")]
    with pytest.raises(importer.InterestListFileError, match=r"^Missing columns: email, contact"):
        check(ldn_study, csv_bytes([person(1)], columns=columns))

    data = csv_bytes([person(1)], columns=[*row(), "email"])
    with pytest.raises(importer.InterestListFileError, match="Columns that appear twice: email"):
        check(ldn_study, data)


def test_question_columns_may_be_left_out_and_the_report_says_so(ldn_study):
    columns = [c for c in row() if c != "q_liver"]

    report = check(ldn_study, csv_bytes([person(1)], columns=columns))

    assert report.valid == 1
    assert report.warnings == [str(importer.QUESTIONS_MISSING).format(columns="q_liver")]


def test_header_names_are_read_whatever_their_case_and_spacing(ldn_study):
    data = csv_bytes([person(1)])
    header, rest = data.split(b"\r\n", 1)
    header = b",".join(b" " + name.upper() for name in header.split(b","))

    assert check(ldn_study, header + b"\r\n" + rest).valid == 1


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8-sig", ","), ("utf-8", ","), ("cp1252", ","), ("utf-8-sig", ";"), ("utf-16", "\t")],
)
def test_excel_s_csv_flavours_are_read(ldn_study, encoding, delimiter):
    data = csv_bytes([person(1, last_name="Pérez")], encoding=encoding, delimiter=delimiter)

    run(ldn_study, data)

    assert Participant.objects.get().last_name == "Pérez"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", importer.FILE_EMPTY),
        (b"\r\n \r\n", importer.FILE_EMPTY),
        (b"PK\x03\x04\x14\x00\x06\x00 workbook", importer.NOT_CSV),
        (bytes(range(256)) * 4, importer.NOT_CSV),
        (b"\x81\x8d\x8f\x90\x9d", importer.NOT_TEXT),
        (",,,\r\nAnn,Lee\r\n", importer.NO_HEADER),
    ],
)
def test_an_empty_binary_or_unreadable_file_is_refused_with_a_clear_message(
    ldn_study, data, message
):
    data = data.encode() if isinstance(data, str) else data
    with pytest.raises(importer.InterestListFileError) as refused:
        check(ldn_study, data)

    assert str(refused.value) == str(message)


def test_a_header_without_rows_or_a_broken_quote_is_refused(ldn_study):
    header = csv_bytes([person(1)]).split(b"\r\n")[0]
    with pytest.raises(importer.InterestListFileError) as refused:
        check(ldn_study, header + b"\r\n")
    assert str(refused.value) == str(importer.NO_ROWS)

    with pytest.raises(importer.InterestListFileError, match=r"could not be read as CSV \(row 2"):
        check(ldn_study, header + b'\r\nAnn,"Lee"x,\r\n')


def test_files_over_5_mb_or_5000_rows_are_refused(ldn_study):
    too_big = csv_bytes([person(1)]) + b" " * importer.MAX_BYTES
    with pytest.raises(importer.InterestListFileError) as refused:
        check(ldn_study, too_big)
    assert str(refused.value) == str(importer.FILE_TOO_BIG)

    too_many = csv_bytes([person(n) for n in range(importer.MAX_ROWS + 1)])
    with pytest.raises(importer.InterestListFileError) as refused:
        check(ldn_study, too_many)
    assert str(refused.value) == str(importer.TOO_MANY_ROWS)


def test_the_sample_file_has_the_ldn_columns_and_passes_a_dry_run(ldn_study):
    data = TEMPLATE_FILE.read_bytes()

    report = check(ldn_study, data)

    assert data.split(b"\n")[0].decode().strip().split(",") == importer.template_columns(
        study=ldn_study
    )
    assert (report.rows, report.valid, report.errors, report.warnings) == (2, 2, [], [])


def test_a_dry_run_runs_the_same_number_of_queries_for_3_rows_as_for_30(ldn_study):
    for n in range(5):
        submit(ldn_study, email=f"old{n}@example.com", first_name=f"Old{n}", phone="")

    def queries(count):
        data = csv_bytes([person(n, phone=f"205-555-{n:04d}") for n in range(count)])
        with CaptureQueriesContext(connection) as captured:
            check(ldn_study, data)
        return len(captured)

    assert queries(3) == queries(30) <= 2


# ---------------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------------
def test_the_command_imports_a_file_and_prints_the_screening_numbers(ldn_study, tmp_path):
    path = write(tmp_path, [person(1), person(2)])
    out = io.StringIO()

    call_command("import_interest", "ldn-mecfs", str(path), stdout=out)

    assert "Imported 2 participants: LDN-S-0001 to LDN-S-0002." in out.getvalue()
    assert "0 are marked as possible duplicates." in out.getvalue()
    assert Participant.objects.count() == 2


def test_the_command_s_dry_run_writes_nothing(ldn_study, tmp_path):
    path = write(tmp_path, [person(1), person(2)])
    out = io.StringIO()

    call_command("import_interest", "ldn-mecfs", str(path), "--dry-run", stdout=out)

    assert out.getvalue().splitlines() == [
        "2 rows valid, 0 rows with errors.",
        "0 rows would be marked as possible duplicates "
        "(of existing participants or of earlier rows).",
        "No applied_at column: everyone imported is recorded as applied on the day of the "
        f"import ({date_format(timezone.localdate(), 'DATE_FORMAT')}).",
        "Dry run: nothing was written.",
    ]
    assert nothing_written(ldn_study)


@pytest.mark.parametrize("dry_run", [True, False])
def test_the_command_lists_row_errors_and_exits_non_zero(ldn_study, tmp_path, dry_run):
    path = write(tmp_path, [person(1), person(2, zip_code="99999")])
    out = io.StringIO()

    with pytest.raises(CommandError) as failed:
        call_command(
            "import_interest",
            "ldn-mecfs",
            str(path),
            *(["--dry-run"] if dry_run else []),
            stdout=out,
        )

    # `manage.py` prints the message on stderr and exits with this code.
    assert failed.value.returncode == 1
    assert str(failed.value).startswith("The file has errors")
    assert "1 row valid, 1 row with errors." in out.getvalue()
    assert "Row 3, ZIP code: “99999” is not a known US ZIP code." in out.getvalue()
    assert nothing_written(ldn_study)


def test_the_command_refuses_an_unknown_study_a_missing_file_and_bad_columns(ldn_study, tmp_path):
    path = write(tmp_path, [person(1, shoe_size="9")])
    with pytest.raises(CommandError, match="No study with the slug 'nope'"):
        call_command("import_interest", "nope", str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_interest", "ldn-mecfs", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="Unknown columns: shoe_size"):
        call_command("import_interest", "ldn-mecfs", str(path))


# ---------------------------------------------------------------------------------------------
# The admin page
# ---------------------------------------------------------------------------------------------


def import_url(study):
    return reverse("admin:recruitment_study_import", args=[study.pk])


def upload(data: bytes, action="check", name="list.csv") -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {"file": SimpleUploadedFile(name, data, content_type="text/csv"), "action": action}


def test_the_study_page_offers_the_import_to_its_coordinators_only(client, ldn_study):
    change = reverse("admin:recruitment_study_change", args=[ldn_study.pk])
    client.force_login(staff("coord", roles.COORDINATOR, ldn_study))
    assert import_url(ldn_study) in client.get(change).content.decode()

    client.force_login(staff("monitor", roles.MONITOR, ldn_study))
    page = client.get(change)
    assert page.status_code == 200
    assert import_url(ldn_study) not in page.content.decode()


def test_a_coordinator_checks_a_file_and_sees_each_row_error_with_nothing_written(
    coord_client, ldn_study
):
    data = csv_bytes([person(1), person(2, zip_code="99999"), person(3, email="x")])

    page = coord_client.post(import_url(ldn_study), upload(data))

    assert page.status_code == 200
    html = page.content.decode()
    assert "1 row valid, 2 rows with errors." in html
    assert "Row 3, ZIP code: “99999” is not a known US ZIP code." in html
    assert "Row 4, email: “x” is not an email address." in html
    assert nothing_written(ldn_study)


def test_a_clean_dry_run_says_the_file_is_ready_and_counts_duplicates(coord_client, ldn_study):
    submit(ldn_study, email="pat1@example.com", phone="")

    page = coord_client.post(import_url(ldn_study), upload(csv_bytes([person(1), person(2)])))

    html = page.content.decode()
    assert "2 rows valid, 0 rows with errors." in html
    assert "1 row would be marked as a possible duplicate" in html
    assert "The file is ready" in html
    assert Participant.objects.count() == 1


def test_a_coordinator_imports_a_file_and_lands_on_the_queue_with_a_message(
    coord_client, ldn_study
):
    response = coord_client.post(
        import_url(ldn_study), upload(csv_bytes([person(1), person(2)]), action="import")
    )

    changelist = reverse("admin:recruitment_participant_changelist")
    assert response.status_code == 302
    assert response.url == f"{changelist}?study={ldn_study.pk}"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Imported 2 participants: LDN-S-0001 to LDN-S-0002. 0 are marked as possible duplicates. "
        "No applied_at column: everyone imported is recorded as applied on the day of the "
        f"import ({date_format(timezone.localdate(), 'DATE_FORMAT')})."
    ]
    assert Participant.objects.count() == 2
    assert mail.outbox == []


def test_import_with_a_bad_row_shows_the_errors_and_imports_nothing(coord_client, ldn_study):
    data = csv_bytes([person(1), person(2, contact_consent="no")])

    page = coord_client.post(import_url(ldn_study), upload(data, action="import"))

    assert page.status_code == 200
    assert "Nothing was imported" in page.content.decode()
    assert "Row 3, agreed to be contacted" in page.content.decode()
    assert nothing_written(ldn_study)


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        (b"PK\x03\x04 a workbook", "This is not a CSV file."),
        (b"\x00\x01\x02" * 100, "This is not a CSV file."),
        (b"shoe_size\r\n9\r\n", "Unknown columns: shoe_size."),
    ],
)
def test_a_wrong_upload_is_a_form_error_never_a_server_error(coord_client, ldn_study, data, shown):
    page = coord_client.post(import_url(ldn_study), upload(data, action="import"))

    assert page.status_code == 200
    assert shown in page.content.decode()
    assert nothing_written(ldn_study)


def test_a_post_without_a_file_asks_for_one(coord_client, ldn_study):
    page = coord_client.post(import_url(ldn_study), {"action": "import"})

    assert page.status_code == 200
    assert "Choose a CSV file." in page.content.decode()


def test_a_closed_study_s_list_is_imported_from_the_page(coord_client, ldn_study):
    Study.objects.filter(pk=ldn_study.pk).update(is_recruiting=False)

    page = coord_client.post(import_url(ldn_study), upload(csv_bytes([person(1)]), action="import"))

    assert page.status_code == 302
    assert Participant.objects.filter(study=ldn_study).count() == 1


def test_the_import_page_is_refused_to_a_monitor_and_to_staff_of_another_study(client, ldn_study):
    other = StudyFactory()
    data = csv_bytes([person(1)])
    for user in (
        staff("monitor", roles.MONITOR, ldn_study),
        staff("elsewhere", roles.COORDINATOR, other),
    ):
        client.force_login(user)
        assert client.get(import_url(ldn_study)).status_code == 403
        response = client.post(import_url(ldn_study), upload(data, action="import"))
        assert response.status_code == 403
        template = reverse("admin:recruitment_study_import_template", args=[ldn_study.pk])
        assert client.get(template).status_code == 403
    assert not Participant.objects.exists()


def test_the_import_page_is_for_logged_in_staff_with_a_csrf_token(ldn_study):
    anonymous = Client()
    assert anonymous.get(import_url(ldn_study)).status_code == 302  # to the login page

    checked = Client(enforce_csrf_checks=True)
    checked.force_login(staff("coord", roles.COORDINATOR, ldn_study))
    response = checked.post(import_url(ldn_study), upload(csv_bytes([person(1)]), "import"))
    assert response.status_code == 403
    assert checked.put(import_url(ldn_study)).status_code in (403, 405)
    assert not Participant.objects.exists()


def test_only_get_and_post_reach_the_import_page(coord_client, ldn_study):
    assert coord_client.put(import_url(ldn_study)).status_code == 405
    assert coord_client.get(import_url(ldn_study)).status_code == 200


def test_a_superuser_may_import_into_any_study(admin_client, ldn_study):
    response = admin_client.post(
        import_url(ldn_study), upload(csv_bytes([person(1)]), action="import")
    )

    assert response.status_code == 302
    assert Participant.objects.count() == 1


def test_the_page_offers_an_empty_file_with_the_study_s_columns(coord_client, ldn_study):
    template = reverse("admin:recruitment_study_import_template", args=[ldn_study.pk])

    response = coord_client.get(template)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    header = response.content.decode().strip().split(",")
    assert header == importer.template_columns(study=ldn_study)


def test_the_page_imports_at_most_its_row_limit_and_points_larger_files_to_the_command(
    coord_client, ldn_study, monkeypatch
):
    from recruitment.admin.studies import StudyAdmin

    monkeypatch.setattr(StudyAdmin, "import_row_limit", 2)
    data = csv_bytes([person(1), person(2), person(3)])

    checked = coord_client.post(import_url(ldn_study), upload(data)).content.decode()
    refused = coord_client.post(import_url(ldn_study), upload(data, action="import"))

    assert "This file has 3 rows, and at most 2 can be imported here at once." in checked
    assert "3 rows valid, 0 rows with errors." in checked
    assert refused.status_code == 200
    assert "manage.py import_interest ldn-mecfs &lt;file&gt;" in refused.content.decode()
    assert nothing_written(ldn_study)


# ---------------------------------------------------------------------------------------------
# Words for staff, dates of application, the file kept between the check and the import
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"date_of_birth": "30/02/1980"},
            "Row 2, date of birth: “30/02/1980” is not a date "
            "(write it as MM/DD/YYYY or YYYY-MM-DD).",
        ),
        ({"last_name": ""}, "Row 2, last name: empty, and it is required."),
        ({"zip_code": "9999999"}, "Row 2, ZIP code: “9999999” is not a 5-digit ZIP code."),
        (
            {"phone": "555", "preferred_contact": "phone"},
            "Row 2, phone: “555” is not a US phone number (10 digits).",
        ),
        (
            {"q_opioids": "yes", "q_opioids__last": ""},
            "Row 2, q_opioids__last: empty: the date of the last dose is needed when the "
            "answer is yes.",
        ),
        (
            {"preferred_contact": ""},
            "Row 2, preferred contact method: empty, and it is required: use one of "
            "phone, text, email.",
        ),
    ],
)
def test_row_errors_are_worded_for_the_staff_member_fixing_the_file(ldn_study, overrides, expected):
    report = check(ldn_study, csv_bytes([person(1, **overrides)]))

    assert expected in [str(e) for e in report.errors]
    # Never the patient's words from the public form.
    assert not any("your" in str(e).lower() for e in report.errors)


def test_an_applied_at_column_gives_each_person_their_date_of_application(ldn_study):
    rows = [person(1, applied_at="10/02/2026"), person(2, applied_at="")]
    report = run(ldn_study, csv_bytes(rows), today=dt.date(2026, 12, 7))

    first, second = Participant.objects.order_by("screening_seq")
    assert timezone.localtime(first.created_at).date() == dt.date(2026, 10, 2)
    assert timezone.localtime(first.contact_consent_at).date() == dt.date(2026, 10, 2)
    assert first.history.earliest().created_at == first.created_at
    assert timezone.localdate(second.created_at) == timezone.localdate()
    assert str(importer.APPLIED_FROM_COLUMN) in report.summary()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-13-01", "Row 2, applied at: “2026-13-01” is not a date"),
        ("12/25/2026", "Row 2, applied at: “12/25/2026” is in the future."),
    ],
)
def test_a_bad_applied_at_is_a_row_error(ldn_study, value, expected):
    report = check(ldn_study, csv_bytes([person(1, applied_at=value)]), today=dt.date(2026, 12, 7))

    assert [str(e) for e in report.errors][0].startswith(expected)


def test_without_applied_at_the_report_says_everyone_applied_on_the_import_date(ldn_study):
    report = check(ldn_study, csv_bytes([person(1)]), today=dt.date(2026, 12, 7))

    assert report.applied == (
        "No applied_at column: everyone imported is recorded as applied on the day of the "
        f"import ({date_format(dt.date(2026, 12, 7), 'DATE_FORMAT')})."
    )


def kept_token(page) -> str:
    import re

    found = re.search(r'name="kept" value="([^"]+)"', page.content.decode())
    return found.group(1) if found else ""


def test_the_checked_file_is_kept_and_imported_without_choosing_it_again(coord_client, ldn_study):
    page = coord_client.post(import_url(ldn_study), upload(csv_bytes([person(1), person(2)])))
    token = kept_token(page)
    assert token
    assert "Checked file kept: <strong>list.csv</strong>" in page.content.decode()
    assert "Pat1" not in token  # the token names the kept file; the rows stay server-side
    assert nothing_written(ldn_study)
    owner = {"study_id": ldn_study.pk, "user_id": page.wsgi_request.user.pk}
    assert import_uploads.upload_get(token=token, **owner).data.count(b"Pat") == 2

    response = coord_client.post(import_url(ldn_study), {"action": "import", "kept": token})

    assert response.status_code == 302
    assert token not in response.url
    assert Participant.objects.count() == 2
    # Deleted once imported: the same (still signed) token finds nothing.
    assert import_uploads.upload_get(token=token, **owner) is None
    again = coord_client.post(import_url(ldn_study), {"action": "import", "kept": token})
    assert "no longer kept" in again.content.decode()
    assert Participant.objects.count() == 2


def test_a_file_with_errors_is_not_kept(coord_client, ldn_study):
    page = coord_client.post(import_url(ldn_study), upload(csv_bytes([person(1, zip_code="1")])))

    assert kept_token(page) == ""


def test_a_kept_file_expires_and_is_for_its_uploader_and_study_only(
    client, coord_client, ldn_study
):
    import time_machine

    page = coord_client.post(import_url(ldn_study), upload(csv_bytes([person(1)])))
    token = kept_token(page)

    other = staff("other-coord", roles.COORDINATOR, ldn_study)
    other_client = Client()
    other_client.force_login(other)
    refused = other_client.post(import_url(ldn_study), {"action": "import", "kept": token})
    assert "no longer kept" in refused.content.decode()
    forged = coord_client.post(import_url(ldn_study), {"action": "import", "kept": token + "x"})
    assert "no longer kept" in forged.content.decode()
    owner = {"study_id": ldn_study.pk, "user_id": page.wsgi_request.user.pk}
    assert import_uploads.upload_get(token=token, **owner) is not None
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=31)):
        assert import_uploads.upload_get(token=token, **owner) is None
    assert nothing_written(ldn_study)
    assert Participant.objects.count() == 0
