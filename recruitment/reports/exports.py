"""The sponsor's and IRB's exports: the screening log, the confidential identification list and
the FHIR R4 bundle of a study.

Each export reads a study's participants in a fixed number of queries, whatever their count:
dates and reasons come from subqueries on the status history, the consent record from a join,
and the not-met criteria from one query on the stored verdicts. No query takes a list of
participant ids, so SQLite's limit on query parameters never caps a study's size.
"""

import csv
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from recruitment.allocation import selectors as allocation_selectors
from recruitment.contact import format_phone
from recruitment.identification import status_reason_shown
from recruitment.models import (
    CriterionVerdict,
    EligibilityOverride,
    Participant,
    Status,
    StatusChange,
    Study,
    Verdict,
)

# ---------------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------------
# A cell starting with one of these is read as a formula by spreadsheet programs (OWASP,
# "CSV Injection"); such cells get a leading single quote.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Excel reads a CSV as UTF-8 only when the file starts with a byte order mark.
UTF8_BOM = "\ufeff"


def cell_neutralise(value: Any) -> str:
    """The cell's text, prefixed with a single quote when a spreadsheet would run it."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return f"'{text}"
    return text


def csv_write(out, header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> None:
    """Write a UTF-8 CSV with a byte order mark to `out` (a file or an HttpResponse); every
    cell, the header's included, is neutralised against formula injection."""
    out.write(UTF8_BOM)
    writer = csv.writer(out)
    writer.writerow([cell_neutralise(cell) for cell in header])
    writer.writerows([cell_neutralise(cell) for cell in row] for row in rows)


class _Lines:
    """A file-like sink for `csv.writer` that hands back what was written."""

    def __init__(self):
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def take(self) -> str:
        text, self.parts = "".join(self.parts), []
        return text


def csv_stream(
    header: Sequence[Any], rows: Iterable[Sequence[Any]], *, rows_per_chunk: int = 500
) -> Iterator[str]:
    """The same CSV as `csv_write`, as chunks of text for a streaming response: memory stays
    flat whatever the number of rows."""
    lines = _Lines()
    writer = csv.writer(lines)
    lines.write(UTF8_BOM)
    writer.writerow([cell_neutralise(cell) for cell in header])
    for n, row in enumerate(rows, start=1):
        writer.writerow([cell_neutralise(cell) for cell in row])
        if n % rows_per_chunk == 0:
            yield lines.take()
    yield lines.take()


def export_filename(*, study: Study, name: str, extension: str, today: date) -> str:
    """The download's file name: the study's slug, the export and the date, never a person."""
    return f"{study.slug}-{name}-{today.isoformat()}.{extension}"


def _local_date(moment: datetime | None) -> date | None:
    return timezone.localdate(moment) if moment is not None else None


def _iso(day: date | None) -> str:
    return day.isoformat() if day is not None else ""


def _participants(study: Study) -> QuerySet[Participant]:
    """The study's participants in screening-number order, each annotated with when they
    entered screening and were enrolled, and when and why they reached their current status."""
    changes = StatusChange.objects.filter(participant=OuterRef("pk"))
    first = ("at", "pk")
    latest = ("-at", "-pk")
    into_status = changes.filter(to_status=OuterRef("status")).order_by(*latest)
    return (
        Participant.objects.filter(study=study)
        .annotate(
            screened_at=Subquery(
                changes.filter(to_status=Status.SCREENING).order_by(*first).values("at")[:1]
            ),
            enrolled_at=Subquery(
                changes.filter(to_status=Status.ENROLLED).order_by(*first).values("at")[:1]
            ),
            status_changed_at=Subquery(into_status.values("at")[:1]),
            status_reason=Subquery(into_status.values("reason")[:1]),
            status_reason_code=Subquery(into_status.values("reason_code")[:1]),
            status_reason_criterion=Subquery(into_status.values("reason_criterion")[:1]),
        )
        .select_related("consent")
        .order_by("screening_seq")
    )


# ---------------------------------------------------------------------------------------------
# The screening log (NIDCR screening and enrolment log): no identifying data
# ---------------------------------------------------------------------------------------------
SCREENING_LOG_HEADER = (
    _("Screening number"),
    _("Date screened"),
    _("Eligible"),
    _("Reason not eligible"),
    _("Date of consent"),
    _("Consent form version"),
    _("Participant ID"),
    _("Status"),
    _("Eligibility override"),
)
YES = _("Yes")
NO = _("No")
CRITERIA_NOT_MET = _("criteria not met: {titles}")
DECLINED = _("Declined")


# Participants read from the database at a time while a log streams.
CHUNK_SIZE = 2_000


def screening_log_iter(*, study: Study, include_free_text: bool = False) -> Iterator[list[str]]:
    """The screening log's rows, read in chunks of CHUNK_SIZE as they are written out.

    Reasons are their codes; the words staff wrote beside a code may quote the person, so
    they are in the log only with `include_free_text` (staff who may see identities), and
    otherwise the log says that words were recorded.

    Runs three queries: the participants (with their consent and status history in
    subqueries), the titles of the criteria each ineligible participant did not meet, as judged
    (kept in memory: one short tuple per ineligible participant, the titles shared), and the
    eligibility overrides."""
    participants = _participants(study).only(
        "pk",
        "screening_seq",
        "screening_number",
        "participant_id",
        "status",
        "eligible_at",
        "consent__consented_on",
        "consent__form_version",
    )
    not_met = defaultdict(list)
    verdicts = (
        CriterionVerdict.objects.filter(
            participant__study=study,
            participant__status=Status.INELIGIBLE,
            verdict=Verdict.NOT_MET,
        )
        .order_by("participant_id", "order", "pk")
        .values_list("participant_id", "criterion_version__snapshot__title")
    )
    titles: dict[str, str] = {}
    for participant_id, title in verdicts.iterator(chunk_size=CHUNK_SIZE):
        not_met[participant_id].append(titles.setdefault(title, title))
    overridden = _overrides(study)
    # Labels looked up once: get_FOO_display() hashes every choice's lazy label per call.
    status_labels = {status.value: str(status.label) for status in Status}
    judged_eligible = frozenset(Status.judged_eligible())

    for participant in participants.iterator(chunk_size=CHUNK_SIZE):
        consent = getattr(participant, "consent", None)
        yield [
            participant.screening_number,
            _iso(_local_date(participant.screened_at)),
            _eligible(participant, judged_eligible),
            _reason_not_eligible(
                participant, not_met.get(participant.pk, []), include_free_text=include_free_text
            ),
            _iso(consent.consented_on if consent else None),
            consent.form_version if consent else "",
            participant.participant_id or "",
            status_labels[participant.status],
            "; ".join(overridden.get(participant.pk, ())),
        ]


def _overrides(study: Study) -> dict[int, list[str]]:
    """Each participant's eligibility overrides as "criterion (date)": which criteria an
    investigator let them past, and when; the reason stays with the identified record, since
    it may quote the person (one query; overrides are few)."""
    overridden = defaultdict(list)
    rows = (
        EligibilityOverride.objects.filter(participant__study=study)
        .order_by("participant_id", "at", "pk")
        .values_list("participant_id", "criterion_snapshot__title", "criterion_code", "at")
    )
    for participant_id, title, code, at in rows.iterator(chunk_size=CHUNK_SIZE):
        overridden[participant_id].append(f"{title or code} ({_iso(_local_date(at))})")
    return overridden


def _eligible(participant: Participant, judged_eligible: frozenset[str]) -> str:
    """Yes once coordinators judged them eligible (even if they declined later), No when
    ineligible, blank while undecided."""
    if participant.status == Status.INELIGIBLE:
        return str(NO)
    if participant.status in judged_eligible or participant.eligible_at is not None:
        return str(YES)
    return ""


def _reason_not_eligible(
    participant: Participant, not_met_titles: list[str], *, include_free_text: bool
) -> str:
    change = StatusChange(
        reason=participant.status_reason or "",
        reason_code=participant.status_reason_code or "",
        reason_criterion=participant.status_reason_criterion or "",
    )
    reason = status_reason_shown(change, identify=include_free_text)
    if participant.status == Status.INELIGIBLE:
        titles = "; ".join(title for title in not_met_titles if title)
        if not titles:
            return reason
        criteria = str(CRITERIA_NOT_MET).format(titles=titles)
        if not reason:
            return criteria[:1].upper() + criteria[1:]
        return f"{reason} ({criteria})"
    if participant.status == Status.DECLINED:
        return f"{DECLINED}: {reason}" if reason else str(DECLINED)
    return ""


# ---------------------------------------------------------------------------------------------
# The confidential identification list: screening number to name and contact
# ---------------------------------------------------------------------------------------------
IDENTIFICATION_LIST_HEADER = (
    _("Screening number"),
    _("Participant ID"),
    _("First name"),
    _("Last name"),
    _("Email"),
    _("Phone"),
    _("Date of birth"),
)


def identification_list_iter(*, study: Study) -> Iterator[list[str]]:
    """One row per participant in screening-number order (one query, read in chunks). Only
    for users with `recruitment.view_identification`: the caller checks."""
    participants = (
        Participant.objects.filter(study=study)
        .order_by("screening_seq")
        .values_list(
            "screening_number",
            "participant_id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "date_of_birth",
        )
    )
    for number, pid, first, last, email, phone, born in participants.iterator(
        chunk_size=CHUNK_SIZE
    ):
        # As people read and dial it (205-555-0100), not the stored E.164 form, whose "+"
        # a spreadsheet would take for a formula.
        yield [number, pid or "", first, last, email, format_phone(phone), _iso(born)]


# ---------------------------------------------------------------------------------------------
# FHIR R4 Bundle: ResearchStudy, ResearchSubject per participant, Patient only if allowed
# ---------------------------------------------------------------------------------------------
FHIR_CONTENT_TYPE = "application/fhir+json"
# fullUrls are urn:uuid: values derived from this namespace, so a participant keeps the same
# ones in every export. Never change it: every fullUrl ever exported would change.
FHIR_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "ldn-trial:fhir")
TARGET_GROUP_ID = "target-enrolment"


@dataclass(frozen=True)
class FhirSystems:
    """Identifier systems: URLs under the site, one per study."""

    study: str
    screening_number: str
    participant_id: str

    @classmethod
    def for_study(cls, *, study: Study, base_url: str) -> "FhirSystems":
        root = f"{base_url.rstrip('/')}/studies/{study.slug}/identifiers"
        return cls(
            study=f"{base_url.rstrip('/')}/studies",
            screening_number=f"{root}/screening-number",
            participant_id=f"{root}/participant-id",
        )


def fhir_full_url(resource_type: str, key: str) -> str:
    return f"urn:uuid:{uuid.uuid5(FHIR_NAMESPACE, f'{resource_type}/{key}')}"


def fhir_bundle(
    *,
    study: Study,
    base_url: str,
    include_identification: bool,
    include_arm: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The study as a FHIR R4 Bundle of type collection (one query; the study is given).

    Without `include_identification` the bundle holds no Patient and no personal data: each
    ResearchSubject's required `individual` is a logical reference (a Patient identified by
    the screening number, with no resource behind it). `include_arm` (the unblinded
    statistician's export only: `recruitment.allocation.access.may_see_arms`) names the
    study's arms and fills each allocated subject's `assignedArm` (2 queries more)."""
    now = now or timezone.now()
    systems = FhirSystems.for_study(study=study, base_url=base_url)
    study_url = fhir_full_url("ResearchStudy", study.slug)
    research_study = _research_study(study, systems, study_url)
    arms: dict[int, str] = {}
    if include_arm:
        arms = allocation_selectors.arm_by_participant(study=study)
        declared = allocation_selectors.arms_declared(study=study)
        if declared:
            research_study["arm"] = [{"name": name} for name in declared]
    entries = [{"fullUrl": study_url, "resource": research_study}]
    fields = [
        "pk",
        "screening_number",
        "participant_id",
        "status",
        "consent__consented_on",
    ]
    if include_identification:
        fields += ["first_name", "last_name", "email", "phone", "date_of_birth"]
    patients = []
    for participant in _participants(study).only(*fields):
        number = participant.screening_number
        subject_url = fhir_full_url("ResearchSubject", number)
        if include_identification:
            patient_url = fhir_full_url("Patient", number)
            individual = {"reference": patient_url, "type": "Patient"}
            patients.append(
                {"fullUrl": patient_url, "resource": _patient(participant, systems, patient_url)}
            )
        else:
            individual = {
                "type": "Patient",
                "identifier": {"system": systems.screening_number, "value": number},
            }
        subject = {
            "resourceType": "ResearchSubject",
            "id": _uuid_of(subject_url),
            "identifier": _subject_identifiers(participant, systems),
            "status": participant.fhir_status,
            "study": {"reference": study_url},
            "individual": individual,
        }
        period = _subject_period(participant)
        if period:
            subject["period"] = period
        if participant.pk in arms:
            subject["assignedArm"] = arms[participant.pk]
        entries.append({"fullUrl": subject_url, "resource": subject})
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": timezone.localtime(now).isoformat(timespec="seconds"),
        "entry": entries + patients,
    }


def _uuid_of(full_url: str) -> str:
    return full_url.removeprefix("urn:uuid:")


def _research_study(study: Study, systems: FhirSystems, full_url: str) -> dict[str, Any]:
    """R4 ResearchStudy has no target number of its own (R5 adds `recruitment`): R4 puts it
    in `enrollment`, a Group that "defines the criteria for and quantity of subjects", here a
    contained definitional Group (`actual` false) whose `quantity` is the target."""
    telecom = [
        {"system": "email", "value": study.contact_email},
        {"system": "phone", "value": study.contact_phone},
    ]
    resource = {
        "resourceType": "ResearchStudy",
        "id": _uuid_of(full_url),
        "contained": [
            {
                "resourceType": "Group",
                "id": TARGET_GROUP_ID,
                "name": f"Target enrolment of {study.slug}",
                "type": "person",
                "actual": False,
                "quantity": study.target_enrolment,
            }
        ],
        "identifier": [
            {"use": "official", "system": systems.study, "value": study.slug},
            {"use": "secondary", "type": {"text": "IRB number"}, "value": study.irb_number},
        ],
        "title": study.title,
        "status": "active" if study.is_recruiting else "closed-to-accrual",
        "contact": [{"name": study.contact_name, "telecom": [t for t in telecom if t["value"]]}],
        "description": study.description,
        "enrollment": [
            {
                "reference": f"#{TARGET_GROUP_ID}",
                "display": f"Target enrolment: {study.target_enrolment}",
            }
        ],
        "site": [{"display": study.site_name}],
    }
    return _without_empty(resource)


def _subject_identifiers(participant: Participant, systems: FhirSystems) -> list[dict]:
    identifiers = [{"system": systems.screening_number, "value": participant.screening_number}]
    if participant.participant_id:
        identifiers.append(
            {
                "use": "official",
                "system": systems.participant_id,
                "value": participant.participant_id,
            }
        )
    return identifiers


def _subject_period(participant: Participant) -> dict[str, str]:
    """Participation runs from informed consent (or, without a consent record, enrolment) to
    completion, withdrawal, a decline after consent or a failed run-in."""
    consent = getattr(participant, "consent", None)
    started = consent.consented_on if consent else _local_date(participant.enrolled_at)
    if started is None:
        return {}
    period = {"start": started.isoformat()}
    ended = participant.status in (
        *(Status.COMPLETED, Status.WITHDRAWN, Status.DECLINED),
        Status.INELIGIBLE,  # a failed run-in, after consent
    )
    if ended and participant.status_changed_at is not None:
        period["end"] = _local_date(participant.status_changed_at).isoformat()
    return period


def _patient(participant: Participant, systems: FhirSystems, full_url: str) -> dict[str, Any]:
    """A minimal Patient: identifier, name, birth date and how to reach them."""
    name = {"family": participant.last_name, "given": [participant.first_name]}
    telecom = [
        {"system": "email", "value": participant.email},
        {"system": "phone", "value": participant.phone},
    ]
    resource = {
        "resourceType": "Patient",
        "id": _uuid_of(full_url),
        "identifier": [{"system": systems.screening_number, "value": participant.screening_number}],
        "name": [name],
        "telecom": [t for t in telecom if t["value"]],
        "birthDate": _iso(participant.date_of_birth),
    }
    return _without_empty(resource)


def _without_empty(value: Any) -> Any:
    """Drop empty strings, lists and objects: FHIR forbids them (erased data leaves some)."""
    if isinstance(value, dict):
        cleaned = {k: _without_empty(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in ("", [], {}, None)}
    if isinstance(value, list):
        cleaned = [_without_empty(v) for v in value]
        return [v for v in cleaned if v not in ("", [], {}, None)]
    return value
