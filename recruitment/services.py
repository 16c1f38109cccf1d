"""Every write to the recruitment data: keyword-only functions named <entity>_<verb>.

Views, the admin, management commands and tests all call these, so each rule is enforced in
one place. Side effects (emails) are sent after the transaction commits.
"""

import copy
import json
import logging
import secrets
import tomllib
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from importlib import import_module
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Case, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _

from recruitment import eligibility, roles, selectors
from recruitment.contact import format_phone, normalise_email, normalise_name, normalise_phone
from recruitment.models import (
    AWAITING_ENROLLMENT,
    CRITERION_TEXT_FIELDS,
    DECLINE_REASON_CODES,
    REASON_CODES,
    REASON_REQUIRED,
    STUDY_TEXT_FIELDS,
    UNANSWERED_OUTCOMES,
    Answer,
    AnsweredBy,
    ConsentRecord,
    ContactAttempt,
    CriterionVerdict,
    DeclineReason,
    DuplicateReview,
    EligibilityCriterion,
    EligibilityOverride,
    EnrolmentSlot,
    EvaluationCause,
    Participant,
    Status,
    StatusChange,
    StatusReason,
    Study,
)

logger = logging.getLogger(__name__)

STUDY_NOT_RECRUITING = _("This study is not recruiting at the moment.")
TRANSITION_NOT_ALLOWED = _("{number} cannot move from “{current}” to “{target}”.")
REASON_NEEDED = _("Give a reason to mark {number} as “{target}”.")
REASON_CODE_NOT_FOR_STATUS = _("“{code}” is not a reason to mark {number} as “{target}”.")
REASON_OTHER_NEEDS_TEXT = _("Describe the reason to mark {number} as “{target}”.")
REASON_CRITERION_UNKNOWN = _("Choose a criterion of the study that {number} does not meet.")
CRITERIA_NOT_MET = _(
    "{number} does not meet every criterion: {criteria}. Enter the missing lab values, or ask "
    "an investigator to record an eligibility override for each criterion."
)
OVERRIDE_NOT_ALLOWED = _("Only an investigator can record an eligibility override.")
OVERRIDE_NOTHING = _("Name at least one criterion to override, each with its reason.")
OVERRIDE_NOT_BLOCKING = _(
    "“{code}” does not stop {number}: only criteria not met or not yet known can be overridden."
)
OVERRIDE_NEEDS_REASON = _("Give the reason for overriding “{code}”.")
OVERRIDE_STATUS = _("Eligibility can be overridden only before enrollment, while {number} is open.")
WAITLIST_NOT_FULL = _("The study has a free slot: record consent and enrol {number} instead.")
CONSENT_NEEDED = _("Record informed consent for {number} before this step.")
ALREADY_ENROLLED = _("{number} is already enrolled.")
STUDY_FULL = _("The study is full ({target} of {target} slots taken): waitlist {number} instead.")
OUT_OF_ORDER = _("{next} is first on the waitlist; give a reason to enrol {number} before them.")
CONSENT_IN_FUTURE = _("The date of consent cannot be in the future.")
CONSENT_BEFORE_APPLYING = _("The date of consent cannot be before the person applied.")
CONSENT_STATUS = _("Consent can be recorded for eligible or waitlisted participants only.")
CONTACT_IN_FUTURE = _("A contact attempt cannot be in the future.")
FOLLOW_UP_BEFORE_ATTEMPT = _("The follow-up date cannot be before the attempt.")
NOT_A_DUPLICATE = _("{number} is not marked as a possible duplicate.")
EDIT_NEEDS_REASON = _("Give a reason for this change.")
NOT_STAFF_ASSESSED = _("“{code}” is not a staff-assessed criterion of this study.")
TARGET_BELOW_ENROLLED = _("The target cannot be lower than the {taken} slots already taken.")
WITHDRAWAL_RULE_LOCKED = _(
    "Someone in this study has withdrawn, so whether a withdrawal frees a slot can no longer "
    "change: their slot was kept or given back under the current rule."
)
PARTICIPANT_ERASED = _("The personal data of {number} were erased; it cannot be changed.")
BY_REQUIRED = "participant_transition needs `by`, a staff user (or by_participant=True)."
BY_PARTICIPANT_ONLY_DECLINES = "by_participant=True is only for declining, with by=None."


class RecruitmentError(Exception):
    """A domain rule refused the operation; the message is safe to show to the user."""


class StudyNotRecruiting(RecruitmentError):
    pass


class StudyFileError(RecruitmentError):
    pass


class InvalidTransition(RecruitmentError):
    """The status machine, or a rule of the target status, refuses the move."""


class ReasonRequired(InvalidTransition):
    pass


class CriteriaNotMet(InvalidTransition):
    """A step that needs every criterion met (or overridden by an investigator)."""


class StudyFull(InvalidTransition):
    pass


class AlreadyEnrolled(InvalidTransition):
    pass


class ImportRowError(RecruitmentError):
    """A row of an import could not be saved; `index` is its place in the list (0-based)
    and `__cause__` the original error. The whole import has been rolled back."""

    def __init__(self, index: int):
        super().__init__(f"Row {index + 1} of the import could not be saved.")
        self.index = index


# ---------------------------------------------------------------------------------------------
# Studies
# ---------------------------------------------------------------------------------------------
STUDY_FIELDS = {
    "title",
    "short_title",
    "summary",
    "description",
    "what_it_involves",
    "form_minutes",
    "site_name",
    "site_zip",
    "catchment_miles",
    "target_enrolment",
    "withdrawal_frees_slot",
    "is_recruiting",
    "contact_name",
    "contact_email",
    "contact_phone",
    "irb_number",
    "prefix",
    "contact_consent_text",
    "contact_consent_version",
    "retention_days",
    "not_reached_after",
}
CRITERION_FIELDS = {
    "code",
    "kind",
    "answered_by",
    "title",
    "question",
    "hint",
    "rationale",
    "rule_kind",
    "params",
}


# A criterion's translation table may hold its texts plus labels for the rule's items/options.
CRITERION_TRANSLATION_KEYS = (*CRITERION_TEXT_FIELDS, "items", "options")


def translation_languages() -> tuple[str, ...]:
    """Languages a study file may translate into: settings.LANGUAGES but English, which is
    the text in the fields themselves."""
    return tuple(code for code, _name in settings.LANGUAGES if code != "en")


def translations_problems(
    *,
    translations: Any,
    table: str,
    fields: tuple[str, ...],
    items: tuple[str, ...] = (),
    options: tuple[str, ...] = (),
) -> list[str]:
    """What is wrong with a translations table, each problem naming where it is in the study
    file (`table` is "translations" for the study, "criteria.translations" for a criterion).

    `fields` are the texts it may translate; `items` and `options` the at_least_n item keys and
    choice option values of the criterion's rule, whose labels it may translate. Empty when
    the table is right. Pure: used by the loader and by the admin forms.
    """
    if not isinstance(translations, dict):
        return [f"[{table}] must be a table of languages."]
    problems = []
    languages = translation_languages()
    for language, texts in translations.items():
        where = f"[{table}.{language}]"
        if language not in languages:
            problems.append(
                f"{where}: unknown language {language!r}; use one of: {', '.join(languages)}."
            )
            continue
        if not isinstance(texts, dict):
            problems.append(f"{where} must be a table of texts.")
            continue
        unknown = sorted(set(texts) - set(fields))
        if unknown:
            problems.append(
                f"{where}: unknown keys {', '.join(unknown)}; use: {', '.join(fields)}."
            )
        for key in sorted(set(texts) & set(fields)):
            if key in ("items", "options"):
                known = items if key == "items" else options
                what = "item key" if key == "items" else "option value"
                labels = texts[key]
                if not isinstance(labels, dict):
                    problems.append(f"[{table}.{language}.{key}] must be a table of labels.")
                    continue
                extra = sorted(set(labels) - set(known))
                if extra:
                    problems.append(
                        f"[{table}.{language}.{key}]: unknown {what}s {', '.join(extra)}; "
                        f"this criterion's are: {', '.join(known) or 'none'}."
                    )
                bad = sorted(k for k, v in labels.items() if not isinstance(v, str))
                if bad:
                    problems.append(
                        f"[{table}.{language}.{key}]: labels must be text: {', '.join(bad)}."
                    )
            elif not isinstance(texts[key], str):
                problems.append(f"{where}: {key} must be text.")
    return problems


def criterion_translations_problems(
    *, translations: Any, params: Any, table: str = "criteria.translations"
) -> list[str]:
    """`translations_problems` for a criterion, with the item keys and option values of its
    rule's params (tolerant of bad params: `full_clean` reports those)."""
    params = params if isinstance(params, dict) else {}

    def ids(group: str, key: str) -> tuple[str, ...]:
        entries = params.get(group)
        if not isinstance(entries, list):
            return ()
        return tuple(str(e[key]) for e in entries if isinstance(e, dict) and key in e)

    return translations_problems(
        translations=translations,
        table=table,
        fields=CRITERION_TRANSLATION_KEYS,
        items=ids("items", "key"),
        options=ids("options", "value"),
    )


@dataclass(frozen=True)
class StudyLoadResult:
    study: Study
    created: bool
    changes: tuple[str, ...]


def study_load_file(*, path: Path, create_only: bool = False) -> StudyLoadResult:
    """Load a study definition file (TOML); see `study_load`."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise StudyFileError(f"{path}: {exc}") from exc
    return study_load(data=data, create_only=create_only)


@transaction.atomic
def study_load(*, data: dict[str, Any], create_only: bool = False) -> StudyLoadResult:
    """Create or update a study and its criteria so they match `data`; idempotent.

    A criterion whose text or rule changes gets a new version, and so does the study's set of
    criteria; participants keep the versions they were judged by. Criteria missing from the
    file are retired, never deleted. With `create_only`, an existing study is left untouched
    (so `make run` never reverts edits made in the admin).

    Translations (`[translations.es]`, `[criteria.translations.es]`) are loaded and checked
    too, but a change of translation alone gives no new criterion version: the English text
    is the text a participant is judged by (kept in `snapshot()`), and the rule is unchanged.
    """
    data = dict(data)
    slug = data.pop("slug", None)
    criteria = data.pop("criteria", [])
    translations = data.pop("translations", {})
    if not slug:
        raise StudyFileError("The study file needs a slug.")
    unknown = set(data) - STUDY_FIELDS
    if unknown:
        raise StudyFileError(f"Unknown study keys: {', '.join(sorted(unknown))}.")
    problems = translations_problems(
        translations=translations, table="translations", fields=STUDY_TEXT_FIELDS
    )
    if problems:
        raise StudyFileError(f"study {slug}: {' '.join(problems)}")
    data["translations"] = translations

    study = Study.objects.filter(slug=slug).first()
    created = study is None
    if study is not None and create_only:
        return StudyLoadResult(study, created=False, changes=())
    changes: list[str] = []
    if created:
        study = Study(slug=slug)
    elif study_withdrawal_rule_locked(study=study, frees_slot=data.get("withdrawal_frees_slot")):
        raise StudyFileError(f"study {slug}: {WITHDRAWAL_RULE_LOCKED}")
    for field, value in data.items():
        if getattr(study, field) != value:
            setattr(study, field, value)
            if not created:
                changes.append(f"study {field}")
    _full_clean(study, f"study {slug}")
    study.save()
    try:
        study_slots_sync(study=study)
    except RecruitmentError as exc:
        raise StudyFileError(f"study {slug}: {exc}") from exc

    seen = set()
    criteria_changed = False
    existing = {c.code: c for c in study.criteria.all()}
    for order, item in enumerate(criteria, start=1):
        item = dict(item)
        unknown = set(item) - CRITERION_FIELDS - {"translations"}
        if unknown:
            raise StudyFileError(
                f"Criterion {item.get('code', order)}: unknown keys {', '.join(sorted(unknown))}."
            )
        item.setdefault("question", "")
        item.setdefault("hint", "")
        item.setdefault("params", {})
        item.setdefault("translations", {})
        item["order"] = order
        item["is_active"] = True
        code = item.get("code", "")
        if code in seen:
            raise StudyFileError(f"Criterion {code} appears twice.")
        seen.add(code)
        criterion = existing.get(code) or EligibilityCriterion(study=study)
        changed = [f for f, v in item.items() if getattr(criterion, f, None) != v]
        if criterion.pk and not changed:
            continue
        for field, value in item.items():
            setattr(criterion, field, value)
        if criterion.pk:
            # A new translation alone is no new version (see the docstring): participants
            # are judged by the English text and the rule, which stay the same.
            meaningful = set(changed) - {"order", "is_active", "translations"}
            if meaningful or "is_active" in changed:
                criterion.version += 1
                criteria_changed = True
            changes.append(f"criterion {code}: {', '.join(sorted(changed))}")
        else:
            criteria_changed = True
            if not created:
                changes.append(f"criterion {code}: added")
        _full_clean(criterion, f"criterion {code}")
        problems = criterion_translations_problems(
            translations=criterion.translations, params=criterion.params
        )
        if problems:
            raise StudyFileError(f"criterion {code}: {' '.join(problems)}")
        criterion.save()
    for code, criterion in existing.items():
        if code not in seen and criterion.is_active:
            criterion.is_active = False
            criterion.version += 1
            criterion.save(update_fields=["is_active", "version"])
            criteria_changed = True
            changes.append(f"criterion {code}: retired")
    if criteria_changed and not created:
        study.criteria_version += 1
        study.save(update_fields=["criteria_version"])
    return StudyLoadResult(study, created=created, changes=tuple(changes))


def _full_clean(obj, label: str) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        details = "; ".join(
            f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items()
        )
        raise StudyFileError(f"{label}: {details}") from exc


def study_withdrawal_rule_locked(*, study: Study, frees_slot: bool | None) -> bool:
    """Whether changing `withdrawal_frees_slot` to `frees_slot` must be refused: once someone
    has withdrawn, their slot was kept or freed under the saved rule, and a new rule would make
    the slots disagree with the statuses (check_enrolment would fail)."""
    return (
        frees_slot is not None
        and frees_slot != study.withdrawal_frees_slot
        and study.participants.filter(status=Status.WITHDRAWN).exists()
    )


def study_slots_sync(*, study: Study) -> None:
    """Keep exactly `target_enrolment` slot rows: add free ones, or drop free ones when the
    target goes down (never below the slots already taken)."""
    with transaction.atomic():
        Study.objects.select_for_update().filter(pk=study.pk).first()
        numbers = list(study.slots.order_by("number").values_list("number", flat=True))
        missing = study.target_enrolment - len(numbers)
        if missing > 0:
            start = (numbers[-1] if numbers else 0) + 1
            EnrolmentSlot.objects.bulk_create(
                EnrolmentSlot(study=study, number=n) for n in range(start, start + missing)
            )
        elif missing < 0:
            free = list(study.slots.free().order_by("number").values_list("pk", flat=True))
            if len(free) < -missing:
                taken = len(numbers) - len(free)
                raise RecruitmentError(TARGET_BELOW_ENROLLED.format(taken=taken))
            EnrolmentSlot.objects.filter(pk__in=free[missing:]).delete()


def study_criteria_changed(*, study: Study, criteria: list[EligibilityCriterion]) -> None:
    """Record an edit of criteria made in the admin: new versions, so history stays exact."""
    with transaction.atomic():
        for criterion in criteria:
            criterion.version += 1
            criterion.save(update_fields=["version"])
        study.criteria_version += 1
        study.save(update_fields=["criteria_version"])


# ---------------------------------------------------------------------------------------------
# Participants
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ContactDetails:
    first_name: str
    last_name: str
    email: str
    phone: str
    preferred_contact: str
    best_time: str
    date_of_birth: date
    zip_code: str
    referral_source: str
    note: str
    contact_consent: bool


def participant_submit(
    *,
    study: Study,
    contact: ContactDetails,
    answers: dict[str, Any],
    token: uuid.UUID | None = None,
    language: str = "en",
    site_url: str = "",
) -> Participant:
    """Save a patient's interest: participant, answers, pre-screen evaluation, screening
    number and possible-duplicate link, all in one transaction; then email the patient and
    the coordinators.

    `token` is the form's idempotency token: a second submission of the same form (a double
    click) returns the participant the first one created. Imports use `participants_import`.

    Everything that needs no lock is done first: the criteria are read once, the participant
    is built and validated, and the answers are evaluated in memory. Only then does one
    UPDATE take the next screening number (and the study row's lock, held until commit,
    which serialises numbers and makes "not recruiting" final); the duplicate and token
    lookup and the inserts run under it, so two people submitting at once still see each
    other, and a rolled-back submission gives its number back (no gaps).
    """
    criteria = list(EligibilityCriterion.objects.filter(study_id=study.pk).active())
    prepared = _participant_prepare(
        study=study,
        contact=contact,
        answers=answers,
        criteria=criteria,
        token=token,
        language=language,
        change_reason="Submitted the interest form",
    )
    with transaction.atomic():
        locked = _screening_seq_take(study)
        if locked is None:
            existing = _participant_by_token(study, token)
            if existing is None:
                raise StudyNotRecruiting(STUDY_NOT_RECRUITING)
            return existing
        participant = _participant_write(
            prepared, study=locked, seq=locked.last_screening_seq, token=token
        )
        if participant is None:
            # The same form was saved already: give the number back, return the first one.
            transaction.set_rollback(True)
        else:
            staff_path = reverse("admin:recruitment_participant_change", args=[participant.pk])
            site = site_url.rstrip("/")
            transaction.on_commit(
                lambda: _send_submission_emails(
                    participant,
                    f"{site}{staff_path}",
                    withdraw_url=f"{site}{withdraw_path(participant=participant)}",
                )
            )
    if participant is None:
        return _participant_by_token(study, token)
    return participant


def _screening_seq_take(study: Study) -> Study | None:
    """Take the study's next screening number with one UPDATE ... RETURNING, which locks the
    study row until the transaction ends; None when the study is not recruiting. Returns a
    copy of `study` with the row's current number, prefix and versions."""
    quote = connection.ops.quote_name
    table = quote(Study._meta.db_table)
    seq = quote(Study._meta.get_field("last_screening_seq").column)
    returned = ("last_screening_seq", "prefix", "contact_consent_version", "criteria_version")
    columns = ", ".join(quote(Study._meta.get_field(name).column) for name in returned)
    # Names come from the model's meta; the values are parameters.
    sql = (
        f"UPDATE {table} SET {seq} = {seq} + 1 "  # noqa: S608
        f"WHERE {quote(Study._meta.pk.column)} = %s "
        f"AND {quote(Study._meta.get_field('is_recruiting').column)} "
        f"RETURNING {columns}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [study.pk])
        row = cursor.fetchone()
    if row is None:
        return None
    locked = copy.copy(study)
    for name, value in zip(returned, row, strict=True):
        setattr(locked, name, value)
    locked.is_recruiting = True
    return locked


def _participant_by_token(study: Study, token: uuid.UUID | None) -> Participant | None:
    if token is None:
        return None
    return Participant.objects.filter(study_id=study.pk, submission_token=token).first()


def participants_import(
    *, study: Study, rows: list[tuple[ContactDetails, dict[str, Any]]], language: str = "en"
) -> list[Participant]:
    """Create participants from an existing interest list, all or none, in one transaction.

    Each row is numbered, evaluated and matched for duplicates exactly like a web submission,
    but nobody is emailed (they did not fill our form) and a closed study accepts the list.
    The screening numbers are reserved with one update of the study row: updating it per
    row inside one transaction makes PostgreSQL's foreign-key checks walk an ever longer
    chain of row versions (5,000 rows took minutes instead of seconds).
    """
    with transaction.atomic():
        locked = Study.objects.select_for_update().get(pk=study.pk)
        first_seq = locked.last_screening_seq + 1
        locked.last_screening_seq += len(rows)
        locked.save(update_fields=["last_screening_seq"])
        criteria = list(locked.criteria.active())
        created = []
        for offset, (contact, answers) in enumerate(rows):
            try:
                prepared = _participant_prepare(
                    study=locked,
                    contact=contact,
                    answers=answers,
                    criteria=criteria,
                    language=language,
                    change_reason="Imported from an interest list",
                )
                # A savepoint per row, so a failed row leaves a usable transaction to unwind.
                with transaction.atomic():
                    participant = _participant_write(prepared, study=locked, seq=first_seq + offset)
            except (RecruitmentError, ValidationError, DatabaseError) as exc:
                raise ImportRowError(offset) from exc
            created.append(participant)
        return created


@dataclass
class _Prepared:
    """A participant built, validated and evaluated in memory, waiting for its number."""

    participant: Participant
    answers: list[Answer]
    verdicts: list[CriterionVerdict]
    evaluation: eligibility.Evaluation
    change_reason: str


# Every Participant field but these is validated before the lock (`_participant_prepare`).
_VALIDATED_UNDER_LOCK = ("screening_seq", "screening_number")
# Set by the service from rows it read; the database's foreign keys check them, so
# `full_clean` need not query for them.
_NOT_CLEANED = ("study", "duplicate_of", *_VALIDATED_UNDER_LOCK)
_CLEANED_BEFORE_LOCK = tuple(
    f.name for f in Participant._meta.fields if f.name not in _VALIDATED_UNDER_LOCK
)


def _participant_prepare(
    *,
    study: Study,
    contact: ContactDetails,
    answers: dict[str, Any],
    criteria: list[EligibilityCriterion],
    language: str,
    change_reason: str,
    token: uuid.UUID | None = None,
) -> _Prepared:
    """Build and validate the participant and evaluate their answers, with no query.

    `criteria` are the study's active criteria, in order: the patient-answered ones get the
    answers, all of them a verdict. `full_clean` checks every field; the unique and check
    constraints are left to the database, which enforces them anyway (an IntegrityError)."""
    now = timezone.now()
    participant = Participant(
        study=study,
        first_name=contact.first_name.strip(),
        last_name=contact.last_name.strip(),
        name_normalised=normalise_name(contact.first_name, contact.last_name),
        email=contact.email.strip(),
        email_normalised=normalise_email(contact.email),
        phone=contact.phone.strip(),
        phone_normalised=normalise_phone(contact.phone) if contact.phone else "",
        preferred_contact=contact.preferred_contact,
        best_time=contact.best_time,
        date_of_birth=contact.date_of_birth,
        zip_code=contact.zip_code[:5],
        referral_source=contact.referral_source,
        note=contact.note,
        language=language,
        contact_consent=contact.contact_consent,
        contact_consent_version=study.contact_consent_version,
        contact_consent_at=now,
        submission_token=token,
        withdraw_nonce=secrets.token_urlsafe(16),
        criteria_version=study.criteria_version,
        evaluated_at=now,
        outcome=eligibility.Outcome.NEEDS_REVIEW,
    )
    participant.full_clean(exclude=_NOT_CLEANED, validate_unique=False, validate_constraints=False)
    # The values as stored (JSON), so the evaluation judges exactly what is kept.
    values = {
        c.pk: json.loads(json.dumps(answers[c.code]))
        for c in criteria
        if c.answered_by == AnsweredBy.PATIENT and c.code in answers
    }
    rows = [
        Answer(criterion=c, value=values[c.pk], answered_by=AnsweredBy.PATIENT)
        for c in criteria
        if c.pk in values
    ]
    evaluation, verdicts = _evaluation(participant, criteria, values, today=timezone.localdate(now))
    return _Prepared(participant, rows, verdicts, evaluation, change_reason)


def _participant_write(
    prepared: _Prepared, *, study: Study, seq: int, token: uuid.UUID | None = None
) -> Participant | None:
    """Number, link and insert a prepared participant with their answers, verdicts and two
    history versions (as submitted, then as evaluated). The caller holds the study row lock
    and has reserved `seq`. None when `token` was saved already (nothing is written)."""
    participant = prepared.participant
    participant.study = study
    participant.screening_seq = seq
    participant.screening_number = study.screening_number(seq)
    participant.contact_consent_version = study.contact_consent_version
    participant.criteria_version = study.criteria_version
    participant.clean_fields(exclude=_CLEANED_BEFORE_LOCK)
    first = _first_match(participant, token)
    if first is not None:
        pk, duplicate_of_id, same_token = first
        if same_token:
            return None
        participant.duplicate_of_id = duplicate_of_id or pk
        participant.duplicate_review = DuplicateReview.PENDING
    evaluation = prepared.evaluation
    submitted = {
        "outcome": participant.outcome,
        "eligible_from": participant.eligible_from,
        "evaluated_at": participant.evaluated_at,
    }
    participant.outcome = evaluation.outcome
    participant.eligible_from = evaluation.eligible_from
    participant.evaluated_at = timezone.now()
    # One insert, already evaluated; its two history versions are written below, together.
    participant.skip_history_when_saving = True
    try:
        participant.save(force_insert=True)
    finally:
        del participant.skip_history_when_saving
    for answer in prepared.answers:
        answer.participant = participant
    Answer.objects.bulk_create(prepared.answers)
    for verdict in prepared.verdicts:
        verdict.participant = participant
    CriterionVerdict.objects.bulk_create(prepared.verdicts)
    _history_submitted(participant, submitted, prepared.change_reason)
    return participant


def _history_submitted(participant: Participant, submitted: dict[str, Any], reason: str) -> None:
    """The two versions a submission has always recorded, in one INSERT: "+" as submitted
    (`reason`, awaiting the pre-screen), then "~" "Pre-screen evaluated"."""
    history = Participant.history.model
    user = history.get_default_history_user(participant)
    values = {
        field.attname: getattr(participant, field.attname) for field in history.tracked_fields
    }
    as_submitted = history(
        history_date=timezone.now(),
        history_user=user,
        history_change_reason=reason,
        history_type="+",
        **{**values, **submitted},
    )
    as_evaluated = history(
        history_date=timezone.now(),
        history_user=user,
        history_change_reason="Pre-screen evaluated",
        history_type="~",
        **values,
    )
    history.objects.bulk_create([as_submitted, as_evaluated])


def _first_match(
    participant: Participant, token: uuid.UUID | None
) -> tuple[int, int | None, bool] | None:
    """One query for both lookups a new participant needs: the participant saved with the
    same `token` (first, when there is one), else the earliest of the study with the same
    email, phone, or name and date of birth. (pk, duplicate_of_id, has the same token)."""
    match = _duplicate_match(participant)
    same_token = Value(False)
    if token is not None:
        match |= Q(submission_token=token)
        same_token = Case(When(submission_token=token, then=True), default=False)
    return (
        Participant.objects.filter(match, study_id=participant.study_id)
        .annotate(same_token=same_token)
        .order_by("-same_token", "screening_seq")
        .values_list("pk", "duplicate_of_id", "same_token")
        .first()
    )


def _duplicate_match(participant: Participant) -> Q:
    match = Q(email_normalised=participant.email_normalised)
    if participant.phone_normalised:
        match |= Q(phone_normalised=participant.phone_normalised)
    match |= Q(name_normalised=participant.name_normalised, date_of_birth=participant.date_of_birth)
    return match


def participant_submit_idempotent(**kwargs) -> Participant:
    """`participant_submit`, tolerating two simultaneous posts of the same form."""
    try:
        return participant_submit(**kwargs)
    except IntegrityError:
        token = kwargs.get("token")
        existing = Participant.objects.filter(study=kwargs["study"], submission_token=token)
        if token is None or not existing.exists():
            raise
        return existing.get()


def _evaluation(
    participant: Participant,
    criteria: list[EligibilityCriterion],
    values: dict[int, Any],
    *,
    today: date,
) -> tuple[eligibility.Evaluation, list[CriterionVerdict]]:
    """Run the pre-screen rules on the answers (`values` by criterion pk) and build one
    verdict per criterion, each with the exact criterion text and rule it was judged by.
    Pure: the verdicts are not saved and have no participant yet."""
    evaluation = eligibility.evaluate(
        [c.as_rule() for c in criteria],
        {c.code: values[c.pk] for c in criteria if c.pk in values},
        applicant=eligibility.Applicant(
            date_of_birth=participant.date_of_birth, zip_code=participant.zip_code
        ),
        today=today,
    )
    verdicts = [
        CriterionVerdict(
            criterion=criterion,
            criterion_snapshot=criterion.snapshot(),
            answer=values.get(criterion.pk),
            verdict=verdict.status,
            reason=verdict.reason[:300],
            provenance=verdict.source or "",
            eligible_from=verdict.eligible_from,
            order=order,
        )
        for order, (criterion, verdict) in enumerate(
            zip(criteria, evaluation.verdicts, strict=True), start=1
        )
    ]
    return evaluation, verdicts


def participant_evaluate(
    *,
    participant: Participant,
    today: date | None = None,
    by=None,
    cause: EvaluationCause | None = None,
) -> Participant:
    """Run the pre-screen rules on the participant's answers and store one verdict per active
    criterion, each with the exact criterion text and rule it was judged by.

    For someone already eligible, waitlisted or consented, new values (the `cause`) that fail
    a criterion set `criteria_failed_at`, the warning on their page and in the queue; values
    that pass again clear it."""
    today = today or timezone.localdate()
    criteria = list(participant.study.criteria.active())
    values = {a.criterion_id: a.value for a in Answer.objects.filter(participant=participant)}
    evaluation, verdicts = _evaluation(participant, criteria, values, today=today)
    with transaction.atomic():
        CriterionVerdict.objects.filter(participant=participant).delete()
        for verdict in verdicts:
            verdict.participant = participant
        CriterionVerdict.objects.bulk_create(verdicts)
        participant.outcome = evaluation.outcome
        participant.eligible_from = evaluation.eligible_from
        participant.criteria_version = participant.study.criteria_version
        participant.evaluated_at = timezone.now()
        fields = ["outcome", "eligible_from", "criteria_version", "evaluated_at"]
        if participant.status in AWAITING_ENROLLMENT:
            fields += _criteria_failed_update(participant, cause, today=today)
        participant._change_reason = "Pre-screen evaluated"
        if by is not None:
            participant._history_user = by
        participant.save(update_fields=fields)
    return participant


def _criteria_failed_update(
    participant: Participant, cause: EvaluationCause | None, *, today: date
) -> list[str]:
    """Set or clear the "fails a criterion" warning of someone judged eligible; returns the
    fields changed."""
    failing = bool(selectors.verdict_list_blocking(participant=participant, today=today))
    if failing and participant.criteria_failed_at is None:
        participant.criteria_failed_at = timezone.now()
        participant.criteria_failed_by = cause or ""
    elif not failing and participant.criteria_failed_at is not None:
        participant.criteria_failed_at = None
        participant.criteria_failed_by = ""
    else:
        return []
    return ["criteria_failed_at", "criteria_failed_by"]


def _send_submission_emails(
    participant: Participant, staff_url: str, *, withdraw_url: str = ""
) -> None:
    """Confirmation to the patient (no health answers; their signed withdraw link) and a
    notice to the coordinators (screening number and a staff link only: no personal data)."""
    study = participant.study
    with translation.override(participant.language):
        context = {
            "participant": participant,
            "study": study,
            "withdraw_url": withdraw_url,
            "withdraw_days": settings.WITHDRAW_LINK_MAX_AGE_DAYS,
        }
        messages = [
            (
                render_to_string("recruitment/email/confirmation_subject.txt", context).strip(),
                render_to_string("recruitment/email/confirmation.txt", context),
                [participant.email],
            )
        ]
    if settings.COORDINATOR_EMAILS:
        context = {"participant": participant, "study": study, "staff_url": staff_url}
        messages.append(
            (
                render_to_string("recruitment/email/coordinator_subject.txt", context).strip(),
                render_to_string("recruitment/email/coordinator.txt", context),
                list(settings.COORDINATOR_EMAILS),
            )
        )
    for subject, body, recipients in messages:
        try:
            send_mail(subject, body, None, recipients)
        except Exception as exc:  # noqa: BLE001 - a mail outage must not lose the submission
            # Never log the exception text: SMTP errors quote the recipient's address.
            logger.error(
                "Email about %s failed: %s", participant.screening_number, type(exc).__name__
            )


# ---------------------------------------------------------------------------------------------
# The screening workflow: the status machine's only writer and the steps around it
# ---------------------------------------------------------------------------------------------
def participant_transition(
    *,
    participant: Participant,
    to: str,
    by,
    reason: str = "",
    reason_code: str = "",
    reason_criterion: str = "",
    by_participant: bool = False,
) -> Participant:
    """Move a participant through the status machine; the only writer of `status`.

    Checks the transition and the rules of the target status, and writes the change and its
    `StatusChange` row (who, when, from, to, why) in one transaction that holds a lock on the
    study row, so enrolments cannot race past the target. Raises `InvalidTransition` (or a
    subclass) with a message for the user; a refusal writes nothing.

    `by` is the staff member. Only the patient's signed withdraw link passes `by=None`, and
    it says so with `by_participant=True` (to `declined` only): a missing user is never
    taken silently for the participant.
    """
    if by_participant:
        if by is not None or Status(to) != Status.DECLINED:
            raise ValueError(BY_PARTICIPANT_ONLY_DECLINES)
    elif by is None:
        raise ValueError(BY_REQUIRED)
    reason = (reason or "").strip()
    to = Status(to)
    freed_slot = False
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=participant.study_id)
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        number = locked.screening_number
        if to == Status.ENROLLED and locked.status == Status.ENROLLED:
            raise AlreadyEnrolled(ALREADY_ENROLLED.format(number=number))
        if not locked.can_transition_to(to):
            raise InvalidTransition(
                TRANSITION_NOT_ALLOWED.format(
                    number=number, current=locked.get_status_display(), target=to.label
                )
            )
        reason_code, reason_criterion = _reason_coded(
            locked, to, reason=reason, code=reason_code, criterion=reason_criterion
        )

        if to in (Status.ELIGIBLE, Status.CONSENTED, Status.ENROLLED):
            _refuse_unless_criteria_met(locked)
        if to not in AWAITING_ENROLLMENT:
            locked.criteria_failed_at = None
            locked.criteria_failed_by = ""

        if to == Status.ELIGIBLE:
            locked.eligible_at = locked.eligible_at or timezone.now()
        elif to == Status.WAITLISTED:
            if study.slots.free().exists():
                raise InvalidTransition(WAITLIST_NOT_FULL.format(number=number))
        elif to == Status.CONSENTED:
            if not ConsentRecord.objects.filter(participant=locked).exists():
                raise InvalidTransition(CONSENT_NEEDED.format(number=number))
        elif to == Status.ENROLLED:
            _enrol(study, locked, reason)
        elif to == Status.WITHDRAWN and study.withdrawal_frees_slot:
            locked.slot = None
            freed_slot = True

        from_status = locked.status
        locked.status = to
        locked._change_reason = f"Status {from_status} → {to}" + (f": {reason}" if reason else "")
        locked._history_user = by
        locked.save()
        StatusChange.objects.create(
            participant=locked,
            from_status=from_status,
            to_status=to,
            reason=reason,
            reason_code=reason_code,
            reason_criterion=reason_criterion,
            by=by,
        )
        if freed_slot:
            transaction.on_commit(lambda: _notify_slot_freed(study))
    return locked


def _reason_coded(
    participant: Participant, to: Status, *, reason: str, code: str, criterion: str
) -> tuple[str, str]:
    """The reason's code and criterion for a move into `to`, checked.

    Declines, ineligibility and withdrawals are counted by code; free text is needed only with
    "other". A caller that passes only text (as every caller did before the codes) gets the
    code of a common reason it names ("not reached"), "other" for anything else."""
    number = participant.screening_number
    code = (code or "").strip()
    criterion = (criterion or "").strip()
    if not code and reason and to in REASON_REQUIRED:
        code = DECLINE_REASON_CODES.get(reason.casefold(), StatusReason.OTHER)
        code = code if code in REASON_CODES[to] else StatusReason.OTHER
    if not code:
        if to in REASON_REQUIRED:
            raise ReasonRequired(REASON_NEEDED.format(number=number, target=to.label))
        return "", ""
    if code not in REASON_CODES.get(to, ()):
        label = StatusReason(code).label if code in StatusReason.values else code
        raise ReasonRequired(
            REASON_CODE_NOT_FOR_STATUS.format(code=label, number=number, target=to.label)
        )
    if code == StatusReason.OTHER and not reason:
        raise ReasonRequired(REASON_OTHER_NEEDS_TEXT.format(number=number, target=to.label))
    if code != StatusReason.FAILS_CRITERION:
        return code, ""
    if not EligibilityCriterion.objects.filter(
        study_id=participant.study_id, code=criterion
    ).exists():
        raise ReasonRequired(REASON_CRITERION_UNKNOWN.format(number=number))
    return code, criterion


def _refuse_unless_criteria_met(participant: Participant) -> None:
    """Eligibility, consent and enrollment need every criterion met, a washout ended, staff
    values entered, or an investigator's override for each criterion that is not."""
    blocking = selectors.verdict_list_blocking(participant=participant, today=timezone.localdate())
    if blocking:
        titles = ", ".join(
            verdict.criterion_snapshot.get("title") or verdict.criterion_snapshot.get("code", "")
            for verdict in blocking
        )
        raise CriteriaNotMet(
            CRITERIA_NOT_MET.format(number=participant.screening_number, criteria=titles)
        )


def eligibility_override_record(
    *, participant: Participant, reasons: dict[str, str], by
) -> list[EligibilityOverride]:
    """An investigator lets a participant go on although criteria are not met or not known:
    one row per criterion (its code, the criterion and verdict as they stood, the reason, who,
    when) and a line in the participant's history. `reasons` maps criterion codes to why.
    Returns the new overrides."""
    if not by.has_perm("recruitment.override_eligibility"):
        raise RecruitmentError(OVERRIDE_NOT_ALLOWED)
    reasons = {code: (reason or "").strip() for code, reason in reasons.items()}
    if not reasons:
        raise RecruitmentError(OVERRIDE_NOTHING)
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        number = locked.screening_number
        _refuse_if_erased(locked)
        if locked.status not in (Status.NEW, Status.SCREENING, *AWAITING_ENROLLMENT):
            raise InvalidTransition(OVERRIDE_STATUS.format(number=number))
        blocking = {
            verdict.criterion_snapshot.get("code"): verdict
            for verdict in selectors.verdict_list_blocking(
                participant=locked, today=timezone.localdate()
            )
        }
        overrides = []
        for code, reason in reasons.items():
            if code not in blocking:
                raise RecruitmentError(OVERRIDE_NOT_BLOCKING.format(code=code, number=number))
            if not reason:
                raise RecruitmentError(OVERRIDE_NEEDS_REASON.format(code=code))
            verdict = blocking[code]
            override = EligibilityOverride(
                participant=locked,
                criterion_code=code,
                criterion_snapshot={
                    **verdict.criterion_snapshot,
                    "verdict": verdict.verdict,
                    "verdict_reason": verdict.reason,
                    "eligible_from": verdict.eligible_from and verdict.eligible_from.isoformat(),
                },
                reason=reason,
                by=by,
            )
            override.full_clean()
            override.save()
            overrides.append(override)
        fields = ["updated_at"]
        if locked.status in AWAITING_ENROLLMENT:
            fields += _criteria_failed_update(locked, None, today=timezone.localdate())
        locked._change_reason = "Eligibility override: " + "; ".join(
            f"{code}: {reason}" for code, reason in reasons.items()
        )
        locked._history_user = by
        locked.save(update_fields=fields)
    return overrides


def _enrol(study: Study, participant: Participant, reason: str) -> None:
    """Enrolment's checks and writes; the caller holds the study row lock."""
    number = participant.screening_number
    if not ConsentRecord.objects.filter(participant=participant).exists():
        raise InvalidTransition(CONSENT_NEEDED.format(number=number))
    slot = study.slots.free().order_by("number").first()
    if slot is None:
        raise StudyFull(STUDY_FULL.format(target=study.target_enrolment, number=number))
    ahead = Participant.objects.filter(study=study).waitlist()
    if participant.eligible_at is not None:
        ahead = ahead.filter(eligible_at__lt=participant.eligible_at)
    first_waiting = ahead.first()
    if first_waiting is not None and not reason:
        raise ReasonRequired(
            OUT_OF_ORDER.format(next=first_waiting.screening_number, number=number)
        )
    study.last_participant_seq += 1
    study.save(update_fields=["last_participant_seq"])
    participant.participant_id = study.participant_id(study.last_participant_seq)
    participant.slot = slot


def _notify_slot_freed(study: Study) -> None:
    """Tell the coordinators a slot is free and who is next (screening number only)."""
    if not settings.COORDINATOR_EMAILS:
        return
    waiting = Participant.objects.filter(study=study).waitlist().first()
    next_line = (
        f"Next on the waitlist: {waiting.screening_number}."
        if waiting
        else "Nobody is on the waitlist."
    )
    try:
        send_mail(
            f"A slot is free in {study.short_title}",
            f"An enrolment slot in {study.title} is free again. {next_line}\n",
            None,
            list(settings.COORDINATOR_EMAILS),
        )
    except Exception as exc:  # noqa: BLE001 - the status change stands
        logger.error("Slot-freed email for %s failed: %s", study.slug, type(exc).__name__)


def consent_record(
    *,
    participant: Participant,
    consented_on: date,
    form_version: str,
    obtained_by,
    by,
    today: date | None = None,
) -> Participant:
    """Record informed consent and move the participant to `consented`."""
    today = today or timezone.localdate()
    if consented_on > today:
        raise RecruitmentError(CONSENT_IN_FUTURE)
    if consented_on < timezone.localdate(participant.created_at):
        raise RecruitmentError(CONSENT_BEFORE_APPLYING)
    if participant.status not in (Status.ELIGIBLE, Status.WAITLISTED):
        raise InvalidTransition(CONSENT_STATUS)
    _refuse_unless_criteria_met(participant)
    with transaction.atomic():
        record = ConsentRecord.objects.filter(participant=participant).first() or ConsentRecord(
            participant=participant
        )
        record.consented_on = consented_on
        record.form_version = form_version.strip()
        record.obtained_by = obtained_by
        record.recorded_by = by
        record.full_clean()
        record._history_user = by
        record.save()
        return participant_transition(participant=participant, to=Status.CONSENTED, by=by)


def contact_attempt_record(
    *,
    participant: Participant,
    by,
    method: str,
    outcome: str,
    at=None,
    note: str = "",
    follow_up_on: date | None = None,
) -> ContactAttempt:
    """Log an attempt to reach a participant and update their "not reached" count and
    next follow-up date."""
    at = at or timezone.now()
    if at > timezone.now() + timedelta(minutes=5):
        raise RecruitmentError(CONTACT_IN_FUTURE)
    if follow_up_on is not None and follow_up_on < timezone.localdate(at):
        raise RecruitmentError(FOLLOW_UP_BEFORE_ATTEMPT)
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        _refuse_if_erased(locked)
        attempt = ContactAttempt(
            participant=locked,
            by=by,
            at=at,
            method=method,
            outcome=outcome,
            note=note.strip(),
            follow_up_on=follow_up_on,
        )
        attempt.full_clean()
        attempt.save()
        if outcome in UNANSWERED_OUTCOMES:
            locked.unanswered_attempts += 1
        else:
            locked.unanswered_attempts = 0
        latest = locked.contact_attempts.order_by("-at", "-pk").first()
        locked.next_follow_up_on = latest.follow_up_on
        locked._change_reason = f"Contact attempt: {attempt.get_outcome_display()}"
        locked._history_user = by
        locked.save(update_fields=["unanswered_attempts", "next_follow_up_on", "updated_at"])
    return attempt


def staff_values_record(
    *, participant: Participant, values: dict[str, Any], by, reason: str = ""
) -> Participant:
    """Record staff-assessed values (lab results) as staff-verified answers, and re-run the
    evaluation. Values are in the engine's JSON form; None clears a value. The evaluation is
    stored on the participant's current row (locked), so the history never records a stale
    status from the caller's copy."""
    criteria = {c.code: c for c in participant.study.criteria.active().for_staff()}
    for code in values:
        if code not in criteria:
            raise RecruitmentError(NOT_STAFF_ASSESSED.format(code=code))
    with transaction.atomic():
        participant = Participant.objects.select_for_update().get(pk=participant.pk)
        _refuse_if_erased(participant)
        for code, value in values.items():
            answer = Answer.objects.filter(
                participant=participant, criterion=criteria[code]
            ).first()
            if value in (None, ""):
                if answer is not None:
                    answer._history_user = by
                    answer._change_reason = reason or "Cleared by staff"
                    answer.delete()
                continue
            if answer is not None and answer.value == value:
                continue
            answer = answer or Answer(participant=participant, criterion=criteria[code])
            answer.value = value
            answer.answered_by = AnsweredBy.STAFF
            answer.recorded_by = by
            answer._history_user = by
            answer._change_reason = reason or "Entered by staff at screening"
            answer.save()
        return participant_evaluate(
            participant=participant, by=by, cause=EvaluationCause.LAB_VALUES
        )


def duplicate_confirm(*, participant: Participant, by) -> Participant:
    """Confirm a possible duplicate: it is closed as declined, reason "duplicate"."""
    with transaction.atomic():
        # The study row first, as in `participant_transition`, so the two never deadlock.
        Study.objects.select_for_update().get(pk=participant.study_id)
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        if locked.duplicate_review != DuplicateReview.PENDING:
            raise RecruitmentError(NOT_A_DUPLICATE.format(number=locked.screening_number))
        locked = participant_transition(
            participant=locked, to=Status.DECLINED, by=by, reason=DeclineReason.DUPLICATE
        )
        locked.duplicate_review = DuplicateReview.CONFIRMED
        locked._change_reason = "Duplicate confirmed"
        locked._history_user = by
        locked.save(update_fields=["duplicate_review", "updated_at"])
    return locked


def duplicate_dismiss(*, participant: Participant, by, reason: str = "") -> Participant:
    """Dismiss a possible duplicate: they are a different person; the link stays on record."""
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        if locked.duplicate_review != DuplicateReview.PENDING:
            raise RecruitmentError(NOT_A_DUPLICATE.format(number=locked.screening_number))
        locked.duplicate_review = DuplicateReview.DISMISSED
        locked._change_reason = "Duplicate dismissed" + (f": {reason}" if reason else "")
        locked._history_user = by
        locked.save(update_fields=["duplicate_review", "updated_at"])
    return locked


EDITABLE_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "preferred_contact",
    "best_time",
    "date_of_birth",
    "zip_code",
    "referral_source",
    "note",
)


def participant_update(
    *, participant: Participant, data: dict[str, Any], by, reason: str
) -> Participant:
    """A staff edit of contact details, audited with who, when, old and new values and why.
    A new date of birth or ZIP code re-runs the pre-screen.

    The edit is applied to the participant's current row, locked, never to the caller's copy:
    a copy read before a status change or a contact attempt must not write it back. Returns
    the saved participant.
    """
    reason = (reason or "").strip()
    if not reason:
        raise RecruitmentError(EDIT_NEEDS_REASON)
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        _refuse_if_erased(locked)
        changed = {
            field: value
            for field, value in data.items()
            if field in EDITABLE_FIELDS and getattr(locked, field) != value
        }
        if not changed:
            return locked
        for field, value in changed.items():
            setattr(locked, field, value)
        locked.email_normalised = normalise_email(locked.email)
        locked.phone_normalised = normalise_phone(locked.phone) if locked.phone else ""
        if locked.phone:
            locked.phone = format_phone(locked.phone_normalised)
        locked.name_normalised = normalise_name(locked.first_name, locked.last_name)
        locked.full_clean()
        locked._change_reason = reason
        locked._history_user = by
        locked.save()
        if {"date_of_birth", "zip_code"} & set(changed):
            participant_evaluate(participant=locked, by=by, cause=EvaluationCause.CONTACT_DETAILS)
    return locked


def _refuse_if_erased(participant: Participant) -> None:
    """Erased stays erased: no service writes personal data back, nor re-runs the pre-screen
    (which would replace the kept verdicts with ones judged on empty answers)."""
    if participant.erased_at is not None:
        raise RecruitmentError(PARTICIPANT_ERASED.format(number=participant.screening_number))


# ---------------------------------------------------------------------------------------------
# Withdrawing interest: the patient's signed link (PRODUCT.md "Privacy over time")
# ---------------------------------------------------------------------------------------------
# The link carries the participant's pk and their `withdraw_nonce`, signed with a salt of its
# own and a timestamp (django.core.signing). It works while the nonce matches and for
# WITHDRAW_LINK_MAX_AGE_DAYS: using it clears the nonce, and so does revoking it.
WITHDRAW_SALT = "recruitment.withdraw-link"
WITHDRAW_REASON = DeclineReason.WITHDREW_BY_LINK
# Nothing is left to withdraw from: the link says it is already done.
NOTHING_TO_WITHDRAW = (Status.DECLINED, Status.INELIGIBLE, Status.WITHDRAWN, Status.COMPLETED)


class WithdrawState(StrEnum):
    INVALID = "invalid"  # tampered, expired, revoked or used: the page gives no detail
    OPEN = "open"  # the question may be asked (GET)
    WITHDRAWN = "withdrawn"  # declined just now (POST)
    ENROLLED = "enrolled"  # on the trial: not withdrawn by a link; the coordinators are told
    ALREADY_DONE = "already_done"  # declined, ineligible, withdrawn or completed already


@dataclass(frozen=True)
class WithdrawLink:
    """What the withdraw page shows. Pages show the screening number and the study only."""

    state: WithdrawState
    participant: Participant | None = None


def withdraw_token_make(*, participant: Participant) -> str:
    """The token of the participant's withdraw link; empty nonce, dead link."""
    return signing.dumps({"p": participant.pk, "n": participant.withdraw_nonce}, salt=WITHDRAW_SALT)


def withdraw_path(*, participant: Participant) -> str:
    return reverse("recruitment:withdraw", args=[withdraw_token_make(participant=participant)])


def _withdraw_token_read(token: str) -> tuple[int, str] | None:
    """The (pk, nonce) a token carries, or None when it is tampered with or expired."""
    max_age = timedelta(days=settings.WITHDRAW_LINK_MAX_AGE_DAYS)
    try:
        payload = signing.loads(token, salt=WITHDRAW_SALT, max_age=max_age)
    except (signing.BadSignature, ValueError):  # SignatureExpired is a BadSignature
        return None
    if not isinstance(payload, dict):
        return None
    pk, nonce = payload.get("p"), payload.get("n")
    if type(pk) is not int or not isinstance(nonce, str) or not nonce:
        return None
    return pk, nonce


def _withdraw_state(participant: Participant | None, nonce: str) -> WithdrawState:
    if participant is None:
        return WithdrawState.INVALID
    if participant.status in NOTHING_TO_WITHDRAW:
        return WithdrawState.ALREADY_DONE
    if not participant.withdraw_nonce or not constant_time_compare(
        participant.withdraw_nonce, nonce
    ):
        return WithdrawState.INVALID
    return WithdrawState.OPEN


def withdraw_link_check(*, token: str) -> WithdrawLink:
    """What the link would do, without doing it (the confirmation page; GET is safe)."""
    claim = _withdraw_token_read(token)
    if claim is None:
        return WithdrawLink(WithdrawState.INVALID)
    pk, nonce = claim
    participant = Participant.objects.select_related("study").filter(pk=pk).first()
    state = _withdraw_state(participant, nonce)
    return WithdrawLink(state, participant if state != WithdrawState.INVALID else None)


def participant_withdraw_by_link(*, token: str, site_url: str = "") -> WithdrawLink:
    """The patient confirmed on the page: a participant not yet enrolled is declined (by the
    participant, reason WITHDRAW_REASON); an enrolled one is not taken off the trial by a
    link, and the coordinators are told to contact them. Either way the link dies, and the
    coordinators get a notice with the screening number only, after commit."""
    claim = _withdraw_token_read(token)
    if claim is None:
        return WithdrawLink(WithdrawState.INVALID)
    pk, nonce = claim
    with transaction.atomic():
        # The study row first, then the participant, as in `participant_transition`.
        study_id = Participant.objects.filter(pk=pk).values_list("study_id", flat=True).first()
        if study_id is None:
            return WithdrawLink(WithdrawState.INVALID)
        study = Study.objects.select_for_update().get(pk=study_id)
        locked = Participant.objects.select_for_update().get(pk=pk)
        locked.study = study
        state = _withdraw_state(locked, nonce)
        if state != WithdrawState.OPEN:
            return WithdrawLink(state, locked if state != WithdrawState.INVALID else None)
        Participant.objects.filter(pk=pk).update(withdraw_nonce="")
        locked.withdraw_nonce = ""
        if locked.status != Status.ENROLLED:
            locked = participant_transition(
                participant=locked,
                to=Status.DECLINED,
                by=None,
                by_participant=True,
                reason=WITHDRAW_REASON,
            )
            locked.study = study
            state = WithdrawState.WITHDRAWN
        else:
            state = WithdrawState.ENROLLED
        staff_path = reverse("admin:recruitment_participant_change", args=[pk])
        staff_url = f"{site_url.rstrip('/')}{staff_path}"
        enrolled = state == WithdrawState.ENROLLED
        transaction.on_commit(lambda: _notify_withdraw_link_used(locked, staff_url, enrolled))
    return WithdrawLink(state, locked)


def withdraw_link_revoke(*, participant: Participant) -> None:
    """Kill the participant's withdraw link; the page then says the link does not work."""
    Participant.objects.filter(pk=participant.pk).update(withdraw_nonce="")


def _notify_withdraw_link_used(participant: Participant, staff_url: str, enrolled: bool) -> None:
    """Tell the coordinators, by screening number only, that the link was used."""
    if not settings.COORDINATOR_EMAILS:
        return
    context = {
        "participant": participant,
        "study": participant.study,
        "staff_url": staff_url,
        "enrolled": enrolled,
    }
    try:
        send_mail(
            render_to_string("recruitment/email/withdraw_coordinator_subject.txt", context).strip(),
            render_to_string("recruitment/email/withdraw_coordinator.txt", context),
            None,
            list(settings.COORDINATOR_EMAILS),
        )
    except Exception as exc:  # noqa: BLE001 - the withdrawal stands
        logger.error(
            "Withdraw-link email about %s failed: %s",
            participant.screening_number,
            type(exc).__name__,
        )


# ---------------------------------------------------------------------------------------------
# Retention: erasing the personal data of people never enrolled (PRODUCT.md "Privacy over time")
# ---------------------------------------------------------------------------------------------
ERASED_CHANGE_REASON = "Personal data erased: the study's retention period ({days} days) passed."
ERASED_VERDICT_REASON = "Erased with the personal data after the retention period."
ERASE_BATCH = 500  # participants per UPDATE: within SQLite's limit on query parameters
# What erasure writes on a participant row and on its history rows. Kept: the screening
# number, study, status, outcome, referral source, language, consent-to-contact version and
# time, duplicate links, dates and counters; the verdicts (met / not met) and the criterion
# snapshots; the status changes with their reasons; the contact log without its notes.
ERASED_VALUES: dict[str, Any] = {
    "first_name": "",
    "last_name": "",
    "name_normalised": "",
    "email": "",
    "email_normalised": "",
    "phone": "",
    "phone_normalised": "",
    "preferred_contact": "",
    "best_time": "",
    "date_of_birth": None,
    "zip_code": "",
    "note": "",
    "eligible_from": None,  # derived from the date of a last dose: health data
}


@dataclass(frozen=True)
class StudyErasure:
    study: Study
    screening_numbers: tuple[str, ...]


@dataclass(frozen=True)
class ErasureResult:
    now: Any
    dry_run: bool
    studies: tuple[StudyErasure, ...]

    @property
    def total(self) -> int:
        return sum(len(s.screening_numbers) for s in self.studies)


def participant_list_expired(*, study: Study, now):
    """The study's participants never enrolled, in a final status, not yet erased, whose last
    status change (their move into that final status) is older than `retention_days`."""
    cutoff = now - timedelta(days=study.retention_days)
    last_change = (
        StatusChange.objects.filter(participant=OuterRef("pk")).order_by("-at", "-pk").values("at")
    )
    return (
        Participant.objects.erasable()
        .filter(study=study)
        .annotate(final_at=Coalesce(Subquery(last_change[:1]), F("updated_at")))
        .filter(final_at__lt=cutoff)
        .order_by("screening_seq")
    )


def participants_erase_expired(*, now=None, dry_run: bool = False) -> ErasureResult:
    """Erase the personal data of every participant past their study's retention period
    (see `participant_list_expired`), with their answers' values, the verdicts' copies of
    them and their reasons, contact-log notes, links and tokens, and the same data in the
    history tables; mark them `erased_at`. Idempotent; `dry_run` only lists them. A fixed
    number of queries per study and per ERASE_BATCH participants."""
    now = now or timezone.now()
    done = []
    for study in Study.objects.order_by("slug"):
        with transaction.atomic():
            expired = participant_list_expired(study=study, now=now)
            if not dry_run:
                expired = expired.select_for_update()
            rows = list(expired.values_list("pk", "screening_number"))
            if not dry_run:
                for start in range(0, len(rows), ERASE_BATCH):
                    pks = [pk for pk, _number in rows[start : start + ERASE_BATCH]]
                    _erase(
                        pks, now=now, reason=ERASED_CHANGE_REASON.format(days=study.retention_days)
                    )
        if rows:
            done.append(StudyErasure(study, tuple(number for _pk, number in rows)))
    return ErasureResult(now=now, dry_run=dry_run, studies=tuple(done))


def sessions_erase_expired(*, dry_run: bool = False) -> None:
    """Delete every session past its expiry (`dry_run`: change nothing). A patient's session
    may hold the answers of a form whose language they switched, and Django deletes an
    expired session only when its owner comes back, so without this it would stay for good."""
    if not dry_run:
        import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()


def _erase(pks: list[int], *, now, reason: str) -> None:
    Participant.objects.filter(pk__in=pks).update(
        **ERASED_VALUES, submission_token=None, withdraw_nonce="", erased_at=now, updated_at=now
    )
    Answer.objects.filter(participant_id__in=pks).update(value=None)
    CriterionVerdict.objects.filter(participant_id__in=pks).update(
        answer=None, reason=ERASED_VERDICT_REASON, eligible_from=None
    )
    ContactAttempt.objects.filter(participant_id__in=pks).update(note="")
    # The history holds every earlier version: the same fields, and staff's reasons for
    # edits, which may quote what they changed. Who changed what kind of thing, and when, stays.
    Participant.history.filter(id__in=pks).update(**ERASED_VALUES, history_change_reason=None)
    Answer.history.filter(participant_id__in=pks).update(value=None, history_change_reason=None)
    _history_record_erasure(pks, now=now, reason=reason)


def _history_record_erasure(pks: list[int], *, now, reason: str) -> None:
    """Add one version per erased participant, saying when and why, with no user. One
    INSERT ... SELECT: simple-history's `bulk_history_create` splits its INSERT into more
    statements as the rows grow (SQLite's limit on parameters)."""
    history = Participant.history.model
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in history.tracked_fields)
    meta = ("history_date", "history_change_reason", "history_type", "history_user_id")
    ids = ", ".join(["%s"] * len(pks))
    # Names come from the models' meta; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(history._meta.db_table)} "  # noqa: S608
        f"({columns}, {', '.join(quote(column) for column in meta)}) "
        f"SELECT {columns}, %s, %s, %s, NULL FROM {quote(Participant._meta.db_table)} "
        f"WHERE {quote(Participant._meta.pk.column)} IN ({ids})"
    )
    params = [connection.ops.adapt_datetimefield_value(now), reason, "~", *pks]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# ---------------------------------------------------------------------------------------------
# Staff accounts
# ---------------------------------------------------------------------------------------------
def roles_ensure() -> dict[str, Group]:
    """Create the staff groups with their reviewed permissions (see `recruitment.roles`)."""
    groups = {}
    for name, codenames in roles.ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set(
            Permission.objects.filter(content_type__app_label="recruitment", codename__in=codenames)
        )
        groups[name] = group
    return groups


@transaction.atomic
def demo_coordinator_ensure(*, username: str = "coordinator") -> str | None:
    """Create the demo coordinator (a staff member of every study) once.

    Returns the new random password, or None when the account already exists: running again
    neither duplicates the account nor changes its password.
    """
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        return None
    password = secrets.token_urlsafe(12)
    user = user_model.objects.create_user(username=username, password=password, is_staff=True)
    user.groups.add(roles_ensure()[roles.COORDINATOR])
    for study in Study.objects.all():
        study.members.add(user)
    return password
