"""Import an existing interest list from a CSV file, checked exactly like the public form.

Each row is bound to `InterestForm` with the study's criteria, so an imported person passes the
same validation as a web submission; the real run then hands every row to
`participants_import`, which prepares, matches and writes them as a submission is, inside one
transaction (numbering, evaluation and duplicate links come from there, and a failure on any
row leaves nothing behind). No row content is ever logged: the report names rows by number
and columns by name, in words for staff (`import_messages`), quoting only a contact cell whose
format is wrong, never a health answer. An optional `applied_at` column keeps each person's
date of application; without it, the report says everyone applied on the day of the import.
"""

import csv
import dataclasses
import io
import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from recruitment import form_fields, selectors
from recruitment.contact import MatchKeys, MatchSet
from recruitment.errors import ImportRowError, RecruitmentError
from recruitment.intake import import_messages
from recruitment.intake.forms import DATE_INPUT_FORMATS, UNSURE, InterestForm
from recruitment.intake.import_report import ImportReport, RowError
from recruitment.intake.services import ContactDetails, participants_import
from recruitment.models import Participant, Study
from recruitment.screening.services import EDITABLE_FIELDS
from recruitment.unicode_text import ascii_digits

logger = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
# Existing participants are looked up for possible duplicates this many rows at a time.
DUPLICATE_LOOKUP_BATCH = 1000

# The contact columns, in the order of the template file; the questions follow. `applied_at`
# (optional) is when the person applied, kept from the list; without it, the day of import.
CONTACT_COLUMNS = [*EDITABLE_FIELDS, "contact_consent", import_messages.APPLIED_AT_COLUMN]
# The columns every file must have: the contact fields the form requires.
REQUIRED_COLUMNS = [
    "first_name",
    "last_name",
    "email",
    "preferred_contact",
    "date_of_birth",
    "zip_code",
    "contact_consent",
]
CONSENT_YES = {"yes", "true", "1"}
# The form's "Not sure" label, written out, means the same as `unsure`.
ANSWER_ALIASES = {"not sure": UNSURE}

FILE_TOO_BIG = _("The file is larger than 5 MB. Split it into smaller files.")
TOO_MANY_ROWS = _("The file has more than 5,000 rows. Split it into smaller files.")
FILE_EMPTY = _("The file is empty.")
NO_ROWS = _("The file has a header row but no rows to import.")
NOT_CSV = _(
    "This is not a CSV file. In Excel, choose File > Save As > “CSV UTF-8 (Comma delimited)”."
)
NOT_TEXT = _("The file could not be read as text. Save it as “CSV UTF-8” and try again.")
UNREADABLE = _("The file could not be read as CSV (row {row}): {problem}.")
UNKNOWN_COLUMNS = _("Unknown columns: {columns}. Use the column names of the template.")
MISSING_COLUMNS = _("Missing columns: {columns}.")
REPEATED_COLUMNS = _("Columns that appear twice: {columns}.")
NO_HEADER = _("The first row must be the header row with the column names.")
EXTRA_CELLS = _("This row has a value in column {number}, which has no name in the header row.")
CONSENT_MISSING = _(
    "Only people who agreed to be contacted can be imported: enter yes if they agreed."
)
USE_ONE_OF = _("Use one of: {values}.")
ROW_NOT_SAVED = _("Row {row} could not be saved ({problem}): nothing was imported.")
STUDY_CLOSED_WARNING = _(
    "This study is not recruiting: the people imported will be added all the same, with no "
    "email to them."
)
ROW_LIMIT = _(
    "This file has {rows} rows, and at most {limit} can be imported here at once. Split the "
    "file, or ask an operator to run: manage.py import_interest {slug} <file>"
)
ROWS_HAVE_ERRORS = _("The file has errors: nothing was imported. Correct them and try again.")
DRY_RUN_HAS_ERRORS = _("The file has errors: correct them before importing.")
DRY_RUN_DONE = _("Dry run: nothing was written.")
QUESTIONS_MISSING = _(
    "No column for {columns}: every row will have no answer to these questions (needs review)."
)
APPLIED_TODAY = _(
    "No applied_at column: everyone imported is recorded as applied on the day of the import "
    "({today})."
)
APPLIED_FROM_COLUMN = _("The applied_at column gives each person's date of application.")


class InterestListError(RecruitmentError):
    """The import was refused as a whole; the message is safe to show to the user."""


class InterestListFileError(InterestListError):
    """The file itself cannot be imported: too big, not CSV, or wrong columns."""


@dataclass(frozen=True)
class _ValidRow:
    row: int
    contact: ContactDetails
    answers: dict[str, Any]


# ---------------------------------------------------------------------------------------------
# The entry point
# ---------------------------------------------------------------------------------------------
def interest_list_import(
    *,
    study: Study,
    data: bytes,
    dry_run: bool,
    today: date | None = None,
    row_limit: int = MAX_ROWS,
) -> ImportReport:
    """Check every row of a CSV interest list and, unless `dry_run`, create the participants.

    Row errors are returned in the report; a real run with any row error writes nothing (its
    report has no `created` numbers). Raises `InterestListFileError` when the file cannot be
    imported at all (size, format, columns), and `InterestListError` when the study refuses
    new participants or a row fails to save; either way nothing is written.

    `row_limit` caps a real run below `MAX_ROWS` (the admin's, so a request ends in seconds:
    every row costs a submission's writes); a dry run over the cap warns instead.
    """
    today = today or timezone.localdate()
    criteria = selectors.criterion_list_for_form(study=study)
    columns = template_columns(study=study, criteria=criteria)
    header, records = _read_csv(data)
    index = _check_header(header, columns)

    report = ImportReport(dry_run=dry_run)
    if import_messages.APPLIED_AT_COLUMN in index:
        report.applied = str(APPLIED_FROM_COLUMN)
    else:
        report.applied = str(APPLIED_TODAY).format(today=date_format(today, "DATE_FORMAT"))
    missing_questions = [c for c in columns if c not in index and c not in CONTACT_COLUMNS]
    if missing_questions:
        report.warnings.append(str(QUESTIONS_MISSING).format(columns=", ".join(missing_questions)))
    if not study.is_recruiting:
        report.warnings.append(str(STUDY_CLOSED_WARNING))
    over_limit = str(ROW_LIMIT).format(rows=len(records), limit=row_limit, slug=study.slug)
    if len(records) > row_limit:
        if not dry_run:
            raise InterestListError(over_limit)
        report.warnings.append(over_limit)

    checker = _RowChecker(study=study, criteria=criteria, index=index, today=today)
    valid_rows: list[_ValidRow] = []
    for row_number, cells in records:
        report.rows += 1
        valid, errors = checker.check(row_number, cells)
        report.errors.extend(errors)
        if valid is not None:
            valid_rows.append(valid)
    report.valid = len(valid_rows)
    report.duplicates = _count_duplicates(study, valid_rows)

    if dry_run or report.errors:
        return report  # a real run with any row error writes nothing
    created = _create(study, valid_rows)
    report.created = [p.screening_number for p in created]
    report.duplicates = sum(1 for p in created if p.duplicate_of_id is not None)
    logger.info(
        "Imported %d participants into %s (%s to %s)",
        len(created),
        study.slug,
        report.created[0],
        report.created[-1],
    )
    return report


def template_columns(*, study: Study, criteria=None) -> list[str]:
    """Every column an import file may have: contact fields, then one per question field."""
    if criteria is None:
        criteria = selectors.criterion_list_for_form(study=study)
    form = InterestForm(study=study, criteria=criteria)
    questions = [name for name in form.fields if name.startswith("q_")]
    return CONTACT_COLUMNS + questions


def template_csv(*, study: Study) -> str:
    """The header row of an import file for this study."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(template_columns(study=study))
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# Reading the file
# ---------------------------------------------------------------------------------------------
def _decode(data: bytes) -> str:
    """UTF-8 with or without a BOM (Excel's "CSV UTF-8"), UTF-16 (Excel's "Unicode Text"), or
    Windows-1252 (Excel's plain "CSV" on Windows)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InterestListFileError(NOT_TEXT) from exc
    if data.startswith(b"PK\x03\x04") or b"\x00" in data[:8192]:
        raise InterestListFileError(NOT_CSV)  # a workbook (.xlsx is a ZIP) or another binary
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise InterestListFileError(NOT_TEXT) from exc


def _delimiter(first_line: str) -> str:
    """Comma, or the semicolon or tab some Excel locales write, whichever splits the header
    into the most column names."""

    def score(delimiter: str) -> int:
        return len(first_line.split(delimiter))

    return max([",", ";", "\t"], key=score)


def _read_csv(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-blank data rows with their CSV row numbers."""
    if len(data) > MAX_BYTES:
        raise InterestListFileError(FILE_TOO_BIG)
    text = _decode(data)
    if "\x00" in text:
        raise InterestListFileError(NOT_CSV)
    if not text.strip():
        raise InterestListFileError(FILE_EMPTY)
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=_delimiter(text.split("\n", 1)[0]), strict=True
    )
    records: list[tuple[int, list[str]]] = []
    row_number = 0
    try:
        header = next(reader, [])
        row_number = 1
        for cells in reader:
            row_number += 1
            if not any(cell.strip() for cell in cells):
                continue  # blank lines and Excel's trailing ",,,," rows
            records.append((row_number, cells))
            if len(records) > MAX_ROWS:
                raise InterestListFileError(TOO_MANY_ROWS)
    except csv.Error as exc:
        problem = str(exc).split(":")[0]  # never quote the file's content
        raise InterestListFileError(
            str(UNREADABLE).format(row=row_number + 1, problem=problem)
        ) from exc
    if not records:
        raise InterestListFileError(NO_ROWS)
    return header, records


def _check_header(header: list[str], columns: list[str]) -> dict[str, int]:
    """Column name → position; refuse unknown, missing or repeated columns."""
    names = [cell.strip().lstrip("\ufeff").lower() for cell in header]
    if not any(names):
        raise InterestListFileError(NO_HEADER)
    known = set(columns)
    unknown = [name for name in names if name and name not in known]
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    repeated = sorted({name for name in names if name and names.count(name) > 1})
    problems = []
    if unknown:
        problems.append(str(UNKNOWN_COLUMNS).format(columns=", ".join(unknown)))
    if missing:
        problems.append(str(MISSING_COLUMNS).format(columns=", ".join(missing)))
    if repeated:
        problems.append(str(REPEATED_COLUMNS).format(columns=", ".join(repeated)))
    if problems:
        raise InterestListFileError(" ".join(problems))
    return {name: position for position, name in enumerate(names) if name}


# ---------------------------------------------------------------------------------------------
# Checking a row with the public form's rules
# ---------------------------------------------------------------------------------------------
class _RowChecker:
    """Binds each row to `InterestForm`, as the public form binds a POST."""

    def __init__(self, *, study: Study, criteria, index: dict[str, int], today: date):
        self.study = study
        self.criteria = criteria
        self.index = index
        self.today = today
        self.positions = set(index.values())
        self.fields = InterestForm(study=study, criteria=criteria).fields
        self.date_field = form_fields.DateField(input_formats=DATE_INPUT_FORMATS)

    def check(self, row_number: int, cells: list[str]) -> tuple[_ValidRow | None, list[RowError]]:
        errors = [
            RowError(row_number, "", str(EXTRA_CELLS).format(number=position + 1))
            for position, cell in enumerate(cells)
            if cell.strip() and position not in self.positions
        ]
        values = {
            name: cells[position].strip() if position < len(cells) else ""
            for name, position in self.index.items()
        }
        applied_at = None
        if import_messages.APPLIED_AT_COLUMN in values:
            applied_at, error = self.applied_at(values.pop(import_messages.APPLIED_AT_COLUMN))
            if error is not None:
                errors.append(RowError(row_number, str(import_messages.APPLIED_AT_LABEL), error))
        form = InterestForm(
            self.form_data(values), study=self.study, criteria=self.criteria, today=self.today
        )
        if not form.is_valid():
            order = {name: i for i, name in enumerate([*self.index, *form.fields])}
            by_field = form.errors.as_data()
            for name in sorted(by_field, key=lambda n: order.get(n, len(order))):
                column = "" if name == NON_FIELD_ERRORS else import_messages.column_label(name)
                errors.extend(
                    RowError(row_number, column, self.message(name, error, values.get(name, "")))
                    for error in by_field[name]
                )
        if errors:
            return None, errors
        contact = dataclasses.replace(form.contact_details(), applied_at=applied_at)
        return _ValidRow(row_number, contact, form.answers()), []

    def applied_at(self, value: str) -> tuple[datetime | None, str | None]:
        """The date of application from the `applied_at` cell (empty: the day of import),
        as noon that day in the site's time zone; or the error in words."""
        if not value:
            return None, None
        try:
            day = self.date_field.clean(value)
        except ValidationError as exc:
            return None, import_messages.staff_message(
                import_messages.APPLIED_AT_COLUMN, exc, value, " ".join(exc.messages)
            )
        if day > self.today:
            future = ValidationError("", code="future")
            return None, import_messages.staff_message(
                import_messages.APPLIED_AT_COLUMN, future, value, ""
            )
        return timezone.make_aware(datetime.combine(day, time(12))), None

    def form_data(self, values: dict[str, str]) -> dict[str, str]:
        """The row as a browser would post it: choices matched by value or label whatever
        their case, consent as a ticked box, no token, an empty honeypot."""
        data = {"website": ""}
        for name, value in values.items():
            if name == "contact_consent":
                if value.lower() in CONSENT_YES:
                    data[name] = "on"
                continue
            form_field = self.fields[name]
            if isinstance(form_field, forms.ChoiceField) and value:
                value = _choice_value(form_field, value)
            elif name == "zip_code":
                value = ascii_digits(text=value)  # as the form reads it, whatever the script
                if value.isascii() and value.isdigit() and 3 <= len(value) < 5:
                    value = value.zfill(5)  # Excel drops the leading zeros of 01234
            data[name] = value
        return data

    def message(self, name: str, error: ValidationError, value: str = "") -> str:
        """In words for staff (see `import_messages`): the cell's problem, the values to use
        for a choice, never the patient-facing words of the web form."""
        if name == "contact_consent":
            return str(CONSENT_MISSING)
        form_field = self.fields.get(name)
        if isinstance(form_field, forms.ChoiceField) and error.code in (
            "invalid_choice",
            "required",
        ):
            values = ", ".join(str(choice) for choice, _label in form_field.choices if choice)
            if error.code == "required":
                return str(import_messages.CONTACT_METHOD_NEEDED).format(values=values)
            return str(USE_ONE_OF).format(values=values)
        return import_messages.staff_message(name, error, value, " ".join(error.messages))


def _choice_value(form_field: forms.ChoiceField, value: str) -> str:
    wanted = value.casefold()
    wanted = ANSWER_ALIASES.get(wanted, wanted)
    for choice, label in form_field.choices:
        if choice and wanted in (str(choice).casefold(), str(label).casefold()):
            return choice
    return value  # the form refuses it, and the report says what to use


# ---------------------------------------------------------------------------------------------
# Possible duplicates, as `participants_import` will link them
# ---------------------------------------------------------------------------------------------
def _keys(contact: ContactDetails) -> MatchKeys:
    return MatchKeys.of(
        email=contact.email,
        phone=contact.phone,
        first_name=contact.first_name,
        last_name=contact.last_name,
        date_of_birth=contact.date_of_birth,
    )


def _count_duplicates(study: Study, rows: list[_ValidRow]) -> int:
    """Rows that share an email, a phone or a name and date of birth with an existing
    participant of the study or an earlier row: the same match as a submission's.
    One query per batch of rows, whatever the study's size."""
    keys = [_keys(row.contact) for row in rows]
    seen = MatchSet()
    for start in range(0, len(keys), DUPLICATE_LOOKUP_BATCH):
        batch = keys[start : start + DUPLICATE_LOOKUP_BATCH]
        existing = Participant.objects.filter(MatchKeys.query_any(batch), study=study)
        for row in existing.values_list(*MatchKeys.COLUMNS):
            seen.add(MatchKeys(*row))
    duplicates = 0
    for row_keys in keys:
        if row_keys in seen:
            duplicates += 1
        seen.add(row_keys)
    return duplicates


# ---------------------------------------------------------------------------------------------
# The real run
# ---------------------------------------------------------------------------------------------
def _create(study: Study, rows: list[_ValidRow]) -> list[Participant]:
    """All rows through `participants_import`, in one transaction: all rows or none."""
    try:
        return participants_import(study=study, rows=[(row.contact, row.answers) for row in rows])
    except ImportRowError as exc:
        cause = exc.__cause__
        if isinstance(cause, ValidationError):
            problem = "; ".join(
                f"{name}: {' '.join(messages)}" for name, messages in cause.message_dict.items()
            )
        elif isinstance(cause, RecruitmentError):
            problem = str(cause)
        else:
            # The database's message may quote a value: name only the kind of error.
            problem = type(cause).__name__
        raise InterestListError(
            str(ROW_NOT_SAVED).format(row=rows[exc.index].row, problem=problem)
        ) from exc
