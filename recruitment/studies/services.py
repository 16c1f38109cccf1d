"""Loading a study from its reviewed file, and the rules that keep a study's slots and
criteria consistent when staff edit it."""

import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from recruitment.errors import RecruitmentError, StudyFileError
from recruitment.models import (
    CRITERION_TEXT_FIELDS,
    STUDY_TEXT_FIELDS,
    EligibilityCriterion,
    EnrolmentSlot,
    SharedQuestion,
    Status,
    Study,
)
from recruitment.registry.tasks import study_rematch_enqueue
from recruitment.studies.visit_plan import visit_plan_sync

logger = logging.getLogger(__name__)

TARGET_BELOW_ENROLLED = _("The target cannot be lower than the {taken} slots already taken.")
WITHDRAWAL_RULE_LOCKED = _(
    "Someone in this study has withdrawn, so whether a withdrawal frees a slot can no longer "
    "change: their slot was kept or given back under the current rule."
)


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
    "call_script",
    "call_within_working_days",
    "run_in_days",
    "run_in_min_adherence",
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
    "shared_question",
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

    The visit plan (`[[visits]]`) is kept in step by `visit_plan.visit_plan_sync`.

    Translations (`[translations.es]`, `[criteria.translations.es]`) are loaded and checked
    too, but a change of translation alone gives no new criterion version: the English text
    is the text a participant is judged by (kept in `snapshot()`), and the rule is unchanged.
    """
    data = dict(data)
    slug = data.pop("slug", None)
    criteria = data.pop("criteria", [])
    translations = data.pop("translations", {})
    visits = data.pop("visits", [])
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
    was_recruiting = study is not None and study.is_recruiting
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
    shared = shared_questions_named(criteria)
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
        item["shared_question"] = shared.get(item.get("shared_question"))
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
    if study.is_recruiting and (criteria_changed or not was_recruiting):
        study_rematch_enqueue(study=study)
    visit_changes = visit_plan_sync(study=study, visits=visits)
    if not created:
        changes.extend(visit_changes)
    return StudyLoadResult(study, created=created, changes=tuple(changes))


def shared_questions_named(criteria: list[dict[str, Any]]) -> dict[str, SharedQuestion]:
    """The shared questions the criteria of a study file name (`shared_question = "code"`),
    by code. The question bank is loaded from its file first if one is missing."""
    codes = {c.get("shared_question") for c in criteria if isinstance(c, dict)} - {None}
    if not codes:
        return {}
    found = {q.code: q for q in SharedQuestion.objects.filter(code__in=codes)}
    if codes - set(found):
        from recruitment.studies.questions import question_bank_load_file  # imports this module

        question_bank_load_file(create_only=True)
        found = {q.code: q for q in SharedQuestion.objects.filter(code__in=codes)}
    missing = sorted(str(code) for code in codes - set(found))
    if missing:
        raise StudyFileError(
            f"Unknown shared questions: {', '.join(missing)}; add them to the question bank "
            "(recruitment/studies/questions.toml)."
        )
    return found


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
    """Record an edit of criteria made in the admin: new versions, so history stays exact;
    then the registry is matched again against the new criteria (in the background)."""
    with transaction.atomic():
        for criterion in criteria:
            criterion.version += 1
            criterion.save(update_fields=["version"])
        study.criteria_version += 1
        study.save(update_fields=["criteria_version"])
        if study.is_recruiting:
            study_rematch_enqueue(study=study)


def study_recruiting_opened(*, study: Study) -> None:
    """A study just opened for recruiting (the admin): match the registry against it, in the
    background."""
    study_rematch_enqueue(study=study)
