"""Concealed allocation's writes: the sealed list's upload, the row a participant takes at
enrollment, a participant's stratum, and emergency unblinding. Keyword-only functions that
check, write in one transaction and return; a refusal writes nothing."""

import csv
import io
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from recruitment.allocation import access
from recruitment.errors import InvalidTransition, RecruitmentError
from recruitment.models import (
    AllocationList,
    AllocationRow,
    Participant,
    ParticipantStratum,
    Study,
    Unblinding,
)
from recruitment.notifications import tasks as notifications

HEADER = ("sequence", "stratum", "arm", "pack_code")
REQUIRED_COLUMNS = ("sequence", "arm", "pack_code")

NOT_ALLOWED_UPLOAD = _("Only the study's unblinded statistician can upload its allocation list.")
LIST_IN_USE = _(
    "The allocation list is in use ({used} participants allocated): it cannot be replaced."
)
ARMS_NEEDED = _("Declare at least two arms (for example: AB, BA).")
ARMS_REPEATED = _("Each arm may be declared once.")
STRATA_REPEATED = _("Each stratum may be declared once.")
FILE_NOT_TEXT = _("The file is not a UTF-8 CSV file.")
FILE_EMPTY = _("The file has no allocation rows.")
BAD_HEADER = _(
    "Line 1: the header must be “sequence,stratum,arm,pack_code” (stratum may be left out); "
    "found “{found}”."
)
LINE_CELLS = _("Line {line}: expected {expected} cells, found {found}.")
LINE_EMPTY_CELL = _("Line {line}: the “{column}” cell is empty.")
LINE_SEQUENCE = _("Line {line}: the sequence number “{value}” is not a whole number from 1.")
LINE_ARM = _("Line {line}: “{value}” is not one of the declared arms ({arms}).")
LINE_STRATUM = _("Line {line}: “{value}” is not one of the declared strata ({strata}).")
LINE_STRATUM_NONE = _(
    "Line {line}: the stratum “{value}” is given, but no strata are declared for this list."
)
LINE_STRATUM_MISSING = _("Line {line}: the stratum is empty, but this list declares strata.")
LINE_SEQUENCE_REPEATED = _(
    "Line {line}: sequence number {sequence} is already on line {first} (stratum “{stratum}”)."
)
LINE_PACK_REPEATED = _("Line {line}: pack code “{value}” is already on line {first}.")
LINE_TOO_LONG = _("Line {line}: the “{column}” cell is longer than 40 characters.")
SEQUENCE_GAP = _(
    "Stratum “{stratum}”: sequence numbers must run from 1 to {count} with no gap; "
    "missing: {missing}."
)

STRATUM_NEEDED = _(
    "Set the stratum of {number} before enrolling: the study's allocation list is stratified."
)
LIST_USED_UP = _(
    "The allocation list has no unused row left{for_stratum}: {number} cannot be enrolled. "
    "Tell the unblinded statistician."
)
FOR_STRATUM = _(" for stratum “{stratum}”")
STRATUM_NO_STRATA = _("The study's allocation list has no strata.")
STRATUM_UNKNOWN = _("“{value}” is not one of the strata of the allocation list ({strata}).")
STRATUM_FIXED = _("{number} is already allocated: their stratum cannot change.")

NOT_ALLOWED_UNBLIND = _("Only an investigator of the study can unblind a participant.")
UNBLIND_REASON_NEEDED = _("Give the medical reason for unblinding {number}.")
NOT_ALLOCATED = _("{number} has no allocation: there is nothing to unblind.")

MAX_CELL = 40


class AllocationFileInvalid(RecruitmentError):
    """The uploaded list has errors; `errors` lists each (with its line number)."""

    def __init__(self, errors: list[str]):
        super().__init__(" ".join(errors))
        self.errors = errors


class AllocationRefused(RecruitmentError):
    pass


class AllocationUnavailable(InvalidTransition):
    """Enrollment needs an allocation row the list cannot give (used up, or no stratum)."""


@dataclass(frozen=True)
class ParsedRow:
    line: int
    sequence: int
    stratum: str
    arm: str
    pack_code: str


# ---------------------------------------------------------------------------------------------
# The sealed list
# ---------------------------------------------------------------------------------------------
def declared_names(text: str) -> list[str]:
    """ "AB, BA" or one per line -> ["AB", "BA"] (blanks dropped, order kept)."""
    return [name.strip() for name in text.replace("\n", ",").split(",") if name.strip()]


def allocation_file_parse(*, content: bytes, arms: list[str], strata: list[str]) -> list[ParsedRow]:
    """Read and check the CSV; raise `AllocationFileInvalid` listing every error found."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AllocationFileInvalid([str(FILE_NOT_TEXT)]) from exc
    lines = list(csv.reader(io.StringIO(text)))
    while lines and not any(cell.strip() for cell in lines[-1]):
        lines.pop()
    if not lines:
        raise AllocationFileInvalid([str(FILE_EMPTY)])
    header = tuple(cell.strip().lower().replace(" ", "_") for cell in lines[0])
    if header not in (HEADER, tuple(c for c in HEADER if c != "stratum")):
        raise AllocationFileInvalid([str(BAD_HEADER).format(found=",".join(lines[0]))])
    if len(lines) == 1:
        raise AllocationFileInvalid([str(FILE_EMPTY)])

    errors: list[str] = []
    rows: list[ParsedRow] = []
    first_of_sequence: dict[tuple[str, int], int] = {}
    first_of_pack: dict[str, int] = {}
    for line, cells in enumerate(lines[1:], start=2):
        if len(cells) != len(header):
            errors.append(str(LINE_CELLS).format(line=line, expected=len(header), found=len(cells)))
            continue
        values = dict(zip(header, (cell.strip() for cell in cells), strict=True))
        stratum = values.get("stratum", "")
        row_errors = [
            str(LINE_EMPTY_CELL).format(line=line, column=column)
            for column in REQUIRED_COLUMNS
            if not values[column]
        ]
        row_errors += [
            str(LINE_TOO_LONG).format(line=line, column=column)
            for column, value in values.items()
            if len(value) > MAX_CELL
        ]
        sequence = None
        if values["sequence"]:
            if values["sequence"].isascii() and values["sequence"].isdigit():
                sequence = int(values["sequence"])
            if not sequence:
                row_errors.append(str(LINE_SEQUENCE).format(line=line, value=values["sequence"]))
        if values["arm"] and values["arm"] not in arms:
            row_errors.append(
                str(LINE_ARM).format(line=line, value=values["arm"], arms=", ".join(arms))
            )
        if strata and not stratum:
            row_errors.append(str(LINE_STRATUM_MISSING).format(line=line))
        elif stratum and not strata:
            row_errors.append(str(LINE_STRATUM_NONE).format(line=line, value=stratum))
        elif stratum and stratum not in strata:
            row_errors.append(
                str(LINE_STRATUM).format(line=line, value=stratum, strata=", ".join(strata))
            )
        if sequence:
            first = first_of_sequence.setdefault((stratum, sequence), line)
            if first != line:
                row_errors.append(
                    str(LINE_SEQUENCE_REPEATED).format(
                        line=line, sequence=sequence, first=first, stratum=stratum
                    )
                )
        if values["pack_code"]:
            first = first_of_pack.setdefault(values["pack_code"], line)
            if first != line:
                row_errors.append(
                    str(LINE_PACK_REPEATED).format(
                        line=line, value=values["pack_code"], first=first
                    )
                )
        errors += row_errors
        if not row_errors:
            rows.append(ParsedRow(line, sequence, stratum, values["arm"], values["pack_code"]))

    if not errors:
        by_stratum: dict[str, set[int]] = defaultdict(set)
        for row in rows:
            by_stratum[row.stratum].add(row.sequence)
        for stratum, sequences in sorted(by_stratum.items()):
            missing = sorted(set(range(1, max(sequences) + 1)) - sequences)
            if missing:
                errors.append(
                    str(SEQUENCE_GAP).format(
                        stratum=stratum,
                        count=max(sequences),
                        missing=", ".join(str(n) for n in missing[:10])
                        + (" …" if len(missing) > 10 else ""),
                    )
                )
    if errors:
        raise AllocationFileInvalid(errors)
    return rows


def allocation_list_upload(
    *,
    study: Study,
    content: bytes,
    filename: str,
    arms: list[str],
    strata: list[str],
    by,
) -> AllocationList:
    """Store the study's sealed allocation list, checked line by line.

    A list no participant has used yet is replaced whole by a new upload (a corrected file);
    once any row is used the upload is refused: the sequence already handed out must not
    change. Any error refuses the whole file, and nothing is stored."""
    if not access.may_manage_allocation(by, study):
        raise AllocationRefused(NOT_ALLOWED_UPLOAD)
    if len(arms) < 2:
        raise AllocationFileInvalid([str(ARMS_NEEDED)])
    if len(set(arms)) != len(arms):
        raise AllocationFileInvalid([str(ARMS_REPEATED)])
    if len(set(strata)) != len(strata):
        raise AllocationFileInvalid([str(STRATA_REPEATED)])
    rows = allocation_file_parse(content=content, arms=arms, strata=strata)
    with transaction.atomic():
        Study.objects.select_for_update().get(pk=study.pk)  # enrollments wait for the new list
        used = AllocationRow.objects.filter(study=study).used().count()
        if used:
            raise AllocationRefused(str(LIST_IN_USE).format(used=used))
        AllocationRow.objects.filter(study=study).delete()
        allocation_list, _created = AllocationList.objects.update_or_create(
            study=study,
            defaults={
                "arms": arms,
                "strata": strata,
                "uploaded_by": by,
                "filename": filename[:200],
            },
        )
        AllocationRow.objects.bulk_create(
            AllocationRow(
                study=study,
                sequence=row.sequence,
                stratum=row.stratum,
                arm=row.arm,
                pack_code=row.pack_code,
            )
            for row in rows
        )
    return allocation_list


# ---------------------------------------------------------------------------------------------
# Enrollment
# ---------------------------------------------------------------------------------------------
def allocation_take(*, study: Study, participant: Participant) -> AllocationRow | None:
    """Give the participant being enrolled the next unused row of their stratum; None when the
    study has no allocation list (it enrolls as before).

    Called by enrollment inside its transaction, which holds the study row's lock; the row is
    locked too, and the one-to-one link to the participant is the database's backstop: no row
    is ever given twice. Raises `AllocationUnavailable` (a refused enrollment) when the list
    is used up for the stratum, or the participant's stratum is not set."""
    allocation_list = AllocationList.objects.filter(study=study).first()
    if allocation_list is None:
        return None
    number = participant.screening_number
    stratum = ""
    if allocation_list.has_strata:
        chosen = ParticipantStratum.objects.filter(participant=participant).first()
        if chosen is None:
            raise AllocationUnavailable(STRATUM_NEEDED.format(number=number))
        stratum = chosen.stratum
    row = (
        AllocationRow.objects.select_for_update()
        .filter(study=study, stratum=stratum, participant__isnull=True)
        .order_by("sequence")
        .first()
    )
    if row is None:
        where = str(FOR_STRATUM).format(stratum=stratum) if stratum else ""
        raise AllocationUnavailable(str(LIST_USED_UP).format(for_stratum=where, number=number))
    row.participant = participant
    row.allocated_at = timezone.now()
    row.save(update_fields=["participant", "allocated_at"])
    return row


def participant_stratum_set(*, participant: Participant, stratum: str, by) -> ParticipantStratum:
    """Set the stratum a participant's allocation will come from (staff, before enrollment;
    audited in its history)."""
    stratum = stratum.strip()
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        allocation_list = AllocationList.objects.filter(study_id=locked.study_id).first()
        if allocation_list is None or not allocation_list.has_strata:
            raise RecruitmentError(STRATUM_NO_STRATA)
        if stratum not in allocation_list.strata:
            raise RecruitmentError(
                str(STRATUM_UNKNOWN).format(value=stratum, strata=", ".join(allocation_list.strata))
            )
        if AllocationRow.objects.filter(participant=locked).exists():
            raise RecruitmentError(STRATUM_FIXED.format(number=locked.screening_number))
        record = ParticipantStratum.objects.filter(participant=locked).first() or (
            ParticipantStratum(participant=locked)
        )
        record.stratum = stratum
        record.set_by = by
        record.full_clean()
        record._history_user = by
        record.save()
    return record


# ---------------------------------------------------------------------------------------------
# Emergency unblinding
# ---------------------------------------------------------------------------------------------
def participant_unblind(
    *, participant: Participant, by, reason: str, site_url: str
) -> tuple[Unblinding, AllocationRow]:
    """Record an emergency unblinding (who, when, why) and return it with the allocation row,
    whose arm the investigator is shown. The study's unblinded statisticians and its other
    investigators are emailed (no arm, no name: the participant's numbers, who, when, a link)."""
    reason = (reason or "").strip()
    study = participant.study
    if not access.may_unblind(by, study):
        raise AllocationRefused(NOT_ALLOWED_UNBLIND)
    number = participant.screening_number
    if not reason:
        raise RecruitmentError(UNBLIND_REASON_NEEDED.format(number=number))
    row = AllocationRow.objects.filter(participant=participant).first()
    if row is None:
        raise RecruitmentError(NOT_ALLOCATED.format(number=number))
    with transaction.atomic():
        unblinding = Unblinding(participant=participant, by=by, reason=reason)
        unblinding.full_clean()
        unblinding.save()
        notifications.task_enqueue(
            notifications.unblinding_notice_send,
            unblinding_id=unblinding.pk,
            site_url=site_url,
        )
    return unblinding, row
